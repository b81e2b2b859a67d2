"""Daily series for the report's charts: one value per platform and day, averaged over seeds.

Each chart metric is computed per seed and platform (a smoothing window or a cumulative sum
must not mix seeds), then summarized over seeds as the mean and the range (lowest and
highest seed), which the charts draw as a line and a band.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

SMOOTH_DAYS = 7  # presentation only: a week's mean evens out day-to-day sampling noise
RATE_WINDOW_DAYS = 30  # take rate over a trailing month, so annual fees do not spike one day

Metric = Callable[[pd.DataFrame], pd.Series]


def series(daily: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    """``metric`` per platform and day: columns platform_id, platform, day, mean, lo, hi.

    ``metric`` receives the rows of one seed and platform, sorted by day.
    """
    parts = []
    ordered = daily.sort_values(["seed", "platform_id", "day"])
    for (_, pid, name), rows in ordered.groupby(["seed", "platform_id", "platform"], sort=False):
        values = np.asarray(metric(rows), dtype=np.float64)
        parts.append(
            pd.DataFrame(
                {
                    "platform_id": pid,
                    "platform": name,
                    "day": rows["day"].to_numpy(),
                    "value": values,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    stats = frame.groupby(["platform_id", "platform", "day"], sort=True)["value"]
    return stats.agg(mean="mean", lo="min", hi="max").reset_index()


def level(column: str, scale: float = 1.0) -> Metric:
    """The column as it is (a stock such as sellers or the escrow balance)."""
    return lambda rows: rows[column] * scale


def smoothed(column: str, scale: float = 1.0, window: int = SMOOTH_DAYS) -> Metric:
    """A trailing mean of the column over ``window`` days."""
    return lambda rows: rows[column].rolling(window, min_periods=1).mean() * scale


def ratio_of_sums(numerator: str, denominator: str, window: int = RATE_WINDOW_DAYS) -> Metric:
    """Trailing sum of one column over the trailing sum of another (NaN where it is 0)."""

    def metric(rows: pd.DataFrame) -> pd.Series:
        top = rows[numerator].rolling(window, min_periods=1).sum()
        bottom = rows[denominator].rolling(window, min_periods=1).sum()
        return top / bottom.where(bottom > 0)

    return metric


def cumulative(column: str) -> Metric:
    """The running total of the column."""
    return lambda rows: rows[column].cumsum()


def totals_by_platform(daily: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Run totals of ``columns`` per platform: mean, lo and hi over seeds (long format)."""
    per_seed = daily.groupby(["platform_id", "platform", "seed"])[columns].sum()
    long = per_seed.reset_index().melt(
        id_vars=["platform_id", "platform", "seed"], var_name="column", value_name="value"
    )
    stats = long.groupby(["platform_id", "platform", "column"], sort=False)["value"]
    return stats.agg(mean="mean", lo="min", hi="max").reset_index()


def share_change(
    daily: pd.DataFrame, column: str = "share_sessions", window: int = SMOOTH_DAYS
) -> pd.DataFrame:
    """Mean share per platform over the first and the last ``window`` days (over seeds)."""
    first_day, last_day = daily["day"].min(), daily["day"].max()
    first = daily[daily["day"] < first_day + window]
    last = daily[daily["day"] > last_day - window]
    out = pd.DataFrame(
        {
            "start": first.groupby(["platform_id", "platform"])[column].mean(),
            "end": last.groupby(["platform_id", "platform"])[column].mean(),
        }
    ).reset_index()
    out["change"] = out["end"] - out["start"]
    return out
