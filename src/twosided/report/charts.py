"""The report's charts: Plotly figures built from one or several runs' daily tables.

Every chart takes a list of labelled runs, so the same code draws a single run's report and
a comparison (runs told apart by line dash, platforms by colour). Lines are means over
seeds; with several seeds a band shows the range over seeds.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Sequence

import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twosided.outcomes import CENTS_PER_YUAN, revenue_stream_columns, stream_name
from twosided.report import series as S
from twosided.simulation import Result

Labeled = tuple[str, Result]  # (label, run)

PLATFORM_COLORS = plotly.colors.qualitative.Plotly
STREAM_COLORS = plotly.colors.qualitative.Set2
RUN_DASHES = ("solid", "dash", "dot", "dashdot")
BAND_OPACITY = 0.15
CHART_HEIGHT = 360
YUAN = 1.0 / CENTS_PER_YUAN


def safe_text(text: str) -> str:
    """A user-supplied name as Plotly text: its pseudo-HTML tags are shown, not applied."""
    return html.escape(str(text), quote=False)


@dataclasses.dataclass(frozen=True)
class Panel:
    """One subplot: a metric per platform over days."""

    title: str
    metric: S.Metric
    tickformat: str = ",.0f"


@dataclasses.dataclass(frozen=True)
class Chart:
    """A chart of the report: its element id, title, a caption, and how to draw it."""

    id: str
    title: str
    caption: str
    draw: Callable[[Sequence[Labeled]], go.Figure]


def platform_order(runs: Sequence[Labeled]) -> list[str]:
    """Platform names across runs, in order of first appearance (one colour each)."""
    names: list[str] = []
    for _, run in runs:
        for name in run.daily.sort_values("platform_id")["platform"].unique():
            if name not in names:
                names.append(str(name))
    return names


def _rgba(color: str, alpha: float) -> str:
    r, g, b = plotly.colors.hex_to_rgb(color)
    return f"rgba({r}, {g}, {b}, {alpha})"


def _trace_name(platform: str, label: str) -> str:
    return safe_text(f"{platform} ({label})" if label else platform)


def _layout(fig: go.Figure, title: str | None = None) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=CHART_HEIGHT,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        hovermode="x unified",
        title=title,
    )
    fig.update_xaxes(title_text="day")
    return fig


def line_panels(runs: Sequence[Labeled], panels: Sequence[Panel]) -> go.Figure:
    """One subplot per panel, one line per platform and run, a band over seeds."""
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p.title for p in panels])
    colors = {
        name: PLATFORM_COLORS[i % len(PLATFORM_COLORS)]
        for i, name in enumerate(platform_order(runs))
    }
    for col, panel in enumerate(panels, start=1):
        for r, (label, run) in enumerate(runs):
            data = S.series(run.daily, panel.metric)
            several = len(run.seeds) > 1
            for _, rows in data.groupby("platform_id", sort=True):
                name = str(rows["platform"].iloc[0])
                color, group = colors[name], f"{label}/{name}"
                days = rows["day"].tolist()
                if several:
                    fig.add_trace(
                        go.Scatter(
                            x=days + days[::-1],
                            y=rows["hi"].tolist() + rows["lo"].tolist()[::-1],
                            fill="toself",
                            fillcolor=_rgba(color, BAND_OPACITY),
                            line={"width": 0},
                            hoverinfo="skip",
                            showlegend=False,
                            legendgroup=group,
                        ),
                        row=1,
                        col=col,
                    )
                fig.add_trace(
                    go.Scatter(
                        x=days,
                        y=rows["mean"],
                        mode="lines",
                        name=_trace_name(name, label),
                        line={"color": color, "dash": RUN_DASHES[r % len(RUN_DASHES)], "width": 2},
                        legendgroup=group,
                        showlegend=col == 1,
                    ),
                    row=1,
                    col=col,
                )
        fig.update_yaxes(tickformat=panel.tickformat, row=1, col=col)
    return _layout(fig)


def accrual_column(runs: Sequence[Labeled]) -> str:
    """The revenue column of the take-rate chart: on an accrual basis, or the cash one for
    run folders saved before the accrual columns existed."""
    accrual = "revenue_accrual_cents"
    return accrual if all(accrual in run.daily for _, run in runs) else "revenue_cents"


def revenue_by_stream(runs: Sequence[Labeled]) -> go.Figure:
    """Total platform revenue over the run, per platform, stacked by stream (yuan).

    In a comparison the bars of one platform stand side by side, one per run.
    """
    fig = go.Figure()
    several_runs = len(runs) > 1
    several_seeds = any(len(run.seeds) > 1 for _, run in runs)
    streams = revenue_stream_columns(runs[0][1].daily.columns)
    totals = [
        (r, label, S.totals_by_platform(run.daily, streams)) for r, (label, run) in enumerate(runs)
    ]
    order = {name: i for i, name in enumerate(platform_order(runs))}
    for s, column in enumerate(streams):
        bars = sorted(
            (
                order[row.platform],
                r,
                _trace_name(row.platform, label if several_runs else ""),
                row.mean * YUAN,
                (row.hi - row.mean) * YUAN,
                (row.mean - row.lo) * YUAN,
            )
            for r, label, frame in totals
            for row in frame[frame["column"] == column].itertuples()
        )
        fig.add_trace(
            go.Bar(
                x=[b[2] for b in bars],
                y=[b[3] for b in bars],
                name=stream_name(column),
                marker_color=STREAM_COLORS[s % len(STREAM_COLORS)],
                error_y={
                    "type": "data",
                    "array": [b[4] for b in bars],
                    "arrayminus": [b[5] for b in bars],
                    "visible": several_seeds,
                },
            )
        )
    fig.update_layout(barmode="stack", hovermode="closest")
    _layout(fig)
    fig.update_xaxes(title_text=None)
    fig.update_yaxes(title_text="yuan over the run", tickformat=",.0f")
    return fig


CHARTS: tuple[Chart, ...] = (
    Chart(
        "chart-share",
        "Market share",
        f"Each platform's share of shopping sessions and of GMV ({S.SMOOTH_DAYS}-day mean).",
        lambda runs: line_panels(
            runs,
            [
                Panel("share of sessions", S.smoothed("share_sessions"), ".0%"),
                Panel("share of GMV", S.smoothed("share_gmv"), ".0%"),
            ],
        ),
    ),
    Chart(
        "chart-revenue",
        "Revenue by stream",
        "What each platform earned over the run, by money stream (service fees net of refunds).",
        revenue_by_stream,
    ),
    Chart(
        "chart-take-rate",
        "Take rate",
        f"Platform revenue over GMV, trailing {S.RATE_WINDOW_DAYS} days, on an accrual "
        "basis: the annual service fee spread over the fee year it pays for and its refund "
        "netted over the year it closes (the summary also shows the cash take rate).",
        lambda runs: line_panels(
            runs,
            [
                Panel(
                    "revenue / GMV (accrual)",
                    S.ratio_of_sums(accrual_column(runs), "gmv_cents"),
                    ".1%",
                ),
            ],
        ),
    ),
    Chart(
        "chart-surplus",
        "Consumer surplus and seller profit",
        f"What buyers gained above buying nothing, and sellers' profit, per day "
        f"(yuan, {S.SMOOTH_DAYS}-day mean).",
        lambda runs: line_panels(
            runs,
            [
                Panel("consumer surplus per day", S.smoothed("consumer_surplus_cents", YUAN)),
                Panel("seller profit per day", S.smoothed("seller_profit_cents", YUAN)),
            ],
        ),
    ),
    Chart(
        "chart-sellers",
        "Sellers",
        "Active sellers on each platform, and how many entered and exited since day 0.",
        lambda runs: line_panels(
            runs,
            [
                Panel("active sellers", S.level("active_sellers")),
                Panel("entered (cumulative)", S.cumulative("sellers_entered")),
                Panel("exited (cumulative)", S.cumulative("sellers_exited")),
            ],
        ),
    ),
    Chart(
        "chart-markup-quality",
        "Markup and delivered quality",
        f"Average markup over unit cost of active sellers, and the average quality buyers "
        f"actually received per order ({S.SMOOTH_DAYS}-day mean).",
        lambda runs: line_panels(
            runs,
            [
                Panel("average markup", S.smoothed("avg_markup"), ".0%"),
                Panel("delivered quality", S.smoothed("avg_delivered_quality"), ".2f"),
            ],
        ),
    ),
    Chart(
        "chart-escrow",
        "Escrow and disputes",
        f"Buyers' money held in escrow (yuan), claims filed per day and refunds per day "
        f"(yuan; {S.SMOOTH_DAYS}-day means).",
        lambda runs: line_panels(
            runs,
            [
                Panel("escrow balance", S.level("escrow_balance_cents", YUAN)),
                Panel("claims per day", S.smoothed("claims"), ",.1f"),
                Panel("refunds per day", S.smoothed("refunds_cents", YUAN)),
            ],
        ),
    ),
)


def chart_ids() -> list[str]:
    """The element ids of the report's charts, in page order."""
    return [chart.id for chart in CHARTS]


def figure_html(fig: go.Figure, div_id: str) -> str:
    """A figure as an HTML fragment (the page inlines plotly.js once)."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
