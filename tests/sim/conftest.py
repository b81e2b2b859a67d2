"""The engine's unit tests call its stages directly, outside the public entry points that
switch 64-bit mode on (``twosided.sim.precision``): each test runs under ``x64()``, as the
engine does."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import jax
import pytest

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import day
from twosided.sim.params import build
from twosided.sim.precision import x64
from twosided.sim.state import init_state


@pytest.fixture(autouse=True)
def _engine_precision() -> Iterator[None]:
    with x64():
        yield


SMALL_WORLD = {"market.buyers": 400, "market.seller_capacity": 10, "market.initial_sellers": 5}


@functools.lru_cache(maxsize=8)
def _one_day(preset: str, overrides_json: str) -> tuple:
    dims, params = build(apply_overrides(load_scenario(preset), json.loads(overrides_json)))
    with x64():
        state = jax.jit(init_state, static_argnums=1)(jax.random.key(0), dims, params)
        after, records = jax.jit(day.stages, static_argnums=3)(
            state, params, jax.random.key(1), dims
        )
    return dims, params, state, after, records


def one_day(preset: str = "taobao", overrides: dict | None = None) -> tuple:
    """``(dims, params, state, after, records)`` of day 0 of a small world: the state
    before and after ``day.stages`` and every stage's record (cached per arguments)."""
    merged = {**SMALL_WORLD, **(overrides or {})}
    return _one_day(preset, json.dumps(merged, sort_keys=True))
