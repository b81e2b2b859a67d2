"""HTML reports of runs: one self-contained file with interactive Plotly charts.

``build_report(run)`` returns the page of one run (a ``twosided.Result`` or a run folder
read with ``twosided.store.load_run``); ``build_comparison(run_a, run_b)`` draws two runs on
the same charts. Other modules add their own sections with ``extra_sections``: a list of
``(title, html)`` pairs placed after the charts (the title is escaped, the HTML is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twosided.outcomes import summary_grid
from twosided.report import charts, page
from twosided.report.comparison import (
    PER_BUYERS,
    Difference,
    comparability_warnings,
    needs_normalising,
    normalised_differences,
    outcome_differences,
    scenario_differences,
)
from twosided.report.headline import comparison_headline, headline
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


def summary_caption(run: Result) -> str:
    """What the summary table's figures are."""
    seeds = len(run.seeds)
    spread = f"; ± is the 95% interval of the mean over the {seeds} seeds" if seeds > 1 else ""
    return (
        "Totals over the run (means over seeds); levels on the last day" + spread + ". "
        "The Market column adds what can be added: seller listings are counted per "
        "platform, and buyers active on several platforms are no sum of platforms."
    )


def build_report(run: Result, extra_sections: Sequence[page.Section] = ()) -> str:
    """The HTML report of one run: headline, summary table, charts, customers and users
    (``twosided.roles``), then extra sections."""
    header, rows = summary_grid(run.summary())
    summary = page.section("Summary", page.table(header, rows), summary_caption(run))
    run_id = _run_id(run)
    footer = [f"run {run_id}"] if run_id else []
    return page.page(
        f"twosided report: {run.scenario.name}",
        headline(run),
        summary,
        [*_chart_sections([("", run)]), *_extra([roles_section(run)]), *_extra(extra_sections)],
        footer,
    )


def _differences_table(diffs: Sequence[Difference], labels: tuple[str, str]) -> str:
    rows = [[d.platform, d.outcome.label, d.a_text, d.b_text, d.change_text] for d in diffs]
    return page.table(["", "outcome", *labels, "change"], rows, left=2)


def parameters_section(run_a: Result, run_b: Result, labels: tuple[str, str]) -> str:
    """The scenario fields that differ between the two runs, A's value beside B's."""
    fields = scenario_differences(run_a.scenario, run_b.scenario)
    if not fields:
        return page.section(
            "What differs", "<p>The two scenarios are the same, field by field.</p>"
        )
    rows = [[f.key, f.a, f.b] for f in fields]
    return page.section(
        "What differs",
        page.table(["field", *labels], rows),
        f"{len(fields)} field(s) of the resolved scenarios differ.",
    )


def build_comparison(
    run_a: Result,
    run_b: Result,
    labels: tuple[str, str] = ("A", "B"),
    extra_sections: Sequence[page.Section] = (),
) -> str:
    """Two runs on the same charts (A solid, B dashed): first what differs between their
    scenarios (and a warning when days, buyers or seeds differ), then their key outcomes
    side by side, as totals and, where days or buyers differ, per day and per 1,000
    buyers."""
    runs = [(labels[0], run_a), (labels[1], run_b)]
    diffs = outcome_differences(run_a.summary(), run_b.summary())
    tables = [
        parameters_section(run_a, run_b, labels),
        page.section(
            "Key outcomes",
            _differences_table(diffs, labels),
            f"Totals over each run (means over seeds). {labels[0]} is drawn "
            f"solid, {labels[1]} dashed.",
        ),
    ]
    if needs_normalising(run_a, run_b):
        tables.append(
            page.section(
                f"Key outcomes per day and per {PER_BUYERS:,} buyers",
                _differences_table(normalised_differences(run_a, run_b), labels),
                "Flows (sessions, money, listings entered) per day and per "
                f"{PER_BUYERS:,} buyers of the market; levels on the last day (buyers, listings) "
                f"per {PER_BUYERS:,} buyers; shares and rates as they are.",
            )
        )
    ids = [f"{label}: {_run_id(run) or run.scenario.name}" for label, run in runs]
    headline = [*comparability_warnings(run_a, run_b, labels), *comparison_headline(runs)]
    return page.page(
        f"twosided comparison: {run_a.scenario.name} vs {run_b.scenario.name}",
        headline,
        "".join(tables),
        [*_chart_sections(runs), *_extra(extra_sections)],
        ids,
    )


def _write(text: str, path: Path) -> Path:
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_report(run: Result, path: Path, extra_sections: Sequence[page.Section] = ()) -> Path:
    """Write (or atomically replace) a run's report at ``path``."""
    return _write(build_report(run, extra_sections), path)


def write_comparison(
    run_a: Result, run_b: Result, path: Path, labels: tuple[str, str] = ("A", "B")
) -> Path:
    """Write (or atomically replace) a comparison report at ``path``."""
    return _write(build_comparison(run_a, run_b, labels), path)
