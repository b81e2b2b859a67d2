"""The Mesa baseline tests call engine functions directly, outside the public entry points that
switch 64-bit mode on (``twosided.sim.precision``): each test runs under ``x64()``, as the
engine does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from twosided.sim.precision import x64


@pytest.fixture(autouse=True)
def _engine_precision() -> Iterator[None]:
    with x64():
        yield
