"""Windows of a run and intervals over seeds: how sweep outcomes are summarized.

Short run and long run are two windows of days:

- short run: the first quarter of the first year (days 0-90), or the first quarter of the
  run when the run is shorter than a year;
- long run: the last year (the last 365 days) when that does not overlap the short run,
  otherwise the last quarter of the run.

A seed's outcome in a window is a total over its days (flows such as revenue) or a mean
over its days (levels such as seller counts and shares). Across seeds, the report shows the
mean and a 95% Student-t interval (seeds are independent draws of the same world;
``twosided.statistics``: NaN bounds for a single seed), or a bootstrap percentile interval
of the mean (``percentile_interval``: it never leaves the range of the seeds' values, so a
quantity that cannot be negative, or a share, keeps its bounds). Every variant runs the
same seeds, so a difference between two variants is measured seed by seed
(``paired_differences``, on the same Student-t interval): that is what findings test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from twosided.statistics import CONFIDENCE, t_interval

DAYS_PER_YEAR = 365
DAYS_PER_QUARTER = 91
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 0  # the same resamples every time: a report is reproducible


@dataclasses.dataclass(frozen=True)
class Window:
    """A span of days, first and last included."""

    name: str
    first: int
    last: int

    @property
    def days(self) -> int:
        """Number of days in the window."""
        return self.last - self.first + 1

    @property
    def label(self) -> str:
        """``first quarter (days 0-90)``."""
        return f"{self.name} (days {self.first}-{self.last})"


def short_window(days: int) -> Window:
    """The first quarter: of the first year, or of the run when it is shorter."""
    length = min(DAYS_PER_QUARTER, math.ceil(days / 4))
    return Window("first quarter", 0, max(0, length - 1))


def long_window(days: int) -> Window:
    """The last year when it does not overlap the first quarter, else the last quarter."""
    short = short_window(days)
    if days - DAYS_PER_YEAR >= short.days:
        return Window("last year", days - DAYS_PER_YEAR, days - 1)
    return Window("last quarter", days - math.ceil(days / 4), days - 1)


def whole_run(days: int) -> Window:
    """Every day of the run."""
    return Window("whole run", 0, days - 1)


def in_window(table: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Rows of ``table`` whose day lies in ``window``."""
    return table[(table["day"] >= window.first) & (table["day"] <= window.last)]


def per_seed(
    table: pd.DataFrame,
    by: Sequence[str],
    window: Window,
    totals: Sequence[str] = (),
    means: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per group of ``by`` and seed: totals and daily means over the window."""
    rows = in_window(table, window)
    groups = rows.groupby([*by, "seed"], sort=True, dropna=False)
    parts = []
    if totals:
        parts.append(groups[list(totals)].sum())
    if means:
        parts.append(groups[list(means)].mean())
    return pd.concat(parts, axis=1).reset_index()


def interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval of the mean over independent seeds
    (``twosided.statistics.t_interval``: NaN bounds for one seed)."""
    return t_interval(values, CONFIDENCE)


def intervals(
    frame: pd.DataFrame,
    by: Sequence[str],
    columns: Sequence[str],
    how: Callable[[np.ndarray], tuple[float, float, float]] = interval,
) -> pd.DataFrame:
    """Per group of ``by``: ``<col>``, ``<col>_lo``, ``<col>_hi`` over the rows (seeds), by
    ``how`` (default: the Student-t ``interval``)."""
    records = []
    for key, group in frame.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        record = dict(zip(by, key))
        for column in columns:
            mean, lo, hi = how(group[column].to_numpy())
            record.update({column: mean, f"{column}_lo": lo, f"{column}_hi": hi})
        records.append(record)
    return pd.DataFrame.from_records(records)


def percentile_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% bootstrap percentile interval of the mean over seeds (NaN bounds for one
    seed). The bounds lie within the seeds' values: never below 0 for counts or money that
    cannot be negative, never above 100% for a share."""
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = x[rng.integers(0, len(x), size=(BOOTSTRAP_DRAWS, len(x)))].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return mean, float(min(lo, mean)), float(max(hi, mean))


def percentile_intervals(
    frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """``intervals`` with ``percentile_interval`` (bounds within the seeds' values)."""
    return intervals(frame, by, columns, percentile_interval)


def paired_differences(
    seeds: pd.DataFrame, key: str, baseline: object, by: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """Per group of ``by`` (which holds ``key``): each column minus its value at
    ``key == baseline`` in the same seed and other groups, as the mean and 95% Student-t
    interval of the seed-by-seed differences (the test a finding uses). Rows of the
    baseline itself are 0."""
    others = [c for c in by if c != key]
    base = seeds[seeds[key] == baseline][[*others, "seed", *columns]]
    merged = seeds.merge(base, on=[*others, "seed"], suffixes=("", "__base"))
    diffs = merged[[*by, "seed"]].copy()
    for column in columns:
        diffs[column] = merged[column] - merged[f"{column}__base"]
    return intervals(diffs, by, columns)
