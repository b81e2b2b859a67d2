"""Fixtures for sweep tests: a small market, and one compilation cache for every worker
process the tests start (spawned workers, Ray workers, subprocesses)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from twosided.experiments.executors import CACHE_ENV

SMALL = {"market.buyers": 5000}  # a small market: fast runs, same shape in every test
DAYS = 12
SEEDS = 2
ADS = "platforms.0.ranking.ads"


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Worker processes share a session-wide persistent compilation cache."""
    folder = str(tmp_path_factory.mktemp("jax-cache"))
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = folder
    yield folder
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before
