"""The whom-to-save study's page: its charts and the self-contained HTML report."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twosided.experiments.page import number
from twosided.experiments.stats import paired_differences, percentile_intervals
from twosided.experiments.whom_to_save.findings import answer_line
from twosided.experiments.whom_to_save.study import (
    MEASURES,
    POLICY,
    REVENUE_FIRST,
    Measure,
    Regime,
    buyer_value_budget,
    policy_weights,
)
from twosided.report.charts import PLATFORM_COLORS, figure_html
from twosided.report.page import esc, page, section, table
from twosided.strategy.saved import Saved

SHARE_UNIT = "of all buyers"  # the measure is a share: percent, never above 100%
SHARE_UNITS = (SHARE_UNIT, "of all sessions")
BASELINE = REVENUE_FIRST  # changes are drawn against revenue-first ranking (t = 0)


def measure_text(measure: Measure, value: float) -> str:
    """A measure's value for a table: shares in percent."""
    if measure.unit in SHARE_UNITS and not math.isnan(value):
        return f"{value:.1%}"
    return number(value)


def measure_interval(measure: Measure, mean: float, lo: float, hi: float) -> str:
    """``mean [lo, hi]`` in the measure's format (the interval left out when undefined)."""
    if math.isnan(lo) or math.isnan(hi):
        return measure_text(measure, mean)
    return (
        f"{measure_text(measure, mean)} [{measure_text(measure, lo)}, {measure_text(measure, hi)}]"
    )


def levels(reg: Regime) -> pd.DataFrame:
    """Per policy: each measure's mean with its 95% bootstrap percentile interval (within
    the seeds' values: no negative revenue or seller count, no share above 100%)."""
    return percentile_intervals(reg.seeds, [POLICY], [m.key for m in MEASURES])


def changes(reg: Regime) -> pd.DataFrame:
    """Per policy: each measure minus its value under revenue-first ranking, seed by seed,
    with the 95% interval of the paired differences (the test the findings use)."""
    return paired_differences(reg.seeds, POLICY, BASELINE, [POLICY], [m.key for m in MEASURES])


def _axes(
    fig: go.Figure,
    measure: Measure,
    frames: Sequence[pd.DataFrame],
    row: int,
    col: int,
    change: bool,
) -> None:
    cols = [measure.key + x for x in ("", "_lo", "_hi")]
    values = pd.concat([f[cols] for f in frames]).to_numpy(dtype=float)
    high = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    policies = sorted({float(t) for f in frames for t in f[POLICY]})
    fig.update_xaxes(
        title_text="policy t (0 revenue-first, 1 user-first)",
        tickmode="array",
        tickvals=policies,
        ticktext=[f"{t:g}" for t in policies],
        row=row,
        col=col,
    )
    if measure.unit in SHARE_UNITS:
        fig.update_yaxes(tickformat="+.1%" if change else ".0%", row=row, col=col)
        if not change:
            fig.update_yaxes(range=[0, min(1.0, max(high, 0.0) * 1.1 or 1.0)], row=row, col=col)
    elif measure.unit == "sellers":
        fig.update_yaxes(tickformat=",d", row=row, col=col)
        low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
        if high - low < 10:
            fig.update_yaxes(tick0=0, dtick=1, row=row, col=col)
    else:
        fig.update_yaxes(tickformat=",.0f", row=row, col=col)
    unit = "points" if change and measure.unit in SHARE_UNITS else measure.unit
    fig.update_yaxes(title_text=f"change ({unit})" if change else unit, row=row, col=col)


def policy_figure(regimes: Sequence[Regime], change: bool = False) -> go.Figure:
    """Each measure against the policy axis, one line per world: its level with a 95%
    percentile interval, or (``change``) its paired change from revenue-first ranking."""
    cols = 3
    rows = math.ceil(len(MEASURES) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[m.title for m in MEASURES])
    frames = [changes(reg) if change else levels(reg) for reg in regimes]
    for k, measure in enumerate(MEASURES):
        row, col = divmod(k, cols)
        for r, (reg, frame) in enumerate(zip(regimes, frames)):
            s = frame.sort_values(POLICY)
            m, lo, hi = (s[measure.key + x] for x in ("", "_lo", "_hi"))
            fig.add_trace(
                go.Scatter(
                    x=s[POLICY],
                    y=m,
                    mode="lines+markers",
                    name=reg.name,
                    legendgroup=reg.name,
                    showlegend=k == 0,
                    line={"color": PLATFORM_COLORS[r % len(PLATFORM_COLORS)]},
                    error_y={
                        "type": "data",
                        "array": (hi - m).fillna(0),
                        "arrayminus": (m - lo).fillna(0),
                    },
                ),
                row=row + 1,
                col=col + 1,
            )
        _axes(fig, measure, frames, row + 1, col + 1, change)
        if change:
            fig.update_yaxes(zeroline=True, zerolinewidth=2, row=row + 1, col=col + 1)
    fig.update_layout(height=360 * rows, margin={"t": 40})
    return fig


def measures_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Each measure's level against the policy axis (see ``policy_figure``)."""
    return policy_figure(regimes)


def changes_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Each measure's paired change from revenue-first ranking (see ``policy_figure``)."""
    return policy_figure(regimes, change=True)


FEE_DIP_NOTE = (
    "Cumulative revenue falls on the last day of each fee year (day 364, 729, ...): the "
    "annual service fee is then refunded to the listings whose year's sales reached the "
    "threshold, and revenue counts the fee net of its refunds."
)


def cumulative_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Cumulative revenue over the run for each policy, one panel per world."""
    fig = make_subplots(rows=1, cols=len(regimes), subplot_titles=[r.name for r in regimes])
    for col, reg in enumerate(regimes, start=1):
        for i, (t, line) in enumerate(reg.cumulative.groupby(POLICY)):
            fig.add_trace(
                go.Scatter(
                    x=line["day"],
                    y=line["cumulative"],
                    mode="lines",
                    name=f"t = {t:g}",
                    legendgroup=f"{t:g}",
                    showlegend=col == 1,
                    line={"color": PLATFORM_COLORS[i % len(PLATFORM_COLORS)]},
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="day", row=1, col=col)
    fig.update_yaxes(
        title_text="cumulative revenue (yuan, mean over seeds)", tickformat=",.0f", row=1, col=1
    )
    fig.update_layout(height=420, margin={"t": 40})
    return fig


def regime_table(reg: Regime, change: bool = False) -> str:
    """Per policy: every measure with its 95% interval (percentile for levels, of the
    paired differences for ``change``)."""
    frame = changes(reg) if change else levels(reg)
    header = ["policy t", *(f"{m.title} ({m.unit})" for m in MEASURES)]
    rows = [
        [
            f"{r[POLICY]:g}",
            *(measure_interval(m, r[m.key], r[m.key + "_lo"], r[m.key + "_hi"]) for m in MEASURES),
        ]
        for _, r in frame.sort_values(POLICY).iterrows()
    ]
    return table(header, rows)


def axis_rows() -> list[list[str]]:
    """The four ranking weights at each end and the middle of the axis."""
    return [[f"{t:g}", *(number(v) for v in policy_weights(t).values())] for t in (0.0, 0.5, 1.0)]


def _world(reg: Regime) -> str:
    base = reg.sweep.plan.base
    count = len(base.platforms)
    return f"{reg.name} ({base.name}, {count} platform{'s' if count > 1 else ''})"


CHART_IDS = ("study-measures", "study-changes", "study-cumulative")


def optimized_section(optimized: Sequence[Saved], folder: Path) -> str:
    """Links to the optimizer's results for the study's scenarios (``twosided optimize``
    keeps them in the runs folder), relative to the study's folder."""
    items = "".join(
        f'<li><a href="{esc(Path(os.path.relpath(s.path, folder)).as_posix())}">'
        f"{esc(s.path.name)}</a> ({esc(s.scenario)}): {esc(s.summary)}</li>"
        for s in optimized
    )
    return section(
        "Optimized policies",
        f"<ul>{items}</ul>",
        "what twosided optimize found for these scenarios: the platform's best policy against "
        "fixed rivals, or best responses between platforms (docs/strategic.md)",
    )


def study_html(
    regimes: Sequence[Regime],
    findings: Sequence[str],
    optimized: Sequence[Saved] = (),
    folder: Path | None = None,
    differences: str = "",
) -> str:
    """The study report as one self-contained HTML page: the answer in one line, the
    findings (plain text, escaped by the page), then the experiment, what differs between
    the worlds (``differences``, ``findings.world_differences``; left out when empty), the
    charts and the numbers; and links to the optimizer's results for the same scenarios,
    where there are any (``folder``: where the page is written, for relative links)."""
    plan = regimes[0].sweep.plan
    w = regimes[0].windows
    design = section(
        "The experiment",
        table(["t", "quality", "price", "commission", "ads"], axis_rows()),
        "The incumbent (platform 0) ranks its organic results by a weighted blend of quality, "
        "low price, expected commission and ad spend. Policy t moves the weight from revenue "
        "(commission and ads, t = 0) to buyer value (quality and price, t = 1), with the same "
        f"total weight {number(buyer_value_budget())} at every point. {len(plan.variants)} "
        f"policies × {len(plan.seeds)} seeds (the same seeds everywhere) × {plan.days} days, "
        f"{', '.join(_world(r) for r in regimes)}. Windows: {w['short'].label}, {w['long'].label}. "
        "Buyer share is the incumbent's monthly active buyers over all buyers and sellers its "
        "active sellers, both averaged over the long-run window; revenue and consumer surplus "
        "are totals over their window. First-quarter revenue includes the annual service "
        "fee, a lump sum sellers pay when they list (on day 0 for every seller present); the "
        "column 'ads + commission + affiliate' leaves it and its refunds out, to show the "
        "revenue the ranking can move. Intervals are 95% over seeds; a finding calls a "
        "difference clear only when the 95% interval of the seed-by-seed difference between "
        "two policies (every policy runs the same seeds) excludes zero. A claim that rests on "
        "several such comparisons at once (a policy ahead of every other one; the outcomes "
        "of one finding; the two worlds) is judged with Holm's step-down correction (Holm "
        "1979) of the paired t-tests' p-values, so that the chance of any false 'clear' "
        "among them stays at 5%; those findings give the adjusted p-values.",
    )
    worlds = section(
        "What differs between the worlds",
        f"<p>{esc(differences)}</p>",
        "field by field, from the worlds' resolved scenarios (written in the study folder as "
        "scenario-rivals.toml and scenario-monopoly.toml, with the study itself as study.toml, "
        "which reruns it: twosided experiment whom-to-save --study study.toml)",
    )
    sections = [
        *([worlds] if differences else []),
        section(
            "Outcomes along the policy axis",
            figure_html(measures_figure(regimes), CHART_IDS[0]),
            "the incumbent's outcomes, one line per world, mean over seeds with a 95% "
            "bootstrap percentile interval (within the seeds' values)",
        ),
        section(
            "Change from revenue-first ranking, seed by seed",
            figure_html(changes_figure(regimes), CHART_IDS[1]),
            "each policy minus revenue-first ranking (t = 0) in the same seeds, with the 95% "
            "interval of those paired differences: what the findings test. A change whose "
            "interval excludes zero is clear, however much the levels' intervals above overlap.",
        ),
        section(
            "Cumulative revenue",
            figure_html(cumulative_figure(regimes), CHART_IDS[2]),
            "the incumbent's cumulative revenue (yuan), mean over seeds, one line per policy. "
            + FEE_DIP_NOTE,
        ),
    ]
    for reg in regimes:
        sections.append(
            section(
                f"{_world(reg)}: numbers",
                regime_table(reg),
                "mean over seeds [95% percentile interval]",
            )
        )
        sections.append(
            section(
                f"{_world(reg)}: change from revenue-first ranking",
                regime_table(reg, change=True),
                "mean of the seed-by-seed differences [95% interval]",
            )
        )
    if optimized:
        sections.append(optimized_section(optimized, folder or Path.cwd()))
    footer = [f"{reg.name}: sweep {reg.sweep.plan.sweep_id}" for reg in regimes]
    return page(
        "Whom to save: the incumbent's ranking policy, with and without rivals",
        [answer_line(regimes), *findings],
        design,
        sections,
        footer,
    )
