"""Differences between two runs: their scenarios field by field, what makes their totals
incomparable, and the key outcomes per platform and for the market (as totals, and per day
and per 1,000 buyers).

Platforms are matched by name; a platform present in one run only shows "-" in the other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pandas as pd

from twosided.outcomes import MARKET, Outcome, key_outcomes, market_row
from twosided.scenario.compare import (  # noqa: F401  (part of this module's interface)
    ABSENT,
    FieldDifference,
    scenario_differences,
    scenario_fields,
)


@dataclasses.dataclass(frozen=True)
class Difference:
    """One outcome of one platform (or the market) in runs A and B."""

    platform: str
    outcome: Outcome
    a: float | None
    b: float | None

    @property
    def a_text(self) -> str:
        return self.outcome.format(self.a)

    @property
    def b_text(self) -> str:
        return self.outcome.format(self.b)

    @property
    def change_text(self) -> str:
        return self.outcome.format_change(self.a, self.b)


def _rows(summary: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    rows = {str(r["platform"]): dict(r) for r in summary.to_dict(orient="records")}
    rows[MARKET] = market_row(summary)
    return rows


def outcome_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[Difference]:
    """Key outcomes of two per-platform summaries side by side (platforms, then the market)."""
    rows_a, rows_b = _rows(a), _rows(b)
    platforms = list(dict.fromkeys([*rows_a, *rows_b]))
    platforms.remove(MARKET)
    outcomes = key_outcomes([c for c in a.columns if c in set(b.columns)])
    out = []
    for platform in [*platforms, MARKET]:
        for outcome in outcomes:
            va = rows_a.get(platform, {}).get(outcome.column)
            vb = rows_b.get(platform, {}).get(outcome.column)
            if platform == MARKET and (outcome.unit == "share" or va is None and vb is None):
                continue  # the market's share is 100% by definition
            out.append(Difference(platform, outcome, va, vb))
    return out


# --------------------------------------------------------------------------- scenarios

PER_BUYERS = 1000  # normalised figures are per day and per this many buyers
LEVELS = {"monthly_active_buyers", "market_monthly_active_buyers", "active_sellers"}


def comparability_warnings(a: Any, b: Any, labels: tuple[str, str] = ("A", "B")) -> list[str]:
    """Plain-text warnings when two runs' totals do not compare: other days, other numbers
    of buyers, other seeds."""
    la, lb = labels
    out = []
    if a.scenario.days != b.scenario.days:
        out.append(
            f"Warning: {la} ran {a.scenario.days:,} days and {lb} "
            f"{b.scenario.days:,}: totals over the run do not compare; read the figures "
            f"per day and per {PER_BUYERS:,} buyers."
        )
    if a.scenario.market.buyers != b.scenario.market.buyers:
        out.append(
            f"Warning: {la} has {a.scenario.market.buyers:,} buyers and {lb} "
            f"{b.scenario.market.buyers:,}: counts and money scale with the market; read "
            f"the figures per day and per {PER_BUYERS:,} buyers."
        )
    if list(a.seeds) != list(b.seeds):
        out.append(
            f"Warning: {la} ran seeds {_seeds(a.seeds)} and {lb} seeds "
            f"{_seeds(b.seeds)}: their differences include other random draws, "
            "not only the scenario's."
        )
    return out


def _seeds(seeds: Iterable[int]) -> str:
    seeds = list(seeds)
    return str(seeds) if len(seeds) <= 6 else f"{seeds[0]}-{seeds[-1]} ({len(seeds)} seeds)"


def needs_normalising(a: Any, b: Any) -> bool:
    """Whether the runs differ in days or buyers (their totals do not compare)."""
    return (
        a.scenario.days != b.scenario.days or a.scenario.market.buyers != b.scenario.market.buyers
    )


def normalised(summary: pd.DataFrame, days: int, buyers: int) -> pd.DataFrame:
    """A per-platform summary per day and per ``PER_BUYERS`` buyers: flows (sessions, money,
    entries) over days and buyers, levels (buyers, listings) over buyers; shares and ratios
    as they are."""
    out = summary.copy()
    scale = buyers / PER_BUYERS
    for column in summary.columns:
        if column in LEVELS:
            out[column] = summary[column] / scale
        elif (
            column not in ("platform_id", "platform")
            and not column.startswith("share_")
            and column not in ("take_rate", "avg_trust")
        ):
            out[column] = summary[column] / (days * scale)
    return out


def normalised_differences(a: Any, b: Any) -> list[Difference]:
    """``outcome_differences`` of two runs' summaries per day and per 1,000 buyers (shown
    with three significant digits)."""
    na = normalised(a.summary(), a.scenario.days, a.scenario.market.buyers)
    nb = normalised(b.summary(), b.scenario.days, b.scenario.market.buyers)
    return [
        dataclasses.replace(d, outcome=dataclasses.replace(d.outcome, precise=True))
        for d in outcome_differences(na, nb)
    ]
