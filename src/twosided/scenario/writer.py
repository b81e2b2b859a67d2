"""The TOML writer: a scenario (or any nested dict of tables, arrays of tables and scalars)
as TOML text, which ``tomllib`` reads back to the same values."""

from __future__ import annotations

from typing import Any

# a TOML basic string escapes the backslash, the quote and every control character
_TOML_ESCAPES = {
    **{c: f"\\u{c:04x}" for c in (*range(32), 127)},
    ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\t"): "\\t",
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "inf" in text or "nan" in text) else text + ".0"
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
