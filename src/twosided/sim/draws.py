"""Random draws for the session kernel.

Randomness comes only from explicit JAX keys. The session kernel needs many uniforms per
session (one per examined position, plus choices), and random-bit generation dominates its
cost on a CPU, so each 32-bit word is split into two 16-bit uniforms. A resolution of
2^-16 is far below the sampling error of any figure the model reports; the smallest
probability parameter that can still be told apart from zero is 1.5e-5.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

_SCALE = 1.0 / 65536.0


def uniform16(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Uniforms in (0, 1) at 16-bit resolution, midpoint-centred so never 0 or 1."""
    n = math.prod(shape)
    words = jax.random.bits(key, ((n + 1) // 2,), dtype=jnp.uint32)
    halves = jnp.stack([words & 0xFFFF, words >> 16], axis=-1).reshape(-1)[:n]
    return ((halves.astype(jnp.float32) + 0.5) * _SCALE).reshape(shape)


def categorical(u: jax.Array, logits: jax.Array) -> jax.Array:
    """Inverse-CDF draw of one index per row of ``logits`` (last axis) given uniforms ``u``.

    Exact for the softmax probabilities (up to the uniform's resolution), unlike a
    Gumbel-max draw from truncated uniforms. Rows whose logits are all -inf return 0.
    """
    top = jnp.max(logits, axis=-1, keepdims=True)
    weights = jnp.exp(logits - jnp.where(jnp.isfinite(top), top, 0.0))
    cum = jnp.cumsum(weights, axis=-1)
    target = u[..., None] * cum[..., -1:]
    return jnp.minimum(jnp.sum(cum <= target, axis=-1), logits.shape[-1] - 1)
