"""The override language: ``key.path=value`` (``--set``), values written as TOML.

Keys are dotted paths into the scenario; platforms are addressed by index or by name
(``platforms.0.fees.commission=0.05`` or ``platforms.Taobao.ranking.ads=1``). A value is
read as TOML (numbers, booleans, quoted strings, arrays, inline tables), and a bare word is a
string (``platforms.0.name=Tmall``). ``split_assignment`` and ``parse_value`` are the one
parser of ``key=value`` on the command line; ``--vary`` (``twosided.experiments.grid``) uses
them too.
"""

from __future__ import annotations

import tomllib
from typing import Any

from twosided.scenario.errors import ScenarioError, did_you_mean
from twosided.scenario.schema import Scenario, scenario_from_dict


def apply_overrides(scenario: Scenario, overrides: list[str] | dict[str, Any]) -> Scenario:
    """Apply ``key.path=value`` overrides (values parsed as TOML) and re-validate.

    Platform fields are addressed by index or name: ``platforms.0.fees.commission=0.05``
    or ``platforms.Taobao.ranking.ads=1``.
    """
    data = scenario.model_dump(mode="json")
    items = overrides.items() if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        _set_path(data, key, value)
    return scenario_from_dict(data)


def flat_settings(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Settings as ``key.path -> value``: a TOML table (``market.buyers = 5`` is the table
    ``market``) becomes its dotted keys, as ``--set`` writes them."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_settings(value, f"{path}."))
        else:
            out[path] = value
    return out


def split_assignment(
    item: str,
    flag: str = "--set",
    expected: str = "key.path=value",
    error: type[ScenarioError] = ScenarioError,
) -> tuple[str, str]:
    """``key.path=TEXT`` -> ``(key, TEXT)``, the key stripped; ``error`` (one line naming
    ``flag`` and the item) when there is no ``=`` or no key."""
    if "=" not in item:
        raise error(f"{flag} {item!r}: expected {expected}")
    key, text = item.split("=", 1)
    key = key.strip()
    if not key:
        raise error(f"{flag} {item!r}: empty key")
    return key, text


def parse_value(raw: str) -> Any:
    """A value as written on the command line: TOML (numbers, booleans, quoted strings,
    arrays, inline tables), or else the bare word, stripped, as a string."""
    text = raw.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text  # bare words are strings: --set platforms.0.name=Tmall


def _split(item: str) -> tuple[str, Any]:
    key, text = split_assignment(item)
    return key, parse_value(text)


def scenario_value(scenario: Scenario, key: str) -> Any:
    """The value at ``key.path`` of a scenario, addressed as ``--set`` addresses it
    (platforms by index or name); ``ScenarioError`` naming the key where there is none."""
    container, slot = _locate(scenario.model_dump(mode="json"), key)
    return container[slot]


def _set_path(data: dict[str, Any], key: str, value: Any) -> None:
    container, slot = _locate(data, key)
    container[slot] = value


def _locate(data: dict[str, Any], key: str) -> tuple[Any, Any]:
    """The container holding ``key.path`` in ``data`` and the key or index in it."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            index = _list_index(node, part, where)
            if last:
                return node, index
            node = node[index]
        elif isinstance(node, dict):
            if part not in node:
                parent = ".".join(parts[:i])
                hint = did_you_mean(part, node, f"{parent}." if parent else "")
                raise ScenarioError(f"{where}: unknown key{hint}")
            if last:
                return node, part
            node = node[part]
        elif node is None:
            parent = ".".join(parts[:i])
            raise ScenarioError(
                f"{parent} is not set, so {where} cannot be set alone: "
                f"set the whole table, e.g. --set '{parent}={{{parts[i]}=...}}'"
            )
        else:
            raise ScenarioError(f"{where}: cannot set a field inside a value")
    raise ScenarioError(f"{key!r}: empty key")


def _list_index(node: list[Any], part: str, where: str) -> int:
    # only ASCII digits make an index: '²' or '٣' is a name like any other
    if part.isascii() and part.isdigit():
        try:
            index = int(part)
        except ValueError:  # too many digits for int(): out of range all the same
            index = len(node)
        if index >= len(node):
            raise ScenarioError(f"{where}: index out of range (there are {len(node)})")
        return index
    for index, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == part:
            return index
    raise ScenarioError(f"{where}: no entry named '{part}'")
