"""Random draws for the engine: the key generator (Philox4x32-10) and the session kernel's
16-bit uniforms.

Randomness comes only from explicit JAX keys, and every key the engine makes comes from
``root_key(seed)``, a key of ``KEY_IMPL``: Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011,
"Parallel random numbers: as easy as 1, 2, 3", SC'11), a counter-based generator that passes
TestU01's BigCrush with margin (its authors found 7 rounds enough; 10 is their default),
written here in ``jax.numpy`` and checked against the Random123 known-answer vectors
(``tests/sim/test_draws.py``). Why not JAX's own generators, measured on a 2-core CPU
(``jax.random.bits`` of 2e7 uint32 words, x64 on, medians of 7 interleaved repeats):

    threefry2x32 (JAX's default)   207 ms   one 32-bit word per 20-round Threefry call
    rbg / unsafe_rbg               214 ms   XLA's RngBitGenerator, which XLA's CPU compiler
                                            expands to Philox4x32-10 (its RNG_DEFAULT)
    Philox4x32-10 here              49 ms   four words per call

XLA's expansion of ``rbg`` is the same Philox but generated 4x slower, and neither ``rbg``
nor ``unsafe_rbg`` keeps the engine's promise that draws do not depend on how many seeds run
together: in JAX 0.10 on the CPU, a key's ``bits`` alone differ from its ``bits`` in a
``vmap`` over three keys, for both (JAX documents RngBitGenerator's bits as not stable
across backends or compiler versions either). The Philox here is
plain integer arithmetic (uint32, with uint64 products in the engine's 64-bit mode and the
same products from 16-bit halves outside it, much slower), so its bits depend only on the
key and the counter: the same under ``vmap``, in either mode, on every backend and in every
JAX version.

How keys are used (the counter's last word separates the uses, so they never overlap):

* ``random_bits``: word ``4i + j`` of a draw is word ``j`` of Philox(key, (i, 0, 0, 0));
* ``split`` into ``n`` keys: key ``i`` is the first two words of Philox(key, (i, 0, 0, 1));
* ``fold_in(key, d)``: the first two words of Philox(key, (d, 0, 0, 2));
* ``root_key(seed)``: the first two words of Philox((seed low, seed high), (0, 0, 0, 3)).

The session kernel needs many uniforms per session (one per examined position, plus
choices), so each 32-bit word is split into two 16-bit uniforms. A resolution of 2^-16 is
far below the sampling error of any figure the model reports; the smallest probability
parameter that can still be told apart from zero is 1.5e-5.
"""

from __future__ import annotations

import math

import jax
import jax.extend.random as jex_random
import jax.numpy as jnp
import numpy as np
from jax import lax

_SCALE = 1.0 / 65536.0
U32 = jnp.uint32

# Philox4x32 multipliers and Weyl key increments (Salmon et al. 2011, table 2)
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
ROUNDS = 10
_BITS, _SPLIT, _FOLD, _SEED = 0, 1, 2, 3  # the counter's last word: which use

Words = tuple[jax.Array, jax.Array, jax.Array, jax.Array]


def _mulhilo(a: jax.Array, m: int) -> tuple[jax.Array, jax.Array]:
    """High and low 32 bits of the 64-bit product ``a * m`` (uint32 arrays).

    In 64-bit mode (the engine's) a uint64 product; otherwise from 16-bit halves, the same
    bits but many times slower on XLA's CPU backend."""
    if jax.dtypes.canonicalize_dtype(jnp.uint64) == jnp.uint64:
        p = a.astype(jnp.uint64) * jnp.uint64(m)
        return (p >> 32).astype(U32), p.astype(U32)
    a0, a1 = a & 0xFFFF, a >> 16
    m0, m1 = U32(m & 0xFFFF), U32(m >> 16)
    t = a1 * m0 + ((a0 * m0) >> 16)  # < 2^32: no overflow
    w = (t & 0xFFFF) + a0 * m1
    return a1 * m1 + (t >> 16) + (w >> 16), a * U32(m)


def philox4x32(key: tuple[jax.Array, jax.Array], counter: Words, rounds: int = ROUNDS) -> Words:
    """Philox4x32-``rounds`` of ``counter`` (four uint32 arrays) under ``key`` (two)."""
    k0, k1 = key
    c0, c1, c2, c3 = counter
    for r in range(rounds):
        if r:
            k0, k1 = k0 + U32(_W0), k1 + U32(_W1)
        hi0, lo0 = _mulhilo(c0, _M0)
        hi1, lo1 = _mulhilo(c2, _M1)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def _blocks(key: jax.Array, index: jax.Array, use: int) -> Words:
    """Philox of counters ``(index, 0, 0, use)`` under the key data ``key`` ([2] uint32)."""
    zero = jnp.zeros_like(index)
    return philox4x32((key[0], key[1]), (index, zero, zero, jnp.full_like(index, use)))


def _words(key: jax.Array, n: int) -> jax.Array:
    """The first ``n`` uint32 words of the key's stream."""
    if n > 4 * 2**32:
        raise ValueError(f"at most 2^34 random words per draw, not {n}")
    out = _blocks(key, lax.iota(U32, (n + 3) // 4), _BITS)
    return jnp.stack(out, axis=-1).reshape(-1)[:n]


def _random_bits(key: jax.Array, bit_width: int, shape: tuple[int, ...]) -> jax.Array:
    n = math.prod(shape)
    dtype = np.dtype(f"uint{bit_width}")
    if bit_width == 64:
        pairs = _words(key, 2 * n).reshape(n, 2).astype(dtype)
        return ((pairs[:, 0] << 32) | pairs[:, 1]).reshape(shape)
    return _words(key, n).astype(dtype).reshape(shape)


def _split(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    c0, c1, _, _ = _blocks(key, lax.iota(U32, math.prod(shape)), _SPLIT)
    return jnp.stack([c0, c1], axis=-1).reshape(*shape, 2)


def _fold_in(key: jax.Array, data: jax.Array) -> jax.Array:
    c0, c1, _, _ = _blocks(key, jnp.asarray(data).astype(U32)[None], _FOLD)
    return jnp.concatenate([c0, c1])


def _seed(seed: jax.Array) -> jax.Array:
    seed = jnp.asarray(seed)
    low = seed.astype(U32)
    high = (
        lax.shift_right_logical(seed, lax.full_like(seed, 32)).astype(U32)
        if seed.dtype.itemsize == 8
        else jnp.zeros_like(low)
    )
    c0, c1, _, _ = _blocks(jnp.stack([low, high]), jnp.zeros((1,), U32), _SEED)
    return jnp.concatenate([c0, c1])


KEY_IMPL = jex_random.define_prng_impl(
    key_shape=(2,),
    seed=_seed,
    split=_split,
    random_bits=_random_bits,
    fold_in=_fold_in,
    name="philox4x32",
    tag="phx",
)


def root_key(seed: int | jax.Array) -> jax.Array:
    """The root key of ``seed``, of ``KEY_IMPL``: every engine key is derived from one."""
    return jax.random.key(seed, impl=KEY_IMPL)


def poisson_key(key: jax.Array) -> jax.Array:
    """``key``'s data as a threefry2x32 key, for ``jax.random.poisson`` (which JAX implements
    for threefry keys only): a function of ``key`` alone, like any key derivation."""
    return jax.random.wrap_key_data(jax.random.key_data(key), impl="threefry2x32")


def uniform16(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Uniforms in (0, 1) at 16-bit resolution, midpoint-centred so never 0 or 1.

    Each 32-bit word of ``jax.random.bits`` gives two: its low half, then its high half."""
    n = math.prod(shape)
    words = jax.random.bits(key, ((n + 1) // 2,), dtype=jnp.uint32)
    halves = jnp.stack([words & 0xFFFF, words >> 16], axis=-1).reshape(-1)[:n]
    return ((halves.astype(jnp.float32) + 0.5) * _SCALE).reshape(shape)


# uniforms per Philox block: four 32-bit words of two 16-bit halves each
UNIFORMS_PER_BLOCK = 8


def uniform16_rows(key: jax.Array, first_row: jax.Array | int, rows: int, width: int) -> jax.Array:
    """Rows ``first_row .. first_row + rows`` of ``uniform16(key, (n, width))`` for any
    ``n`` past them, bit for bit, drawn alone: Philox is counter-based (Salmon et al.
    2011), so a block of rows is its own counters. ``first_row`` and ``rows`` must be
    multiples of ``UNIFORMS_PER_BLOCK`` (8); ``first_row`` may be traced (a block's index
    in a loop), and is then not checked."""
    if rows % UNIFORMS_PER_BLOCK or (isinstance(first_row, int) and first_row % UNIFORMS_PER_BLOCK):
        raise ValueError(f"first_row and rows must be multiples of {UNIFORMS_PER_BLOCK}")
    start = jnp.asarray(first_row, U32) // np.uint32(UNIFORMS_PER_BLOCK) * np.uint32(width)
    index = start + lax.iota(U32, rows * width // UNIFORMS_PER_BLOCK)
    words = jnp.stack(_blocks(jax.random.key_data(key), index, _BITS), axis=-1).reshape(-1)
    halves = jnp.stack([words & 0xFFFF, words >> 16], axis=-1).reshape(-1)
    return ((halves.astype(jnp.float32) + 0.5) * _SCALE).reshape(rows, width)


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
