"""The report page: one self-contained HTML file with plotly.js inlined (works offline).

Every user-supplied string (scenario and platform names, descriptions, run ids) is escaped
before it reaches the page; charts escape theirs in ``charts.safe_text``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from plotly.offline import get_plotlyjs

import twosided

Section = tuple[str, str]  # (title: plain text, body: trusted HTML)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1360px; padding: 24px; color: #1f2328; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 28px 0 4px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
p.caption { color: #57606a; margin: 2px 0 6px; font-size: 14px; }
.headline p { margin: 6px 0; line-height: 1.45; }
table.figures { border-collapse: collapse; font-size: 14px; margin-top: 12px; }
table.figures th, table.figures td { padding: 4px 10px; border-bottom: 1px solid #eaeef2;
                                     text-align: right; }
table.figures .label { text-align: left; }
footer { color: #57606a; font-size: 12px; margin-top: 32px; }
"""


def esc(text: object) -> str:
    """Escape text for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def paragraphs(lines: Sequence[str]) -> str:
    """Plain-text lines as escaped paragraphs."""
    return "".join(f"<p>{esc(line)}</p>" for line in lines)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A small table of plain-text cells, escaped; the first ``left`` columns are labels."""

    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{' class=label' if i < left else ''}>{esc(c)}</{tag}>"
            for i, c in enumerate(row)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return (
        f'<table class="figures"><thead><tr>{cells("th", header)}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def section(title: str, body: str, caption: str = "") -> str:
    """A titled block of the page; ``body`` is trusted HTML."""
    note = f'<p class="caption">{esc(caption)}</p>' if caption else ""
    return f"<section><h2>{esc(title)}</h2>{note}{body}</section>"


def page(
    title: str,
    headline: Sequence[str],
    summary_html: str,
    sections: Sequence[str],
    footer: Sequence[str],
) -> str:
    """The whole HTML document."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    foot = [*footer, f"twosided {twosided.__version__}, written {stamp}"]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f'<h1>{esc(title)}</h1><div class="headline">{paragraphs(headline)}</div>'
        f"{summary_html}{''.join(sections)}"
        f"<footer>{'<br>'.join(esc(line) for line in foot)}</footer></body></html>\n"
    )
