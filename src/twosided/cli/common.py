"""Shared parts of the ``twosided`` command: the Typer ``app`` every command joins, the
consoles, the common options (``--out``, ``--set``), and helpers to load a scenario with
overrides (``scenario_from``), check the runs folder (``check_out``), open a run, print a
table (``print_grid``) or a line (``say``), and show a progress bar (``progress_bar``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from typer.core import TyperGroup

from twosided.safe_text import plain
from twosided.scenario import Scenario, ScenarioError, apply_overrides, load_scenario

if TYPE_CHECKING:
    from twosided.store import RunData

# Commands load the engine (JAX), the tables and the store only in their bodies, when they
# need them: `twosided --help`, `presets` and `show` never import JAX (tests/cli checks).
DEFAULT_ROOT = Path("twosided-runs")  # twosided.store.DEFAULT_ROOT (a test checks they agree)
PROG = "twosided"
DEFAULT_PRESET = "taobao"
PIPE_WIDTH = 160  # columns of tables written to a file or pipe (no terminal to fit)
USAGE_EXIT = 2
INTERRUPT_EXIT = 130
COMPARISONS = "comparisons"

# the order of ``twosided --help`` (commands not named here follow, as registered)
HELP_ORDER = (
    "run",
    "presets",
    "show",
    "runs",
    "report",
    "compare",
    "roles",
    "sweep",
    "experiment",
    "optimize",
    "calibrate",
)


class OrderedCommands(TyperGroup):
    """Lists the commands in ``HELP_ORDER``, not in the order their modules were imported."""

    def list_commands(self, ctx: Any) -> list[str]:
        """The command names, in the order of the help."""
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(HELP_ORDER)}
        return sorted(names, key=lambda name: rank.get(name, len(HELP_ORDER)))


app = typer.Typer(
    name=PROG,
    cls=OrderedCommands,
    help="twosided: simulate two-sided marketplace platforms (buyers, sellers, 1-5 platforms).",
    add_completion=False,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)
invocation: list[str] = []  # the arguments of this invocation, for meta.json


OUT_OPTION = typer.Option(
    "--out", "-o", help="Folder of run folders and the results catalog (catalog.duckdb)."
)
SET_OPTION = typer.Option(
    "--set",
    "-s",
    metavar="KEY.PATH=VALUE",
    help="Override a scenario field, e.g. market.buyers=50000 or "
    "platforms.Taobao.fees.commission=0.03 (repeatable; values are TOML).",
)
Sets = Annotated[list[str] | None, SET_OPTION]
Out = Annotated[Path, OUT_OPTION]
ScenarioRef = Annotated[str, typer.Argument(help="A preset name or a scenario TOML file.")]
RUN_HELP = "Run id, id prefix, 'latest' or run folder."
Warmup = Annotated[
    int,
    typer.Option(
        "--warmup",
        metavar="DAYS",
        help="Leave the first DAYS days out of the summary and the report (a warm-up; the "
        "run folder's tables keep every day). The report says so.",
    ),
]


def check_warmup(warmup: int, days: int) -> None:
    """A usage error (one line, exit 2) unless ``--warmup`` leaves at least one day."""
    if warmup < 0 or warmup >= days:
        raise typer.BadParameter(
            f"{warmup} days must be at least 0 and less than the run's {days} days",
            param_hint="'--warmup'",
        )


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
        if (
            (ref.endswith(".toml") or Path(ref).is_file())
            and f"'{ref}'" not in message
            and not message.startswith(ref)
        ):
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
    from twosided import store
    from twosided.store import Catalog, StoreError

    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is not a folder", param_hint="'--out'")
    try:
        store.probe_writable(out)
    except OSError as err:
        raise typer.BadParameter(
            f"{out}: cannot write there ({err.strerror or err})", param_hint="'--out'"
        ) from None
    if (out / store.CATALOG_NAME).exists():
        try:
            Catalog(out, read_only=True).close()
        except StoreError as err:
            raise typer.BadParameter(str(err), param_hint="'--out'") from None


def print_grid(
    header: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None, left: int = 1
) -> None:
    """Print a table: the first ``left`` columns left-aligned (labels), the rest right-aligned.
    Cells are shown as plain text (no Rich markup is interpreted)."""
    table = Table(title=title and plain(title), title_justify="left", header_style="bold")
    for i, name in enumerate(header):
        table.add_column(plain(str(name)), justify="left" if i < left else "right", no_wrap=i == 0)
    for row in rows:
        table.add_row(*(plain("" if cell is None else str(cell)) for cell in row))
    stdout.print(table)


def say(line: str) -> None:
    """Print one plain line (paths are never wrapped or styled)."""
    stdout.print(plain(line), soft_wrap=True)


def open_run(ref: str, out: Path) -> RunData:
    """A run folder from a run id, an id prefix, ``latest`` or a folder path."""
    from twosided.store import Catalog, load_run

    with Catalog(out, read_only=True) as catalog:
        return load_run(catalog.resolve(ref))


def progress_bar(unit: str) -> Progress:
    """The command line's progress bar on stderr: what it is doing, done of total ``unit``
    (days, variants), and the time spent."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
    )


def resume_command(run_id: str, out: Path) -> str:
    """The command that continues unfinished run ``run_id`` under ``out``."""
    where = "" if out == DEFAULT_ROOT else f" --out {out}"
    return f"twosided run --resume {run_id}{where}"


NATIVE_LOG = "xla.log"  # in a run folder: what native code (XLA) printed while it ran


class NativeLog:
    """Where native code's messages went while ``native_messages_kept`` ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self) -> str:
        """What native code wrote (empty when it wrote nothing)."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def keep_in(self, folder: Path) -> None:
        """Copy the messages into ``folder`` as ``NATIVE_LOG``, if there were any."""
        if self.text().strip():
            shutil.copyfile(self.path, Path(folder) / NATIVE_LOG)


def _python_writes_to_fd2() -> bool:
    try:
        return sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # replaced by a test's capture
        return False


@contextmanager
def native_messages_kept() -> Iterator[NativeLog]:
    """Keep what native code writes to the process's stderr (XLA's own logging, such as
    its "Very slow compile? If you want to file a bug..." alarm) off the user's terminal.

    File descriptor 2 points to a temporary file while this runs; Python's ``sys.stderr``
    (the progress bar with its "compiling", warnings, errors) keeps writing to the terminal
    through a duplicate of the original descriptor. Yields the ``NativeLog``: keep it in
    the run folder with ``keep_in``. When the block fails, the messages are replayed on the
    terminal (they may say why)."""
    sys.stderr.flush()
    handle, name = tempfile.mkstemp(prefix="twosided-native-", suffix=".log")
    saved = os.dup(2)
    swap = _python_writes_to_fd2()
    previous = sys.stderr
    os.dup2(handle, 2)
    os.close(handle)
    if swap:
        sys.stderr = os.fdopen(
            os.dup(saved),
            "w",
            encoding=previous.encoding or "utf-8",
            errors=previous.errors or "backslashreplace",
            buffering=1,
        )
    log = NativeLog(Path(name))
    failed = False
    try:
        yield log
    except BaseException:
        failed = True
        raise
    finally:
        if swap:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = previous
        os.dup2(saved, 2)
        os.close(saved)
        if failed and log.text().strip():
            previous.write(log.text())
            previous.flush()
        log.path.unlink(missing_ok=True)
