"""``twosided calibrate TARGETS.toml``: estimate scenario parameters from public figures
(the simulated method of moments; docs/calibration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twosided.cli.common import DEFAULT_ROOT, Out, app, print_grid, progress_bar, say
from twosided.scenario import ScenarioError

FOLDER = "calibrations"  # under --out: one folder per targets file
CACHE = "evaluations.json"


@app.command()
def calibrate(
    targets: Annotated[Path, typer.Argument(help="A targets TOML file (docs/calibration.md).")],
    out: Out = DEFAULT_ROOT,
    max_evaluations: Annotated[
        int | None,
        typer.Option(
            "--max-evaluations",
            min=1,
            help="Simulations at most (each runs every seed); default: the file's.",
        ),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Ignore evaluations saved by an earlier, interrupted run."),
    ] = False,
    moments: Annotated[
        bool, typer.Option("--moments", help="List the catalogue of moments and stop.")
    ] = False,
) -> None:
    """Estimate a scenario's parameters so that its moments match public figures.

    Every candidate runs on the same seeds; the search resumes from the evaluations saved
    in the calibration's folder (<out>/calibrations/<targets name>/). Writes the calibrated
    scenario, the fit (fit.csv), the estimates (parameters.csv), the Jacobian and a page.
    """
    from twosided.calibration import catalogue, read_targets, resolve
    from twosided.calibration import report as cal_report
    from twosided.calibration.smm import calibrate as run_calibration

    if moments:
        print_grid(["moment", "scope", "what it measures"], catalogue(), title="Moments")
        return
    spec, _ = read_targets(targets)
    if max_evaluations is not None:
        spec.optimizer.max_evaluations = max_evaluations
    problem = resolve(spec, str(targets))
    folder = out / FOLDER / targets.stem
    cache = folder / CACHE
    if fresh and cache.exists():
        cache.unlink()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ScenarioError(f"--out {out}: cannot write there ({err.strerror or err})") from None
    run = spec.run
    say(
        f"{problem.scenario.name}: {len(spec.parameters)} parameters, {len(spec.moments)} "
        f"targets; {run.seeds} seeds × {run.days} days per evaluation"
    )
    bar = progress_bar("evaluations")
    with bar:
        task = bar.add_task("compiling", total=spec.optimizer.max_evaluations)

        def advance(done: int, budget: int, best: float) -> None:
            bar.update(task, completed=done, total=budget, description=f"best {best:,.4g}")

        cal = run_calibration(problem, cache=cache, progress=advance)
    print_grid(cal_report.FIT_HEADER, cal_report.fit_rows(cal), title="Fit at the estimate")
    print_grid(cal_report.PARAMETER_HEADER, cal_report.parameter_rows(cal), title="Estimates")
    say(cal_report.summary_line(cal))
    page = cal_report.write(cal, folder)
    say(f"calibrated scenario: {folder / 'scenario.toml'}")
    say(f"report: {page}")
