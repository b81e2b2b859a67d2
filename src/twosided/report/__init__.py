"""HTML reports of runs: one self-contained file with interactive Plotly charts.

``build_report(run)`` returns the page of one run (a ``twosided.Result`` or a run folder
read with ``twosided.store.load_run``); ``build_comparison(run_a, run_b)`` draws two runs on
the same charts. Other modules add their own sections with ``extra_sections``: a list of
``(title, html)`` pairs placed after the charts (the title is escaped, the HTML is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twosided.report import charts, page
from twosided.report.comparison import outcome_differences
from twosided.report.headline import comparison_headline, headline
from twosided.report.outcomes import summary_grid
from twosided.roles.render import report_section as roles_section
from twosided.simulation import Result
from twosided.store import atomic_file

__all__ = ["build_comparison", "build_report", "chart_ids", "write_comparison", "write_report"]

chart_ids = charts.chart_ids


def _chart_sections(runs: Sequence[charts.Labeled]) -> list[str]:
    return [
        page.section(chart.title, charts.figure_html(chart.draw(runs), chart.id), chart.caption)
        for chart in charts.CHARTS
    ]


def _extra(extra_sections: Sequence[page.Section]) -> list[str]:
    return [page.section(title, body) for title, body in extra_sections]


def _run_id(run: Result) -> str:
    return str(getattr(run, "run_id", "") or "")


def build_report(run: Result, extra_sections: Sequence[page.Section] = ()) -> str:
    """The HTML report of one run: headline, summary table, charts, customers and users
    (``twosided.roles``), then extra sections."""
    header, rows = summary_grid(run.summary())
    summary = page.section("Summary", page.table(header, rows),
                           "Totals over the run (means over seeds); levels on the last day.")
    run_id = _run_id(run)
    footer = [f"run {run_id}"] if run_id else []
    return page.page(
        f"twosided report: {run.scenario.name}", headline(run), summary,
        [*_chart_sections([("", run)]), *_extra([roles_section(run)]), *_extra(extra_sections)],
        footer,
    )


def build_comparison(run_a: Result, run_b: Result, labels: tuple[str, str] = ("A", "B"),
                     extra_sections: Sequence[page.Section] = ()) -> str:
    """Two runs on the same charts (A solid, B dashed) and their key outcomes side by side."""
    runs = [(labels[0], run_a), (labels[1], run_b)]
    diffs = outcome_differences(run_a.summary(), run_b.summary())
    rows = [[d.platform, d.outcome.label, d.a_text, d.b_text, d.change_text] for d in diffs]
    grid = page.table(["", "outcome", *labels, "change"], rows, left=2)
    table = page.section("Key outcomes", grid,
                         f"{labels[0]} is drawn solid, {labels[1]} dashed.")
    ids = [f"{label}: {_run_id(run) or run.scenario.name}" for label, run in runs]
    return page.page(
        f"twosided comparison: {run_a.scenario.name} vs {run_b.scenario.name}",
        comparison_headline(runs), table,
        [*_chart_sections(runs), *_extra(extra_sections)], ids,
    )


def _write(text: str, path: Path) -> Path:
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_report(run: Result, path: Path, extra_sections: Sequence[page.Section] = ()) -> Path:
    """Write (or atomically replace) a run's report at ``path``."""
    return _write(build_report(run, extra_sections), path)


def write_comparison(run_a: Result, run_b: Result, path: Path,
                     labels: tuple[str, str] = ("A", "B")) -> Path:
    """Write (or atomically replace) a comparison report at ``path``."""
    return _write(build_comparison(run_a, run_b, labels), path)
