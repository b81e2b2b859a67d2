"""The sweep report: each outcome against the varied parameter, short run beside long run.

For every outcome the report plots, per platform, the mean over seeds and its 95% interval
against the first varied key (other varied keys become separate lines), in the first
quarter and in the long run (see ``stats`` for the windows). Money is shown in yuan
(cents / 100) per day, so that windows of different lengths compare.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twosided.experiments.grid import Variant
from twosided.experiments.page import CENTS_PER_YUAN, with_interval, write_page
from twosided.experiments.stats import Window, intervals, long_window, per_seed, short_window
from twosided.experiments.sweep import SweepResult
from twosided.report.charts import PLATFORM_COLORS, figure_html, safe_text
from twosided.report.page import page, section, table
from twosided.store import REPORT_FILE


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A daily column shown in the report: its title and whether it is money (cents)."""

    column: str
    title: str
    money: bool = False


OUTCOMES = (
    Outcome("revenue_cents", "Platform revenue per day (yuan)", money=True),
    Outcome("gmv_cents", "GMV per day (yuan)", money=True),
    Outcome("share_sessions", "Share of shopping sessions"),
    Outcome("monthly_active_buyers", "Monthly active buyers"),
    Outcome("active_sellers", "Active sellers"),
    Outcome("consumer_surplus_cents", "Consumer surplus per day (yuan)", money=True),
    Outcome("seller_profit_cents", "Seller profit per day (yuan)", money=True),
    Outcome("take_rate", "Take rate (revenue / GMV)"),
    Outcome("avg_markup", "Average markup"),
    Outcome("avg_delivered_quality", "Average delivered quality"),
)


def summarize_windows(
    table_: pd.DataFrame,
    keys: Sequence[str],
    outcomes: Sequence[Outcome],
    windows: Sequence[Window],
) -> dict[str, pd.DataFrame]:
    """Per window: mean and 95% interval over seeds of each outcome's daily mean, per
    variant and platform."""
    by = ["variant", *keys, "platform_id", "platform"]
    columns = [o.column for o in outcomes]
    out = {}
    for window in windows:
        seeds = per_seed(table_, by, window, means=columns)
        for o in outcomes:
            if o.money:
                seeds[o.column] = seeds[o.column] / CENTS_PER_YUAN
        out[window.name] = intervals(seeds, by, columns)
    return out


def _line_name(row: pd.Series, other_keys: Sequence[str]) -> str:
    parts = [str(row["platform"])] + [f"{k}={row[k]}" for k in other_keys]
    return safe_text(", ".join(parts))


def outcome_figure(
    summaries: dict[str, pd.DataFrame],
    windows: Sequence[Window],
    outcome: Outcome,
    keys: Sequence[str],
) -> go.Figure:
    """One outcome against the first varied key, one panel per window."""
    x_key = keys[0] if keys else "variant"
    other = list(keys[1:])
    fig = make_subplots(
        rows=1, cols=len(windows), shared_yaxes=True, subplot_titles=[w.label for w in windows]
    )
    for col, window in enumerate(windows, start=1):
        frame = summaries[window.name]
        groups = frame.groupby(["platform_id", *other], sort=True, dropna=False)
        for i, (_, line) in enumerate(groups):
            line = line.sort_values(x_key)
            m, lo, hi = (line[outcome.column + s] for s in ("", "_lo", "_hi"))
            fig.add_trace(
                go.Scatter(
                    x=line[x_key].map(safe_text) if line[x_key].dtype == object else line[x_key],
                    y=m,
                    mode="lines+markers",
                    name=_line_name(line.iloc[0], other),
                    legendgroup=_line_name(line.iloc[0], other),
                    showlegend=col == 1,
                    line={"color": PLATFORM_COLORS[i % len(PLATFORM_COLORS)]},
                    error_y={
                        "type": "data",
                        "array": hi - m,
                        "arrayminus": m - lo,
                        "visible": True,
                    },
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text=safe_text(x_key), row=1, col=col)
    fig.update_yaxes(title_text=outcome.title, row=1, col=1)
    fig.update_layout(height=380, margin={"t": 40})
    return fig


def numbers_table(
    summaries: dict[str, pd.DataFrame],
    windows: Sequence[Window],
    outcomes: Sequence[Outcome],
    keys: Sequence[str],
) -> str:
    """Every figure's numbers: mean [95% interval] per window, variant and platform."""
    header = ["window", "variant", *keys, "platform", *(o.title for o in outcomes)]
    rows = []
    for window in windows:
        for _, r in summaries[window.name].iterrows():
            cells = [
                window.name,
                str(int(r["variant"])),
                *(str(r[k]) for k in keys),
                str(r["platform"]),
            ]
            cells += [
                with_interval(r[o.column], r[o.column + "_lo"], r[o.column + "_hi"])
                for o in outcomes
            ]
            rows.append(cells)
    return table(header, rows, left=3 + len(keys))


def chart_id(outcome: Outcome) -> str:
    """The element id of an outcome's chart."""
    return f"sweep-{outcome.column}"


def report_outcomes(result: SweepResult) -> list[Outcome]:
    """The outcomes the report shows: those the sweep's table has."""
    return [o for o in OUTCOMES if o.column in result.table.columns]


def sweep_report_html(result: SweepResult) -> str:
    """The sweep report as one self-contained HTML page."""
    plan = result.plan
    keys = plan.keys
    windows = [short_window(plan.days), long_window(plan.days)]
    outcomes = report_outcomes(result)
    summaries = summarize_windows(result.table, keys, outcomes, windows)
    varied = (
        "; ".join(f"{k}: {', '.join(_values(plan.variants, k))}" for k in keys)
        or "nothing (one variant)"
    )
    headline = [
        f"Scenario {plan.base.name}: {len(plan.variants)} variants × {len(plan.seeds)} seeds "
        f"(seeds {plan.seeds[0]}-{plan.seeds[-1]}) × {plan.days} days.",
        f"Varied: {varied}.",
        f"Each point is the mean over seeds of a seed's daily mean in the window, with a 95% "
        f"Student-t interval over seeds. Short run: {windows[0].label}; "
        f"long run: {windows[1].label}.",
    ]
    sections = [
        section(
            o.title,
            figure_html(outcome_figure(summaries, windows, o, keys), chart_id(o)),
            f"against {keys[0] if keys else 'the variant'}; one line per platform"
            + (f" and value of {', '.join(keys[1:])}" if len(keys) > 1 else ""),
        )
        for o in outcomes
    ]
    sections.append(section("Numbers", numbers_table(summaries, windows, outcomes, keys)))
    return page(
        f"twosided sweep: {plan.base.name}",
        headline,
        "",
        sections,
        [f"sweep {plan.sweep_id}", str(result.folder)],
    )


def _values(variants: Sequence[Variant], key: str) -> list[str]:
    """The distinct values a key takes over the variants, in order."""
    return list(dict.fromkeys(str(v.labels.get(key)) for v in variants))


def write_sweep_report(result: SweepResult, path: Path | None = None) -> Path:
    """Write the sweep report (default: ``report.html`` in the sweep folder)."""
    target = Path(path) if path is not None else result.folder / REPORT_FILE
    return write_page(target, sweep_report_html(result))
