"""The presets shipped with twosided (``twosided/presets/*.toml``), by name."""

from __future__ import annotations

from importlib import resources

from twosided.scenario.errors import ScenarioError


def preset_names() -> list[str]:
    """Names of the presets shipped with twosided."""
    folder = resources.files("twosided") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """The TOML text of a shipped preset (a plain name, never a path)."""
    # a preset is a plain name: '../examples/mall' must not reach outside the presets folder
    if name not in preset_names():
        raise ScenarioError(f"preset '{name}' not found (presets: {', '.join(preset_names())})")
    return (resources.files("twosided") / "presets" / f"{name}.toml").read_text(encoding="utf-8")
