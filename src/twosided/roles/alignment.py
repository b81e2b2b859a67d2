"""Alignment: how much of a platform's revenue is not earned at its users' expense.

Each cent of a platform's revenue is put in one of three classes, from the daily table:

* **at users' expense**: ad revenue from paid positions (sponsored slots, or organic
  positions bought by bids) held by listings that a buyer-first ranking would not have put
  on the page at all (``revenue_ads_misaligned_cents``), plus the commission collected on
  orders of such listings. The commission is collected when escrow releases the payment, so
  the collected commission is split in the proportion of the commission *due* on misaligned
  orders (``commission_misaligned_cents / commission_due_cents``) over the same days.
* **with users**: the rest of the ad revenue, the rest of the commission, and affiliate
  fees: revenue that grows when buyers find and buy what is good for them.
* **fixed**: technical-service fees (net of refunds) and forfeited deposits, which move with
  the number of sellers and their misdeeds, not with what buyers do.

The **alignment** figure is ``1 − at users' expense / revenue``: the share of the revenue
that the platform did not earn by steering its users to worse offers. It is computed per
seed over the days asked for and averaged over seeds, with a Student-t interval over seeds.
Technical-service fees are paid for a year when a seller lists, so in runs shorter than a
year the fixed class weighs more than it will over the year: compare alignment between runs
of the same length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from twosided.roles.elasticity import mean_interval
from twosided.roles.errors import RolesError
from twosided.roles.streams import LUMP_SUM_STREAMS, PER_USE_STREAMS
from twosided.sim.streams import revenue_column, revenue_columns

# the total, every revenue stream's column (twosided.sim.streams), and the misaligned parts
ALIGNMENT_COLUMNS = (
    "revenue_cents",
    *revenue_columns(),
    "revenue_ads_misaligned_cents",
    "commission_due_cents",
    "commission_misaligned_cents",
)
LEVEL = 0.95


class AlignmentError(RolesError):
    """A daily table without the columns the alignment figure needs; one clear line."""


@dataclasses.dataclass(frozen=True)
class Alignment:
    """A platform's revenue by class (cents, mean over seeds) and its alignment figure."""

    platform: str
    revenue_cents: float
    with_users_cents: float
    at_expense_cents: float
    fixed_cents: float
    ads_misaligned_cents: float
    commission_misaligned_cents: float
    alignment: float  # mean over seeds of 1 − at_expense / revenue
    low: float
    high: float
    per_seed: tuple[float, ...]

    def describe(self) -> str:
        """The figure as text, with its interval when there are several seeds."""
        if len(self.per_seed) < 2:
            return f"{self.alignment:.3f}"
        return f"{self.alignment:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _stream_sum(sums: pd.DataFrame, streams: Iterable[str]) -> pd.Series:
    """The revenue of the named streams (their ``revenue_<stream>_cents`` columns), summed."""
    columns = (revenue_column(s) for s in streams)
    return sum((sums[c] for c in columns), start=pd.Series(0, index=sums.index))


def revenue_classes(daily: pd.DataFrame) -> pd.DataFrame:
    """Revenue by class per seed and platform (cents), summed over the days given."""
    missing = [c for c in ALIGNMENT_COLUMNS if c not in daily.columns]
    if missing:
        raise AlignmentError(
            f"daily table lacks {', '.join(missing)} (a run from an older engine?)"
        )
    sums = daily.groupby(["platform", "seed"], sort=False)[list(ALIGNMENT_COLUMNS)].sum()
    due = sums["commission_due_cents"].astype(float)
    part = np.where(due > 0, sums["commission_misaligned_cents"] / due.where(due > 0, 1.0), 0.0)
    commission_misaligned = sums["revenue_commission_cents"] * part
    at_expense = sums["revenue_ads_misaligned_cents"] + commission_misaligned
    # per-use streams (ads, commission, affiliate fees) are earned with or at the expense of
    # users; lump sums (service fees, forfeits) are fixed (twosided.roles.streams)
    with_users = _stream_sum(sums, PER_USE_STREAMS) - at_expense
    fixed = _stream_sum(sums, LUMP_SUM_STREAMS)
    revenue = sums["revenue_cents"].astype(float)
    return pd.DataFrame(
        {
            "revenue_cents": revenue,
            "with_users_cents": with_users,
            "at_expense_cents": at_expense,
            "fixed_cents": fixed,
            "ads_misaligned_cents": sums["revenue_ads_misaligned_cents"],
            "commission_misaligned_cents": commission_misaligned,
            "alignment": np.where(
                revenue > 0, 1.0 - at_expense / revenue.where(revenue > 0, 1.0), np.nan
            ),
        }
    ).reset_index()


def alignment(daily: pd.DataFrame, last_days: int | None = None) -> list[Alignment]:
    """The alignment figure of every platform (engine order), over all or the last days."""
    if last_days is not None:
        daily = daily[daily["day"] > daily["day"].max() - last_days]
    order = daily[["platform_id", "platform"]].drop_duplicates().sort_values("platform_id")
    classes = revenue_classes(daily)
    out = []
    for name in order["platform"]:
        rows = classes[classes["platform"] == name]
        per_seed = rows["alignment"].dropna().to_numpy()
        mean, low, high = mean_interval(per_seed, LEVEL)  # NaN bounds for a single seed
        low, high = (float(np.clip(b, 0.0, 1.0)) for b in (low, high))  # a share (NaN stays)
        out.append(
            Alignment(
                platform=name,
                revenue_cents=float(rows["revenue_cents"].mean()),
                with_users_cents=float(rows["with_users_cents"].mean()),
                at_expense_cents=float(rows["at_expense_cents"].mean()),
                fixed_cents=float(rows["fixed_cents"].mean()),
                ads_misaligned_cents=float(rows["ads_misaligned_cents"].mean()),
                commission_misaligned_cents=float(rows["commission_misaligned_cents"].mean()),
                alignment=mean,
                low=low,
                high=high,
                per_seed=tuple(float(v) for v in per_seed),
            )
        )
    return out
