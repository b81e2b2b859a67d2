"""The pure array engine: no I/O, no printing. See docs/model.md for the model.

The engine API, in the style of gymnax and jumanji environments::

    from twosided import sim
    dims, params = sim.build(scenario)          # static sizes, parameter pytree
    state = sim.init(key, dims, params)         # the world on day 0
    state, metrics = sim.step(state, params, key, dims)   # one day

``init`` and ``step`` are compiled (once per ``dims``) and run in 64-bit mode inside a
``jax.enable_x64`` context (``sim.precision``): importing twosided does not change JAX's
process-wide settings. To compose them in JAX code of your own (``lax.scan``, your own
``jit``), run that code under ``sim.x64()``. Keys: ``sim.root_key(seed)``, the engine's
Philox4x32-10 generator (``sim.draws``); any JAX key works, but only these reproduce a
run. A whole run in compiled chunks, several seeds at once, is ``sim.run.iterate`` (what
``twosided.simulate`` uses).
"""

from __future__ import annotations

import jax

from twosided.sim import day as _day
from twosided.sim.day import Metrics
from twosided.sim.draws import root_key
from twosided.sim.params import Dims, Params, build
from twosided.sim.precision import with_x64, x64
from twosided.sim.state import State, init_state

_init = jax.jit(init_state, static_argnums=1)
_step = jax.jit(_day.step, static_argnums=(3, 4))


@with_x64
def init(key: jax.Array, dims: Dims, params: Params) -> State:
    """The world on day 0 for one key (``run.init_states`` batches seeds)."""
    return _init(key, dims, params)


@with_x64
def step(
    state: State, params: Params, key: jax.Array, dims: Dims, log_sessions: bool = False
) -> tuple[State, Metrics]:
    """Advance one state by one day: ``(state, metrics)``, metrics keyed by daily column."""
    return _step(state, params, key, dims, log_sessions)


__all__ = ["Dims", "Metrics", "Params", "State", "build", "init", "root_key", "step", "x64"]
