"""A calibration's results as tables, files and a page.

``write`` fills the calibration's folder, each file replaced atomically:

* ``scenario.toml``: the calibrated scenario (the base scenario, its settings and the
  estimates applied), ready for ``twosided run``;
* ``fit.csv``: per target, its value and band, the model's mean with its seed interval,
  the residual in target standard errors, whether it lands within the band, its source;
* ``parameters.csv``: per parameter, start, estimate, standard error, 95% interval, bounds;
* ``jacobian.csv``: per moment and parameter, ``∂ moment / ∂ parameter`` and the moment's
  share of the parameter's information (which moments identify which parameter);
* ``calibration.html``: the same, with charts;
* ``calibration.json``: all of it, for programs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from twosided import atomic
from twosided.calibration.smm import Calibration
from twosided.experiments.page import number, write_page
from twosided.report.charts import figure_html
from twosided.report.page import esc, page, section, table

FILES = (
    "scenario.toml",
    "fit.csv",
    "parameters.csv",
    "jacobian.csv",
    "calibration.html",
    "calibration.json",
)


def fit_table(cal: Calibration) -> pd.DataFrame:
    """One row per target (see the module docstring)."""
    return pd.DataFrame(
        [
            {
                "moment": f.moment.name,
                "platform": f.moment.platform or "market",
                "target": f.moment.target,
                "se": f.moment.se,
                "tolerance": f.moment.tolerance,
                "model": f.mean,
                "model_low": f.low,
                "model_high": f.high,
                "residual_se": f.residual,
                "within": f.within,
                "source": f.moment.source,
            }
            for f in cal.fits
        ]
    )


def parameter_table(cal: Calibration) -> pd.DataFrame:
    """One row per parameter: start, estimate, standard error, interval and bounds."""
    rows = []
    for j, (spec, start, value, se) in enumerate(
        zip(cal.problem.spec.parameters, cal.start, cal.estimate, cal.se)
    ):
        low, high = cal.interval(j)
        rows.append(
            {
                "parameter": spec.key,
                "start": start,
                "estimate": value,
                "se": se,
                "low": low,
                "high": high,
                "lower_bound": spec.lower,
                "upper_bound": spec.upper,
            }
        )
    return pd.DataFrame(rows)


def jacobian_table(cal: Calibration) -> pd.DataFrame:
    """One row per (moment, parameter): derivative and information share."""
    rows = []
    for i, m in enumerate(cal.problem.spec.moments):
        for j, p in enumerate(cal.problem.spec.parameters):
            rows.append(
                {
                    "moment": m.label,
                    "parameter": p.key,
                    "derivative": float(cal.jacobian[i, j]),
                    "information_share": float(cal.information[i, j]),
                }
            )
    return pd.DataFrame(rows)


def fit_rows(cal: Calibration) -> list[list[str]]:
    """The fit as text rows: moment, target ± band, model [interval], residual, within."""
    out = []
    for f in cal.fits:
        interval = "" if math.isnan(f.low) else f" [{number(f.low)}, {number(f.high)}]"
        out.append(
            [
                f.moment.label,
                f"{number(f.moment.target)} ± {number(f.moment.band)}",
                f"{number(f.mean)}{interval}",
                f"{f.residual:+.2f}",
                "yes" if f.within else "NO",
            ]
        )
    return out


FIT_HEADER = ["moment", "target ± band", "model [seed interval]", "residual (se)", "within"]
PARAMETER_HEADER = ["parameter", "start", "estimate", "± 95% interval", "bounds"]


def parameter_rows(cal: Calibration) -> list[list[str]]:
    """The estimates as text rows."""
    return [
        [
            spec.key,
            number(start, 4),
            number(value, 4),
            "not identified" if math.isinf(se) else number(cal.quantile * se, 3),
            f"{number(spec.lower, 4)} .. {number(spec.upper, 4)}",
        ]
        for spec, start, value, se in zip(
            cal.problem.spec.parameters, cal.start, cal.estimate, cal.se
        )
    ]


def summary_line(cal: Calibration) -> str:
    """One sentence: how many targets land in their bands, the objective, the stop."""
    within = sum(f.within for f in cal.fits)
    return (
        f"{within} of {len(cal.fits)} targets within their bands; objective "
        f"{cal.start_objective:,.4g} at the start, {cal.objective:,.4g} at the estimate "
        f"({cal.evaluations} evaluations; {cal.message})"
    )


def _residual_chart(cal: Calibration) -> go.Figure:
    labels = [f.moment.label for f in cal.fits]
    scale = [f.moment.scale for f in cal.fits]
    resid = [f.residual for f in cal.fits]
    err = [
        (f.high - f.mean) / s if not math.isnan(f.high) else 0.0 for f, s in zip(cal.fits, scale)
    ]
    fig = go.Figure(
        go.Bar(
            x=resid,
            y=labels,
            orientation="h",
            error_x={"type": "data", "array": err},
            marker_color=["#2da44e" if f.within else "#cf222e" for f in cal.fits],
        )
    )
    fig.add_vline(x=0, line_color="#57606a")
    fig.update_layout(
        xaxis_title="model − target, in target standard errors (bars: seed interval)",
        height=120 + 28 * len(labels),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return fig


def _information_chart(cal: Calibration) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=cal.information,
            x=[p.key for p in cal.problem.spec.parameters],
            y=[m.label for m in cal.problem.spec.moments],
            colorscale="Blues",
            zmin=0.0,
            zmax=1.0,
            colorbar={"title": "share"},
        )
    )
    fig.update_layout(height=140 + 28 * len(cal.fits), margin={"l": 10, "r": 10, "t": 10, "b": 40})
    return fig


def calibration_html(cal: Calibration) -> str:
    """The calibration's page."""
    fit = table(FIT_HEADER, fit_rows(cal))
    params = table(PARAMETER_HEADER, parameter_rows(cal))
    sources = table(["moment", "source"], [[f.moment.label, f.moment.source] for f in cal.fits])
    run = cal.problem.spec.run
    return page(
        f"Calibration of {cal.problem.scenario.name}",
        [summary_line(cal)],
        "",
        [
            section("Fit", fit + figure_html(_residual_chart(cal), "residuals")),
            section(
                "Estimates",
                params,
                "Standard errors from the Jacobian at the estimate, with the targets' "
                "standard errors and the seeds' noise (docs/calibration.md).",
            ),
            section(
                "Which moments identify which parameter",
                figure_html(_information_chart(cal), "information"),
                "Each column: the moments' shares of that parameter's Fisher information.",
            ),
            section("Sources", sources),
        ],
        [
            f"{run.seeds} seeds from {run.first_seed}, {run.days} days, warm-up {run.warmup}; "
            f"targets: {esc(cal.problem.source)}"
        ],
    )


def as_json(cal: Calibration) -> dict:
    """Everything, for programs (NaN and inf written as null)."""

    def clean(value: object) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    return {
        "scenario": cal.problem.scenario.name,
        "targets": cal.problem.source,
        "summary": summary_line(cal),
        "converged": cal.converged,
        "evaluations": cal.evaluations,
        "objective": clean(cal.objective),
        "start_objective": clean(cal.start_objective),
        "parameters": [
            {k: clean(v) for k, v in row.items()} for row in parameter_table(cal).to_dict("records")
        ],
        "fit": [{k: clean(v) for k, v in row.items()} for row in fit_table(cal).to_dict("records")],
        "jacobian": np.nan_to_num(cal.jacobian).tolist(),
    }


def _csv(path: Path, frame: pd.DataFrame) -> None:
    atomic.write_text(path, frame.to_csv(index=False))


def write(cal: Calibration, folder: Path) -> Path:
    """Every file of the module docstring into ``folder``; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_text(folder / "scenario.toml", cal.scenario().to_toml())
    _csv(folder / "fit.csv", fit_table(cal))
    _csv(folder / "parameters.csv", parameter_table(cal))
    _csv(folder / "jacobian.csv", jacobian_table(cal))
    atomic.write_text(folder / "calibration.json", json.dumps(as_json(cal), indent=2))
    return write_page(folder / "calibration.html", calibration_html(cal))
