"""``twosided runs``, ``twosided report`` and ``twosided compare``: list and query past runs,
rebuild a run's report, compare two runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from twosided.cli.common import (
    COMPARISONS,
    DEFAULT_ROOT,
    RUN_HELP,
    Out,
    Warmup,
    app,
    check_out,
    check_warmup,
    open_run,
    print_grid,
    resume_command,
    say,
    stderr,
)
from twosided.safe_text import plain, printable
from twosided.scenario import ScenarioError

if TYPE_CHECKING:
    from twosided.store import Catalog

# --------------------------------------------------------------------------- runs, report


@app.command()
def runs(
    out: Out = DEFAULT_ROOT,
    sql: Annotated[
        str | None,
        typer.Option(
            "--sql",
            help="A SQL query over the catalog: table runs; views daily, accounts, "
            "flows, switches (each with run_id).",
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            help="Rows of the table to print at most (0: all); --csv prints every row.",
        ),
    ] = 100,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    rebuild_index: Annotated[
        bool,
        typer.Option(
            "--rebuild-index",
            help="Build the catalog again from the run folders under OUT "
            "(after copying or moving runs, or losing the catalog).",
        ),
    ] = False,
) -> None:
    """List past runs from the results catalog, or query it with --sql."""
    from twosided import checkpoint, store
    from twosided.store import Catalog

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

    def write_csv(frame: Any, first: bool) -> None:
        text = frame.to_csv(index=False, header=first)
        sys.stdout.write(printable(text) if sys.stdout.isatty() else text)

    with Catalog(out, read_only=True) as catalog:
        if sql is None:
            frame, total = _run_list(catalog), None
            if csv:
                write_csv(frame, True)
        elif csv:  # every row, streamed: never the whole result in memory
            frame, total = catalog.query_head(sql, None, sink=write_csv)
        else:
            frame, total = catalog.query_head(sql, None if limit == 0 else limit)
        for damaged in catalog.skipped:
            stderr.print(plain(f"note: left out a damaged run file: {damaged}"), soft_wrap=True)
    if csv:
        return
    unfinished = [] if sql is not None else checkpoint.partial_folders(out)
    for folder in unfinished:
        say(checkpoint.describe(folder, lambda run_id: resume_command(run_id, out)))
    for folder in waiting:
        say(f"Not indexed yet: {folder} (the catalog is busy; 'twosided runs' indexes it later)")
    if frame.empty and not sql:
        if not unfinished and not waiting:
            say(f"No runs in {out} yet: try 'twosided run'.")
        return
    total = len(frame) if total is None else total
    shown = frame if limit == 0 else frame.head(limit)
    if sql is None:
        shown = shown.assign(
            changes=[
                preset_changes(name, Path(path)) for name, path in zip(shown["name"], shown["path"])
            ]
        ).drop(columns="path")
    print_grid(list(shown.columns), cells(shown), left=1 if sql else len(shown.columns))
    if len(shown) < total:
        say(f"... {total - len(shown)} more rows (use --limit 0 or --csv)")


def _run_list(catalog: Catalog) -> Any:
    frame = catalog.runs()[["run_id", "kind", "name", "created", "days", "seeds", "path"]]
    frame["created"] = frame["created"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def cells(frame: Any) -> list[list[object]]:
    """A query's rows as table cells: SQL NULL (NaN or None in the frame) is an empty
    cell, never ``nan``."""
    return frame.astype(object).where(frame.notna(), None).values.tolist()


CHANGES_WIDTH = 60  # characters of the runs list's column of changes from the preset


def preset_changes(name: str, folder: Path, width: int = CHANGES_WIDTH) -> str:
    """What a run changed from the preset it is named after, in short: ``days=90,
    market.buyers=50000, +2 more``; ``-`` for none, ``(not a preset)`` for a scenario of
    its own, ``?`` when its scenario cannot be read."""
    import twosided
    from twosided.scenario import load_scenario
    from twosided.scenario.compare import scenario_differences

    if name not in twosided.preset_names():
        return "(not a preset)"
    try:
        diffs = scenario_differences(load_scenario(name), load_scenario(folder / "scenario.toml"))
    except (ScenarioError, OSError):
        return "?"
    parts = [f"{d.key}={d.b}" for d in diffs]
    text = ""
    for i, part in enumerate(parts):
        candidate = f"{text}, {part}" if text else part
        after = len(parts) - i - 1  # parts still to come after this one
        if text and len(candidate) + (len(f", +{after} more") if after else 0) > width:
            return f"{text}, +{after + 1} more"
        text = candidate
    return text or "-"


@app.command("report")
def report_command(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help=RUN_HELP)],
    out: Out = DEFAULT_ROOT,
    warmup: Warmup = 0,
) -> None:
    """Rebuild the HTML report of a run (optionally without its first days: --warmup)."""
    from twosided import report, store
    from twosided.store import REPORT_FILE, StoreError

    check_out(out)
    data = open_run(run_ref, out)
    check_warmup(warmup, int(data.daily["day"].nunique()))
    try:
        store.probe_writable(data.folder)
    except OSError as err:
        raise StoreError(
            f"RUN {data.folder}: cannot write its report there ({err.strerror or err})"
        ) from None
    path = report.write_report(data.after_warmup(warmup), data.folder / REPORT_FILE)
    say(f"Report: {path}")


# --------------------------------------------------------------------------- compare


@app.command()
def compare(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help=RUN_HELP)],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help=RUN_HELP)],
    out: Out = DEFAULT_ROOT,
) -> None:
    """Print the differences of key outcomes and write a comparison report."""
    from twosided import report
    from twosided.report.comparison import (
        PER_BUYERS,
        comparability_warnings,
        needs_normalising,
        normalised_differences,
        outcome_differences,
        scenario_differences,
    )

    check_out(out)
    if (out / COMPARISONS).exists() and not (out / COMPARISONS).is_dir():
        raise typer.BadParameter(
            f"{out / COMPARISONS} is not a folder (comparison reports go there)",
            param_hint="'--out'",
        )
    a, b = open_run(run_a, out), open_run(run_b, out)
    say(f"A: {a.run_id} ({a.scenario.name})")
    say(f"B: {b.run_id} ({b.scenario.name})")
    fields = scenario_differences(a.scenario, b.scenario)
    if fields:
        print_grid(
            ["field", "A", "B"], [[f.key, f.a, f.b] for f in fields], title="What differs", left=1
        )
    else:
        say("The two scenarios are the same, field by field.")
    for warning in comparability_warnings(a, b):
        say(warning)
    header = ["platform", "outcome", "A", "B", "change (B - A)"]
    print_grid(
        header,
        _rows(outcome_differences(a.summary(), b.summary())),
        left=2,
        title="Totals over each run (means over seeds)",
    )
    if needs_normalising(a, b):
        print_grid(
            header,
            _rows(normalised_differences(a, b)),
            left=2,
            title=f"Per day and per {PER_BUYERS:,} buyers",
        )
    path = out / COMPARISONS / f"{a.file_id}--vs--{b.file_id}.html"
    report.write_comparison(a, b, path)
    say(f"Comparison report: {path}")


def _rows(diffs: Any) -> list[list[str]]:
    return [[d.platform, d.outcome.label, d.a_text, d.b_text, d.change_text] for d in diffs]
