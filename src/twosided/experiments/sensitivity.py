"""Global sensitivity of the study's answer: which unidentified parameters move the
long-run revenue gap (user-first minus revenue-first), and which can flip its sign.

Designs and indices come from SALib (Herman & Usher 2017), a well-kept library of the
standard methods:

* **Morris** elementary effects (Morris 1991; Campolongo, Cariboni & Saltelli 2007):
  ``r`` trajectories over a ``levels``-level grid of the box, one parameter moved per
  step, ``r (d + 1)`` points. Per parameter: μ* (the mean absolute effect: how much it
  moves the gap), its bootstrap 95% interval, σ (the effects' spread: nonlinearity or
  interaction) and μ (signed). The screening method for a handful to dozens of
  parameters when one point is two simulated market-years.
* **Sobol'** variance shares (Sobol' 2001; Saltelli 2002; Saltelli et al. 2010) from a
  Saltelli design of ``N (d + 2)`` points: first-order S1 and total ST with bootstrap 95%
  intervals. Quantitative, and much dearer.

Every point runs both policies on the same seeds (``policy_gap``), and the response is the
mean paired gap; the points and policies of a design run batched (one vmapped program over
points × policies × seeds, as many as memory allows). A parameter **can flip** the answer
when a step of it alone (one Morris step, or in a Sobol' design the A/B_i pair that
differs in it alone) changes the sign of the mean gap; the table counts those steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from twosided.experiments.policy_gap import GapFunction

Method = Literal["morris", "sobol"]
DEFAULT_TRAJECTORIES = 8
DEFAULT_LEVELS = 4
DEFAULT_SAMPLES = 64  # Sobol' base samples N (a power of two)
CONFIDENCE = 0.95
RESAMPLES = 1000  # bootstrap resamples of the indices' intervals
Progress = Callable[[int, int], None]  # (points evaluated, points in the design)


@dataclasses.dataclass(frozen=True)
class Factor:
    """A parameter to vary: its ``--set`` key and range."""

    key: str
    lower: float
    upper: float


@dataclasses.dataclass(frozen=True)
class Sensitivity:
    """The design, the responses and the indices (module docstring)."""

    method: Method
    factors: tuple[Factor, ...]
    points: np.ndarray  # [n, d] the design
    gaps: np.ndarray  # [n, seeds] the paired gap at each point
    indices: pd.DataFrame  # one row per factor
    flips: dict[str, int]  # per factor, one-parameter steps that change the gap's sign
    steps: dict[str, int]  # per factor, one-parameter steps in the design

    @property
    def response(self) -> np.ndarray:
        """The mean gap at each point."""
        return self.gaps.mean(axis=1)


def _salib() -> Any:
    try:
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError as err:  # pragma: no cover - the extra is installed in tests
        raise ImportError(
            "the sensitivity analysis needs SALib: pip install 'twosided[sensitivity]'"
        ) from err
    return morris_sample, morris_analyze, sobol_sample, sobol_analyze


def problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """SALib's description of the box."""
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[f.lower, f.upper] for f in factors],
    }


def design(
    factors: Sequence[Factor],
    method: Method = "morris",
    trajectories: int = DEFAULT_TRAJECTORIES,
    levels: int = DEFAULT_LEVELS,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> np.ndarray:
    """The design's points ``[n, d]``: Morris trajectories or a Saltelli (Sobol') sample."""
    morris_sample, _, sobol_sample, _ = _salib()
    spec = problem(factors)
    if method == "morris":
        return morris_sample.sample(spec, trajectories, num_levels=levels, seed=seed)
    return sobol_sample.sample(spec, samples, calc_second_order=False, seed=seed)


def analyse(
    gap: GapFunction,
    factors: Sequence[Factor],
    method: Method = "morris",
    trajectories: int = DEFAULT_TRAJECTORIES,
    levels: int = DEFAULT_LEVELS,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> Sensitivity:
    """Run the design through ``gap`` and compute the indices."""
    if not factors:
        raise ValueError("no parameter to vary")
    _, morris_analyze, _, sobol_analyze = _salib()
    points = design(factors, method, trajectories, levels, samples, seed)
    gaps_arr = np.stack(_responses(gap, factors, points, progress))
    y = gaps_arr.mean(axis=1)
    spec = problem(factors)
    if method == "morris":
        found = morris_analyze.analyze(
            spec, points, y, conf_level=CONFIDENCE, num_resamples=RESAMPLES,
            num_levels=levels, seed=seed,
        )  # fmt: skip
        indices = pd.DataFrame(
            {
                "parameter": [f.key for f in factors],
                "mu_star": found["mu_star"],
                "mu_star_conf": found["mu_star_conf"],
                "mu": found["mu"],
                "sigma": found["sigma"],
            }
        )
        flips, steps = _morris_flips(points, y, len(factors))
    else:
        found = sobol_analyze.analyze(
            spec, y, calc_second_order=False, conf_level=CONFIDENCE,
            num_resamples=RESAMPLES, seed=seed,
        )  # fmt: skip
        indices = pd.DataFrame(
            {
                "parameter": [f.key for f in factors],
                "S1": found["S1"],
                "S1_conf": found["S1_conf"],
                "ST": found["ST"],
                "ST_conf": found["ST_conf"],
            }
        )
        flips, steps = _sobol_flips(y, len(factors))
    keys = [f.key for f in factors]
    return Sensitivity(
        method,
        tuple(factors),
        points,
        gaps_arr,
        indices,
        dict(zip(keys, flips)),
        dict(zip(keys, steps)),
    )


def _responses(
    gap: GapFunction, factors: Sequence[Factor], points: np.ndarray, progress: Progress | None
) -> list[np.ndarray]:
    """The gap at every design point: all at once where ``gap`` can (``PolicyGap.many``
    batches them), else one by one."""
    named = [{f.key: float(v) for f, v in zip(factors, x)} for x in points]
    many = getattr(gap, "many", None)
    if many is not None:
        found = [np.asarray(g, np.float64) for g in many(named)]
        if progress is not None:
            progress(len(named), len(named))
        return found
    out = []
    for i, point in enumerate(named):
        out.append(np.asarray(gap(point), np.float64))
        if progress is not None:
            progress(i + 1, len(named))
    return out


def _morris_flips(points: np.ndarray, y: np.ndarray, d: int) -> tuple[list[int], list[int]]:
    """Per factor: Morris steps (consecutive points of a trajectory differing in it alone)
    across which the response changes sign, and all its steps."""
    flips, steps = [0] * d, [0] * d
    for t in range(len(points) // (d + 1)):
        block = slice(t * (d + 1), (t + 1) * (d + 1))
        xs, ys = points[block], y[block]
        for k in range(d):
            moved = np.flatnonzero(xs[k + 1] != xs[k])
            if len(moved) != 1:
                continue
            j = int(moved[0])
            steps[j] += 1
            flips[j] += int(np.sign(ys[k + 1]) != np.sign(ys[k]))
    return flips, steps


def _sobol_flips(y: np.ndarray, d: int) -> tuple[list[int], list[int]]:
    """Per factor: Saltelli blocks (A, AB_1..AB_d, B) whose A and AB_j (which differ in
    factor j alone) have responses of opposite sign, and the blocks."""
    rows = y.reshape(-1, d + 2)
    a = rows[:, 0]
    flips = [int(np.sum(np.sign(rows[:, 1 + j]) != np.sign(a))) for j in range(d)]
    return flips, [len(rows)] * d


def table(found: Sensitivity) -> pd.DataFrame:
    """The indices with the flip counts, one row per parameter."""
    frame = found.indices.copy()
    frame["flips"] = [found.flips[f.key] for f in found.factors]
    frame["steps"] = [found.steps[f.key] for f in found.factors]
    frame["lower"] = [f.lower for f in found.factors]
    frame["upper"] = [f.upper for f in found.factors]
    return frame


def points_table(found: Sensitivity) -> pd.DataFrame:
    """Every design point with its mean gap and per-seed gaps (yuan)."""
    frame = pd.DataFrame(found.points, columns=[f.key for f in found.factors])
    frame["gap_mean"] = found.response
    for s in range(found.gaps.shape[1]):
        frame[f"gap_seed_{s}"] = found.gaps[:, s]
    return frame
