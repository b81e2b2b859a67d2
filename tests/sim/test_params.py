"""Parameters (``twosided.sim.params``): nested like the schema, one name per quantity,
platform fields stacked on axis 0, derived quantities computed once."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import Platform, apply_overrides, load_scenario
from twosided.sim.params import (
    RECORDS,
    SECTIONS,
    _leaves,
    build,
    category_copies,
    leaf_dtype,
    leaf_paths,
)


def _scenario():
    return apply_overrides(
        load_scenario("taobao"),
        {
            "platforms.1.ranking.ads": 2.5,
            "platforms.2.fees.commission": [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08],
            "platforms.0.auction.mechanism": "vcg",
            "market.categories": 8,
        },
    )


def test_a_schema_field_lands_at_its_nested_place_stacked_over_platforms():
    sc = _scenario()
    _, params = build(sc)
    ads = np.asarray(params.platform.ranking.ads)
    assert ads.shape == (3,) and ads[1] == pytest.approx(2.5)
    assert ads.tolist() == pytest.approx([p.ranking.ads for p in sc.platforms])
    assert float(params.buyers.trust_decay_per_day) == pytest.approx(sc.buyers.trust_decay_per_day)
    assert int(params.market.initial_sellers) == sc.market.initial_sellers
    assert np.asarray(params.platform.governance.deposit_cents).tolist() == [
        p.governance.deposit_cents for p in sc.platforms
    ]


def test_every_numeric_schema_field_is_a_leaf_with_the_schemas_value():
    sc = _scenario()
    _, params = build(sc)
    sections = {
        "market": [sc.market],
        "buyers": [sc.buyers],
        "sellers": [sc.sellers],
        "platform": list(sc.platforms),
    }

    def check(path, model, values, record):
        for name in _leaves(model):
            want = [getattr(v, name) for v in values]
            got = np.asarray(getattr(record, name))
            assert got.dtype == np.dtype(leaf_dtype(name, model.model_fields[name].annotation))
            np.testing.assert_allclose(
                got.reshape(-1), np.asarray(want, np.float64), rtol=1e-6, err_msg=f"{path}.{name}"
            )
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and sub.__name__ in {
                "Ranking",
                "Auction",
                "Fees",
                "Escrow",
                "Governance",
            }:
                check(
                    f"{path}.{name}", sub, [getattr(v, name) for v in values], getattr(record, name)
                )

    for path, model in SECTIONS.items():
        check(path, model, sections[path], getattr(params, path))


def test_money_is_int64_cents_counts_int32_behaviour_float32():
    _, params = build(_scenario())
    assert params.platform.fees.service_fee_cents.dtype == jnp.int64
    assert params.platform.escrow.ship_days.dtype == jnp.int32
    assert params.platform.escrow.enabled.dtype == jnp.bool_
    assert params.buyers.switching_cost.dtype == jnp.float32


def test_derived_quantities_per_platform_and_category():
    sc = _scenario()
    dims, params = build(sc)
    P, C = dims.platforms, dims.categories
    commission = np.asarray(params.platform.fees.commission)
    assert commission.shape == (P, C)
    assert commission[2].tolist() == pytest.approx([0.01 * (i + 1) for i in range(8)])
    assert commission[0].tolist() == pytest.approx(sc.platforms[0].fees.commission)  # a list
    assert commission[1].tolist() == pytest.approx([sc.platforms[1].fees.commission] * C)
    assert np.asarray(params.platform.auction.vcg).tolist() == [True, False, False]
    shares = np.asarray(params.platform.seller_types)
    assert shares.shape == (P, C, 3) and np.allclose(shares.sum(axis=-1), 1.0)
    weights = np.exp(np.asarray(params.market.category_log_weights))
    assert weights.sum() == pytest.approx(1.0) and (np.diff(weights) < 0).all()
    examination = np.asarray(params.buyers.examination)
    assert examination.shape == (dims.page_length,) and examination[0] == pytest.approx(1.0)


def test_records_are_generated_from_the_schema():
    assert set(RECORDS) >= {
        "market",
        "buyers",
        "sellers",
        "platform",
        "platform.ranking",
        "platform.fees",
        "platform.escrow",
        "platform.governance",
    }
    _, params = build(load_scenario("monopoly"))
    paths = leaf_paths(params)
    assert "platform.ranking.ads" in paths and "platform.fees.commission" in paths
    assert len(paths) == len(set(paths))
    assert "name" not in _leaves(Platform)  # names and choices are not numbers


def _scaled(buyers: int, target: float | None = 250.0):
    return apply_overrides(
        _scenario(), {"market.buyers": buyers, "market.daily_sessions_per_category": target}
    )


def test_a_market_that_scales_holds_copies_of_each_category_class():
    # 20,000 buyers x 0.2 sessions = 4,000 a day over 8 classes: 2 copies of 250 each
    sc = _scaled(20_000)
    layout = category_copies(sc)
    assert (layout.copies, layout.factor) == (2, pytest.approx(1.0))
    dims, params = build(sc)
    assert dims.categories == 16 and dims.seller_capacity == sc.market.seller_capacity
    assert int(params.market.initial_sellers) == sc.market.initial_sellers
    commission = np.asarray(params.platform.fees.commission)
    # class-major: category c belongs to class c // copies
    assert commission[2].tolist() == pytest.approx([0.01 * (c // 2 + 1) for c in range(16)])
    assert commission[1].tolist() == pytest.approx([sc.platforms[1].fees.commission] * 16)
    _, unscaled = build(_scaled(20_000, None))
    shares = np.asarray(params.platform.seller_types)
    np.testing.assert_array_equal(shares, np.repeat(unscaled.platform.seller_types, 2, axis=1))
    # each copy draws half its class's searches: the classes keep their Zipf shares
    weights = np.exp(np.asarray(params.market.category_log_weights)).reshape(8, 2)
    np.testing.assert_allclose(weights[:, 0], weights[:, 1], rtol=1e-6)
    np.testing.assert_allclose(
        weights.sum(axis=1), np.exp(np.asarray(unscaled.market.category_log_weights)), rtol=1e-5
    )


def test_the_demand_left_after_whole_copies_scales_a_copys_sellers():
    # 15,000 buyers: 1.5 copies' worth of searches -> 2 copies at 0.75 of the target each
    layout = category_copies(_scaled(15_000))
    assert (layout.copies, layout.factor) == (2, pytest.approx(0.75))
    assert (layout.initial_sellers, layout.seller_capacity) == (36, 96)
    dims, params = build(_scaled(15_000))
    assert (dims.categories, dims.seller_capacity) == (16, 96)
    assert int(params.market.initial_sellers) == 36
    # below the target: one copy, thinner in proportion (400 sessions a day against
    # 8 x 2,500), but never without a seller
    small = category_copies(_scaled(2_000, 2_500.0))
    assert (small.copies, small.factor) == (1, pytest.approx(0.02))
    assert (small.initial_sellers, small.seller_capacity) == (1, 3)


def test_without_a_target_the_categories_are_fixed_whatever_the_size():
    for buyers in (2_000, 200_000):
        sc = _scaled(buyers, None)
        dims, params = build(sc)
        assert category_copies(sc).copies == 1
        assert (dims.categories, dims.seller_capacity) == (8, sc.market.seller_capacity)
        assert int(params.market.initial_sellers) == sc.market.initial_sellers
