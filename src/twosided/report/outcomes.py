"""The key outcomes of a run, how they are labelled and how their values are shown.

One list serves the command line's summary table, ``twosided compare`` and the reports, so
that every surface names and formats an outcome the same way. Money is kept in integer
cents in the data and shown in yuan (cents / 100).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

import pandas as pd

from twosided.scenario import CENTS_PER_YUAN
from twosided.sim.ledger import REVENUE_STREAMS

REVENUE_PREFIX = "revenue_"
CENTS_SUFFIX = "_cents"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A column of the per-platform summary and how to show it.

    ``unit`` is ``"yuan"`` (a cents column shown in yuan), ``"share"`` (shown in percent),
    ``"count"`` or ``"ratio"``.
    """

    column: str
    label: str
    unit: str

    def value(self, raw: float | None) -> float | None:
        """The value in display units (yuan for money, a fraction for shares)."""
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            return None
        return raw / CENTS_PER_YUAN if self.unit == "yuan" else float(raw)

    def format(self, raw: float | None) -> str:
        """The value as text: ``1,234,567`` yuan, ``48.2%``, ``1,234`` or ``0.064``."""
        value = self.value(raw)
        if value is None:
            return "-"
        if self.unit == "share":
            return f"{value:.1%}"
        if self.unit == "ratio":
            return f"{value:.2%}"
        return f"{value:,.0f}"

    def format_change(self, a: float | None, b: float | None) -> str:
        """The change from ``a`` to ``b``: points for shares and ratios, relative otherwise."""
        va, vb = self.value(a), self.value(b)
        if va is None or vb is None:
            return "-"
        if self.unit in ("share", "ratio"):
            return f"{(vb - va) * 100:+.2f} pts"
        diff = f"{vb - va:+,.0f}"
        return f"{diff} ({(vb - va) / abs(va):+.1%})" if va else diff


def revenue_stream_columns(columns: Iterable[str]) -> list[str]:
    """The columns of the platform's revenue streams (``revenue_<stream>_cents``, one per
    stream of the ledger's ``REVENUE_STREAMS``; together they make ``revenue_cents``)."""
    present = set(columns)
    names = [f"{REVENUE_PREFIX}{stream}{CENTS_SUFFIX}" for stream in REVENUE_STREAMS]
    return [c for c in names if c in present]


def stream_name(column: str) -> str:
    """``revenue_service_fee_cents`` -> ``service fee``."""
    return column[len(REVENUE_PREFIX) : -len(CENTS_SUFFIX)].replace("_", " ")


def summary_outcomes(columns: Sequence[str]) -> list[Outcome]:
    """The outcomes of the per-platform summary table that ``columns`` carries."""
    head = [
        Outcome("monthly_active_buyers", "Buyers (monthly active, last day)", "count"),
        Outcome("sessions", "Shopping sessions", "count"),
        Outcome("share_sessions", "Share of sessions", "share"),
        Outcome("orders", "Orders", "count"),
        Outcome("gmv_cents", "GMV (yuan)", "yuan"),
        Outcome("share_gmv", "Share of GMV", "share"),
        Outcome("revenue_cents", "Revenue (yuan)", "yuan"),
    ]
    streams = [
        Outcome(c, f"  from {stream_name(c)} (yuan)", "yuan")
        for c in revenue_stream_columns(columns)
    ]
    tail = [
        Outcome("take_rate", "Take rate (revenue / GMV)", "ratio"),
        Outcome("active_sellers", "Sellers (last day)", "count"),
        Outcome("sellers_entered", "Sellers entered", "count"),
        Outcome("sellers_exited", "Sellers exited", "count"),
        Outcome("consumer_surplus_cents", "Consumer surplus (yuan)", "yuan"),
        Outcome("seller_profit_cents", "Seller profit (yuan)", "yuan"),
        Outcome("refunds_cents", "Refunds (yuan)", "yuan"),
    ]
    return [o for o in (*head, *streams, *tail) if o.column in columns]


def key_outcomes(columns: Sequence[str]) -> list[Outcome]:
    """The outcomes ``twosided compare`` reports (a shorter list)."""
    keep = {"monthly_active_buyers", "share_sessions", "share_gmv", "gmv_cents",
            "revenue_cents", "take_rate", "active_sellers", "consumer_surplus_cents",
            "seller_profit_cents"}
    return [o for o in summary_outcomes(columns) if o.column in keep]


def market_row(summary: pd.DataFrame) -> dict[str, float | None]:
    """Market totals of a per-platform summary: sums of counts and money, ratio of sums."""
    row: dict[str, float | None] = {}
    for outcome in summary_outcomes(summary.columns):
        if outcome.unit in ("count", "yuan"):
            row[outcome.column] = float(summary[outcome.column].sum())
    if "share_sessions" in summary.columns:
        row["share_sessions"] = row["share_gmv"] = 1.0
    gmv = row.get("gmv_cents") or 0.0
    row["take_rate"] = (row.get("revenue_cents") or 0.0) / gmv if gmv else None
    return row


def summary_grid(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """A per-platform summary as text: header (outcome, platforms..., Market) and rows."""
    market = market_row(summary)
    platforms = [str(p) for p in summary["platform"]]
    header = ["", *platforms, "Market"] if len(platforms) > 1 else ["", *platforms]
    rows = []
    for outcome in summary_outcomes(summary.columns):
        cells = [outcome.format(v) for v in summary[outcome.column]]
        if len(platforms) > 1:
            cells.append(outcome.format(market.get(outcome.column)))
        rows.append([outcome.label, *cells])
    return header, rows
