"""Several variants of one shape as one compiled program: ``vmap`` over variants and seeds.

Variants of a sweep that differ only in parameter values (the same ``Dims``, the same
``Params`` structure and leaf shapes) run together: the ``Params`` leaves that differ are
stacked along a leading variant axis (the others stay shared, unbatched, as in a single
run), the states too, and one compiled chunk advances every variant and
every seed (``[variants, seeds, ...]``). Each seed gets exactly the keys a single run gets
(``run.init_states`` and ``run.day_keys``, shared by every variant), so variant ``v``, seed
``s`` of a batch draws what the single run of ``v`` with seed ``s`` draws.

What holds (as for a seed batch of another size, see ``sim.run``): the program is shaped
differently, so its float32 reductions may round differently (about 1e-7 relative); integer
outcomes (money, counts) agree exactly over short runs, but a long run may diverge once
such a difference flips a discrete choice. The same variants in the same batch on the same
device give bit-identical results.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from twosided.sim.day import step
from twosided.sim.params import Dims, Params
from twosided.sim.precision import with_x64, x64
from twosided.sim.run import chunk_size, day_keys, init_states
from twosided.sim.state import State

ProgressFn = Callable[[int], None]


def shape_key(params: Params) -> tuple:
    """What must be equal for two variants' ``Params`` to stack: the pytree structure and
    every leaf's shape and dtype."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return treedef, tuple((tuple(np.shape(x)), jnp.asarray(x).dtype) for x in leaves)


def stack_params(params: Sequence[Params]) -> Params:
    """``Params`` of several variants stacked along a new leading axis (every leaf).
    ``ValueError`` when their structures or shapes differ (they cannot share a program)."""
    _check_shapes(params)
    with x64():
        return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *params)


def _check_shapes(params: Sequence[Params]) -> None:
    if not params:
        raise ValueError("no variants to stack")
    first = shape_key(params[0])
    for i, p in enumerate(params[1:], start=1):
        if shape_key(p) != first:
            raise ValueError(f"variant {i} has parameters of another structure or shape")


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which leaves of the variants' ``Params`` differ (static: part of the program)."""

    treedef: Any
    varies: tuple[bool, ...]  # per leaf, in pytree order


def split_params(params: Sequence[Params]) -> tuple[Layout, list[jax.Array], list[jax.Array]]:
    """The variants' ``Params`` as the leaves that differ, stacked along a leading variant
    axis, and the leaves every variant shares, once: only the former are batched in the
    program (a leaf left unbatched keeps its operations as in a single run)."""
    _check_shapes(params)
    flat = [jax.tree_util.tree_flatten(p)[0] for p in params]
    treedef = jax.tree_util.tree_structure(params[0])
    varies = tuple(
        any(not np.array_equal(np.asarray(f[i]), np.asarray(flat[0][i])) for f in flat[1:])
        for i in range(len(flat[0]))
    )
    with x64():
        varying = [jnp.stack([f[i] for f in flat]) for i, v in enumerate(varies) if v]
        fixed = [jnp.asarray(flat[0][i]) for i, v in enumerate(varies) if not v]
    return Layout(treedef, varies), varying, fixed


def join_params(layout: Layout, varying: Sequence[Any], fixed: Sequence[Any]) -> Params:
    """One variant's ``Params`` from its varying leaves and the shared ones."""
    it_var, it_fix = iter(varying), iter(fixed)
    leaves = [next(it_var) if v else next(it_fix) for v in layout.varies]
    return jax.tree_util.tree_unflatten(layout.treedef, leaves)


def unstack(tree: Any, index: int) -> Any:
    """Variant ``index`` of a batched pytree (states or metrics)."""
    return jax.tree_util.tree_map(lambda x: x[index], tree)


@functools.partial(jax.jit, static_argnums=(4, 5, 6), donate_argnums=(0,))
def _run_batch_chunk(
    states: State,
    varying: list[jax.Array],
    fixed: list[jax.Array],
    keys: jax.Array,
    dims: Dims,
    layout: Layout,
    log_sessions: bool = False,
) -> tuple[State, dict[str, Any]]:
    """Advance ``[variants, seeds]`` states by ``keys.shape[1]`` days; every variant gets
    the same ``[seeds, days]`` keys and the shared leaves."""

    def one_variant(var_states: State, var_leaves: list[jax.Array]) -> tuple[State, Any]:
        var_params = join_params(layout, var_leaves, fixed)

        def one_seed(state: State, seed_keys: jax.Array) -> tuple[State, dict[str, Any]]:
            def body(st: State, k: jax.Array) -> tuple[State, dict[str, Any]]:
                return step(st, var_params, k, dims, log_sessions)

            return jax.lax.scan(body, state, seed_keys)

        return jax.vmap(one_seed)(var_states, keys)

    return jax.vmap(one_variant)(states, varying)


@with_x64
def run_batch_chunk(
    states: State,
    params: Sequence[Params],
    keys: jax.Array,
    dims: Dims,
    log_sessions: bool = False,
) -> tuple[State, dict[str, Any]]:
    """One chunk of a batch: ``states`` stacked over variants (``[variants, seeds, ...]``,
    donated), the variants' ``params``, ``keys`` ``[seeds, days]``; metrics come back as
    ``[variants, seeds, days, ...]``. Only the leaves that differ between the variants are
    batched. Compiled once per shape (``dims``, variants, seeds, chunk length), which
    leaves differ, and ``log_sessions``."""
    layout, varying, fixed = split_params(params)
    return _run_batch_chunk(states, varying, fixed, keys, dims, layout, log_sessions)


def batch_init_states(seeds: Sequence[int], dims: Dims, params: Sequence[Params]) -> State:
    """Every variant's initial states (``run.init_states``, as a single run makes them),
    stacked: ``[variants, seeds, ...]``."""
    seed_arr = jnp.asarray(seeds, dtype=jnp.uint32)
    per_variant = [init_states(seed_arr, dims, p) for p in params]
    with x64():
        return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *per_variant)


def iterate_batch(
    dims: Dims,
    params: Sequence[Params],
    seeds: Sequence[int],
    days: int,
    chunk_days: int = 30,
    log_sessions: bool = False,
) -> Iterator[tuple[int, State, dict[str, np.ndarray]]]:
    """Run the variants together chunk by chunk, yielding ``(days done, states, chunk
    metrics as NumPy [variants, seeds, days, ...])``; chunks as ``run.iterate``'s."""
    layout, varying, fixed = split_params(params)
    states = batch_init_states(seeds, dims, params)
    seed_arr = jnp.asarray(seeds, dtype=jnp.uint32)
    size = chunk_size(days, chunk_days)
    done = 0
    while done < days:
        with x64():
            keys = jax.vmap(functools.partial(day_keys, start=done, days=size))(seed_arr)
            states, metrics = _run_batch_chunk(
                states, varying, fixed, keys, dims, layout, log_sessions
            )
            metrics = jax.device_get(metrics)
        done += size
        yield done, states, metrics


def simulate_batch(
    dims: Dims,
    params: Sequence[Params],
    seeds: Sequence[int],
    days: int,
    chunk_days: int = 30,
    log_sessions: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[State, list[dict[str, np.ndarray]]]:
    """Run every variant over the same seeds in one program; return the final states
    (``[variants, seeds, ...]``) and each variant's metrics stacked over days, as
    ``run.simulate_arrays`` returns them for one variant. ``progress(days done)`` after
    each chunk."""
    parts: list[dict[str, np.ndarray]] = []
    states = None
    for done, states, metrics in iterate_batch(  # noqa: B007 - the last states are returned
        dims, params, seeds, days, chunk_days, log_sessions
    ):
        parts.append(metrics)
        if progress is not None:
            progress(done)
    assert states is not None
    stacked = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=2), *parts)
    return states, [unstack(stacked, v) for v in range(len(params))]
