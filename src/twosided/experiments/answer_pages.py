"""Pages and tables of the flip search and the sensitivity analysis: the revenue gap
against the searched parameter with its paired intervals, and the indices as charts."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from twosided import atomic
from twosided.experiments.flip import Flip
from twosided.experiments.page import number, write_page
from twosided.experiments.sensitivity import Sensitivity, points_table, table
from twosided.report.charts import figure_html
from twosided.report.page import page, section
from twosided.report.page import table as html_table

GAP_TITLE = "long-run revenue gap, user-first − revenue-first (yuan)"


def flip_frame(flip: Flip) -> pd.DataFrame:
    """One row per evaluated value: mean gap, its paired 95% interval, per-seed gaps."""
    rows = []
    for p in flip.points:
        row = {flip.parameter: p.value, "gap_mean": p.mean, "gap_low": p.low, "gap_high": p.high}
        row.update({f"gap_seed_{i}": g for i, g in enumerate(p.gaps)})
        rows.append(row)
    return pd.DataFrame(rows)


def flip_rows(flip: Flip) -> list[list[str]]:
    """The evaluated points as text rows."""
    out = []
    for p in flip.points:
        interval = "" if math.isnan(p.low) else f"{number(p.low)} .. {number(p.high)}"
        winner = "undecided" if p.undecided else ("user-first" if p.sign > 0 else "revenue-first")
        out.append([number(p.value, 4), number(p.mean), interval, winner])
    return out


FLIP_HEADER = ["value", "gap (yuan)", "95% paired interval", "better"]


def _flip_chart(flip: Flip) -> go.Figure:
    xs = [p.value for p in flip.points]
    ys = [p.mean for p in flip.points]
    up = [0.0 if math.isnan(p.high) else p.high - p.mean for p in flip.points]
    down = [0.0 if math.isnan(p.low) else p.mean - p.low for p in flip.points]
    fig = go.Figure(
        go.Scatter(
            x=xs, y=ys, mode="lines+markers", name="mean gap",
            error_y={"type": "data", "symmetric": False, "array": up, "arrayminus": down},
        )
    )  # fmt: skip
    fig.add_hline(y=0, line_color="#57606a")
    if flip.found:
        low, high = flip.interval
        fig.add_vrect(x0=low, x1=high, fillcolor="#ddf4ff", opacity=0.6, line_width=0)
        fig.add_vline(x=flip.crossing, line_dash="dash", line_color="#cf222e")
    fig.update_layout(
        xaxis_title=flip.parameter, yaxis_title=GAP_TITLE, height=420,
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )  # fmt: skip
    return fig


def flip_html(flip: Flip, world: str, footer: list[str]) -> str:
    """The flip search's page."""
    return page(
        f"Flip point of {flip.parameter} in {world}",
        [flip.sentence()],
        "",
        [
            section(
                "The gap against the parameter",
                figure_html(_flip_chart(flip), "flip"),
                "Mean over paired seeds with its 95% interval; shaded: the values at which "
                "the data cannot tell which policy is better; dashed: the crossing.",
            ),
            section("Points evaluated", html_table(FLIP_HEADER, flip_rows(flip))),
        ],
        footer,
    )


def write_flip(flip: Flip, folder: Path, world: str, footer: list[str]) -> Path:
    """``flip.csv`` and ``flip.html`` into ``folder``; returns the page."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "flip.csv", flip_frame(flip).to_csv(index=False))
    return write_page(folder / "flip.html", flip_html(flip, world, footer))


def sensitivity_rows(found: Sensitivity) -> tuple[list[str], list[list[str]]]:
    """The indices as a text table: header and rows."""
    frame = table(found)
    if found.method == "morris":
        header = ["parameter", "μ* (yuan)", "± 95%", "σ", "μ", "sign flips"]
        cols = ["mu_star", "mu_star_conf", "sigma", "mu"]
    else:
        header = ["parameter", "S1", "± 95%", "ST", "± 95%", "sign flips"]
        cols = ["S1", "S1_conf", "ST", "ST_conf"]
    rows = [
        [r["parameter"], *(number(r[c]) for c in cols), f"{r['flips']} of {r['steps']}"]
        for _, r in frame.iterrows()
    ]
    return header, rows


def _sensitivity_chart(found: Sensitivity) -> go.Figure:
    frame = table(found)
    if found.method == "morris":
        fig = go.Figure(
            go.Bar(
                x=frame["mu_star"], y=frame["parameter"], orientation="h", name="μ*",
                error_x={"type": "data", "array": frame["mu_star_conf"]},
            )
        )  # fmt: skip
        fig.add_trace(go.Scatter(x=frame["sigma"], y=frame["parameter"], mode="markers", name="σ"))
        title = "Morris μ* (bars, 95% bootstrap) and σ (dots), yuan of gap"
    else:
        fig = go.Figure()
        for index in ("S1", "ST"):
            fig.add_trace(
                go.Bar(
                    x=frame[index], y=frame["parameter"], orientation="h", name=index,
                    error_x={"type": "data", "array": frame[f"{index}_conf"]},
                )
            )  # fmt: skip
        title = "Sobol' first-order (S1) and total (ST) shares of the gap's variance"
    fig.update_layout(
        xaxis_title=title, height=160 + 40 * len(frame), barmode="group",
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )  # fmt: skip
    return fig


def sensitivity_sentence(found: Sensitivity) -> str:
    """Which parameter moves the gap most, and which can flip it."""
    frame = table(found)
    key = "mu_star" if found.method == "morris" else "ST"
    top = frame.sort_values(key, ascending=False).iloc[0]["parameter"]
    flippers = [k for k, n in found.flips.items() if n > 0]
    flips = (
        f"; a step of {', '.join(flippers)} alone can change which policy earns more"
        if flippers
        else "; no step of one parameter alone changed which policy earns more"
    )
    response = found.response
    share = float((response > 0).mean())
    return (
        f"{top} moves the long-run revenue gap most{flips}. User-first earns more at "
        f"{share:.0%} of the {len(response)} points."
    )


def sensitivity_html(found: Sensitivity, world: str, footer: list[str]) -> str:
    """The sensitivity analysis's page."""
    header, rows = sensitivity_rows(found)
    return page(
        f"Sensitivity of the whom-to-save answer in {world}",
        [sensitivity_sentence(found)],
        "",
        [
            section(
                "Indices", html_table(header, rows) + figure_html(_sensitivity_chart(found), "idx")
            ),
        ],
        footer,
    )


def write_sensitivity(found: Sensitivity, folder: Path, world: str, footer: list[str]) -> Path:
    """``indices.csv``, ``points.csv`` and ``sensitivity.html``; returns the page."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "indices.csv", table(found).to_csv(index=False))
    atomic.write_text(folder / "points.csv", points_table(found).to_csv(index=False))
    return write_page(folder / "sensitivity.html", sensitivity_html(found, world, footer))
