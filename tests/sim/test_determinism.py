"""Determinism: the same scenario and seed give identical tables; different seeds differ;
results do not depend on how days are chunked or how many seeds run together."""

from __future__ import annotations

import pandas as pd

import twosided

SMALL = {"market.buyers": 5000, "market.seller_capacity": 48, "market.initial_sellers": 24}


def test_same_seed_same_tables():
    a = twosided.simulate("taobao", days=20, seed=3, overrides=SMALL)
    b = twosided.simulate("taobao", days=20, seed=3, overrides=SMALL)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.accounts, b.accounts)


def test_different_seeds_differ():
    a = twosided.simulate("taobao", days=10, seed=3, overrides=SMALL)
    b = twosided.simulate("taobao", days=10, seed=4, overrides=SMALL)
    assert not a.daily["gmv_cents"].equals(b.daily["gmv_cents"])


def test_batched_seeds_and_chunking_do_not_change_results():
    batch = twosided.simulate("taobao", days=20, seeds=[3, 4], overrides=SMALL)
    alone = twosided.simulate(
        "taobao", days=20, seed=4, overrides={**SMALL, "chunk_days": 7}
    )
    mine = batch.daily[batch.daily["seed"] == 4].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone.daily.reset_index(drop=True))
