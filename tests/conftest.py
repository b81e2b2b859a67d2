"""Shared fixtures: simulations are cached per session so that several tests can read the
same run without paying for it twice."""

from __future__ import annotations

import atexit
import functools
import gc
import json
import os
import shutil
import signal
import tempfile

import jax
import pytest
from hypothesis import settings

import twosided
from twosided.experiments.executors import CACHE_ENV  # JAX_COMPILATION_CACHE_DIR

CACHE_LIMIT_ENV = "JAX_COMPILATION_CACHE_MAX_SIZE"
CACHE_LIMIT_BYTES = 16 << 30  # far above what a session compiles: nothing is evicted


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests that run the console script in a subprocess (the ``cli_env``
    fixture) are ``slow``: ``pytest -m "not slow"`` leaves them out of a developer's loop."""
    for item in items:
        if "cli_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


# The Ctrl-C tests send SIGINT to this process and to the commands they start. A test
# session started in the background by a shell without job control (`pytest &`, nohup)
# inherits SIGINT ignored, and then those signals would vanish (a query test would wait for
# hours): take Python's own handler back, which the commands started from here inherit too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


# Property and fuzz tests draw fresh random examples on every developer run, so that each
# run can find a new counterexample. CI (CI=true) instead draws the same examples every time
# (seeded from each test's own code) so that a submission's CI result does not depend on
# luck; explore with more seeds locally, e.g. `pytest --hypothesis-seed=N`.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
    settings.load_profile("ci")


# Compiled programs outlive a module's ``jax.clear_caches()`` (below) in a persistent
# compilation cache of this test session's own (a fresh folder, removed at exit), so a later
# module that runs the same shapes loads them instead of compiling again. The folder goes
# into the environment, so that every process of the session shares it: pytest-xdist's
# workers (the suite runs on every core, ``-n auto``), the sweep tests' worker processes
# and the command-line tests' subprocesses. A size limit turns on JAX's file lock around
# each read and write of the cache, so that no process reads a program another is still
# writing. A folder chosen by the caller (or ``JAX_COMPILATION_CACHE_DIR=""``, no cache)
# is left alone.
if CACHE_ENV not in os.environ:  # the first process of the session (xdist's controller)
    _COMPILED = tempfile.mkdtemp(prefix="twosided-tests-jax-")
    atexit.register(shutil.rmtree, _COMPILED, ignore_errors=True)
    os.environ[CACHE_ENV] = _COMPILED
    os.environ.setdefault(CACHE_LIMIT_ENV, str(CACHE_LIMIT_BYTES))
    jax.config.update("jax_compilation_cache_max_size", int(os.environ[CACHE_LIMIT_ENV]))
jax.config.update("jax_compilation_cache_dir", os.environ[CACHE_ENV])


@functools.lru_cache(maxsize=32)
def _cached(
    name: str, days: int, seeds: int, overrides_json: str, keep_state: bool
) -> twosided.Result:
    overrides = json.loads(overrides_json)
    return twosided.simulate(
        name, days=days, seeds=seeds, overrides=overrides, keep_state=keep_state
    )


def cached_run(
    name: str, days: int, seeds: int = 1, overrides: dict | None = None, keep_state: bool = False
) -> twosided.Result:
    """A simulation result, computed once per test session for the same arguments."""
    return _cached(name, days, seeds, json.dumps(overrides or {}, sort_keys=True), keep_state)


@pytest.fixture(scope="session")
def run_cache():
    return cached_run


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop the programs a test module compiled once it is done. Every XLA:CPU program
    holds memory maps of its own, and a whole suite in one process would otherwise pass the
    kernel's limit (``vm.max_map_count``, 65,530 by default) and fail to compile ("LLVM
    compilation error: Cannot allocate memory"). Later modules that need a program again
    load it from the session's persistent compilation cache (above)."""
    yield
    jax.clear_caches()
    gc.collect()
