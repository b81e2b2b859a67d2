"""The key outcomes of a run, how they are labelled and how their values are shown.

One list serves the command line's summary table, ``twosided compare`` and the reports, so
that every surface names and formats an outcome the same way. Money is kept in integer
cents in the data and shown in yuan (cents / 100).
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from twosided.scenario import CENTS_PER_YUAN
from twosided.sim.streams import revenue_columns
from twosided.statistics import CONFIDENCE, half_width

MARKET = "Market"
FrameT = TypeVar("FrameT", bound=pd.DataFrame)
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
    precise: bool = False  # counts and money with three significant digits (small rates)

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
        return significant(value) if self.precise else f"{value:,.0f}"

    def format_interval(self, raw: float | None, half: float | None) -> str:
        """The value and the half-width of its interval: ``1,234 ± 56``, ``48.2 ± 0.3%``
        (the value alone when the half-width is unknown)."""
        value, spread = self.value(raw), self.value(half)
        if value is None or spread is None:
            return self.format(raw)
        if self.unit in ("share", "ratio"):
            digits = 1 if self.unit == "share" else 2
            return f"{value * 100:.{digits}f} ± {spread * 100:.{digits}f}%"
        return f"{value:,.0f} ± {spread:,.0f}"

    def format_change(self, a: float | None, b: float | None) -> str:
        """The change from ``a`` to ``b``: points for shares and ratios, relative otherwise."""
        va, vb = self.value(a), self.value(b)
        if va is None or vb is None:
            return "-"
        if self.unit in ("share", "ratio"):
            return f"{(vb - va) * 100:+.2f} pts"
        diff = (
            ("+" if vb >= va else "") + significant(vb - va) if self.precise else f"{vb - va:+,.0f}"
        )
        return f"{diff} ({(vb - va) / abs(va):+.1%})" if va else diff


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, thousands separated: ``2,440``,
    ``12.3``, ``0.0123``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{value:,.{decimals}f}"


def revenue_stream_columns(columns: Iterable[str]) -> list[str]:
    """The columns of the platform's revenue streams (``revenue_<stream>_cents``, one per
    revenue stream of the registry ``twosided.sim.streams``; together they make
    ``revenue_cents``)."""
    present = set(columns)
    return [c for c in revenue_columns() if c in present]


def stream_name(column: str) -> str:
    """``revenue_service_fee_cents`` -> ``service fee``."""
    return column[len(REVENUE_PREFIX) : -len(CENTS_SUFFIX)].replace("_", " ")


def summary_outcomes(columns: Sequence[str]) -> list[Outcome]:
    """The outcomes of the per-platform summary table that ``columns`` carries."""
    head = [
        Outcome("monthly_active_buyers", "Buyers (monthly active, last day)", "count"),
        Outcome("share_multihoming", "  also active on another platform", "share"),
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
        Outcome("revenue_accrual_cents", "Revenue, accrual (yuan)", "yuan"),
        Outcome("take_rate", "Take rate (revenue / GMV)", "ratio"),
        Outcome("take_rate_accrual", "Take rate, accrual", "ratio"),
        Outcome("active_sellers", "Seller listings (last day)", "count"),
        Outcome("sellers", "Sellers (distinct, last day)", "count"),
        Outcome("sellers_entered", "Seller listings entered", "count"),
        Outcome("sellers_exited", "Seller listings exited", "count"),
        Outcome("consumer_surplus_cents", "Consumer surplus (yuan)", "yuan"),
        Outcome("seller_profit_cents", "Seller profit (yuan)", "yuan"),
        Outcome("refunds_cents", "Refunds (yuan)", "yuan"),
    ]
    return [o for o in (*head, *streams, *tail) if o.column in columns]


def key_outcomes(columns: Sequence[str]) -> list[Outcome]:
    """The outcomes ``twosided compare`` reports (a shorter list)."""
    keep = {
        "monthly_active_buyers",
        "share_sessions",
        "share_gmv",
        "gmv_cents",
        "revenue_cents",
        "take_rate",
        "active_sellers",
        "consumer_surplus_cents",
        "seller_profit_cents",
    }
    return [o for o in summary_outcomes(columns) if o.column in keep]


# per-platform counts whose sum over platforms is no market figure: a buyer active on
# several platforms is one buyer of the market, a seller listed on several one seller (the
# market's own count, when the summary carries it, is the column named here)
NOT_ADDITIVE = {
    "monthly_active_buyers": "market_monthly_active_buyers",
    "sellers": "market_sellers",
}
# the market's share of buyers active on several platforms: (share, multi-homing buyers,
# monthly active buyers), the market's own counts
MULTIHOMING = ("share_multihoming", "market_multihoming_buyers", "market_monthly_active_buyers")


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def market_row(summary: pd.DataFrame) -> dict[str, float | None]:
    """Market totals of a per-platform summary: sums of counts and money, ratio of sums;
    counts that cannot be added (``NOT_ADDITIVE``) are the market's own figure when the
    summary has it, else unknown (None)."""
    row: dict[str, float | None] = {}
    for outcome in summary_outcomes(summary.columns):
        if outcome.column in NOT_ADDITIVE:
            own = NOT_ADDITIVE[outcome.column]
            row[outcome.column] = float(summary[own].iloc[0]) if own in summary.columns else None
        elif outcome.unit in ("count", "yuan"):
            row[outcome.column] = float(summary[outcome.column].sum())
    if "share_sessions" in summary.columns:
        row["share_sessions"] = row["share_gmv"] = 1.0
    share, multi, active = MULTIHOMING
    if share in summary.columns and multi in summary.columns:
        row[share] = _ratio(float(summary[multi].iloc[0]), float(summary[active].iloc[0]))
    gmv = row.get("gmv_cents") or 0.0
    row["take_rate"] = _ratio(row.get("revenue_cents") or 0.0, gmv)
    if "revenue_accrual_cents" in row:
        row["take_rate_accrual"] = _ratio(row["revenue_accrual_cents"] or 0.0, gmv)
    return row


PER_SEED = "per_seed"  # summary.attrs key: the per-seed summaries a summary averages
SEED = "seed_index"  # in the per-seed table: which seed a row is (0, 1, ...)


def with_per_seed(summary: FrameT, per_seed: pd.DataFrame | Sequence[pd.DataFrame]) -> FrameT:
    """Attach the per-seed summaries behind a mean summary, so that ``summary_grid`` shows
    each figure's 95% interval over seeds: one table with a ``seed_index`` column, or a
    list of per-seed summaries (one per seed)."""
    if not isinstance(per_seed, pd.DataFrame):
        frames = list(per_seed)
        per_seed = (
            pd.concat([f.assign(**{SEED: i}) for i, f in enumerate(frames)], ignore_index=True)
            if frames
            else pd.DataFrame()
        )
    summary.attrs[PER_SEED] = per_seed
    return summary


def _half_widths(table: np.ndarray) -> np.ndarray:
    """Per row of a [group, seed] table: half the width of the 95% Student-t interval of
    the mean over seeds (``twosided.statistics.half_width``: NaN where a seed's value is
    unknown, or for a single seed)."""
    return np.array([half_width(row, CONFIDENCE) for row in table], dtype=np.float64)


def _market_per_seed(seeds: pd.DataFrame, outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """``market_row`` of every seed at once: one row per seed."""
    by = seeds.groupby(SEED, sort=True)
    out = pd.DataFrame(index=sorted(seeds[SEED].unique()))
    for o in outcomes:
        if o.column in NOT_ADDITIVE:
            own = NOT_ADDITIVE[o.column]
            if own in seeds.columns:
                out[o.column] = by[own].first()
        elif o.unit in ("count", "yuan"):
            out[o.column] = by[o.column].sum()
    for rate, revenue in (
        ("take_rate", "revenue_cents"),
        ("take_rate_accrual", "revenue_accrual_cents"),
    ):
        if "gmv_cents" in out.columns and revenue in out.columns:
            out[rate] = out[revenue] / out["gmv_cents"].where(out["gmv_cents"] != 0)
    share, multi, active = MULTIHOMING
    if share in seeds.columns and multi in seeds.columns:
        out[share] = by[multi].first() / by[active].first().where(by[active].first() != 0)
    return out


def _spreads(
    summary: pd.DataFrame, outcomes: Sequence[Outcome]
) -> dict[tuple[str, str], float | None]:
    """(platform or "Market", column) -> half-width over the per-seed summaries, if any."""
    seeds = summary.attrs.get(PER_SEED)
    if seeds is None or seeds.empty or seeds[SEED].nunique() < 2:
        return {}
    out: dict[tuple[str, str], float | None] = {}
    columns = [o.column for o in outcomes if o.column in seeds.columns]
    for column in columns:
        table = seeds.pivot_table(
            index="platform", columns=SEED, values=column, aggfunc="first", dropna=False
        )
        for platform, half in zip(table.index, _half_widths(table.to_numpy(np.float64))):
            out[(str(platform), column)] = None if math.isnan(half) else float(half)
    market = _market_per_seed(seeds, outcomes)
    for column in market.columns:  # the market's shares are 100% by definition
        half = _half_widths(market[[column]].to_numpy(np.float64).T)[0]
        out[(MARKET, column)] = None if math.isnan(half) else float(half)
    return out


def summary_grid(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """A per-platform summary as text: header (outcome, platforms..., Market) and rows.

    With the per-seed summaries attached (``with_per_seed``, as ``Result.summary()`` does
    for several seeds) each cell is ``mean ± half-width`` of the 95% interval over seeds.
    The Market column adds what can be added (``market_row``).
    """
    market = market_row(summary)
    platforms = [str(p) for p in summary["platform"]]
    several = len(platforms) > 1
    header = ["", *platforms, MARKET] if several else ["", *platforms]
    outcomes = summary_outcomes(summary.columns)
    spread = _spreads(summary, outcomes)
    rows = []
    for outcome in outcomes:
        values = [*summary[outcome.column], *([market.get(outcome.column)] if several else [])]
        cells = [
            outcome.format_interval(v, spread.get((name, outcome.column)))
            for name, v in zip(header[1:], values)
        ]
        rows.append([outcome.label, *cells])
    return header, rows


def grid_html(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A grid as an HTML table (cells escaped), in the report's style; the first column
    holds the labels."""

    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=label' if i == 0 else ''}>{html.escape(str(c))}</{tag}>"
            for i, c in enumerate(row)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return (
        f'<table class="figures"><thead><tr>{cells("th", header)}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def grid_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A grid as plain text: the first column left-aligned, the others right-aligned."""
    lines = [list(header), *(list(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        cells = [line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:], widths[1:]))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(lines[0]), rule, *(fmt(line) for line in lines[1:])])
