"""Batched variants (``twosided.sim.batch``): variants of one shape as one program over
variants x seeds draw what their single runs draw; integer outcomes agree exactly over a
short run and floats within float32 rounding."""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import batch, run
from twosided.sim.params import build

TINY = {"market.buyers": 300, "market.seller_capacity": 8, "market.initial_sellers": 4}
SEEDS = [3, 4]
DAYS, CHUNK = 6, 3
# variants that differ only in values: ads weight, commission, a buyer parameter
VARIANTS = [
    {"platforms.0.ranking.ads": 0.0},
    {"platforms.0.ranking.ads": 2.5, "platforms.0.fees.commission": 0.08},
    {"platforms.0.ranking.ads": 1.0, "buyers.switching_cost": 3.0},
]


def _built(overrides: dict) -> tuple:
    return build(apply_overrides(load_scenario("taobao"), {**TINY, **overrides}))


@functools.lru_cache(maxsize=1)
def _runs() -> tuple[list[dict], list[dict]]:
    """Each variant's metrics from the batch and from its own run (same seeds, chunks)."""
    built = [_built(v) for v in VARIANTS]
    dims = built[0][0]
    _, batched = batch.simulate_batch(dims, [p for _, p in built], SEEDS, DAYS, CHUNK)
    single = [run.simulate_arrays(d, p, SEEDS, DAYS, CHUNK)[1] for d, p in built]
    return batched, single


def test_a_batch_gives_each_variant_its_single_runs_outcomes():
    batched, single = _runs()
    assert len(batched) == len(VARIANTS)
    for v, (got, want) in enumerate(zip(batched, single)):
        assert got.keys() == want.keys()
        for name in want:
            a, b = np.asarray(want[name]), np.asarray(got[name])
            assert a.shape == b.shape, name
            if np.issubdtype(a.dtype, np.floating):  # float32 rounding of another shape
                np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-3, err_msg=f"{v} {name}")
            else:  # money, counts, flags: exactly
                np.testing.assert_array_equal(b, a, err_msg=f"variant {v}: {name}")


def test_the_variants_of_a_batch_really_differ():
    batched, _ = _runs()  # each variant ran its own parameters, not the first one's
    for a, b in ((0, 1), (1, 2)):
        assert not np.array_equal(batched[a]["revenue_cents"], batched[b]["revenue_cents"])
    assert batched[0]["sessions"].shape == (len(SEEDS), DAYS, 3)  # [seeds, days, platforms]


def test_params_of_another_shape_do_not_stack():
    _, a = _built({})
    _, b = _built({"market.page_length": 10})  # examination probabilities: [L]
    with pytest.raises(ValueError, match="variant 1 .*another structure or shape"):
        batch.stack_params([a, b])
    assert batch.shape_key(a) == batch.shape_key(_built({"platforms.0.ranking.ads": 3.0})[1])
    assert batch.shape_key(a) != batch.shape_key(b)


def test_stacked_params_have_a_leading_variant_axis():
    _, a = _built({})
    _, b = _built({"platforms.0.ranking.ads": 3.0})
    stacked = batch.stack_params([a, b])
    assert stacked.platform.ranking.ads.shape == (2, *a.platform.ranking.ads.shape)
    np.testing.assert_array_equal(stacked.platform.ranking.ads[1], b.platform.ranking.ads)


def test_only_the_leaves_that_differ_are_batched():
    _, a = _built({})
    _, b = _built({"platforms.0.ranking.ads": 3.0})
    layout, varying, fixed = batch.split_params([a, b, a])
    assert sum(layout.varies) == len(varying) == 1  # ranking.ads alone
    assert varying[0].shape == (3, *a.platform.ranking.ads.shape)
    back = batch.join_params(layout, [x[1] for x in varying], fixed)
    for got, want in zip(jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(got, want)
