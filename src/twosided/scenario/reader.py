"""The TOML reader: a scenario from a preset name or a TOML file, validated, with errors
that name the file (or preset) and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from twosided.scenario.errors import ScenarioError
from twosided.scenario.presets import preset_text
from twosided.scenario.schema import Scenario, scenario_from_dict


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text, raising ScenarioError naming the source and the problem."""
    try:
        # a leading byte-order mark (as Windows editors write) is not part of the document
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{source}: invalid TOML: {err}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: invalid TOML: nested too deeply") from None


def read_text_file(ref: str | Path, what: str) -> str:
    """The UTF-8 text of a file the user named; a ``ScenarioError`` of one line (``what``
    'ref' not found / is a folder / not UTF-8 / cannot read) otherwise."""
    path = Path(ref)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "not found"
        raise ScenarioError(f"{what} '{ref}' {problem}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{what} '{ref}': not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ScenarioError(f"{what} '{ref}': cannot read: {err.strerror or err}") from None


def load_scenario(preset_or_file: str | Path | Scenario = "taobao") -> Scenario:
    """Load a scenario from a preset name, a TOML file path, or pass a Scenario through."""
    if isinstance(preset_or_file, Scenario):
        return preset_or_file
    ref = str(preset_or_file)
    path = Path(ref)
    if ref.endswith(".toml") or path.is_file():
        data = parse_toml(read_text_file(ref, "scenario file"), ref)
        try:
            return scenario_from_dict(data)
        except ScenarioError as err:
            raise ScenarioError(f"{ref}: {err}") from None
    return scenario_from_dict(parse_toml(preset_text(ref), f"preset {ref}"))
