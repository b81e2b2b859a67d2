"""The engine's random draws (``twosided.sim.draws``): the Philox4x32-10 key generator
against its published known answers and an independent NumPy reference, and statistical
tests of the draws the engine makes (16-bit uniforms, the session's buyer, normals).

Every statistical test uses fixed keys, so it is deterministic, and a p-value threshold of
1e-4: a sound generator fails one with probability 1e-4 for the fixed keys chosen. Each test
also feeds its statistic a broken generator (a constant, a duplicated half-word, a reused
key) and asserts that the statistic rejects it, so the test can fail.
"""

from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from twosided.env.functional import episode_keys
from twosided.sim import draws, run, shopping

ALPHA = 1e-4
N = 1 << 20  # draws per statistical test


def _uniform_p(u: np.ndarray, bins: int = 256) -> float:
    """Chi-square p-value of ``u`` against uniform on (0, 1) in ``bins`` equal bins."""
    counts = np.histogram(u, bins=bins, range=(0.0, 1.0))[0]
    return float(stats.chisquare(counts).pvalue)


def _joint_p(x: np.ndarray, y: np.ndarray, bins: int = 16) -> float:
    """Chi-square p-value of the pairs ``(x, y)`` against independent uniforms (bins²)."""
    counts = np.histogram2d(x, y, bins=bins, range=[[0.0, 1.0], [0.0, 1.0]])[0]
    return float(stats.chisquare(counts.ravel()).pvalue)


def _corr_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p-value of Pearson's correlation between ``x`` and ``y``."""
    return float(stats.pearsonr(x, y).pvalue)


def _u16(key: jax.Array, n: int = N) -> np.ndarray:
    return np.asarray(draws.uniform16(key, (n,)), dtype=np.float64)


# --- the generator itself ---------------------------------------------------------------

# Random123 kat_vectors, philox4x32 10 rounds: (counter, key, output)
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("counter", "key", "want"), KAT)
@pytest.mark.parametrize("x64", [False, True])
def test_philox_gives_the_random123_known_answers(counter, key, want, x64):
    with jax.enable_x64(x64):
        as_u32 = [jnp.asarray([v], jnp.uint32) for v in (*counter, *key)]
        got = draws.philox4x32(tuple(as_u32[4:]), tuple(as_u32[:4]))
    assert tuple(int(w[0]) for w in got) == want


def _numpy_philox(key: np.ndarray, ctr: np.ndarray) -> np.ndarray:
    """Philox4x32-10 with 64-bit NumPy products (independent of the uint32 limb trick)."""
    mask = np.uint64(0xFFFFFFFF)
    k = key.astype(np.uint64)
    c = ctr.astype(np.uint64)
    for r in range(10):
        if r:
            k = (k + np.array([0x9E3779B9, 0xBB67AE85], np.uint64)) & mask
        p0 = c[..., 0] * np.uint64(0xD2511F53)
        p1 = c[..., 2] * np.uint64(0xCD9E8D57)
        c = np.stack(
            [
                (p1 >> np.uint64(32)) ^ c[..., 1] ^ k[..., 0],
                p1 & mask,
                (p0 >> np.uint64(32)) ^ c[..., 3] ^ k[..., 1],
                p0 & mask,
            ],
            axis=-1,
        )
    return c.astype(np.uint32)


def test_philox_matches_a_numpy_reference_on_random_inputs():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**32, (4096, 2), dtype=np.uint32)
    ctrs = rng.integers(0, 2**32, (4096, 4), dtype=np.uint32)
    got = draws.philox4x32(tuple(jnp.asarray(keys.T)), tuple(jnp.asarray(ctrs.T)))
    got = np.stack([np.asarray(w) for w in got], -1)
    np.testing.assert_array_equal(got, _numpy_philox(keys, ctrs))


def test_random_bits_are_philox_of_consecutive_counters():
    key = draws.root_key(11)
    data = np.asarray(jax.random.key_data(key))
    words = np.asarray(jax.random.bits(key, (10,), jnp.uint32))
    ctr = np.zeros((3, 4), np.uint32)
    ctr[:, 0] = np.arange(3)
    np.testing.assert_array_equal(words, _numpy_philox(data[None], ctr).reshape(-1)[:10])


def test_every_key_the_engine_makes_is_a_philox_key():
    assert jax.random.key_impl(draws.root_key(0)) == "philox4x32"
    assert jax.random.key_impl(jax.random.key(0)) == "threefry2x32"  # JAX's default
    for key in (run.seed_key(3), run.day_keys(3, 0, 2), *episode_keys(3)):
        assert key.dtype == draws.root_key(0).dtype, key.dtype


def test_split_fold_in_and_seeds_give_distinct_keys():
    key = draws.root_key(5)
    derived = [
        jax.random.key_data(jax.random.split(key, 1000)),
        jax.random.key_data(jax.vmap(lambda d: jax.random.fold_in(key, d))(jnp.arange(1000))),
        jax.random.key_data(jax.vmap(draws.root_key)(jnp.arange(1000, dtype=jnp.uint32))),
    ]
    rows = np.concatenate([np.asarray(d) for d in derived])
    assert len(np.unique(rows, axis=0)) == 3000  # no two derived keys alike


# --- the 16-bit uniforms of the session kernel ------------------------------------------


def test_uniform16_is_uniform_in_256_bins():
    u = _u16(draws.root_key(1))
    assert _uniform_p(u) > ALPHA
    assert stats.kstest(u, "uniform").pvalue > ALPHA
    # a constant generator puts every draw in one bin: chi-square 255 N, p = 0
    assert _uniform_p(np.full(N, 0.3)) < ALPHA
    # a generator using only the low 7 bits of each half leaves 254 of 256 bins empty
    assert _uniform_p((np.floor(u * 65536) % 128 + 0.5) / 65536) < ALPHA


def test_uniform16_is_never_0_or_1_and_on_the_2_to_minus_16_lattice():
    u = _u16(draws.root_key(2))
    assert u.min() > 0.0 and u.max() < 1.0
    np.testing.assert_array_equal((u * 65536 - 0.5) % 1.0, 0.0)


def test_consecutive_uniforms_are_uncorrelated():
    u = _u16(draws.root_key(3))
    for lag in (1, 2, 3, 4, 5):  # lags 1-3 cross halves, words, and Philox's 4-word blocks
        assert _corr_p(u[:-lag], u[lag:]) > ALPHA, lag
    # a generator repeating each draw (u_2k = u_2k+1) has lag-1 correlation 1/2
    assert _corr_p(np.repeat(u[::2], 2)[:-1], np.repeat(u[::2], 2)[1:]) < ALPHA


def test_the_two_halves_of_a_word_are_independent():
    u = _u16(draws.root_key(4))
    low, high = u[0::2], u[1::2]  # the low and high 16 bits of the same 32-bit word
    assert _corr_p(low, high) > ALPHA
    assert _joint_p(low, high) > ALPHA
    # a half-word duplicated into the other: correlation 1, 240 of 256 joint cells empty
    assert _corr_p(low, low) < ALPHA
    assert _joint_p(low, low) < ALPHA
    # the high half a bit-reversal of the low: uncorrelated-looking but jointly dependent
    rev = (np.floor(low * 65536).astype(np.uint32) ^ 0xFFFF).astype(np.float64) / 65536
    assert _joint_p(low, rev) < ALPHA


def _keys_of_days(seed: int, days: int) -> jax.Array:
    return run.day_keys(seed, 0, days)


def test_draws_of_consecutive_days_are_independent():
    days = 64
    keys = _keys_of_days(9, days)
    u = np.asarray(jax.vmap(lambda k: draws.uniform16(k, (N // days,)))(keys), np.float64)
    x, y = u[:-1].ravel(), u[1:].ravel()  # day d against day d + 1, position by position
    assert _corr_p(x, y) > ALPHA
    assert _joint_p(x, y) > ALPHA
    # the same key every day (no fold_in of the day) repeats the draws: correlation 1
    same = np.broadcast_to(u[0], u.shape)
    assert _corr_p(same[:-1].ravel(), same[1:].ravel()) < ALPHA


def test_draws_of_consecutive_seeds_are_independent():
    seeds = 64
    keys = jax.vmap(lambda s: run.day_keys(s, 0, 1)[0])(jnp.arange(seeds, dtype=jnp.uint32))
    u = np.asarray(jax.vmap(lambda k: draws.uniform16(k, (N // seeds,)))(keys), np.float64)
    x, y = u[:-1].ravel(), u[1:].ravel()  # seed s against seed s + 1 on day 0
    assert _corr_p(x, y) > ALPHA
    assert _joint_p(x, y) > ALPHA
    # seeds folded in as raw key data s and s + 1 without hashing would still pass here;
    # a seed ignored altogether (one stream for all) gives correlation 1
    assert _corr_p(np.tile(u[0], seeds - 1), np.tile(u[0], seeds - 1)) < ALPHA


# --- the other draws the engine makes ---------------------------------------------------


@pytest.mark.parametrize("buyers", [1000, 997])
def test_the_session_buyer_is_uniform_over_buyers(buyers):
    dims = SimpleNamespace(sessions=N, buyers=buyers, categories=4)
    params = SimpleNamespace(market=SimpleNamespace(category_log_weights=jnp.zeros(4)))
    k_buyer, k_u = jax.random.split(run.day_keys(2, 0, 1)[0])  # as shopping.stage splits
    u = draws.uniform16(k_u, (N,))
    buyer = shopping.draw_buyers(k_buyer, dims)
    category = shopping.draw_categories(u, params, dims)
    counts = np.bincount(np.asarray(buyer), minlength=buyers)
    assert len(counts) == buyers  # every index in [0, buyers)
    assert stats.chisquare(counts).pvalue > ALPHA
    assert stats.chisquare(np.bincount(np.asarray(category), minlength=4)).pvalue > ALPHA
    # the buyer uncorrelated with the uniforms of its own session
    assert _corr_p(np.asarray(buyer, np.float64), np.asarray(u, np.float64)) > ALPHA
    # a buyer scaled from an 8-bit uniform reaches only 256 of the buyers: p = 0
    coarse = (np.floor(np.asarray(u) * 256) / 256 * buyers).astype(np.int64)
    assert stats.chisquare(np.bincount(coarse, minlength=buyers)).pvalue < ALPHA
    # and a pile-up of 2% of the draws on buyer 0 shows too
    piled = np.where(np.arange(N) % 50 == 0, 0, np.asarray(buyer))
    assert stats.chisquare(np.bincount(piled, minlength=buyers)).pvalue < ALPHA


def test_normals_and_uniforms_from_engine_keys_follow_their_laws():
    k_n, k_u = jax.random.split(draws.root_key(6))
    z = np.asarray(jax.random.normal(k_n, (N,), jnp.float32), np.float64)
    u = np.asarray(jax.random.uniform(k_u, (N,), jnp.float32), np.float64)
    assert stats.kstest(z, "norm").pvalue > ALPHA
    assert stats.kstest(u, "uniform").pvalue > ALPHA
    assert _corr_p(z, u) > ALPHA
    assert stats.kstest(z + 0.01, "norm").pvalue < ALPHA  # a shift of 1% of a s.d. shows


def test_poisson_keys_give_poisson_counts():
    key = draws.poisson_key(draws.root_key(8))
    n = np.asarray(jax.random.poisson(key, 3.0, (N // 16,)))
    observed = np.bincount(n, minlength=12)[:12]
    expected = stats.poisson.pmf(np.arange(12), 3.0) * len(n)
    observed = np.append(observed, len(n) - observed.sum())
    expected = np.append(expected, len(n) - expected.sum())
    assert stats.chisquare(observed, expected).pvalue > ALPHA
    assert stats.chisquare(observed, np.roll(expected, 1)).pvalue < ALPHA


# --- the reproducibility promise --------------------------------------------------------


def _draws_of_seed(seeds: jax.Array) -> dict[str, jax.Array]:
    """What each seed draws on days 3 and 4, computed for a batch of seeds at once."""

    def one(seed: jax.Array) -> dict[str, jax.Array]:
        keys = run.day_keys(seed, 3, 2)
        k_a, k_b, k_c = jax.random.split(keys[1], 3)
        return {
            "keys": jax.random.key_data(keys),
            "u16": jax.vmap(lambda k: draws.uniform16(k, (257,)))(keys),
            "normal": jax.random.normal(k_a, (5, 3), jnp.float32),
            "randint": jax.random.randint(k_b, (9,), 0, 997, dtype=jnp.int32),
            "poisson": jax.random.poisson(draws.poisson_key(k_c), 2.5, (7,)),
        }

    return jax.jit(jax.vmap(one))(seeds)


def test_draws_do_not_depend_on_how_many_seeds_run_together():
    alone = _draws_of_seed(jnp.asarray([5], jnp.uint32))
    for batch in ([5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8]):
        at = batch.index(5)
        together = _draws_of_seed(jnp.asarray(batch, jnp.uint32))
        for name, value in alone.items():
            np.testing.assert_array_equal(together[name][at], value[0], err_msg=name)
        # and the seeds of a batch draw different numbers from each other
        assert not np.array_equal(together["u16"][at], together["u16"][at - 1])


def test_draws_do_not_depend_on_the_start_day_of_a_chunk():
    whole = jax.vmap(lambda k: draws.uniform16(k, (64,)))(run.day_keys(4, 0, 10))
    tail = jax.vmap(lambda k: draws.uniform16(k, (64,)))(run.day_keys(4, 6, 4))
    np.testing.assert_array_equal(np.asarray(whole[6:]), np.asarray(tail))


def test_a_prefix_of_a_draw_is_the_shorter_draw():
    key = draws.root_key(12)
    long = np.asarray(jax.random.bits(key, (1001,), jnp.uint32))
    for n in (1, 3, 4, 5, 999):
        np.testing.assert_array_equal(np.asarray(jax.random.bits(key, (n,), jnp.uint32)), long[:n])


def test_key_data_round_trips_through_numpy():
    """Keys are never stored in checkpoints (each day's key is derived from the seed), but a
    key's data (two uint32) wraps back to the same key."""
    key = run.day_keys(3, 7, 1)[0]
    data = np.asarray(jax.random.key_data(key))
    assert data.shape == (2,) and data.dtype == np.uint32
    back = jax.random.wrap_key_data(jnp.asarray(data), impl=draws.KEY_IMPL)
    np.testing.assert_array_equal(draws.uniform16(back, (33,)), draws.uniform16(key, (33,)))


@pytest.mark.parametrize("width", [22, 13])
def test_a_block_of_rows_drawn_alone_is_those_rows_of_the_whole_draw(width):
    # the session blocks' promise: a session's uniforms do not depend on its block
    key = draws.root_key(5)
    whole = np.asarray(draws.uniform16(key, (1000, width)))
    for first, rows in [(0, 8), (8, 16), (200, 800), (992, 8)]:
        got = np.asarray(draws.uniform16_rows(key, first, rows, width))
        np.testing.assert_array_equal(got, whole[first : first + rows])
    traced = jax.jit(lambda i: draws.uniform16_rows(key, i * 16, 16, width))(3)
    np.testing.assert_array_equal(np.asarray(traced), whole[48:64])
    past = np.asarray(draws.uniform16_rows(key, 1000, 8, width))  # past the whole draw
    assert np.isin(past, whole).mean() < 1.0  # new draws, not a repeat of earlier rows


def test_a_block_must_start_and_end_on_whole_philox_blocks():
    key = draws.root_key(5)
    for first, rows in [(4, 8), (0, 12)]:
        with pytest.raises(ValueError, match="multiples of 8"):
            draws.uniform16_rows(key, first, rows, 22)
