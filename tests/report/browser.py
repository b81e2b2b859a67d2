"""Render a report in headless Chromium (Debian's ``chromium``) and read back what it drew.

The page is loaded from a file with networking disabled; a small script inserted at the top
of a copy of the page records every uncaught error, rejected promise and console.error, and
the DOM is dumped after the load event. Without Chromium the report tests are skipped with
one line saying what to install, unless ``TWOSIDED_REQUIRE_BROWSER=1`` (set by ``.ci/run``)
requires them: then they fail, so that CI never skips them silently.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

REQUIRE_ENV = "TWOSIDED_REQUIRE_BROWSER"
NO_BROWSER = (
    "no Chromium: the report tests are skipped (install it to run them: "
    "sudo apt-get install chromium)"
)
BROWSERS = ("chromium", "chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=20000",
]

CAPTURE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push('error: ' + e.message));
window.addEventListener('unhandledrejection', e => window.__errors.push('rejection: ' + e.reason));
(() => { const original = console.error;
  console.error = (...args) => { window.__errors.push('console: ' + args.join(' '));
                                 original.apply(console, args); }; })();
window.addEventListener('load', () => setTimeout(() => document.documentElement.setAttribute(
  'data-errors', JSON.stringify(window.__errors)), 0));
</script>"""
CONSOLE_ERROR = re.compile(r":(?:ERROR|INFO):CONSOLE.*?\"(Uncaught.*?)\"")


def chromium() -> str:
    """The Chromium executable; without one the test is skipped, or fails where
    ``TWOSIDED_REQUIRE_BROWSER=1`` requires the browser tests."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(
            f"Chromium is needed to test the report and {REQUIRE_ENV}=1 requires "
            "those tests (sudo apt-get install chromium)"
        )
    pytest.skip(NO_BROWSER)


@dataclasses.dataclass
class Rendered:
    dom: str
    errors: list[str]
    charts: dict[str, dict[str, int]]


def render(page: Path, work: Path, chart_ids: list[str]) -> Rendered:
    """Load ``page`` in headless Chromium; the DOM after load, errors, and what each chart
    element holds (counts of ``svg.main-svg`` and ``g.trace`` inside it)."""
    html = page.read_text(encoding="utf-8")
    assert "<head>" in html
    copy = work / f"rendered-{page.name}"
    copy.write_text(html.replace("<head>", "<head>" + CAPTURE, 1), encoding="utf-8")
    proc = subprocess.run(
        [
            chromium(),
            *FLAGS,
            f"--user-data-dir={work / 'chromium-profile'}",
            "--dump-dom",
            copy.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    marker = re.search(r'<html[^>]*\sdata-errors="([^"]*)"', dom)
    assert marker, "the page never finished loading (no load event recorded)"
    errors = json.loads(html_lib.unescape(marker.group(1)))
    errors += CONSOLE_ERROR.findall(proc.stderr)
    return Rendered(dom, errors, chart_contents(dom, chart_ids))


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _Charts(HTMLParser):
    """Counts, inside each element with a chart id, the rendered SVGs and traces."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__()
        self.ids = set(ids)
        self.stack: list[tuple[str, str | None]] = []
        self.found: dict[str, dict[str, int]] = {}

    def _open(self) -> list[str]:
        return [chart for _, chart in self.stack if chart]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").split()
        for chart in self._open():
            counts = self.found[chart]
            counts["main_svg"] += tag == "svg" and "main-svg" in classes
            counts["traces"] += tag == "g" and "trace" in classes
        chart = attr.get("id") if attr.get("id") in self.ids else None
        if chart:
            self.found[chart] = {"main_svg": 0, "traces": 0}
        if tag not in VOID:
            self.stack.append((tag, chart))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return


def chart_contents(dom: str, ids: list[str]) -> dict[str, dict[str, int]]:
    parser = _Charts(ids)
    parser.feed(dom)
    return parser.found
