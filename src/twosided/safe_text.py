"""Text from files and users made safe to print on a terminal.

Scenario names, platform names, run ids from ``meta.json`` and query results may hold
control characters: escape sequences that clear the screen, set the window title or move
the cursor. ``printable`` shows each as a visible escape (``\\x1b``), so that what the
command prints is exactly the text it means; Rich markup is never interpreted either
(callers print through ``rich.text.Text``).
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls (but tab and newline), DEL, C1 controls, and the bidirectional overrides
# that reorder what a line appears to say
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, newlines: bool = True) -> str:
    """``str(text)`` with every control character shown as an escape; newlines and tabs
    are kept unless ``newlines`` is False."""
    line = _CONTROL.sub(_escape, str(text))
    if not newlines:
        line = line.replace("\n", "\\n").replace("\t", "\\t")
    return line


def plain(text: object) -> Text:
    """A Rich ``Text`` of ``printable(text)``: no markup interpreted, no control codes."""
    return Text(printable(text))
