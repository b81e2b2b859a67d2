"""Elasticities estimated within seeds and combined over seeds, with a t interval.

The elasticity of ``y`` (a group's payments) to ``x`` (another group's activity) is the slope
``b`` of ``log y = a_period + b log x`` over the observations of one seed: every period of
every run pooled, with a fixed effect for each period so that what the whole market does
over time (trust building, sellers learning their bids) is not taken for a response to
activity. The slope therefore comes from runs that differ, at the same seed and period, in
the activity of ``x`` (runs that differ in the number of buyers, say). A single run gives
one observation per period and seed: nothing is left once the period is accounted for, and
the elasticity is not identified (see ``docs/roles.md`` for why the days of one run are not
enough).

Seeds are independent replications, so the seeds' slopes are combined as a mean with a
Student-t interval on ``seeds − 1`` degrees of freedom (``twosided.statistics``; one seed
has no interval). This interval is valid however the days of a run are correlated with each
other, which the engine's slowly moving state (trust, seller populations) makes them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from twosided.statistics import t_interval


@dataclasses.dataclass(frozen=True)
class Elasticity:
    """An elasticity over seeds: mean, interval, and the per-seed estimates it rests on."""

    estimate: float
    low: float
    high: float
    level: float
    per_seed: tuple[float, ...]
    observations: int

    @property
    def seeds(self) -> int:
        """How many seeds gave an estimate."""
        return len(self.per_seed)

    @property
    def positive(self) -> bool:
        """Whether the whole interval lies above zero (needs at least two seeds)."""
        return self.seeds >= 2 and self.low > 0.0

    def describe(self) -> str:
        """The figure as text, e.g. ``0.98 [0.85, 1.11]`` (or the estimate alone)."""
        if self.seeds < 2:
            return f"{self.estimate:.2f} (one seed: no interval)"
        return f"{self.estimate:.2f} [{self.low:.2f}, {self.high:.2f}]"


def within_period_slope(ly: np.ndarray, lx: np.ndarray, periods: np.ndarray) -> float | None:
    """OLS slope of ``ly`` on ``lx`` with a fixed effect per period; None without variation."""
    dy = ly - pd.Series(ly).groupby(periods).transform("mean").to_numpy()
    dx = lx - pd.Series(lx).groupby(periods).transform("mean").to_numpy()
    spread = float(dx @ dx)
    if spread <= np.finfo(np.float64).eps * max(1.0, float(lx @ lx)):
        return None
    return float(dx @ dy) / spread


def log_log(
    y: np.ndarray,
    x: np.ndarray,
    seeds: np.ndarray,
    periods: np.ndarray,
    level: float = 0.95,
) -> Elasticity | None:
    """The elasticity of ``y`` to ``x`` over positive observations, or None if not identified.

    Each observation belongs to a seed and a period (a run's days grouped); observations of
    several runs share seeds and periods. Not identified: no seed has two runs that differ
    in ``x`` in some period.
    """
    y, x = np.asarray(y, np.float64), np.asarray(x, np.float64)
    keep = (y > 0) & (x > 0)
    seeds, periods = np.asarray(seeds)[keep], np.asarray(periods)[keep]
    ly, lx = np.log(y[keep]), np.log(x[keep])
    slopes = []
    for seed in np.unique(seeds):
        mine = seeds == seed
        slope = within_period_slope(ly[mine], lx[mine], periods[mine])
        if slope is not None:
            slopes.append(slope)
    if not slopes:
        return None
    mean, low, high = mean_interval(np.asarray(slopes), level)
    return Elasticity(mean, low, high, level, tuple(slopes), int(keep.sum()))


def mean_interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean of independent replications and its Student-t interval
    (``twosided.statistics.t_interval``: NaN bounds for a single seed)."""
    return t_interval(values, level)
