"""Differences of the key outcomes between two runs, per platform and for the market.

Platforms are matched by name; a platform present in one run only shows "-" in the other.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from twosided.report.outcomes import Outcome, key_outcomes, market_row

MARKET = "Market"


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
