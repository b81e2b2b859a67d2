"""twosided: a fast, honest simulator of two-sided marketplace platforms.

The public names below are imported on first use (PEP 562), so that ``import twosided``
is instant and the ``twosided`` command (``twosided.console``) can take Ctrl-C from its
first moment, before JAX and the engine are loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twosided.experiments import sweep
    from twosided.scenario import Scenario, ScenarioError, load_scenario, preset_names
    from twosided.simulation import Result, simulate

_PUBLIC = {
    "Scenario": "twosided.scenario",
    "ScenarioError": "twosided.scenario",
    "load_scenario": "twosided.scenario",
    "preset_names": "twosided.scenario",
    "Result": "twosided.simulation",
    "simulate": "twosided.simulation",
    "sweep": "twosided.experiments",
}

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "preset_names",
    "simulate",
    "sweep",
]


def _version() -> str:
    """The installed version: the one place it is written is pyproject.toml. Read on first
    use, since ``importlib.metadata`` takes a while to import (``email``, ``datetime``...),
    and the command must be able to take Ctrl-C before that (``twosided.console``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("twosided")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Import a public name (or read ``__version__``) on first use; then it is an ordinary
    module attribute."""
    if name == "__version__":
        value: Any = _version()
    elif name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    else:
        raise AttributeError(f"module 'twosided' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
