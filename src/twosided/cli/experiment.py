"""The ``twosided sweep`` and ``twosided experiment whom-to-save`` commands.

Thin commands over ``twosided.experiments`` (imported by ``twosided.cli``, so that they
join its ``app``). Bad input (a ``--vary`` spec, an executor, a scenario) raises
``SweepError``/``ScenarioError``, which the command line turns into one line and exit
status 2. A progress bar counts variants; an interrupted sweep keeps every finished variant,
and rerunning the same command resumes it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from twosided.cli.common import (
    DEFAULT_PRESET,
    DEFAULT_ROOT,
    INTERRUPT_EXIT,
    Out,
    Sets,
    app,
    check_out,
    native_messages_kept,
    print_grid,
    progress_bar,
    say,
    scenario_from,
    stderr,
)
from twosided.scenario import CENTS_PER_YUAN

if TYPE_CHECKING:
    from twosided.experiments.sweep import SweepProgress, SweepResult

experiment = typer.Typer(
    help="Studies built on sweeps: 'twosided experiment whom-to-save'.",
    no_args_is_help=True,
)
app.add_typer(experiment, name="experiment")

Executor = Annotated[
    str,
    typer.Option(
        "--executor", "-e", help="Where variants run: local (processes on this machine) or ray."
    ),
]
Address = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Ray cluster: 'auto' (the running one) or host:port; default a new local Ray.",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        help="Local worker processes (default: one per two cores; 1 runs in this process).",
    ),
]

Batch = Annotated[
    bool,
    typer.Option(
        "--batch/--no-batch",
        help="Local executor: run the variants of one shape (differing only in values) as "
        "one vmapped program over variants x seeds, as many as fit in memory; --no-batch "
        "runs each variant alone (on --workers).",
    ),
]


@contextmanager
def stop_between_variants() -> Iterator[Callable[[], None]]:
    """Ctrl-C once: finish and store the variants in flight, then stop (exit 130; rerun the
    same command to resume). Ctrl-C twice: stop at once (stored variants are complete; the
    catalog is repaired from the disk on the next run). Yields the check to call at the
    points where stopping is safe."""
    requested: list[bool] = []

    def handler(signum: int, frame: object) -> None:
        if requested:
            os._exit(INTERRUPT_EXIT)
        requested.append(True)
        stderr.print(
            "interrupted: stopping once the variants in flight are stored "
            "(Ctrl-C again to stop now); rerun the same command to resume"
        )

    def check() -> None:
        if requested:
            raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: keep Python's KeyboardInterrupt
        yield check
        return
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def variant_progress() -> Iterator[SweepProgress]:
    """A progress bar over variants, shown from the first report of progress (so that bad
    input fails without one); the first variant also pays the compile. Ctrl-C stops the
    sweep between variants (see ``stop_between_variants``)."""
    bar = progress_bar("variants")
    task = bar.add_task("sweeping", total=None)

    with stop_between_variants() as check:

        def update(done: float, total: int) -> None:
            if not bar.live.is_started:
                bar.start()
            bar.update(task, completed=done, total=total)
            if isinstance(done, int):  # variants stored: a safe point to stop
                check()

        try:
            yield update
        except KeyboardInterrupt:
            if bar.live.is_started:
                bar.stop()
            stderr.print(
                "interrupted: every variant finished so far is stored; "
                "rerun the same command to resume"
            )
            raise typer.Exit(INTERRUPT_EXIT) from None
        finally:
            if bar.live.is_started:
                bar.stop()


def long_run_grid(result: SweepResult) -> tuple[list[str], list[list[object]]]:
    """Per variant and platform: long-run revenue per day and share of sessions (seed means)."""
    from twosided.experiments.stats import long_window, per_seed

    keys = result.plan.keys
    window = long_window(result.plan.days)
    by = ["variant", *keys, "platform_id", "platform"]
    seeds = per_seed(result.table, by, window, means=["revenue_cents", "share_sessions"])
    means = (
        seeds.groupby(by, sort=True, dropna=False)[["revenue_cents", "share_sessions"]]
        .mean()
        .reset_index()
    )
    header = [
        "variant",
        *keys,
        "platform",
        f"revenue/day, {window.name} (yuan)",
        "share of sessions",
    ]
    rows = [
        [
            int(r["variant"]),
            *(r[k] for k in keys),
            r["platform"],
            f"{r['revenue_cents'] / CENTS_PER_YUAN:,.0f}",
            f"{r['share_sessions']:.1%}",
        ]
        for _, r in means.iterrows()
    ]
    return header, rows


@app.command("sweep")
def sweep_command(
    scenario: Annotated[
        str, typer.Argument(metavar="PRESET_OR_FILE", help="A preset name or a scenario TOML file.")
    ] = DEFAULT_PRESET,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            "-v",
            metavar="KEY.PATH=START:STOP:STEPS",
            help="A varied field: START:STOP:STEPS (both ends included) or V1,V2,... "
            "(repeatable; every combination runs).",
        ),
    ] = None,
    tie: Annotated[
        list[str] | None,
        typer.Option(
            "--tie",
            "-t",
            metavar="KEY.PATH=START:STOP:STEPS",
            help="A tied field, same forms as --vary; all --tie keys move together as ONE "
            "axis (same number of values each; the i-th variant takes the i-th value of "
            "each), crossed with the --vary keys. The first is the report's x axis.",
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", "-n", min=1, help="Seeds per variant (run together).")
    ] = 4,
    days: Annotated[
        int | None,
        typer.Option("--days", "-d", min=1, help="Days per run (default: the scenario's)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=0, max=2**31 - 1, help="First seed (default: the scenario's)."),
    ] = None,
    executor: Executor = "local",
    address: Address = None,
    workers: Workers = None,
    batch: Batch = True,
    out: Out = DEFAULT_ROOT,
    sets: Sets = None,
) -> None:
    """Run every combination of the --vary values (and the --tie axis) over the same
    seeds; resumable."""
    from twosided.experiments.report import write_sweep_report
    from twosided.experiments.sweep import plan_sweep, run_sweep

    plan = plan_sweep(
        scenario_from(scenario, sets, days), vary or [], seeds, seed=seed, tie=tie or []
    )
    check_out(out)
    with native_messages_kept() as native, variant_progress() as progress:
        result = run_sweep(plan, executor, workers, address, out, progress, batch)
        native.keep_in(result.folder)
    report = write_sweep_report(result)
    header, rows = long_run_grid(result)
    print_grid(
        header,
        rows,
        title=f"{plan.base.name}: {len(plan.variants)} variants x {len(plan.seeds)} seeds "
        f"x {plan.days} days",
        left=2 + len(plan.keys),
    )
    say(
        f"Sweep {plan.sweep_id}: ran {len(result.ran)} variants, {len(result.skipped)} already done"
    )
    say(f"Sweep folder: {result.folder}")
    say(f"Report:       {report}")


STUDY_FLAGS = {  # parameter -> argument of study_from_arguments, for flags given explicitly
    "preset": "preset",
    "monopoly": "monopoly",
    "seeds": "seeds",
    "years": "years",
    "points": "points",
    "seed": "seed",
    "executor": "executor",
    "workers": "workers",
    "address": "address",
    "batch": "batch",
}


def _given(ctx: typer.Context, values: dict[str, object]) -> dict[str, object]:
    """The study flags given on the command line (not left at their defaults; Click's
    ParameterSource is compared by name, whether Typer vendors Click or not)."""
    sources = {name: ctx.get_parameter_source(name) for name in values}
    return {
        STUDY_FLAGS[name]: value
        for name, value in values.items()
        if sources[name] is not None and sources[name].name != "DEFAULT"
    }


@experiment.command("whom-to-save")
def whom_to_save_command(
    ctx: typer.Context,
    preset: Annotated[
        str, typer.Option("--preset", help="The world with rivals (platform 0 is the incumbent).")
    ] = DEFAULT_PRESET,
    monopoly: Annotated[
        str,
        typer.Option(
            "--monopoly",
            help="The world without rivals (one platform): rivals-removed (the world with "
            "rivals, its rivals removed, every other field held) or a preset or TOML file.",
        ),
    ] = "rivals-removed",
    seeds: Annotated[int, typer.Option("--seeds", "-n", min=1, help="Seeds per policy.")] = 4,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", min=0, max=2**31 - 1, help="First seed (default: each world's scenario's)."
        ),
    ] = None,
    years: Annotated[
        float, typer.Option("--years", "-y", help="Years of 365 days per run (fractions allowed).")
    ] = 3.0,
    points: Annotated[
        int, typer.Option("--points", min=2, help="Policies along the axis, both ends included.")
    ] = 5,
    study_file: Annotated[
        Path | None,
        typer.Option(
            "--study",
            metavar="FILE",
            help="A study file (TOML: worlds with their settings, axis points, years, seeds, "
            "executor; see docs/experiments.md). Flags given as well override the file.",
        ),
    ] = None,
    executor: Executor = "local",
    address: Address = None,
    workers: Workers = None,
    batch: Batch = True,
    out: Out = DEFAULT_ROOT,
    sets: Sets = None,
    set_world: Annotated[
        list[str] | None,
        typer.Option(
            "--set-world",
            metavar="NAME:KEY.PATH=VALUE",
            help="Override a scenario field in one world only, after --set: NAME is rivals "
            "or monopoly, e.g. monopoly:buyers.switching_cost=1 (repeatable; values are TOML).",
        ),
    ] = None,
) -> None:
    """Rank for customers (revenue-first) or for users (user-first)? With and without rivals.

    Writes the report, summary.csv, each world's resolved scenario and the resolved study
    (study.toml, which reruns it with --study) into the study folder."""
    from twosided.experiments.whom_to_save import (
        MEASURES,
        POLICY,
        Labels,
        answer_line,
        measure_text,
        read_study,
        resolve_study,
        run_study,
        study_from_arguments,
    )

    given = _given(
        ctx,
        {
            "preset": preset,
            "monopoly": monopoly,
            "seeds": seeds,
            "years": years,
            "points": points,
            "seed": seed,
            "executor": executor,
            "workers": workers,
            "address": address,
            "batch": batch,
        },
    )
    base, labels = None, {}
    if study_file is not None:  # errors name the file and the field
        base, _ = read_study(study_file)
        labels = {w.name: Labels.of_file(str(study_file), i, w) for i, w in enumerate(base.worlds)}
    else:
        given = {"preset": preset, "monopoly": monopoly, **given}
    spec, scenarios, flagged = study_from_arguments(**given, base=base)  # type: ignore[arg-type]
    # errors name the world (--preset, --monopoly, the file's world) or the flag they are in
    for name, flag in flagged.items():  # a world's source from its flag, settings the file's
        if name in labels:
            flagged[name] = dataclasses.replace(flag, settings=labels[name].settings)
    spec, worlds = resolve_study(spec, sets, set_world, {**labels, **flagged}, scenarios)
    check_out(out)
    with native_messages_kept() as native, variant_progress() as progress:
        study = run_study(spec, worlds, out, progress)
        native.keep_in(study.folder)
    for reg in study.regimes:
        header = ["policy t", *(m.title for m in MEASURES)]
        rows = [
            [f"{r[POLICY]:g}", *(measure_text(m, r[m.key]) for m in MEASURES)]
            for _, r in reg.summary.sort_values(POLICY).iterrows()
        ]
        print_grid(header, rows, title=f"{reg.name} ({reg.sweep.plan.base.name})")
    say(study.differences)
    say(answer_line(study.regimes))
    for finding in study.findings:
        say(f"- {finding}")
    say(f"Study:  {study.folder / 'study.toml'} (rerun: --study)")
    say(f"Report: {study.report}")
