"""The roles of a business model or of a run, printed (for ``twosided roles FILE|RUN``).

The target is a business-model file (``*.toml``) or the name of a shipped example, a run
folder, or a run id in the results catalog. Bad input gets one line on stderr and status 2.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from twosided.roles.alignment import alignment
from twosided.roles.business import derive_roles, example_names, load_business_model
from twosided.roles.errors import RolesError
from twosided.roles.render import business_renderable, run_renderable
from twosided.roles.run import (
    RUN_TABLES,
    SCENARIO_FILE,
    check_run_folder,
    derive_run_roles,
    probe,
    run_data,
)
from twosided.store import DEFAULT_ROOT, Catalog, StoreError

USAGE_ERROR = 2


def is_business_model(target: str) -> bool:
    """Whether the target names a business-model file or a shipped example."""
    path = Path(target)
    return (
        target.endswith(".toml")
        or path.is_file()
        or (not path.exists() and target in example_names())
    )


def resolve_run(target: str, root: Path | str = DEFAULT_ROOT) -> Path:
    """A run folder from a folder path or a run id (or unique prefix) in the catalog.

    A folder is taken as a run folder, never as a run id: one that lacks a run's tables or
    its scenario is "not a run folder", with the missing files named (``RunDataError``).
    """
    path = Path(target)
    if path.is_dir():
        return check_run_folder(path, (*RUN_TABLES, SCENARIO_FILE))
    if not (Path(root) / "catalog.duckdb").exists():
        raise StoreError(f"'{target}' is neither a business-model file, a run folder nor a run id")
    with Catalog(root, read_only=True) as catalog:
        return catalog.resolve(target)


def show_roles(
    target: str | object,
    console: Console,
    root: Path | str = DEFAULT_ROOT,
    with_probe: bool = False,
) -> None:
    """Print the customers and users of a business model or a run.

    ``target``: a business-model file or example name, a run folder, a run id in the
    catalog under ``root``, or a loaded run (anything with ``daily`` and ``flows``; with
    ``scenario`` and ``seeds`` too for a probe). ``with_probe``: run the probe (the same
    scenario and seeds with half the buyers) and pool it, so that the elasticities are
    identified. Raises ``RolesError`` or ``StoreError`` (one line) on bad input.
    """
    if isinstance(target, str) and is_business_model(target):
        if with_probe:
            raise RolesError(
                f"--probe: '{target}' is a business-model file; the probe reruns a run with "
                "half the buyers, so it applies to runs only"
            )
        console.print(business_renderable(derive_roles(load_business_model(target))))
        return
    run = resolve_run(target, root) if isinstance(target, str) else target
    runs = [run, probe(run)] if with_probe else [run]
    roles = derive_run_roles(runs)
    console.print(run_renderable(roles, alignment(run_data(run).daily)))


def cli_roles(
    target: str,
    root: Path | str = DEFAULT_ROOT,
    with_probe: bool = False,
    console: Console | None = None,
    errors: Console | None = None,
) -> int:
    """``show_roles`` with bad input turned into one line on ``errors`` and status 2."""
    try:
        show_roles(target, console or Console(), root, with_probe)
    except (RolesError, StoreError) as err:
        (errors or Console(stderr=True)).print(
            f"error: {err}", markup=False, highlight=False, soft_wrap=True
        )
        return USAGE_ERROR
    return 0
