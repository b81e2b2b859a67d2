"""A run: ``lax.scan`` over days in compiled chunks, ``vmap`` over seeds.

Keys are derived from the seed alone — the initial state from ``fold_in(seed_key, 0)``,
day ``d`` from ``fold_in(fold_in(seed_key, 1), d)`` — so the random draws do not depend on
the chunk size, on how many seeds run together, or on whether a run was resumed from a
checkpoint. The same seed batch on the same device gives bit-identical results whatever the
chunking. Running a seed in a batch of another size compiles a differently shaped program,
whose float32 reductions may round differently (about 1e-7 relative); integer outcomes
(money, counts) agree exactly over short runs, but a long run may diverge once such a
difference flips a seller's discrete choice. Compare runs with the same seed batch.

A chunk derives its days' keys itself (``day_keys`` inside the compiled program, from the
seeds and the first day), so a run compiles two programs per shape — ``init_states`` and
``run_chunk`` — and nothing else; ``program_shapes`` traces both without compiling (the
memory check reads the state and metric shapes from it), and the run that follows reuses
that trace.

``seed_key`` is ``draws.root_key``: a Philox4x32-10 key (see ``twosided.sim.draws``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Sequence
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
    # ``start`` may be traced (inside a chunk); ``days`` is a static length
    return jax.vmap(lambda d: jax.random.fold_in(root, d))(start + jnp.arange(days))


@functools.partial(jax.jit, static_argnums=(1,))
def _init_states(seeds: jax.Array, dims: Dims, params: Params) -> State:
    return jax.vmap(lambda s: init_state(jax.random.fold_in(root_key(s), 0), dims, params))(seeds)


@with_x64
def init_states(seeds: jax.Array | np.ndarray, dims: Dims, params: Params) -> State:
    """Initial states of several seeds (batched along the first axis)."""
    return _init_states(_seed_array(seeds), dims, params)


@functools.partial(jax.jit, static_argnums=(4, 5, 6), donate_argnums=(0,))
def _run_chunk(
    states: State,
    params: Params,
    seeds: jax.Array,
    start_day: jax.Array,
    days: int,
    dims: Dims,
    log_sessions: bool = False,
) -> tuple[State, dict[str, Any]]:

    def one_seed(state: State, seed: jax.Array) -> tuple[State, dict[str, Any]]:
        def body(st: State, k: jax.Array) -> tuple[State, dict[str, Any]]:
            return step(st, params, k, dims, log_sessions)

        return jax.lax.scan(body, state, day_keys(seed, start_day, days))

    return jax.vmap(one_seed)(states, seeds)


@with_x64
def run_chunk(
    states: State,
    params: Params,
    seeds: jax.Array | np.ndarray,
    start_day: int | jax.Array,
    days: int,
    dims: Dims,
    log_sessions: bool = False,
) -> tuple[State, dict[str, Any]]:
    """Advance a batch of seeds (``uint32[seeds]``) by ``days`` days from day
    ``start_day``; metrics are [seeds, days, ...]. Each day's key is ``day_keys``'s,
    derived inside the compiled chunk.

    Compiled once per shape (``dims``, seeds, ``days``) and ``log_sessions``, whatever
    ``start_day``; the states passed in are donated (their buffers are reused)."""
    return _run_chunk(states, params, seeds, _day_index(start_day), days, dims, log_sessions)


def _day_index(day: int | jax.Array) -> np.ndarray | jax.Array:
    """A chunk's first day in the one dtype its program is compiled for (int32)."""
    try:
        return np.int32(operator.index(day))
    except TypeError:  # traced
        return jnp.asarray(day, np.int32)


def _seed_array(seeds: Sequence[int] | np.ndarray | jax.Array) -> np.ndarray | jax.Array:
    """Seeds as ``uint32``: NumPy (nothing compiled to convert them) unless traced."""
    if isinstance(seeds, jax.Array):
        return seeds if seeds.dtype == np.uint32 else jnp.asarray(seeds, np.uint32)
    return np.asarray(seeds, dtype=np.uint32)


START_DAY = jax.ShapeDtypeStruct((), np.int32)  # the traced first day of a chunk


@with_x64
def program_shapes(
    dims: Dims, params: Params, seeds: int, days: int, log_sessions: bool = False
) -> tuple[State, dict[str, Any]]:
    """Shapes of the states of ``seeds`` seeds and of one chunk's metrics
    (``jax.ShapeDtypeStruct`` trees), traced from shapes alone: nothing is compiled or
    allocated. ``init_states`` and ``run_chunk`` keep the traces (JAX caches them per
    shape), so a run of this shape does not trace the day again."""
    seed_shape = jax.ShapeDtypeStruct((seeds,), np.uint32)
    states = _init_states.trace(seed_shape, dims, params).out_info
    chunk = _run_chunk.trace(states, params, seed_shape, START_DAY, days, dims, log_sessions)
    return states, chunk.out_info[1]


def _lower_chunk(
    states: State,
    params: Params,
    seeds: Any,
    start_day: Any,
    days: int,
    dims: Dims,
    log_sessions: bool = False,
) -> jax.stages.Lowered:
    """``run_chunk`` lowered ahead of time; ``start_day`` a day or ``START_DAY``. The
    compiled program is then called as ``compiled(states, params, seeds, np.int32(day))``."""
    start = start_day if isinstance(start_day, jax.ShapeDtypeStruct) else _day_index(start_day)
    return _run_chunk.lower(states, params, seeds, start, days, dims, log_sessions)


# ahead-of-time lowering (``run_chunk.lower(...).compile()``), as on the jitted functions;
# call it under ``precision.x64()`` so that the shapes it is given are the engine's
init_states.lower = _init_states.lower  # type: ignore[attr-defined]
run_chunk.lower = _lower_chunk  # type: ignore[attr-defined]


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
    seed_arr = _seed_array(seeds)
    if states is None:
        states = init_states(seed_arr, dims, params)
    size = chunk_size(days, chunk_days)
    done = 0
    while done < days:
        with x64():
            states, metrics = run_chunk(
                states, params, seed_arr, start_day + done, size, dims, log_sessions
            )
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
