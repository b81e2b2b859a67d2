"""The ``twosided`` command.

A thin layer over the Python API, on top of every other package (nothing outside
``twosided.cli`` imports it): it loads and validates scenarios (``twosided.scenario``),
runs them (``twosided.simulate``), stores run folders and the catalog (``twosided.store``)
and writes reports (``twosided.report``). It knows nothing of the engine's internals.

Modules: ``common`` (the Typer ``app``, consoles, shared options and helpers), ``run``
(``run``, ``presets``, ``show``), ``runs`` (``runs``, ``report``, ``compare``),
``experiment`` (``sweep``, ``experiment whom-to-save``), ``answers`` (``experiment flip``,
``experiment sensitivity``), ``roles`` (``roles``),
``optimize`` (``optimize``), ``calibrate`` (``calibrate``); this module
imports them all (so that their commands join ``app``) and holds the entry point.

Bad input never shows a traceback: ``main`` turns scenario, store, roles and usage errors into one
line on stderr and exit status 2; Ctrl-C exits with 130 and leaves no run folder.

Adding a command: write one function decorated with ``@app.command()`` in a module of this
package (``from twosided.cli.common import app``), or in a new module that you import below
with the others. Use ``Out`` (``OUT_OPTION``) for the runs folder, ``Sets`` and
``scenario_from`` to load a scenario with ``--set`` overrides, ``print_grid`` to print a
table, ``say`` for a line, ``progress_bar`` for a bar on stderr, and raise
``ScenarioError``/``StoreError`` (or ``typer.BadParameter``) for bad input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import typer

from twosided.cli import (  # noqa: F401  (their commands join app)
    answers,
    calibrate,
    experiment,
    optimize,
    roles,
    run,
    runs,
)
from twosided.cli.common import (
    COMPARISONS,
    DEFAULT_PRESET,
    INTERRUPT_EXIT,
    PIPE_WIDTH,
    PROG,
    USAGE_EXIT,
    app,
    check_out,
    invocation,
    open_run,
    print_grid,
    progress_bar,
    say,
    scenario_from,
    stderr,
    stdout,
)
from twosided.safe_text import plain
from twosided.scenario import ScenarioError

# bad input: shown as one line, exit status 2 (the classes of modules a command loaded:
# an error of a module it never imported cannot have been raised)
CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"  # as twosided.experiments.executors.CACHE_ENV
INPUT_ERRORS = (("twosided.store", "StoreError"), ("twosided.roles.errors", "RolesError"))

__all__ = [
    "COMPARISONS",
    "DEFAULT_PRESET",
    "INTERRUPT_EXIT",
    "PROG",
    "USAGE_EXIT",
    "app",
    "check_out",
    "keep_compiled_programs",
    "main",
    "open_run",
    "print_grid",
    "progress_bar",
    "run_app",
    "say",
    "scenario_from",
    "stderr",
    "stdout",
]


def _usage_error_types() -> tuple[type[BaseException], type[BaseException]]:
    """Click's UsageError and ClickException, whether Typer vendors Click or depends on it."""
    mro = typer.BadParameter.__mro__
    usage = next(c for c in mro if c.__name__ == "UsageError")
    click = next(c for c in mro if c.__name__ == "ClickException")
    return usage, click


def input_errors() -> tuple[type[BaseException], ...]:
    """The exception classes that mean bad input, among the modules loaded so far."""
    loaded = [
        getattr(sys.modules[module], name) for module, name in INPUT_ERRORS if module in sys.modules
    ]
    return (ScenarioError, *loaded)


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
    except input_errors() as err:
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
    another folder (an empty value turns the cache off).

    JAX is not imported for this (a command that does not simulate never loads it): the
    folder goes into ``JAX_COMPILATION_CACHE_DIR``, which JAX reads when it is imported
    (and which worker processes inherit); where JAX is loaded already, its config is set.
    """
    if CACHE_ENV in os.environ:
        return
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "twosided" / "jax"  # as twosided.experiments.executors
    folder.mkdir(parents=True, exist_ok=True)
    if "jax" in sys.modules:
        sys.modules["jax"].config.update("jax_compilation_cache_dir", str(folder))
    else:
        os.environ[CACHE_ENV] = str(folder)


def main() -> None:
    """The ``twosided`` console script."""
    keep_compiled_programs()
    sys.exit(run_app())
