"""Errors of scenarios: one clear line naming the field (or file, or flag) and the problem."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

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


def did_you_mean(word: str, choices: Iterable[str], prefix: str = "") -> str:
    """`` (did you mean 'market.buyers'?)`` for the valid key nearest a misspelt one, or ""."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{prefix}{close[0]}'?)" if close else ""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (``Market``, ``list[Platform]``,
    ``SellerTypes | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def field_names(model: type[BaseModel] | None, loc: Sequence[Any]) -> list[str]:
    """The field names of the table at ``loc`` (a path of keys and list indices) in
    ``model``; empty where the path leaves the model."""
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def format_error(err: ValidationError, model: type[BaseModel] | None = None) -> str:
    """A validation error as one line: the first failing field's path and its problem (for
    an unknown key of ``model``, the nearest valid key)."""
    errors = err.errors()
    first = errors[0]
    loc = _field_path(first["loc"])
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        *parents, key = first["loc"]
        where = loc.rpartition(".")[0]
        msg = "unknown key" + did_you_mean(
            key, field_names(model, parents), f"{where}." if where else ""
        )
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    # a value that fits no member of a union fails once per member: one problem, one field
    others = len({_field_path(e["loc"]) for e in errors} - {loc})
    extra = f" (and {others} more)" if others else ""
    return f"{loc}: {msg}{extra}"
