"""A run: ``lax.scan`` over days in compiled chunks, ``vmap`` over seeds.

Keys are derived from the seed alone — the initial state from ``fold_in(seed_key, 0)``,
day ``d`` from ``fold_in(fold_in(seed_key, 1), d)`` — so the random draws do not depend on
the chunk size, on how many seeds run together, or on whether a run was resumed from a
checkpoint. The same seed batch on the same device gives bit-identical results whatever the
chunking. Running a seed in a batch of another size compiles a differently shaped program,
whose float32 reductions may round differently (about 1e-7 relative); integer outcomes
(money, counts) agree exactly over short runs, but a long run may diverge once such a
difference flips a seller's discrete choice. Compare runs with the same seed batch.
``seed_key`` is ``draws.root_key``: a Philox4x32-10 key (see ``twosided.sim.draws``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from twosided.sim.day import step
from twosided.sim.draws import root_key
from twosided.sim.params import Dims, Params
from twosided.sim.precision import with_x64, x64
from twosided.sim.state import State, init_state

ProgressFn = Callable[[int], None]


def seed_key(seed: int) -> jax.Array:
    """The root key of one seed."""
    return root_key(seed)


def day_keys(seed: int | jax.Array, start: int, days: int) -> jax.Array:
    """Keys of days ``start .. start + days - 1`` of one seed."""
    root = jax.random.fold_in(root_key(seed), 1)
    return jax.vmap(lambda d: jax.random.fold_in(root, d))(jnp.arange(start, start + days))


@functools.partial(jax.jit, static_argnums=(1,))
def _init_states(seeds: jax.Array, dims: Dims, params: Params) -> State:
    return jax.vmap(lambda s: init_state(jax.random.fold_in(root_key(s), 0), dims, params))(
        seeds
    )


@with_x64
def init_states(seeds: jax.Array, dims: Dims, params: Params) -> State:
    """Initial states of several seeds (batched along the first axis)."""
    return _init_states(jnp.asarray(seeds, dtype=jnp.uint32), dims, params)


@functools.partial(jax.jit, static_argnums=(3, 4), donate_argnums=(0,))
def _run_chunk(
    states: State, params: Params, keys: jax.Array, dims: Dims, log_sessions: bool = False
) -> tuple[State, dict[str, Any]]:

    def one_seed(state: State, seed_keys: jax.Array) -> tuple[State, dict[str, Any]]:
        def body(st: State, k: jax.Array) -> tuple[State, dict[str, Any]]:
            return step(st, params, k, dims, log_sessions)

        return jax.lax.scan(body, state, seed_keys)

    return jax.vmap(one_seed)(states, keys)


@with_x64
def run_chunk(
    states: State, params: Params, keys: jax.Array, dims: Dims, log_sessions: bool = False
) -> tuple[State, dict[str, Any]]:
    """Advance a batch of seeds by ``keys.shape[1]`` days; metrics are [seeds, days, ...].

    Compiled once per shape (``dims``, seeds, chunk length) and ``log_sessions``; the
    states passed in are donated (their buffers are reused for the result)."""
    return _run_chunk(states, params, keys, dims, log_sessions)


# ahead-of-time lowering (``run_chunk.lower(...).compile()``), as on the jitted functions;
# call it under ``precision.x64()`` so that the shapes it is given are the engine's
init_states.lower = _init_states.lower  # type: ignore[attr-defined]
run_chunk.lower = _run_chunk.lower  # type: ignore[attr-defined]


def chunk_size(days: int, chunk_days: int) -> int:
    """The largest divisor of ``days`` not above ``chunk_days``: one compiled chunk shape."""
    for size in range(min(days, chunk_days), 0, -1):
        if days % size == 0:
            return size
    return 1


def iterate(
    dims: Dims,
    params: Params,
    seeds: list[int],
    days: int,
    chunk_days: int = 30,
    log_sessions: bool = False,
    states: State | None = None,
    start_day: int = 0,
) -> Iterator[tuple[int, State, dict[str, np.ndarray]]]:
    """Run chunk by chunk, yielding ``(days done, states, chunk metrics as NumPy)``.

    Pass ``states`` and ``start_day`` to continue a run (a checkpoint). Each chunk runs
    under ``precision.x64()`` (the caller's JAX mode is left alone between chunks).
    """
    seed_arr = jnp.asarray(seeds, dtype=jnp.uint32)
    if states is None:
        states = init_states(seed_arr, dims, params)
    size = chunk_size(days, chunk_days)
    done = 0
    while done < days:
        day0 = start_day + done
        with x64():
            keys = jax.vmap(functools.partial(day_keys, start=day0, days=size))(seed_arr)
            states, metrics = run_chunk(states, params, keys, dims, log_sessions)
            metrics = jax.device_get(metrics)
        done += size
        yield done, states, metrics


def simulate_arrays(
    dims: Dims,
    params: Params,
    seeds: list[int],
    days: int,
    chunk_days: int = 30,
    log_sessions: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[State, dict[str, np.ndarray]]:
    """Run a whole simulation and return final states and metrics stacked over days."""
    parts: list[dict[str, np.ndarray]] = []
    states = None
    # the loop keeps the last chunk's states: they are returned
    for done, states, metrics in iterate(  # noqa: B007
        dims, params, seeds, days, chunk_days, log_sessions
    ):
        parts.append(metrics)
        if progress is not None:
            progress(done)
    assert states is not None
    stacked = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=1), *parts)
    return states, stacked
