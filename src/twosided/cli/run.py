"""``twosided run``, ``twosided presets`` and ``twosided show``: run a scenario (or a past
run again, or an unfinished run to its end) and write its run folder and report; list the
presets; print a scenario as TOML."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import twosided
from twosided.cli.common import (
    DEFAULT_PRESET,
    DEFAULT_ROOT,
    INTERRUPT_EXIT,
    PROG,
    RUN_HELP,
    Out,
    ScenarioRef,
    Sets,
    Warmup,
    app,
    check_out,
    check_warmup,
    invocation,
    native_messages_kept,
    open_run,
    print_grid,
    progress_bar,
    resume_command,
    say,
    scenario_from,
    stderr,
)
from twosided.safe_text import plain
from twosided.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from twosided import checkpoint


@contextmanager
def day_progress(days: int) -> Iterator[tuple[Callable[[int], None], Callable[[], None]]]:
    """A progress bar over simulated days; shows 'compiling' until the first chunk is done.

    Yields the callback for ``simulate(progress=...)`` and a function that stops the bar.
    """
    progress = progress_bar("days")
    task = progress.add_task("compiling", total=days)

    def advance(done: int) -> None:
        progress.update(task, completed=done, description="simulating")

    with progress:
        yield advance, progress.stop


NOTHING_WRITTEN = "interrupted: no run folder was written"


@contextmanager
def exit_on_interrupt(
    before_exit: Callable[[], None], message: str = NOTHING_WRITTEN
) -> Iterator[None]:
    """While no run folder is being written, Ctrl-C exits at once with status 130.

    The simulation runs in compiled code that may not return to Python for many seconds,
    and an interrupt raised inside JAX's own callbacks can be swallowed; since no run
    folder exists yet (and checkpoints are written atomically) there is nothing to clean
    up, so the process ends here and now, printing ``message``.
    """

    def handler(signum: int, frame: object) -> None:
        try:
            before_exit()
            stderr.print(plain(message), soft_wrap=True)
        finally:
            sys.stderr.flush()
            os._exit(INTERRUPT_EXIT)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: keep Python's KeyboardInterrupt
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _given(ctx: typer.Context, names: Sequence[str]) -> list[str]:
    """The command-line parameters among ``names`` that the user set explicitly."""
    return [
        name
        for name in names
        if (source := ctx.get_parameter_source(name)) is not None
        and source.name not in ("DEFAULT", "DEFAULT_MAP")
    ]


def _alone(ctx: typer.Context, flag: str, names: Sequence[str]) -> None:
    """Refuse ``flag`` together with any of ``names`` (their command-line spellings)."""
    spelled = {
        "scenario": "a SCENARIO",
        "days": "--days",
        "seeds": "--seeds",
        "seed": "--seed",
        "sets": "--set",
        "from_run": "--from",
        "resume": "--resume",
    }
    clash = _given(ctx, names)
    if clash:
        raise typer.BadParameter(
            f"cannot be combined with {spelled[clash[0]]}", param_hint=f"'{flag}'"
        )


def reproduction(ref: str, out: Path) -> tuple[Scenario, list[int], dict[str, Any]]:
    """The resolved scenario, seeds and records of a past run, to run it again; prints a
    note when this machine's versions or device differ from the run's."""
    from twosided.store import REPRODUCIBLE, StoreError, environment

    try:
        source = open_run(ref, out)
    except StoreError as err:
        raise StoreError(f"--from: {err}") from None
    now = environment()
    changed = [
        f"{key} {source.meta.get(key)} -> {now[key]}"
        for key in REPRODUCIBLE
        if key in source.meta and source.meta[key] != now[key]
    ]
    if changed:
        stderr.print(
            plain(
                f"note: {source.run_id} ran with other versions or device "
                f"({'; '.join(changed)}): its tables may differ from this run's "
                "(see docs/reproducibility.md)"
            ),
            soft_wrap=True,
        )
    return source.scenario, list(source.seeds), {"reproduces": source.run_id}


@app.command()
def run(
    ctx: typer.Context,
    scenario: ScenarioRef = DEFAULT_PRESET,
    days: Annotated[
        int | None,
        typer.Option("--days", "-d", min=1, help="Days to simulate (default: the scenario's)."),
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", "-n", min=1, help="How many seeds (run together).")
    ] = 1,
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=0, max=2**31 - 1, help="First seed (default: the scenario's)."),
    ] = None,
    out: Out = DEFAULT_ROOT,
    sets: Sets = None,
    from_run: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="RUN",
            help="Run a past run again: its resolved scenario and "
            "seeds (the same tables, bit for bit, on the same device and versions). " + RUN_HELP,
        ),
    ] = None,
    checkpoint_every: Annotated[
        int | None,
        typer.Option(
            "--checkpoint-every",
            metavar="DAYS",
            min=1,
            help="Save the simulation's state every "
            "DAYS simulated days (under OUT/.partial-RUN_ID), so that a crashed or killed run "
            "can continue with --resume.",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="RUN",
            help="Continue an unfinished run started with "
            "--checkpoint-every from its last checkpoint (its id, an id prefix or 'latest'); "
            "the tables are exactly those of an uninterrupted run.",
        ),
    ] = None,
    warmup: Warmup = 0,
) -> None:
    """Run a scenario, print a summary per platform and write a run folder with a report."""
    from twosided import checkpoint, memory
    from twosided.simulation import resolve_seeds

    check_out(out)
    meta: dict[str, Any] = {"command": [PROG, *invocation], "cwd": os.getcwd()}
    partial = None
    if resume is not None:
        _alone(ctx, "--resume", ["scenario", "days", "seeds", "seed", "sets", "from_run"])
        partial = checkpoint.Partial.open(checkpoint.find_partial(out, resume))
        if checkpoint_every is not None:
            partial.every = checkpoint_every
        sc, seed_list = partial.scenario, partial.seeds
        meta = {**partial.meta, "resumed": [*partial.meta.get("resumed", []), meta]}
    elif from_run is not None:
        _alone(ctx, "--from", ["scenario", "days", "seeds", "seed", "sets"])
        sc, seed_list, source = reproduction(from_run, out)
        meta.update(source)
    else:
        sc = scenario_from(scenario, sets, days)
        seed_list = resolve_seeds(sc, seeds, seed)
    check_warmup(warmup, sc.days)
    every = partial.every if partial is not None else checkpoint_every
    chunk = (
        sc.chunk_days
        if every is None
        else checkpoint.checkpoint_chunk(sc.days, sc.chunk_days, every)
    )
    memory.check_scenario(sc, len(seed_list), chunk)  # before anything is compiled
    if partial is None and checkpoint_every is not None:
        partial = checkpoint.Partial.create(
            out, sc, seed_list, checkpoint_every, {**meta, "checkpoint_every": checkpoint_every}
        )
    with partial.locked() if partial is not None else nullcontext():
        simulate_and_save(sc, seed_list, out, meta, partial, warmup)


def simulate_and_save(
    sc: Scenario,
    seeds: list[int],
    out: Path,
    meta: dict[str, Any],
    partial: checkpoint.Partial | None,
    warmup: int = 0,
) -> None:
    """Simulate (from the last checkpoint of ``partial``, if any), write the run folder and
    its report, print the summary (both without the first ``warmup`` days); then remove the
    checkpoints."""
    from twosided import checkpoint, report
    from twosided.outcomes import summary_grid
    from twosided.store import REPORT_FILE, save_run

    started = time.monotonic()
    message = NOTHING_WRITTEN
    if partial is not None:
        message = (
            f"interrupted: continue from the last checkpoint with "
            f"'{resume_command(partial.run_id, out)}'"
        )
        done = out / partial.run_id
        if (done / "daily.parquet").exists():  # finished, killed before cleaning up
            partial.remove()
            say(f"Run {partial.run_id} was already complete; its checkpoints are removed.")
            say(f"Run folder: {done}")
            return
    start = checkpoint.begin(partial) if partial is not None else None

    def extra(tmp: Path) -> None:
        report.write_report(result.after_warmup(warmup), tmp / REPORT_FILE)
        native.keep_in(tmp)

    try:
        with native_messages_kept() as native:
            with day_progress(sc.days) as (advance, stop), exit_on_interrupt(stop, message):
                if partial is not None:
                    result = checkpoint.complete(partial, advance, start)
                else:
                    result = twosided.simulate(sc, seeds=seeds, progress=advance)
            with stderr.status("writing the run folder and its report"):
                meta = {**meta, "simulate_seconds": round(time.monotonic() - started, 3)}
                run_id, folder = save_run(
                    result,
                    out,
                    meta=meta,
                    run_id=partial.run_id if partial is not None else None,
                    extra=extra,
                    note=lambda line: stderr.print(plain(line), soft_wrap=True),
                )
    except KeyboardInterrupt:
        stderr.print(plain(message), soft_wrap=True)
        raise typer.Exit(INTERRUPT_EXIT) from None
    if partial is not None:
        partial.remove()
    header, rows = summary_grid(result.summary(warmup=warmup))
    cut = f" (the first {warmup} left out as warm-up)" if warmup else ""
    print_grid(header, rows, title=f"{sc.name}: {sc.days} days{cut}, seeds {result.seeds}")
    say(f"Run {run_id} ({time.monotonic() - started:.1f} s)")
    say(f"Run folder: {folder}")
    say(f"Report:     {folder / REPORT_FILE}")


# --------------------------------------------------------------------------- presets, show


@app.command()
def presets() -> None:
    """List the shipped presets, one line each."""
    names = twosided.preset_names()
    width = max(len(n) for n in names)
    for name in names:
        description = load_scenario(name).description
        sys.stdout.write(f"{name:<{width}}  {description}\n")


@app.command()
def show(
    scenario: ScenarioRef = DEFAULT_PRESET,
    sets: Sets = None,
) -> None:
    """Print a scenario as TOML with every field, each under its description as a comment
    (copy it, edit it, run it)."""
    sys.stdout.write(scenario_from(scenario, sets).to_toml(comments=True))
