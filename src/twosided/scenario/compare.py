"""Two resolved scenarios field by field: what ``twosided compare`` lists at the top of a
comparison and ``twosided runs`` shows against each run's preset."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

ABSENT = "(absent)"
LEFT_OUT = {"description"}  # free text, not a parameter


@dataclasses.dataclass(frozen=True)
class FieldDifference:
    """A scenario field (``market.buyers``, ``platforms.Taobao.ranking.ads``) that differs."""

    key: str
    a: str
    b: str


def _flat(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flat(item, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def scenario_fields(scenario: Any) -> dict[str, str]:
    """Every field of a resolved scenario as ``dotted.key -> value text``; platforms are
    addressed by name (by index where two share a name), as ``--set`` addresses them."""
    data = scenario.model_dump(mode="json")
    platforms = data.pop("platforms", [])
    out: dict[str, str] = {}
    _flat({k: v for k, v in data.items() if k not in LEFT_OUT}, "", out)
    names = [str(p.get("name", i)) for i, p in enumerate(platforms)]
    for i, platform in enumerate(platforms):
        ref = names[i] if names.count(names[i]) == 1 else str(i)
        _flat({k: v for k, v in platform.items() if k != "name"}, f"platforms.{ref}", out)
    return out


def scenario_differences(a: Any, b: Any) -> list[FieldDifference]:
    """The fields of two resolved scenarios that differ, in the order of the first (a
    platform only one of them has is one row, its fields ``(absent)`` in the other)."""
    fa, fb = scenario_fields(a), scenario_fields(b)
    out = [
        FieldDifference(k, fa.get(k, ABSENT), fb.get(k, ABSENT))
        for k in dict.fromkeys([*fa, *fb])
        if fa.get(k) != fb.get(k)
    ]
    return _collapse_absent_platforms(out)


def _collapse_absent_platforms(diffs: list[FieldDifference]) -> list[FieldDifference]:
    """A platform present in one run only: one row ``platforms.NAME``, not one per field."""
    out: list[FieldDifference] = []
    seen: set[str] = set()
    for d in diffs:
        parts = d.key.split(".")
        if parts[0] == "platforms" and ABSENT in (d.a, d.b):
            key = ".".join(parts[:2])
            if key not in seen:
                seen.add(key)
                here = "present"
                out.append(
                    FieldDifference(
                        key, ABSENT if d.a == ABSENT else here, ABSENT if d.b == ABSENT else here
                    )
                )
            continue
        out.append(d)
    return out
