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
    seeds. Calling it with a point runs both policies there."""

    scenario: Scenario
    days: int
    seeds: Sequence[int]

    def __call__(self, point: Mapping[str, float]) -> np.ndarray:
        """User-first minus revenue-first long-run revenue of the incumbent, per seed."""
        return self.revenue(point, USER_FIRST) - self.revenue(point, REVENUE_FIRST)

    def revenue(self, point: Mapping[str, float], policy: float) -> np.ndarray:
        """The incumbent's long-run revenue (yuan) per seed under ``policy`` at ``point``."""
        from twosided.simulation import simulate

        scenario = apply_overrides(self.scenario, {**dict(point), **policy_weights(policy)})
        result = simulate(scenario, days=self.days, seeds=list(self.seeds))
        window = long_window(self.days)
        incumbent = result.daily[result.daily["platform_id"] == INCUMBENT]
        rows = in_window(incumbent, window)
        per_seed = rows.groupby("seed", sort=True)["revenue_cents"].sum()
        return per_seed.reindex(list(self.seeds)).to_numpy(np.float64) / CENTS_PER_YUAN
