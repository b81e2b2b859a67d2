"""The short text at the top of a report: the scenario and the headline outcome.

Everything here is computed from the run's tables (who gained share, who earned what); the
text states figures, never a conclusion the data did not produce. Returned strings are
plain text; the page escapes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from twosided.outcomes import CENTS_PER_YUAN, revenue_stream_columns, stream_name
from twosided.report import series as S
from twosided.scenario import Scenario
from twosided.sim.params import category_copies
from twosided.simulation import Result


def _yuan(cents: float) -> str:
    return f"{cents / CENTS_PER_YUAN:,.0f} yuan"


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _categories(sc: Scenario) -> str:
    """The categories, as copies of classes in a market that scales."""
    classes, copies = sc.market.categories, category_copies(sc).copies
    if sc.market.daily_sessions_per_category is None:
        return f"{classes} categories"
    return f"{classes * copies} categories ({copies} of each of {classes} classes)"


def scenario_line(run: Result) -> str:
    """What ran: the market, its platforms, the length and the seeds."""
    sc = run.scenario
    seeds = len(run.seeds)
    days = int(run.daily["day"].nunique())
    platforms = [p.name for p in sc.platforms]
    return (
        f"Scenario '{sc.name}': {len(platforms)} platform{'s' * (len(platforms) > 1)} "
        f"({_names(platforms)}), {sc.market.buyers:,} buyers, {_categories(sc)}, "
        f"{days} days, {seeds} seed{'s' * (seeds > 1)}"
        + (" (lines are means over seeds, bands the range)." if seeds > 1 else ".")
    )


def share_line(run: Result) -> str:
    """Who gained and who lost share of shopping sessions between the first and last week."""
    change = S.share_change(run.daily)
    if len(change) == 1:
        return f"{change['platform'].iloc[0]} is the only platform in this market."
    gainer = change.loc[change["change"].idxmax()]
    loser = change.loc[change["change"].idxmin()]
    window = S.SMOOTH_DAYS
    if gainer["change"] <= 0 or loser["change"] >= 0:
        return f"Shares of sessions did not move between the first and the last {window} days."
    return (
        f"Between the first and the last {window} days, {gainer['platform']} gained the most "
        f"share of sessions ({gainer['start']:.1%} to {gainer['end']:.1%}) and "
        f"{loser['platform']} lost the most ({loser['start']:.1%} to {loser['end']:.1%})."
    )


def revenue_line(summary: pd.DataFrame) -> str:
    """Platform revenue totals, each platform's take rate, and the largest stream."""
    total = summary["revenue_cents"].sum()
    parts = [
        f"{row.platform} {_yuan(row.revenue_cents)} (take rate "
        + (f"{row.take_rate:.1%})" if pd.notna(row.take_rate) else "n/a)")
        for row in summary.itertuples()
    ]
    text = f"Platform revenue totalled {_yuan(total)}: {'; '.join(parts)}."
    streams = revenue_stream_columns(summary.columns)
    if total > 0 and streams:
        top = max(streams, key=lambda c: summary[c].sum())
        text += f" The largest stream was {stream_name(top)} ({summary[top].sum() / total:.0%})."
    return text


def welfare_line(summary: pd.DataFrame) -> str:
    """Buyers' consumer surplus and sellers' profit over the run, and the sellers left."""
    distinct = (
        f", by {summary['market_sellers'].iloc[0]:,.0f} distinct sellers"
        if "market_sellers" in summary
        else ""
    )
    return (
        f"Buyers' consumer surplus was {_yuan(summary['consumer_surplus_cents'].sum())} and "
        f"sellers' profit {_yuan(summary['seller_profit_cents'].sum())}; "
        f"{summary['active_sellers'].sum():,.0f} seller listings were active on the last day"
        f"{distinct} ({summary['sellers_entered'].sum():,.0f} listings entered, "
        f"{summary['sellers_exited'].sum():,.0f} exited)."
    )


def headline(run: Result) -> list[str]:
    """The paragraphs at the top of a single run's report."""
    summary = run.summary()
    lines = [scenario_line(run)]
    if run.scenario.description:
        lines.append(run.scenario.description)
    if run.warmup:
        lines.append(warmup_line(run.warmup))
    return [*lines, share_line(run), revenue_line(summary), welfare_line(summary)]


def warmup_line(warmup: int) -> str:
    """The note that a report leaves the run's first days out."""
    days = f"{warmup} days (warm-up) are" if warmup != 1 else "day (warm-up) is"
    return (
        f"The first {days} left out: the summary, the charts and the figures above and "
        "below start after the warm-up."
    )


def comparison_headline(runs: Sequence[tuple[str, Result]]) -> list[str]:
    """The paragraphs at the top of a comparison: what each run is, then market changes."""
    lines = [f"{label}: {scenario_line(run)}" for label, run in runs]
    (label_a, a), (label_b, b) = runs[0], runs[1]
    sa, sb = a.summary(), b.summary()
    for column, what in (
        ("gmv_cents", "Market GMV"),
        ("revenue_cents", "Platform revenue"),
        ("consumer_surplus_cents", "Consumer surplus"),
    ):
        va, vb = sa[column].sum(), sb[column].sum()
        change = f" ({(vb - va) / abs(va):+.1%})" if va else ""
        lines.append(f"{what}: {_yuan(va)} in {label_a}, {_yuan(vb)} in {label_b}{change}.")
    return lines
