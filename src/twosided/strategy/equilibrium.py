"""Best-response iteration between platforms.

Round by round, each platform in turn (Gauss–Seidel order) searches its best policy
(``optimize.best_policy``) against the others' *current* policies, then adopts it. The
iteration stops when, in a whole round, no platform's policy moved more than ``tol``
(largest change of a searched field, in units of its range), or after ``rounds`` rounds.
Every search uses the same training seeds and a CMA-ES seed derived from the round and
the platform, so the same settings give the same path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from twosided.env import functional as fenv
from twosided.env import policy as pol
from twosided.scenario import Scenario
from twosided.strategy.optimize import Evaluator, Space, best_policy

Report = Callable[[dict[str, Any]], None]  # called with each step of the path


@dataclasses.dataclass
class Equilibrium:
    """The path of best responses and where it ended."""

    platforms: tuple[str, ...]
    fields: tuple[str, ...]
    path: list[dict[str, Any]]  # one entry per (round, platform): its new policy and move
    policies: np.ndarray  # [P, A] the final policies
    converged: bool
    rounds: int
    start: dict[str, list[float]]  # outcomes of the scenario's policies (eval seeds)
    end: dict[str, list[float]]  # outcomes of the final policies

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "platforms": list(self.platforms),
            "fields": list(self.fields),
            "path": self.path,
            "policies": {
                n: pol.as_dict(a) for n, a in zip(self.platforms, self.policies, strict=True)
            },
            "converged": self.converged,
            "rounds": self.rounds,
            "start": self.start,
            "end": self.end,
        }


def outcomes(
    env: fenv.MarketEnv,
    params: fenv.EnvParams,
    policies: np.ndarray,
    seeds: Sequence[int],
    batch: int = 1,
) -> dict[str, list[float]]:
    """Per-platform mean revenue and consumer surplus (yuan) of a policy profile (run in a
    batch of ``batch`` copies: the searches' compiled shape)."""
    from twosided.env import vector

    profile = np.repeat(policies[None].astype(np.float32), batch, axis=0)
    out = vector.rollout(env, np.asarray(seeds), profile, params)
    return {
        "revenue": (np.asarray(out["revenue_cents"])[0].mean(0) / fenv.YUAN).tolist(),
        "consumer_surplus": (
            np.asarray(out["consumer_surplus_cents"])[0].mean(0) / fenv.YUAN
        ).tolist(),
    }


def best_responses(
    scenario: Scenario,
    spaces: Sequence[Space],
    seeds: Sequence[int],
    eval_seeds: Sequence[int],
    rounds: int = 5,
    tol: float = 0.02,
    generations: int = 10,
    batch: int = 8,
    seed: int = 0,
    period_days: int = 7,
    periods: int | None = None,
    objective: fenv.Objective = "revenue",
    surplus_weight: float = 1.0,
    report: Report | None = None,
) -> Equilibrium:
    """Iterate best responses of every platform (``spaces[i]``: platform ``i``'s box)."""
    env, params = fenv.make(scenario, period_days, periods, objective, surplus_weight)
    policies = pol.scenario_action(scenario)
    start = outcomes(env, params, policies, eval_seeds, batch)
    path: list[dict[str, Any]] = []
    converged, done = False, 0
    for r in range(1, rounds + 1):
        largest = 0.0
        for i, space in enumerate(spaces):
            ev = Evaluator(env, params, policies.copy(), i, space, batch)
            found = best_policy(ev, seeds, eval_seeds, generations, seed=seed + 1000 * r + i)
            old = space.to_unit(policies[i, [pol.INDEX[f] for f in space.fields]])
            new_action = np.asarray([found.best[n] for n in pol.ACTION_NAMES], np.float32)
            new = space.to_unit(new_action[[pol.INDEX[f] for f in space.fields]])
            move = float(np.max(np.abs(new - old)))
            policies[i] = new_action
            largest = max(largest, move)
            step = {
                "round": r,
                "platform": env.names[i],
                "objective": found.best_objective,
                "move": move,
                "policy": {f: found.best[f] for f in space.fields},
            }
            path.append(step)
            if report is not None:
                report(step)
        done = r
        if largest < tol:
            converged = True
            break
    end = outcomes(env, params, policies, eval_seeds, batch)
    return Equilibrium(
        platforms=env.names,
        fields=spaces[0].fields if spaces else (),
        path=path,
        policies=policies,
        converged=converged,
        rounds=done,
        start=start,
        end=end,
    )
