"""The sweep report: each outcome against the varied parameter, short run beside long run.

For every outcome the report plots, per platform, two rows against the first varied key
(other varied keys become separate lines), in the first quarter and in the long run (see
``stats`` for the windows):

- the level: the mean over seeds with a 95% bootstrap percentile interval of the mean,
  which stays within the seeds' values (no negative GMV, no share above 100%);
- the change from the baseline (the key's first value), measured seed by seed (every
  variant runs the same seeds) with a 95% Student-t interval of the paired differences:
  the test a finding uses, so a difference called clear is drawn clear of zero.

Money is shown in yuan (cents / 100) per day, so that windows of different lengths compare;
shares and rates in percent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twosided.experiments.grid import Variant
from twosided.experiments.page import CENTS_PER_YUAN, number, write_page
from twosided.experiments.stats import (
    Window,
    long_window,
    paired_differences,
    per_seed,
    percentile_intervals,
    short_window,
)
from twosided.experiments.sweep import SweepPlan, SweepResult
from twosided.report.charts import PLATFORM_COLORS, figure_html, safe_text
from twosided.report.page import page, section, table
from twosided.store import REPORT_FILE

AMOUNT, COUNT, SHARE, PERCENT = "amount", "count", "share", "percent"
INTEGER_TICKS_BELOW = 10  # an integer axis spanning fewer units gets a tick per unit


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A daily column shown in the report: its title, whether it is money (cents), and its
    unit: ``amount``, ``count`` (whole units on the axis), ``share`` (a fraction of a
    whole, 0-100%) or ``percent`` (a rate shown in percent, not bounded by 100%)."""

    column: str
    title: str
    money: bool = False
    unit: str = AMOUNT

    def text(self, value: float) -> str:
        """A value of this outcome for a table: percent for shares and rates."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if self.unit in (SHARE, PERCENT):
            return f"{value:.1%}" if abs(value) >= 0.001 or value == 0 else f"{value:.3%}"
        return number(value)

    def with_interval(self, mean: float, lo: float, hi: float) -> str:
        """``mean [lo, hi]`` (the interval left out when it is undefined)."""
        if math.isnan(lo) or math.isnan(hi):
            return self.text(mean)
        return f"{self.text(mean)} [{self.text(lo)}, {self.text(hi)}]"

    @property
    def tickformat(self) -> str:
        """The y axis's number format for levels."""
        return {SHARE: ".0%", PERCENT: ".1%"}.get(self.unit, ",.0f" if self.money else ",.4~g")


OUTCOMES = (
    Outcome("revenue_cents", "Platform revenue per day (yuan)", money=True),
    Outcome("gmv_cents", "GMV per day (yuan)", money=True),
    Outcome("share_sessions", "Share of shopping sessions", unit=SHARE),
    Outcome("monthly_active_buyers", "Monthly active buyers", unit=COUNT),
    Outcome("active_sellers", "Active seller listings", unit=COUNT),
    Outcome("consumer_surplus_cents", "Consumer surplus per day (yuan)", money=True),
    Outcome("seller_profit_cents", "Seller profit per day (yuan)", money=True),
    Outcome("take_rate", "Take rate (revenue / GMV)", unit=PERCENT),
    Outcome("avg_markup", "Average markup", unit=PERCENT),
    Outcome("avg_delivered_quality", "Average delivered quality"),
)


@dataclasses.dataclass(frozen=True)
class WindowSummary:
    """One window's figures: levels (percentile intervals) and, when a key is varied,
    paired changes from the baseline (``None`` otherwise)."""

    levels: pd.DataFrame
    changes: pd.DataFrame | None


def baseline(plan_keys: Sequence[str], table_: pd.DataFrame) -> object | None:
    """The first varied key's first value (in sweep order), or None with nothing varied."""
    if not plan_keys:
        return None
    return table_.sort_values("variant")[plan_keys[0]].iloc[0]


def summarize_windows(
    table_: pd.DataFrame,
    keys: Sequence[str],
    outcomes: Sequence[Outcome],
    windows: Sequence[Window],
) -> dict[str, WindowSummary]:
    """Per window: each outcome's daily mean per variant and platform, as the mean over
    seeds with its percentile interval, and its paired change from the baseline."""
    by = ["variant", *keys, "platform_id", "platform"]
    columns = [o.column for o in outcomes]
    base = baseline(keys, table_)
    out = {}
    for window in windows:
        seeds = per_seed(table_, by, window, means=columns)
        for o in outcomes:
            if o.money:
                seeds[o.column] = seeds[o.column] / CENTS_PER_YUAN
        changes = None
        if keys:
            changes = paired_differences(
                seeds.drop(columns="variant"),
                keys[0],
                base,
                [*keys, "platform_id", "platform"],
                columns,
            )
        out[window.name] = WindowSummary(percentile_intervals(seeds, by, columns), changes)
    return out


def _line_name(row: pd.Series, other_keys: Sequence[str]) -> str:
    parts = [str(row["platform"])] + [f"{k}={row[k]}" for k in other_keys]
    return safe_text(", ".join(parts))


def _x_values(line: pd.DataFrame, x_key: str) -> pd.Series:
    return line[x_key].map(safe_text) if line[x_key].dtype == object else line[x_key]


def _trace(
    line: pd.DataFrame, x_key: str, outcome: Outcome, name: str, color: str, legend: bool
) -> go.Scatter:
    m, lo, hi = (line[outcome.column + s] for s in ("", "_lo", "_hi"))
    return go.Scatter(
        x=_x_values(line, x_key),
        y=m,
        mode="lines+markers",
        name=name,
        legendgroup=name,
        showlegend=legend,
        line={"color": color},
        error_y={
            "type": "data",
            "array": (hi - m).fillna(0),
            "arrayminus": (m - lo).fillna(0),
            "visible": bool(hi.notna().any()),
        },
    )


def _x_ticks(fig: go.Figure, frame: pd.DataFrame, x_key: str, row: int, col: int) -> None:
    """Ticks at the varied values themselves (never at values no variant has)."""
    values = sorted(frame[x_key].dropna().unique())
    if values and all(isinstance(v, (int, float, np.number)) for v in values):
        fig.update_xaxes(
            tickmode="array",
            tickvals=values,
            ticktext=[number(v) for v in values],
            row=row,
            col=col,
        )


def integer_ticks(fig: go.Figure, low: float, high: float, row: int, col: int) -> None:
    """An axis of whole units: a tick per unit where the span is small (Plotly would put
    ticks at halves), whole-number labels otherwise."""
    if math.isfinite(low) and math.isfinite(high) and high - low < INTEGER_TICKS_BELOW:
        fig.update_yaxes(tick0=0, dtick=1, row=row, col=col)
    fig.update_yaxes(tickformat=",d", row=row, col=col)


def _y_axes(
    fig: go.Figure,
    outcome: Outcome,
    frames: Sequence[pd.DataFrame],
    row: int,
    cols: int,
    change: bool,
) -> None:
    values = pd.concat([f[[outcome.column + s for s in ("", "_lo", "_hi")]] for f in frames])
    low, high = float(np.nanmin(values.to_numpy())), float(np.nanmax(values.to_numpy()))
    for col in range(1, cols + 1):
        if outcome.unit in (SHARE, PERCENT):
            fig.update_yaxes(tickformat="+.1%" if change else outcome.tickformat, row=row, col=col)
        elif outcome.unit == COUNT:
            integer_ticks(fig, low, high, row, col)
        else:
            fig.update_yaxes(tickformat=outcome.tickformat, row=row, col=col)
        if outcome.unit == SHARE and not change:
            fig.update_yaxes(range=[0, min(1.0, max(high, 0.0) * 1.1 or 1.0)], row=row, col=col)


def outcome_figure(
    summaries: dict[str, WindowSummary],
    windows: Sequence[Window],
    outcome: Outcome,
    keys: Sequence[str],
    base: object | None = None,
    x_title: str | None = None,
) -> go.Figure:
    """One outcome against the first varied key, one column per window: its level, and
    (when a key is varied) its paired change from the baseline below. ``x_title`` names
    the x axis (default: the key)."""
    x_key = keys[0] if keys else "variant"
    other = list(keys[1:])
    rows = 2 if keys else 1
    titles = [w.label for w in windows]
    if keys:
        titles += [
            f"change from {safe_text(x_key)} = {safe_text(value_text(base))}, seed by seed"
            for _ in windows
        ]
    fig = make_subplots(
        rows=rows,
        cols=len(windows),
        shared_yaxes="rows",
        subplot_titles=titles,
        vertical_spacing=0.14,
    )
    for col, window in enumerate(windows, start=1):
        summary = summaries[window.name]
        parts = [(1, summary.levels), *([(2, summary.changes)] if keys else [])]
        for row, frame in parts:
            groups = frame.groupby(["platform_id", *other], sort=True, dropna=False)
            for i, (_, line) in enumerate(groups):
                line = line.sort_values(x_key)
                name = _line_name(line.iloc[0], other)
                color = PLATFORM_COLORS[i % len(PLATFORM_COLORS)]
                fig.add_trace(
                    _trace(line, x_key, outcome, name, color, col == 1 and row == 1),
                    row=row,
                    col=col,
                )
            _x_ticks(fig, frame, x_key, row, col)
        fig.update_xaxes(title_text=safe_text(x_title or x_key), row=rows, col=col)
    _y_axes(fig, outcome, [s.levels for s in summaries.values()], 1, len(windows), False)
    fig.update_yaxes(title_text=outcome.title, row=1, col=1)
    if keys:
        changes = [s.changes for s in summaries.values() if s.changes is not None]
        _y_axes(fig, outcome, changes, 2, len(windows), True)
        fig.update_yaxes(title_text="change", zeroline=True, zerolinewidth=2, row=2, col=1)
    fig.update_layout(height=380 * rows, margin={"t": 40})
    return fig


def numbers_table(
    summaries: dict[str, WindowSummary],
    windows: Sequence[Window],
    outcomes: Sequence[Outcome],
    keys: Sequence[str],
    changes: bool = False,
) -> str:
    """Every figure's numbers per window, variant and platform: the level, mean [95%
    percentile interval]; or (``changes``) the paired change from the baseline, mean [95%
    interval of the seed-by-seed differences]."""
    header = ["window", *keys, "platform", *(o.title for o in outcomes)]
    rows = []
    for window in windows:
        frame = summaries[window.name].changes if changes else summaries[window.name].levels
        if frame is None:
            continue
        for _, r in frame.iterrows():
            cells = [window.name, *(str(r[k]) for k in keys), str(r["platform"])]
            cells += [
                o.with_interval(r[o.column], r[o.column + "_lo"], r[o.column + "_hi"])
                for o in outcomes
            ]
            rows.append(cells)
    return table(header, rows, left=2 + len(keys))


def chart_id(outcome: Outcome) -> str:
    """The element id of an outcome's chart."""
    return f"sweep-{outcome.column}"


def report_outcomes(result: SweepResult) -> list[Outcome]:
    """The outcomes the report shows: those the sweep's table has."""
    return [o for o in OUTCOMES if o.column in result.table.columns]


def chart_keys(plan: SweepPlan) -> list[str]:
    """The keys the report charts and tabulates: the plan's keys without the tied keys
    after the first (they move with it, so the first tied key stands for the whole axis)."""
    companions = set(plan.tied[1:])
    return [k for k in plan.keys if k not in companions]


def axis_title(plan: SweepPlan, x_key: str) -> str:
    """The x axis title: the key, and the keys tied to it (``a (tied: b, c)``)."""
    if plan.tied and x_key == plan.tied[0] and len(plan.tied) > 1:
        return f"{x_key} (tied: {', '.join(plan.tied[1:])})"
    return x_key


def sweep_report_html(result: SweepResult) -> str:
    """The sweep report as one self-contained HTML page."""
    plan = result.plan
    keys = chart_keys(plan)
    windows = [short_window(plan.days), long_window(plan.days)]
    outcomes = report_outcomes(result)
    summaries = summarize_windows(result.table, keys, outcomes, windows)
    base = baseline(keys, result.table)
    varied = (
        "; ".join(f"{k}: {', '.join(_values(plan.variants, k))}" for k in plan.keys)
        or "nothing (one variant)"
    )
    if len(plan.tied) > 1:
        varied += f" ({', '.join(plan.tied)} tied: they move together as one axis)"
    headline = [
        f"Scenario {plan.base.name}: {len(plan.variants)} variants × {len(plan.seeds)} seeds "
        f"(seeds {plan.seeds[0]}-{plan.seeds[-1]}) × {plan.days} days.",
        f"Varied: {varied}.",
        f"Each point is the mean over seeds of a seed's daily mean in the window, with a 95% "
        f"bootstrap percentile interval of the mean (it stays within the seeds' values). "
        f"Short run: {windows[0].label}; long run: {windows[1].label}.",
    ]
    if keys:
        headline.append(
            f"Every variant runs the same seeds, so the lower row of each chart shows the "
            f"change from {keys[0]} = {value_text(base)} seed by seed, with a 95% Student-t "
            "interval of those paired differences: a change whose interval excludes zero is "
            "clear, however wide the levels' intervals above look."
        )
    x_title = axis_title(plan, keys[0]) if keys else "the variant"
    caption = f"against {x_title}; one line per platform" + (
        f" and value of {', '.join(keys[1:])}" if len(keys) > 1 else ""
    )
    sections = [
        section(
            o.title,
            figure_html(outcome_figure(summaries, windows, o, keys, base, x_title), chart_id(o)),
            caption,
        )
        for o in outcomes
    ]
    sections.append(
        section(
            "Numbers",
            numbers_table(summaries, windows, outcomes, keys),
            "mean over seeds [95% percentile interval]",
        )
    )
    if keys:
        sections.append(
            section(
                f"Changes from {keys[0]} = {value_text(base)}",
                numbers_table(summaries, windows, outcomes, keys, changes=True),
                "mean of the seed-by-seed differences [95% Student-t interval]",
            )
        )
    return page(
        f"twosided sweep: {plan.base.name}",
        headline,
        "",
        sections,
        [f"sweep {plan.sweep_id}", str(result.folder)],
    )


def value_text(value: object) -> str:
    """A varied value as text: numbers as ``number`` writes them, anything else (a string
    such as a mechanism's name) as it is."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return number(float(value))
    return str(value)


def _values(variants: Sequence[Variant], key: str) -> list[str]:
    """The distinct values a key takes over the variants, in order."""
    return list(dict.fromkeys(str(v.labels.get(key)) for v in variants))


def write_sweep_report(result: SweepResult, path: Path | None = None) -> Path:
    """Write the sweep report (default: ``report.html`` in the sweep folder)."""
    target = Path(path) if path is not None else result.folder / REPORT_FILE
    return write_page(target, sweep_report_html(result))
