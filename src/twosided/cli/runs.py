"""``twosided runs``, ``twosided report`` and ``twosided compare``: list and query past runs,
rebuild a run's report, compare two runs."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from twosided import checkpoint, report, store
from twosided.cli.common import (
    COMPARISONS,
    RUN_HELP,
    Out,
    app,
    check_out,
    open_run,
    print_grid,
    resume_command,
    say,
    stderr,
)
from twosided.report.comparison import outcome_differences
from twosided.safe_text import plain, printable
from twosided.store import DEFAULT_ROOT, REPORT_FILE, Catalog, StoreError

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
        say(checkpoint.describe(folder, lambda run_id: resume_command(run_id, out)))
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
    path = out / COMPARISONS / f"{a.file_id}--vs--{b.file_id}.html"
    report.write_comparison(a, b, path)
    say(f"Comparison report: {path}")


