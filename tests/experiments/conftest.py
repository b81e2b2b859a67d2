"""Fixtures for sweep tests: a small market, and one compilation cache for every worker
process the tests start (spawned workers, Ray workers, subprocesses)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import jax
import pytest

from twosided.experiments.executors import CACHE_ENV  # JAX_COMPILATION_CACHE_DIR

SMALL = {"market.buyers": 5000}  # a small market: fast runs, same shape in every test
DAYS = 12
SEEDS = 2
ADS = "platforms.0.ranking.ads"


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This process and the worker processes it starts share a session-wide persistent
    compilation cache: a shape compiled here loads in a worker instead of compiling again.
    (Where this process compiled before the cache was set, JAX keeps going without it.)"""
    # the session's own cache (tests/conftest.py) where it has one, shared with xdist's
    # other workers; a folder of this process's own otherwise
    folder = os.environ.get(CACHE_ENV) or str(tmp_path_factory.mktemp("jax-cache"))
    env_before = os.environ.get(CACHE_ENV)
    config_before = jax.config.jax_compilation_cache_dir
    os.environ[CACHE_ENV] = folder
    jax.config.update("jax_compilation_cache_dir", folder)
    yield folder
    jax.config.update("jax_compilation_cache_dir", config_before)
    if env_before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = env_before
