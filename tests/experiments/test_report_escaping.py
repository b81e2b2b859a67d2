"""The sweep report shows varied string values (here platform names) as text: loaded in
headless Chromium, no script runs but ours and nothing is injected."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

from twosided.experiments.report import chart_id, report_outcomes, write_sweep_report
from twosided.experiments.sweep import plan_sweep, run_sweep

from ..report.browser import render
from .conftest import DAYS, SEEDS, SMALL

TRAP = "window.__errors.push('injected')"
VALUES = [f'<img src=x onerror="{TRAP}">', f"<script>{TRAP}</script>"]


def test_varied_string_values_render_as_text(tmp_path: Path) -> None:
    plan = plan_sweep(
        "taobao",
        {"platforms.1.name": VALUES},
        seeds=SEEDS,
        days=DAYS,
        overrides={**SMALL, "description": "<b>bold</b>"},
    )
    result = run_sweep(plan, workers=1, out=tmp_path)
    page = write_sweep_report(result)
    ids = [chart_id(o) for o in report_outcomes(result)]
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 1 + len(ids)
    assert "<img" not in html
    seen = render(page, tmp_path, ids)
    assert seen.errors == []
    assert all(counts["main_svg"] >= 1 for counts in seen.charts.values())
    body = re.sub(r"<script.*?</script>", "", seen.dom, flags=re.S)
    assert "<img" not in body
    for value in VALUES:
        assert html_lib.escape(value, quote=False) in seen.dom
