"""The whom-to-save study's page: its charts and the self-contained HTML report."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twosided.experiments.page import number, with_interval
from twosided.experiments.whom_to_save.study import (
    MEASURES,
    POLICY,
    Regime,
    buyer_value_budget,
    policy_weights,
)
from twosided.report.charts import PLATFORM_COLORS, figure_html
from twosided.report.page import page, section, table


def measures_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Each measure against the policy axis, one line per world, with 95% intervals."""
    cols = 3
    rows = math.ceil(len(MEASURES) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[m.title for m in MEASURES])
    for k, measure in enumerate(MEASURES):
        row, col = divmod(k, cols)
        for r, reg in enumerate(regimes):
            s = reg.summary.sort_values(POLICY)
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
                    error_y={"type": "data", "array": hi - m, "arrayminus": m - lo},
                ),
                row=row + 1,
                col=col + 1,
            )
        fig.update_xaxes(
            title_text="policy t (0 revenue-first, 1 user-first)", row=row + 1, col=col + 1
        )
        fig.update_yaxes(title_text=measure.unit, row=row + 1, col=col + 1)
    fig.update_layout(height=360 * rows, margin={"t": 40})
    return fig


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
    fig.update_yaxes(title_text="cumulative revenue (yuan, mean over seeds)", row=1, col=1)
    fig.update_layout(height=420, margin={"t": 40})
    return fig


def regime_table(reg: Regime) -> str:
    """Per policy: every measure with its 95% interval."""
    header = ["policy t", *(f"{m.title} ({m.unit})" for m in MEASURES)]
    rows = [
        [
            f"{r[POLICY]:g}",
            *(with_interval(r[m.key], r[m.key + "_lo"], r[m.key + "_hi"]) for m in MEASURES),
        ]
        for _, r in reg.summary.sort_values(POLICY).iterrows()
    ]
    return table(header, rows)


def axis_rows() -> list[list[str]]:
    """The four ranking weights at each end and the middle of the axis."""
    return [[f"{t:g}", *(number(v) for v in policy_weights(t).values())] for t in (0.0, 0.5, 1.0)]


def _world(reg: Regime) -> str:
    base = reg.sweep.plan.base
    count = len(base.platforms)
    return f"{reg.name} ({base.name}, {count} platform{'s' if count > 1 else ''})"


CHART_IDS = ("study-measures", "study-cumulative")


def study_html(regimes: Sequence[Regime], findings: Sequence[str]) -> str:
    """The study report as one self-contained HTML page: the findings first (plain text,
    escaped by the page), then the experiment, the charts and the numbers."""
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
        "two policies (every policy runs the same seeds) excludes zero.",
    )
    sections = [
        section(
            "Outcomes along the policy axis",
            figure_html(measures_figure(regimes), CHART_IDS[0]),
            "the incumbent's outcomes, one line per world, with 95% intervals over seeds",
        ),
        section(
            "Cumulative revenue",
            figure_html(cumulative_figure(regimes), CHART_IDS[1]),
            "the incumbent's cumulative revenue (yuan), mean over seeds, one line per policy",
        ),
    ]
    sections += [section(f"{_world(reg)}: numbers", regime_table(reg)) for reg in regimes]
    footer = [f"{reg.name}: sweep {reg.sweep.plan.sweep_id}" for reg in regimes]
    return page(
        "Whom to save: the incumbent's ranking policy, with and without rivals",
        findings,
        design,
        sections,
        footer,
    )
