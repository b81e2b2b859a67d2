"""The whom-to-save question at one point of a world: how much more long-run revenue the
incumbent (platform 0) earns ranking user-first than revenue-first, seed by seed.

Both ends of the study's policy axis (``whom_to_save.study.policy_weights``: t = 1 user-first,
t = 0 revenue-first) run on the *same* seeds, so each seed's difference is a paired
comparison: the world's luck is shared, and only the policy differs. Long-run revenue is the
study's ``revenue_long_run``: the incumbent's revenue over the run's last year (the last
quarter for runs shorter than 15 months; ``experiments.stats.long_window``), in yuan.

A ``GapFunction`` maps a point (parameter values by their ``--set`` keys) to those per-seed
gaps; the flip search and the sensitivity analysis take any such function, so that their
tests can pass one whose answer is known in closed form through the same code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from twosided.experiments.stats import in_window, long_window
from twosided.experiments.whom_to_save.study import (
    INCUMBENT,
    REVENUE_FIRST,
    USER_FIRST,
    policy_weights,
)
from twosided.scenario import CENTS_PER_YUAN, Scenario, apply_overrides

GapFunction = Callable[[Mapping[str, float]], np.ndarray]  # point -> gap per seed (yuan)


@dataclasses.dataclass(frozen=True)
class PolicyGap:
    """The paired revenue gap in one world: its scenario (settings applied), run length and
    seeds. Calling it with a point runs both policies there; ``many`` runs several points.

    Runs of one shape (the points differ in parameter values only) go as one vmapped
    program over points × policies × seeds (``experiments.batches``: as many as the memory
    check lets one batch hold; ``batch=False`` runs each alone). A batched run agrees with
    a run alone within float32 rounding (``sim.batch``)."""

    scenario: Scenario
    days: int
    seeds: Sequence[int]
    batch: bool = True

    def __call__(self, point: Mapping[str, float]) -> np.ndarray:
        """User-first minus revenue-first long-run revenue of the incumbent, per seed."""
        return self.many([point])[0]

    def many(self, points: Sequence[Mapping[str, float]]) -> list[np.ndarray]:
        """The gap per seed at each of ``points``."""
        scenarios = {
            2 * i + j: self.at(point, policy)
            for i, point in enumerate(points)
            for j, policy in enumerate((USER_FIRST, REVENUE_FIRST))
        }
        revenue = self._revenues(scenarios)
        return [revenue[2 * i] - revenue[2 * i + 1] for i in range(len(points))]

    def at(self, point: Mapping[str, float], policy: float) -> Scenario:
        """The world at ``point`` under ``policy``, for the study's run length."""
        settings = {**dict(point), **policy_weights(policy), "days": self.days}
        return apply_overrides(self.scenario, settings)

    def revenue(self, point: Mapping[str, float], policy: float) -> np.ndarray:
        """The incumbent's long-run revenue (yuan) per seed under ``policy`` at ``point``."""
        return self._revenues({0: self.at(point, policy)})[0]

    def _revenues(self, scenarios: dict[int, Scenario]) -> dict[int, np.ndarray]:
        from twosided.experiments.batches import plan_batches, run_batch
        from twosided.simulation import simulate

        seeds = list(self.seeds)
        batches, alone = plan_batches(scenarios, len(seeds)) if self.batch else ([], [])
        if not self.batch:
            alone = sorted(scenarios)
        out: dict[int, np.ndarray] = {}
        for batch in batches:
            for index, daily in run_batch(batch, scenarios, seeds):
                out[index] = self._long_run(daily)
        for index in alone:
            out[index] = self._long_run(simulate(scenarios[index], seeds=seeds).daily)
        return out

    def _long_run(self, daily: pd.DataFrame) -> np.ndarray:
        incumbent = daily[daily["platform_id"] == INCUMBENT]
        rows = in_window(incumbent, long_window(self.days))
        per_seed = rows.groupby("seed", sort=True)["revenue_cents"].sum()
        return per_seed.reindex(list(self.seeds)).to_numpy(np.float64) / CENTS_PER_YUAN
