"""Self-contained HTML pages with Plotly figures (plotly.js inlined once: works offline).

Every user-supplied name (scenario, platform, varied key, value) must pass through
``esc`` before it reaches the page or a figure's text: Plotly renders a subset of HTML in
labels, so names are escaped there too.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from twosided.store import TMP_PREFIX

CENTS_PER_UNIT = 100

_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #555; font-size: 0.9rem; }
.finding { background: #f5f7fa; border-left: 4px solid #4a6fa5; padding: 0.5rem 1rem; }
"""


def esc(value: Any) -> str:
    """Escape a value for HTML text and for Plotly labels."""
    return html.escape(str(value), quote=True)


def figure(fig: go.Figure) -> str:
    """A figure as an HTML fragment (plotly.js is inlined once by ``page``)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def page(title: str, parts: Sequence[str]) -> str:
    """A whole HTML page: the escaped title, plotly.js inline, and the body fragments."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{_STYLE}</style>"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        f"<h1>{esc(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def write_page(path: Path, text: str) -> None:
    """Write a page atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TMP_PREFIX}{path.name}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def number(value: float, digits: int = 3) -> str:
    """A number for a table or a sentence: thousands separators, ``digits`` significant."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def with_interval(mean: float, lo: float, hi: float) -> str:
    """``mean [lo, hi]`` (the interval left out when it is undefined)."""
    if math.isnan(lo) or math.isnan(hi):
        return number(mean)
    return f"{number(mean)} [{number(lo)}, {number(hi)}]"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table; cells must already be escaped (numbers need nothing)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
