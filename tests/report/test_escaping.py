"""Every user-supplied name reaches the reports as text: the scenario's name and
description, platform names, and run ids, in the run report (its customers-and-users
section included) and the comparison report. Each page is loaded in headless Chromium: no
script runs but ours, no element is injected, and the names show literally.

The run shares its compiled program with tests/report/test_report.py (same sizes)."""

from __future__ import annotations

import dataclasses
import html as html_lib
import re
from pathlib import Path

import pytest

import twosided
from twosided import report
from twosided.roles import report_section
from twosided.store import load_run, save_run

from .browser import render
from .test_report import DAYS, SEEDS, SMALL

TRAP = "window.__errors.push('injected')"
NAME = f"<script>{TRAP}</script>"
DESCRIPTION = f'<img src=x onerror="{TRAP}"> & <b>bold</b>'
PLATFORMS = [f'<svg onload="{TRAP}">', "<b>B</b>", "</table><i>C</i>"]
RUN_ID = f'<iframe srcdoc="{TRAP}">'
EVIL = {
    **SMALL,
    "name": NAME,
    "description": DESCRIPTION,
    **{f"platforms.{i}.name": name for i, name in enumerate(PLATFORMS)},
}


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory):
    """A stored run with hostile names everywhere, its run id included."""
    result = twosided.simulate("taobao", days=DAYS, seeds=SEEDS, overrides=EVIL)
    _, folder = save_run(result, tmp_path_factory.mktemp("evil"))
    run = load_run(folder)
    return dataclasses.replace(run, meta={**run.meta, "run_id": RUN_ID})


def assert_shown_as_text(page: Path, work: Path, ids: list[str], texts: list[str]) -> None:
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 1 + len(ids)  # plotly.js and one per chart, nothing else
    for tag in ("<img", "<iframe", "<svg onload", "<b>B</b>", "<i>C</i>", "<b>bold</b>"):
        assert tag not in html, tag
    seen = render(page, work, ids)
    assert seen.errors == []  # the trap would have recorded 'injected'
    assert all(counts["main_svg"] >= 1 for counts in seen.charts.values())
    body = re.sub(r"<script.*?</script>", "", seen.dom, flags=re.S)
    for tag in ("<img", "<iframe", "<svg onload", "<b>", "<i>"):
        assert tag not in body, tag
    for text in texts:  # a text node as Chromium serializes it: & < > escaped, quotes not
        assert html_lib.escape(text, quote=False) in seen.dom, text


def test_the_run_report_shows_every_name_as_text(evil_run, tmp_path):
    page = report.write_report(evil_run, tmp_path / "report.html")
    assert_shown_as_text(
        page, tmp_path, report.chart_ids(), [NAME, DESCRIPTION, RUN_ID, *PLATFORMS]
    )


def test_the_roles_section_escapes_platform_names(evil_run):
    title, body = report_section(evil_run)
    assert title == "Customers and users"
    for name in PLATFORMS:
        assert f"<h3>{html_lib.escape(name)}</h3>" in body
    assert "<svg" not in body and "<b>" not in body and "<i>" not in body


def test_the_comparison_report_shows_every_name_as_text(evil_run, tmp_path):
    other = dataclasses.replace(evil_run, meta={**evil_run.meta, "run_id": RUN_ID + "2"})
    page = report.write_comparison(evil_run, other, tmp_path / "comparison.html")
    assert_shown_as_text(page, tmp_path, report.chart_ids(), [NAME, RUN_ID, *PLATFORMS])
