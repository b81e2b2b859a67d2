"""Many environments at once: ``reset`` and ``step`` vmapped over a leading batch axis.

``vector.reset(env, keys, params)`` and ``vector.step(env, keys, states, actions, params)``
take a batch of keys (and states, actions ``[B, P, A]``) and share one ``params``; they
are compiled once per batch size. ``rollout`` runs whole episodes of constant policies in
one compiled program (what the optimizer uses): a batch of policies over a batch of seeds.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from twosided.env.functional import (
    EnvParams,
    EnvState,
    MarketEnv,
    _observe_jit,
    _reset_jit,
    _step_jit,
)
from twosided.sim.draws import root_key
from twosided.sim.precision import with_x64


@functools.partial(jax.jit, static_argnums=0)
def _vreset(env: MarketEnv, keys: jax.Array, params: EnvParams) -> EnvState:
    return jax.vmap(lambda k: _reset_jit(env, k, params))(keys)


@with_x64
def reset(env: MarketEnv, keys: jax.Array, params: EnvParams) -> EnvState:
    """A batch of initial states, one per key."""
    return _vreset(env, keys, params)


@functools.partial(jax.jit, static_argnums=0)
def _vobserve(env: MarketEnv, states: EnvState, params: EnvParams) -> jax.Array:
    return jax.vmap(lambda s: _observe_jit(env, s, params))(states)


@with_x64
def observe(env: MarketEnv, states: EnvState, params: EnvParams) -> jax.Array:
    """Every environment's observations (``[B, P, O]``)."""
    return _vobserve(env, states, params)


@functools.partial(jax.jit, static_argnums=0)
def _vstep(
    env: MarketEnv, keys: jax.Array, states: EnvState, actions: jax.Array, params: EnvParams
) -> tuple[Any, ...]:
    return jax.vmap(lambda k, s, a: _step_jit(env, k, s, a, params))(keys, states, actions)


@with_x64
def step(
    env: MarketEnv, keys: jax.Array, states: EnvState, actions: jax.Array, params: EnvParams
) -> tuple[Any, ...]:
    """One period of every environment of the batch (actions ``[B, P, A]``)."""
    return _vstep(env, keys, states, jnp.asarray(actions, jnp.float32), params)


def _episode(
    env: MarketEnv, seed: jax.Array, action: jax.Array, params: EnvParams
) -> dict[str, jax.Array]:
    """Totals of one episode of a constant action, seeded as ``twosided.simulate`` is."""
    root = root_key(seed)
    day_root = jax.random.fold_in(root, 1)
    state = _reset_jit(env, root, params)

    def body(st: EnvState, _: None) -> tuple[EnvState, dict[str, jax.Array]]:
        st, _obs, reward, _t, _tr, info = _step_jit(env, day_root, st, action, params)
        keep = ("revenue_cents", "profit_cents", "consumer_surplus_cents", "sessions")
        return st, {"reward": reward, **{k: info[k] for k in keep}}

    _, per = jax.lax.scan(body, state, None, length=env.periods)
    return jax.tree_util.tree_map(lambda x: jnp.sum(x, axis=0), per)


@functools.partial(jax.jit, static_argnums=0)
def _rollout(
    env: MarketEnv, seeds: jax.Array, actions: jax.Array, params: EnvParams
) -> dict[str, jax.Array]:
    per_seed = jax.vmap(lambda a, s: _episode(env, s, a, params), in_axes=(None, 0))
    return jax.vmap(lambda a: per_seed(a, seeds))(actions)


@with_x64
def rollout(
    env: MarketEnv, seeds: jax.Array, actions: jax.Array, params: EnvParams
) -> dict[str, jax.Array]:
    """Whole episodes of constant policies: ``actions [K, P, A]`` × ``seeds [S]`` (every
    policy meets the same seeds: common random numbers). Returns episode totals
    ``[K, S, P]``: ``reward`` (the env's objective summed over periods), ``revenue_cents``,
    ``profit_cents``, ``consumer_surplus_cents``, ``sessions``."""
    seeds = jnp.asarray(seeds, jnp.uint32)
    return _rollout(env, seeds, jnp.asarray(actions, jnp.float32), params)
