"""The TOML writers: a scenario (or any nested dict of tables, arrays of tables and scalars)
as TOML text, which ``tomllib`` reads back to the same values (``dump_toml``); and a
scenario with each field's description as a comment above it (``commented_toml``, for
``twosided show``)."""

from __future__ import annotations

import textwrap
from typing import Any

import tomlkit
from pydantic import BaseModel

# a TOML basic string escapes the backslash, the quote and every control character
_TOML_ESCAPES = {
    **{c: f"\\u{c:04x}" for c in (*range(32), 127)},
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\t"): "\\t",
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return (
            text if ("." in text or "e" in text or "inf" in text or "nan" in text) else text + ".0"
        )
    if isinstance(value, str):
        return f'"{value.translate(_TOML_ESCAPES)}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Write a nested dict (tables, arrays of tables, scalars) as TOML text."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        if value is None:  # TOML has no null: an unset optional table is left out
            continue
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        name = f"{prefix}{key}"
        body = dump_toml(table, prefix=f"{name}.")
        lines.append("")
        lines.append(f"[{name}]")
        lines.append(body)
    for key, items in arrays:
        name = f"{prefix}{key}"
        for item in items:
            lines.append("")
            lines.append(f"[[{name}]]")
            lines.append(dump_toml(item, prefix=f"{name}."))
    return "\n".join(line for line in lines if line is not None).strip("\n") + "\n"


COMMENT_WIDTH = 92  # a field's description, wrapped into comment lines of this width
HEADER = (
    "A twosided scenario: every field, each with its meaning (and the reason for its default) "
    "in the comment above it. Edit what you need and run it: twosided run THIS_FILE.toml"
)


def _comment_lines(text: str) -> list[str]:
    return textwrap.wrap(" ".join(str(text).split()), COMMENT_WIDTH) if text else []


def _add_comments(container: Any, text: str, blank_after: bool = False) -> None:
    lines = _comment_lines(text)
    for line in lines:
        container.add(tomlkit.comment(line))
    if lines and blank_after:  # a table's own description, apart from its first field's
        container.add(tomlkit.nl())


def _is_table(annotation: Any) -> bool:
    """Whether an optional field holds a section (a pydantic model), not a number."""
    args = getattr(annotation, "__args__", (annotation,))
    return any(isinstance(a, type) and issubclass(a, BaseModel) for a in args)


def _fill(container: Any, model: Any) -> None:
    """Write a pydantic model's fields into a tomlkit container: scalars first (TOML needs
    them before sub-tables), each under its description; then tables, then arrays of
    tables. An unset optional table becomes a comment naming it."""
    data = model.model_dump(mode="json")
    tables, arrays = [], []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            kind = "a table" if _is_table(field.annotation) else "a number"
            _add_comments(container, f"{name} ({kind}) is unset: {field.description or ''}")
        elif hasattr(value, "model_fields"):
            tables.append((name, field, value))
        elif isinstance(value, list) and value and all(hasattr(v, "model_fields") for v in value):
            arrays.append((name, field, value))
        else:
            _add_comments(container, field.description or "")
            container.add(name, data[name])
    for name, field, value in tables:
        table = tomlkit.table()
        _add_comments(table, field.description or "", blank_after=True)
        _fill(table, value)
        container.add(name, table)
    for name, field, items in arrays:
        aot = tomlkit.aot()
        for item in items:
            table = tomlkit.table()
            _add_comments(table, field.description or "", blank_after=True)
            _fill(table, item)
            aot.append(table)
        container.add(name, aot)


def commented_toml(model: Any) -> str:
    """A pydantic model (a scenario) as TOML with every field, each under its description
    as a comment: a file that documents itself, and reads back to the same model."""
    doc = tomlkit.document()
    _add_comments(doc, HEADER)
    doc.add(tomlkit.nl())
    _fill(doc, model)
    return tomlkit.dumps(doc)
