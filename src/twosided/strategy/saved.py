"""Optimizer results kept in the runs folder, where other reports can find them.

``twosided optimize`` saves every result as ``<runs>/optimizations/<name>.json`` (the
scenario's name, what optimized, and the result itself); the whom-to-save study links the
results of its worlds' scenarios (docs/strategic.md). Plain JSON: no JAX needed to read it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from twosided.atomic import write_text
from twosided.scenario import CENTS_PER_YUAN

FOLDER = "optimizations"


@dataclasses.dataclass(frozen=True)
class Saved:
    """One saved optimizer result: its file, its scenario's name and a one-line summary."""

    path: Path
    scenario: str
    summary: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "scenario"


def save(out: Path, scenario: str, settings: dict[str, Any], result: dict[str, Any]) -> Path:
    """Write ``result`` under ``out/optimizations``, named by scenario and settings (the
    same settings overwrite, other settings sit beside it); returns the file."""
    record = {"scenario": scenario, "settings": settings, **result}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    path = Path(out) / FOLDER / f"{_slug(scenario)}-{digest}.json"
    write_text(path, json.dumps(record, indent=2))
    return path


def summary_line(record: dict[str, Any]) -> str:
    """What a saved result found, in one line."""
    if "optimum" in record:
        found = record["optimum"]
        revenue = [c for c in found.get("comparison", []) if c.get("metric") == "revenue_cents"]
        gain = ""
        if revenue:
            c = {k: v / CENTS_PER_YUAN for k, v in revenue[0].items() if k != "metric"}
            gain = (
                f"; revenue vs the scenario's policy {c['difference']:+,.0f} yuan per episode "
                f"[{c['low']:+,.0f}, {c['high']:+,.0f}] over {revenue[0]['seeds']} paired seeds"
            )
        best = ", ".join(f"{k} = {found['best'][k]:.3g}" for k in found.get("fields", []))
        return f"{found['platform']}'s best policy: {best}{gain}"
    if "equilibrium" in record:
        eq = record["equilibrium"]
        state = "converged" if eq.get("converged") else "did not converge"
        return f"best responses between {', '.join(eq.get('platforms', []))}: {state}"
    return "an optimizer result"


def find(out: Path, scenarios: set[str]) -> list[Saved]:
    """The saved results of these scenarios, by file name; unreadable files are left out."""
    folder = Path(out) / FOLDER
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("scenario") in scenarios:
                found.append(Saved(path, record["scenario"], summary_line(record)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return found
