"""Parameters (``twosided.sim.params``): nested like the schema, one name per quantity,
platform fields stacked on axis 0, derived quantities computed once."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import Platform, apply_overrides, load_scenario
from twosided.sim.params import RECORDS, SECTIONS, _leaves, build, leaf_dtype, leaf_paths


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
