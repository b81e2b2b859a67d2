"""Initial state promises: seller types follow the mix of each seller's home platform and
category; buyers' sensitivities follow their log-normal law; the state per buyer is small."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import ScenarioError, apply_overrides, load_scenario
from twosided.sim.params import build
from twosided.sim.run import init_states
from twosided.sim.state import HONEST, NON_SHIPPER, category_of


def _state(overrides: dict, preset: str = "taobao"):
    sc = apply_overrides(load_scenario(preset), overrides)
    dims, params = build(sc)
    state = jax.tree_util.tree_map(
        lambda x: x[0], init_states(jnp.asarray([0], jnp.uint32), dims, params)
    )
    return dims, params, state


def test_seller_types_follow_the_home_platform_and_category_mix():
    cats = 8
    mix = {
        "honest_share": [1.0] * 4 + [0.2] * 4,
        "counterfeiter_share": 0.0,
        "non_shipper_share": [0.0] * 4 + [0.8] * 4,
    }
    dims, _, state = _state(
        {
            "market.seller_capacity": 400,
            "market.initial_sellers": 400,
            "sellers.initial_platforms_share": 0.0,
            "platforms.1.seller_types": mix,
            "platforms.1.initial_seller_share": 1.0,
            "platforms.0.initial_seller_share": 1.0,
            "platforms.2.initial_seller_share": 1.0,
        }
    )
    honesty = np.asarray(state.sellers.honesty)
    listed = np.asarray(state.sellers.listed)
    category = np.asarray(category_of(dims))
    home_pdd = listed[1] & ~listed[0] & ~listed[2]
    low, high = home_pdd & (category < cats // 2), home_pdd & (category >= cats // 2)
    assert (honesty[low] == HONEST).all()
    assert np.mean(honesty[high] == NON_SHIPPER) == pytest.approx(0.8, abs=0.05)
    # the other platforms keep the market's mix (90% honest by default)
    home_tb = listed[0] & ~listed[1] & ~listed[2]
    assert np.mean(honesty[home_tb] == HONEST) == pytest.approx(0.9, abs=0.04)


def test_a_platform_opening_later_starts_with_only_its_own_sellers():
    """Day-0 multi-homing is onto the platforms open on day 0; the late entrant of
    ``pdd_entry`` starts with the few sellers whose home it is (signed up before launch)."""
    dims, params, state = _state({"market.initial_sellers": 50}, preset="pdd_entry")
    listed = np.asarray(state.sellers.listed)
    entry_day = np.asarray(params.platform.entry_day)
    late = int(np.argmax(entry_day))
    assert entry_day[late] > 0
    share_on_late = listed[late][np.asarray(state.sellers.active)].mean()
    assert 0 < share_on_late < 0.10  # its initial_seller_share is 0.05
    # without the rule about 35% of the open platforms' sellers would be waiting there too
    open_ = [p for p in range(len(entry_day)) if entry_day[p] == 0]
    assert (listed[open_[0]] & listed[open_[1]]).mean() > 0.05  # multi-homing still happens


def test_type_shares_must_sum_to_one_per_category():
    with pytest.raises(ScenarioError, match="must be 1"):
        apply_overrides(load_scenario("taobao"), {"sellers.counterfeiter_share": 0.5})
    with pytest.raises(ScenarioError, match="market.categories"):
        apply_overrides(
            load_scenario("taobao"),
            {
                "sellers.honest_share": [0.9, 0.9],
                "sellers.counterfeiter_share": [0.1, 0.1],
                "sellers.non_shipper_share": 0.0,
            },
        )


def test_buyer_sensitivities_are_correlated_log_normals():
    _, params, state = _state({"market.buyers": 200_000})
    lp = np.log(np.asarray(state.buyers.price_sens))
    lq = np.log(np.asarray(state.buyers.quality_sens))
    sc = load_scenario("taobao").buyers
    assert np.median(np.exp(lp)) == pytest.approx(sc.price_sensitivity_median, rel=0.02)
    assert lq.std() == pytest.approx(sc.quality_sensitivity_sigma, rel=0.02)
    assert np.corrcoef(lp, lq)[0, 1] == pytest.approx(sc.sensitivity_correlation, abs=0.01)


def test_state_per_buyer_is_at_most_64_bytes():
    dims, _, state = _state({"market.buyers": 10_000})
    leaves = jax.tree_util.tree_leaves(state.buyers)
    per_buyer = sum(leaf.nbytes for leaf in leaves) / dims.buyers
    assert per_buyer == 4 + 4 + 6 * dims.platforms + 2
    assert per_buyer <= 64
