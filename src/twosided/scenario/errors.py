"""Errors of scenarios: one clear line naming the field (or file, or flag) and the problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# control characters a file or flag may carry into a message, shown escaped ("\n")
_ESCAPED = {c: repr(chr(c))[1:-1] for c in (*range(32), 127)}


def one_line(message: str) -> str:
    """A message on one line: control characters (newlines from a file's keys or values,
    say) are shown escaped."""
    return str(message).translate(_ESCAPED)


class ScenarioError(ValueError):
    """A scenario (file, preset name or override) that cannot be used; one clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


# names pydantic adds to an error's location for the member of a union that failed
# (``commission: float | list[float]`` gives ``commission.float``, ``commission.list[float]``)
_UNION_TAGS = frozenset({"float", "int", "bool", "str", "list", "dict"})


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [
        str(part)
        for part in loc
        if not (isinstance(part, str) and (part in _UNION_TAGS or "[" in part or "-" in part))
    ]
    return ".".join(parts) or "scenario"


def format_error(err: ValidationError) -> str:
    """A validation error as one line: the first failing field's path and its problem."""
    errors = err.errors()
    first = errors[0]
    loc = _field_path(first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    # a value that fits no member of a union fails once per member: one problem, one field
    others = len({_field_path(e["loc"]) for e in errors} - {loc})
    extra = f" (and {others} more)" if others else ""
    return f"{loc}: {msg}{extra}"
