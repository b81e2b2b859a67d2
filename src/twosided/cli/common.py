"""Shared parts of the ``twosided`` command: the Typer ``app`` every command joins, the
consoles, the common options (``--out``, ``--set``), and helpers to load a scenario with
overrides (``scenario_from``), check the runs folder (``check_out``), open a run, print a
table (``print_grid``) or a line (``say``), and show a progress bar (``progress_bar``).
"""

from __future__ import annotations

from collections.abc import Sequence
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
from typer.core import TyperGroup

from twosided import store
from twosided.safe_text import plain
from twosided.scenario import Scenario, ScenarioError, apply_overrides, load_scenario
from twosided.store import DEFAULT_ROOT, Catalog, RunData, StoreError, load_run

PROG = "twosided"
DEFAULT_PRESET = "taobao"
PIPE_WIDTH = 160  # columns of tables written to a file or pipe (no terminal to fit)
USAGE_EXIT = 2
INTERRUPT_EXIT = 130
COMPARISONS = "comparisons"

# the order of ``twosided --help`` (commands not named here follow, as registered)
HELP_ORDER = ("run", "presets", "show", "runs", "report", "compare", "roles", "sweep",
              "experiment")


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


def progress_bar(unit: str) -> Progress:
    """The command line's progress bar on stderr: what it is doing, done of total ``unit``
    (days, variants), and the time spent."""
    return Progress(
        SpinnerColumn(), TextColumn("{task.description:<11}"), BarColumn(),
        MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn(),
        console=stderr, transient=False,
    )


def resume_command(run_id: str, out: Path) -> str:
    """The command that continues unfinished run ``run_id`` under ``out``."""
    where = "" if out == DEFAULT_ROOT else f" --out {out}"
    return f"twosided run --resume {run_id}{where}"


