"""The ``twosided`` command.

A thin layer over the Python API: it loads and validates scenarios (``twosided.scenario``),
runs them (``twosided.simulate``), stores run folders and the catalog (``twosided.store``)
and writes reports (``twosided.report``). It knows nothing of the engine's internals.

Bad input never shows a traceback: ``main`` turns scenario, store, roles and usage errors into one
line on stderr and exit status 2; Ctrl-C exits with 130 and leaves no run folder.

Adding a command: write one function decorated with ``@app.command()`` in a section of its
own below (or in a module that imports ``app`` and is imported at the end of this file).
Use ``OUT_OPTION`` for the runs folder, ``scenario_from`` to load a scenario with ``--set``
overrides, ``print_grid`` to print a table, and raise ``ScenarioError``/``StoreError`` (or
``typer.BadParameter``) for bad input.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

import twosided
from twosided import checkpoint, memory, report, roles, store
from twosided.report.comparison import outcome_differences
from twosided.report.outcomes import summary_grid
from twosided.safe_text import plain, printable
from twosided.scenario import Scenario, ScenarioError, apply_overrides, load_scenario
from twosided.simulation import resolve_seeds
from twosided.store import (
    DEFAULT_ROOT,
    REPORT_FILE,
    REPRODUCIBLE,
    Catalog,
    RunData,
    StoreError,
    environment,
    load_run,
    save_run,
)

PROG = "twosided"
DEFAULT_PRESET = "taobao"
PIPE_WIDTH = 160  # columns of tables written to a file or pipe (no terminal to fit)
USAGE_EXIT = 2
INTERRUPT_EXIT = 130
COMPARISONS = "comparisons"

app = typer.Typer(
    name=PROG,
    help="twosided: simulate two-sided marketplace platforms (buyers, sellers, 1-5 platforms).",
    add_completion=False,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)
invocation: list[str] = []  # the arguments of this invocation, for meta.json


# --------------------------------------------------------------------------- shared parts

OUT_OPTION = typer.Option(
    "--out", "-o", help="Folder of run folders and the results catalog (catalog.duckdb)."
)
SET_OPTION = typer.Option(
    "--set", "-s", metavar="KEY.PATH=VALUE",
    help="Override a scenario field, e.g. market.buyers=50000 or "
    "platforms.Taobao.fees.commission=0.03 (repeatable; values are TOML).",
)
Sets = Annotated[list[str] | None, SET_OPTION]
Out = Annotated[Path, OUT_OPTION]
ScenarioRef = Annotated[str, typer.Argument(help="A preset name or a scenario TOML file.")]
RUN_HELP = "Run id, id prefix, 'latest' or run folder."


@app.callback()
def _root(ctx: typer.Context) -> None:
    """twosided: simulate two-sided marketplace platforms (buyers, sellers, 1-5 platforms)."""
    if ctx.invoked_subcommand is None:
        stdout.print(ctx.get_help())


def scenario_from(ref: str, sets: Sequence[str] | None = None, days: int | None = None) -> Scenario:
    """Load a preset or TOML file, apply ``--set`` overrides and ``--days``; errors name
    the file or flag."""
    try:
        scenario = load_scenario(ref)
    except ScenarioError as err:
        message = str(err)
        if (ref.endswith(".toml") or Path(ref).is_file()) and f"'{ref}'" not in message \
                and not message.startswith(ref):
            message = f"{ref}: {message}"
        raise ScenarioError(message) from None
    if sets:
        scenario = _with(scenario, list(sets), "--set")
    if days is not None:
        scenario = _with(scenario, {"days": days}, "--days")
    return scenario


def _with(scenario: Scenario, overrides: list[str] | dict[str, Any], flag: str) -> Scenario:
    try:
        return apply_overrides(scenario, overrides)
    except ScenarioError as err:
        message = str(err)
        if isinstance(overrides, dict) and len(overrides) == 1:
            message = message.removeprefix(f"{next(iter(overrides))}: ")
        raise ScenarioError(message if message.startswith(flag) else f"{flag}: {message}") from None


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that cannot hold run folders, before any work is done: it must
    be a folder (or one that can be created) where a file can be written, and its catalog,
    if there is one, must open. Leaves nothing behind (folders it created are removed)."""
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is not a folder", param_hint="'--out'")
    try:
        store.probe_writable(out)
    except OSError as err:
        raise typer.BadParameter(f"{out}: cannot write there ({err.strerror or err})",
                                 param_hint="'--out'") from None
    if (out / store.CATALOG_NAME).exists():
        try:
            Catalog(out, read_only=True).close()
        except StoreError as err:
            raise typer.BadParameter(str(err), param_hint="'--out'") from None


def print_grid(header: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None,
               left: int = 1) -> None:
    """Print a table: the first ``left`` columns left-aligned (labels), the rest right-aligned.
    Cells are shown as plain text (no Rich markup is interpreted)."""
    table = Table(title=title and plain(title), title_justify="left", header_style="bold")
    for i, name in enumerate(header):
        table.add_column(plain(str(name)), justify="left" if i < left else "right",
                         no_wrap=i == 0)
    for row in rows:
        table.add_row(*(plain("" if cell is None else str(cell)) for cell in row))
    stdout.print(table)


def say(line: str) -> None:
    """Print one plain line (paths are never wrapped or styled)."""
    stdout.print(plain(line), soft_wrap=True)


def open_run(ref: str, out: Path) -> RunData:
    """A run folder from a run id, an id prefix, ``latest`` or a folder path."""
    with Catalog(out, read_only=True) as catalog:
        return load_run(catalog.resolve(ref))


# --------------------------------------------------------------------------- twosided run


def progress_bar(unit: str) -> Progress:
    """The command line's progress bar on stderr: what it is doing, done of total ``unit``
    (days, variants), and the time spent."""
    return Progress(
        SpinnerColumn(), TextColumn("{task.description:<11}"), BarColumn(),
        MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn(),
        console=stderr, transient=False,
    )


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
def exit_on_interrupt(before_exit: Callable[[], None], message: str = NOTHING_WRITTEN
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
    return [name for name in names
            if (source := ctx.get_parameter_source(name)) is not None
            and source.name not in ("DEFAULT", "DEFAULT_MAP")]


def _alone(ctx: typer.Context, flag: str, names: Sequence[str]) -> None:
    """Refuse ``flag`` together with any of ``names`` (their command-line spellings)."""
    spelled = {"scenario": "a SCENARIO", "days": "--days", "seeds": "--seeds", "seed": "--seed",
               "sets": "--set", "from_run": "--from", "resume": "--resume"}
    clash = _given(ctx, names)
    if clash:
        raise typer.BadParameter(f"cannot be combined with {spelled[clash[0]]}",
                                 param_hint=f"'{flag}'")


def _resume_command(run_id: str, out: Path) -> str:
    where = "" if out == DEFAULT_ROOT else f" --out {out}"
    return f"twosided run --resume {run_id}{where}"


def reproduction(ref: str, out: Path) -> tuple[Scenario, list[int], dict[str, Any]]:
    """The resolved scenario, seeds and records of a past run, to run it again; prints a
    note when this machine's versions or device differ from the run's."""
    try:
        source = open_run(ref, out)
    except StoreError as err:
        raise StoreError(f"--from: {err}") from None
    now = environment()
    changed = [f"{key} {source.meta.get(key)} -> {now[key]}" for key in REPRODUCIBLE
               if key in source.meta and source.meta[key] != now[key]]
    if changed:
        stderr.print(plain(f"note: {source.run_id} ran with other versions or device "
                           f"({'; '.join(changed)}): its tables may differ from this run's "
                           "(see docs/reproducibility.md)"), soft_wrap=True)
    return source.scenario, list(source.seeds), {"reproduces": source.run_id}


@app.command()
def run(
    ctx: typer.Context,
    scenario: ScenarioRef = DEFAULT_PRESET,
    days: Annotated[int | None, typer.Option(
        "--days", "-d", min=1, help="Days to simulate (default: the scenario's).")] = None,
    seeds: Annotated[int, typer.Option(
        "--seeds", "-n", min=1, help="How many seeds (run together).")] = 1,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, max=2**31 - 1, help="First seed (default: the scenario's).")] = None,
    out: Out = DEFAULT_ROOT,
    sets: Sets = None,
    from_run: Annotated[str | None, typer.Option(
        "--from", metavar="RUN", help="Run a past run again: its resolved scenario and "
        "seeds (the same tables, bit for bit, on the same device and versions). "
        + RUN_HELP)] = None,
    checkpoint_every: Annotated[int | None, typer.Option(
        "--checkpoint-every", metavar="DAYS", min=1, help="Save the simulation's state every "
        "DAYS simulated days (under OUT/.partial-RUN_ID), so that a crashed or killed run "
        "can continue with --resume.")] = None,
    resume: Annotated[str | None, typer.Option(
        "--resume", metavar="RUN", help="Continue an unfinished run started with "
        "--checkpoint-every from its last checkpoint (its id, an id prefix or 'latest'); "
        "the tables are exactly those of an uninterrupted run.")] = None,
) -> None:
    """Run a scenario, print a summary per platform and write a run folder with a report."""
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
    every = partial.every if partial is not None else checkpoint_every
    chunk = sc.chunk_days if every is None else checkpoint.checkpoint_chunk(
        sc.days, sc.chunk_days, every)
    memory.check_scenario(sc, len(seed_list), chunk)  # before anything is compiled
    if partial is None and checkpoint_every is not None:
        partial = checkpoint.Partial.create(
            out, sc, seed_list, checkpoint_every, {**meta, "checkpoint_every": checkpoint_every})
    with partial.locked() if partial is not None else nullcontext():
        simulate_and_save(sc, seed_list, out, meta, partial)


def simulate_and_save(sc: Scenario, seeds: list[int], out: Path, meta: dict[str, Any],
                      partial: checkpoint.Partial | None) -> None:
    """Simulate (from the last checkpoint of ``partial``, if any), write the run folder and
    its report, print the summary; then remove the checkpoints."""
    started = time.monotonic()
    message = NOTHING_WRITTEN
    if partial is not None:
        message = (f"interrupted: continue from the last checkpoint with "
                   f"'{_resume_command(partial.run_id, out)}'")
        done = out / partial.run_id
        if (done / "daily.parquet").exists():  # finished, killed before cleaning up
            partial.remove()
            say(f"Run {partial.run_id} was already complete; its checkpoints are removed.")
            say(f"Run folder: {done}")
            return
    start = checkpoint.begin(partial) if partial is not None else None
    try:
        with day_progress(sc.days) as (advance, stop), exit_on_interrupt(stop, message):
            if partial is not None:
                result = checkpoint.complete(partial, advance, start)
            else:
                result = twosided.simulate(sc, seeds=seeds, progress=advance)
        with stderr.status("writing the run folder and its report"):
            meta = {**meta, "simulate_seconds": round(time.monotonic() - started, 3)}
            run_id, folder = save_run(
                result, out, meta=meta, run_id=partial.run_id if partial is not None else None,
                extra=lambda tmp: report.write_report(result, tmp / REPORT_FILE),
                note=lambda line: stderr.print(plain(line), soft_wrap=True),
            )
    except KeyboardInterrupt:
        stderr.print(plain(message), soft_wrap=True)
        raise typer.Exit(INTERRUPT_EXIT) from None
    if partial is not None:
        partial.remove()
    header, rows = summary_grid(result.summary())
    print_grid(header, rows, title=f"{sc.name}: {sc.days} days, seeds {result.seeds}")
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
    """Print a scenario as TOML with every field (copy it, edit it, run it)."""
    sys.stdout.write(scenario_from(scenario, sets).to_toml())


# --------------------------------------------------------------------------- runs, report


@app.command()
def runs(
    out: Out = DEFAULT_ROOT,
    sql: Annotated[str | None, typer.Option(
        "--sql", help="A SQL query over the catalog: table runs; views daily, accounts, "
        "flows, switches (each with run_id).")] = None,
    limit: Annotated[int, typer.Option(
        "--limit", min=0,
        help="Rows of the table to print at most (0: all); --csv prints every row.")] = 100,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    rebuild_index: Annotated[bool, typer.Option(
        "--rebuild-index", help="Build the catalog again from the run folders under OUT "
        "(after copying or moving runs, or losing the catalog).")] = False,
) -> None:
    """List past runs from the results catalog, or query it with --sql."""
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is not a folder", param_hint="'--out'")
    if rebuild_index:
        count, problems = store.rebuild_index(out)
        for line in problems:
            stderr.print(plain(f"note: {line}"), soft_wrap=True)
        say(f"Indexed {count} runs in {out / store.CATALOG_NAME}.")
        return
    waiting, problems = ([], []) if sql is not None else store.index_pending(out)
    for line in problems:
        stderr.print(plain(f"note: {line}"), soft_wrap=True)
    with Catalog(out, read_only=True) as catalog:
        if sql is None:
            frame, total = _run_list(catalog), None
        else:
            frame, total = catalog.query_head(sql, None if csv or limit == 0 else limit)
        for damaged in catalog.skipped:
            stderr.print(plain(f"note: left out a damaged run file: {damaged}"), soft_wrap=True)
    if csv:
        text = frame.to_csv(index=False)
        sys.stdout.write(printable(text) if sys.stdout.isatty() else text)
        return
    unfinished = [] if sql is not None else checkpoint.partial_folders(out)
    for folder in unfinished:
        say(checkpoint.describe(folder, lambda run_id: _resume_command(run_id, out)))
    for folder in waiting:
        say(f"Not indexed yet: {folder} (the catalog is busy; 'twosided runs' indexes it later)")
    if frame.empty and not sql:
        if not unfinished and not waiting:
            say(f"No runs in {out} yet: try 'twosided run'.")
        return
    total = len(frame) if total is None else total
    shown = frame if limit == 0 else frame.head(limit)
    print_grid(list(frame.columns), shown.astype(object).values.tolist(),
               left=1 if sql else len(frame.columns))
    if len(shown) < total:
        say(f"... {total - len(shown)} more rows (use --limit 0 or --csv)")


def _run_list(catalog: Catalog) -> Any:
    frame = catalog.runs()[["run_id", "kind", "name", "created", "days", "seeds"]]
    frame["created"] = frame["created"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


@app.command("report")
def report_command(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help=RUN_HELP)],
    out: Out = DEFAULT_ROOT,
) -> None:
    """Rebuild the HTML report of a run."""
    check_out(out)
    data = open_run(run_ref, out)
    try:
        store.probe_writable(data.folder)
    except OSError as err:
        raise StoreError(f"RUN {data.folder}: cannot write its report there "
                         f"({err.strerror or err})") from None
    path = report.write_report(data, data.folder / REPORT_FILE)
    say(f"Report: {path}")


# --------------------------------------------------------------------------- compare


@app.command()
def compare(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help=RUN_HELP)],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help=RUN_HELP)],
    out: Out = DEFAULT_ROOT,
) -> None:
    """Print the differences of key outcomes and write a comparison report."""
    check_out(out)
    if (out / COMPARISONS).exists() and not (out / COMPARISONS).is_dir():
        raise typer.BadParameter(f"{out / COMPARISONS} is not a folder (comparison reports "
                                 "go there)", param_hint="'--out'")
    a, b = open_run(run_a, out), open_run(run_b, out)
    diffs = outcome_differences(a.summary(), b.summary())
    rows = [[d.platform, d.outcome.label, d.a_text, d.b_text, d.change_text] for d in diffs]
    say(f"A: {a.run_id} ({a.scenario.name})")
    say(f"B: {b.run_id} ({b.scenario.name})")
    print_grid(["platform", "outcome", "A", "B", "change (B - A)"], rows, left=2)
    path = out / COMPARISONS / f"{a.run_id}--vs--{b.run_id}.html"
    report.write_comparison(a, b, path)
    say(f"Comparison report: {path}")


# --------------------------------------------------------------------------- roles


@app.command("roles")
def roles_command(
    target: Annotated[str, typer.Argument(
        metavar="FILE|RUN",
        help="A business-model TOML file or a shipped example "
        f"({', '.join(roles.example_names())}), or a run: {RUN_HELP}")],
    probe: Annotated[bool, typer.Option(
        "--probe", help="For a run: also run its scenario and seeds with half the buyers, "
        "so that the elasticities behind the users are identified.")] = False,
    out: Out = DEFAULT_ROOT,
) -> None:
    """Who is the customer and who is the user, from a business model's or a run's money."""
    if roles.is_business_model(target):
        roles.show_roles(target, stdout, with_probe=probe)  # --probe here: one-line error
        return
    data = load_run(roles.resolve_run(target, out))
    if probe:
        with stderr.status("running the probe (half the buyers)"):
            roles.show_roles(data, stdout, with_probe=True)
        return
    roles.show_roles(data, stdout)


# --------------------------------------------------------------------------- entry point


def _usage_error_types() -> tuple[type[BaseException], type[BaseException]]:
    """Click's UsageError and ClickException, whether Typer vendors Click or depends on it."""
    mro = typer.BadParameter.__mro__
    usage = next(c for c in mro if c.__name__ == "UsageError")
    click = next(c for c in mro if c.__name__ == "ClickException")
    return usage, click


def fail(message: str, code: int) -> int:
    """Print one line on stderr and return the exit status."""
    line = " ".join(str(message).split())
    stderr.print(plain(f"{PROG}: error: {line}"), soft_wrap=True)
    return code


def run_app(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (no ``sys.exit``)."""
    usage_error, click_error = _usage_error_types()
    if not stdout.is_terminal:
        stdout.width = PIPE_WIDTH
    invocation[:] = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        status = command.main(args=list(invocation), prog_name=PROG, standalone_mode=False)
    except (ScenarioError, StoreError, roles.RolesError) as err:
        return fail(str(err), USAGE_EXIT)
    except usage_error as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # `twosided experiment`: help shown
            return 0
        where = err.ctx.command_path if getattr(err, "ctx", None) else PROG
        return fail(f"{err.format_message()} (see '{where} --help')", USAGE_EXIT)
    except click_error as err:
        return fail(err.format_message(), getattr(err, "exit_code", 1))
    except KeyboardInterrupt:
        return fail("interrupted", INTERRUPT_EXIT)
    except OSError as err:
        return fail(str(err), 1)
    return status if isinstance(status, int) else 0


def keep_compiled_programs() -> None:
    """Keep compiled simulations between invocations (JAX's persistent compilation cache,
    under ``$XDG_CACHE_HOME/twosided/jax``), unless ``JAX_COMPILATION_CACHE_DIR`` chooses
    another folder (an empty value turns the cache off)."""
    from twosided.experiments.executors import compile_cache_folder, use_compile_cache

    use_compile_cache(compile_cache_folder())


def main() -> None:
    """The ``twosided`` console script."""
    keep_compiled_programs()
    sys.exit(run_app())


from twosided.experiments import commands as _experiment_commands  # noqa: E402,F401  (sweep, experiment)

if __name__ == "__main__":
    main()
