"""Numbers and files for the sweep and study reports (the page itself is
``twosided.report.page``: plotly.js inline, every user-supplied name escaped)."""

from __future__ import annotations

import math
from pathlib import Path

from twosided.outcomes import CENTS_PER_YUAN
from twosided.store import atomic_file

__all__ = ["CENTS_PER_YUAN", "number", "with_interval", "write_page"]


def write_page(path: Path, text: str) -> Path:
    """Write (or atomically replace) a page."""
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


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
