"""64-bit mode is the engine's, not the process's (``twosided.sim.precision``)."""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from twosided import sim
from twosided.scenario import apply_overrides, load_scenario


@pytest.fixture(autouse=True)
def _engine_precision():
    """Override tests/sim/conftest.py: these tests run in the process's own mode."""
    yield


def test_importing_twosided_leaves_jaxs_64_bit_flag_alone():
    code = (
        "import twosided, twosided.sim, twosided.simulation, twosided.checkpoint, jax; "
        "print(jax.config.jax_enable_x64)"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"


def test_the_engine_runs_in_64_bit_and_restores_the_mode():
    before = jax.config.jax_enable_x64
    dims, params = sim.build(apply_overrides(load_scenario("monopoly"), {"market.buyers": 50}))
    state = sim.init(jax.random.key(0), dims, params)
    state, metrics = sim.step(state, params, jax.random.key(1), dims)
    assert jax.config.jax_enable_x64 == before
    assert state.balances.dtype == jnp.int64 and metrics["revenue_cents"].dtype == jnp.int64
    assert int(state.day) == 1
    with sim.x64():
        assert jax.config.jax_enable_x64
    assert jax.config.jax_enable_x64 == before
