"""Ranking promises: sponsored slots on top sold by the auction, organic results ordered by
the platform's policy, no listing shown twice, organic positions held only by a bid paid at
the GSP price; and in a short run, weight on ad spend raises ad revenue and lowers
consumer surplus while weight on buyer value does the opposite."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import ledger, ranking
from twosided.sim.params import build
from twosided.sim.run import init_states

from ..conftest import cached_run


def _pages(overrides: dict):
    sc = apply_overrides(
        load_scenario("monopoly"),
        {
            "market.categories": 1,
            "market.seller_capacity": 40,
            "market.initial_sellers": 40,
            "market.ranking_noise": 0.0,
            "platforms.0.fees.commission": 0.02,
            **overrides,
        },
    )
    dims, params = build(sc)
    state = jax.tree_util.tree_map(
        lambda x: x[0], init_states(jnp.asarray([0], jnp.uint32), dims, params)
    )
    listings = ranking.listing_features(
        state.sellers, params, state.market.log_ref_price, dims, jnp.int32(0)
    )
    pages = ranking.build_pages(jax.random.key(0), listings, params, dims)
    return dims, params, listings, pages


def test_page_has_ads_on_top_then_organic_by_policy_without_repeats():
    dims, params, listings, pages = _pages({"platforms.0.ranking.ads": 0.0})
    listing = np.asarray(pages.listing[0])
    sponsored = np.asarray(pages.sponsored[0])
    shown = listing[listing >= 0]
    assert len(shown) == len(set(shown.tolist())) == dims.page_length
    n_ads = int(sponsored.sum())
    assert n_ads == 3 and sponsored[:n_ads].all() and not sponsored[n_ads:].any()
    # organic positions follow the relevance score (no noise, no ad weight)
    cand = np.asarray(listings.candidate[0])
    rel = np.asarray(
        ranking.relevance(
            listings.rating[0],
            listings.log_rel_price[0],
            params.platform.fees.commission[0, 0]
            * listings.price[0].astype(jnp.float32)
            * listings.attract[0]
            * params.sellers.conversion_estimate,
            listings.candidate[0],
            (
                params.platform.ranking.quality[0],
                params.platform.ranking.price[0],
                params.platform.ranking.commission[0],
            ),
        )
    )
    organic = listing[n_ads:]
    assert np.all(np.diff(rel[organic]) <= 1e-6)
    # with no ad weight no organic position pays
    assert np.all(np.asarray(pages.cpc[0])[n_ads:] == 0)
    # the ads are the highest bid × predicted click rate among candidates
    score = np.where(cand, np.asarray(listings.bid[0]) * np.asarray(listings.attract[0]), -1)
    assert set(listing[:n_ads].tolist()) == set(np.argsort(-score)[:n_ads].tolist())


def test_bid_weight_sells_organic_positions_at_the_gsp_price():
    _, params, listings, pages = _pages({"platforms.0.ranking.ads": 2.0})
    cpc = np.asarray(pages.cpc[0])
    sponsored = np.asarray(pages.sponsored[0])
    paid_organic = (cpc > 0) & ~sponsored
    assert paid_organic.any()
    bids = np.asarray(listings.bid[0])[np.asarray(pages.listing[0])]
    assert np.all(cpc <= np.floor(bids) + 1e-9)
    assert np.all(cpc[paid_organic] >= float(params.platform.auction.reserve_cents[0]))


def test_organic_price_formula():
    price = ranking.organic_prices(
        base=jnp.asarray([1.0, 2.0]),
        next_score=jnp.asarray([1.5, 1.5]),
        w_ads=jnp.float32(2.0),
        mean_bid=jnp.float32(100.0),
        bid=jnp.asarray([80.0, 80.0]),
        reserve=jnp.float32(10.0),
    )
    # first needs (1.5 − 1.0) × 100 / 2 = 25 cents; the second holds its place on merit
    assert np.asarray(price).tolist() == [25.0, 0.0]


SHORT = {"market.buyers": 50_000}


def _platform0(overrides: dict) -> dict:
    r = cached_run("taobao", 45, seeds=2, overrides={**SHORT, **overrides})
    d = r.daily[r.daily["platform_id"] == 0]
    return d.groupby("seed")[["revenue_ads_cents", "consumer_surplus_cents"]].sum()


@pytest.mark.parametrize("low,high", [(0.0, 1.0), (1.0, 3.0)])
def test_weight_on_ad_spend_raises_ad_revenue_and_lowers_surplus(low, high):
    a = _platform0({"platforms.0.ranking.ads": low})
    b = _platform0({"platforms.0.ranking.ads": high})
    assert (b["revenue_ads_cents"] > a["revenue_ads_cents"] * 1.03).all()
    assert (b["consumer_surplus_cents"] < a["consumer_surplus_cents"] * 0.99).all()


def test_weight_on_buyer_value_does_the_opposite():
    a = _platform0({})
    b = _platform0({"platforms.0.ranking.quality": 3.0, "platforms.0.ranking.price": 3.0})
    assert (b["revenue_ads_cents"] < a["revenue_ads_cents"]).all()
    assert (b["consumer_surplus_cents"] > a["consumer_surplus_cents"] * 1.03).all()


def test_paid_positions_are_charged_their_price_for_each_click():
    from .conftest import one_day

    dims, params, state, after, r = one_day("taobao")
    clicks = np.asarray(r.clicks.clicks)
    assert clicks.sum() == np.asarray(r.session.clicked).sum()
    due = (clicks * np.asarray(r.pages.cpc)).reshape(dims.platforms, -1).sum(axis=1)
    assert np.asarray(r.clicks.flows.ads).tolist() == due.tolist()
    assert int(r.flows[ledger.S["ads"]].sum()) == int(due.sum())


def test_uncharged_organic_positions_keep_their_place_and_pay_nothing():
    """``auction.charge_organic = False``: the bid still lifts listings in the organic
    ranking (the same page), no organic position pays, sponsored prices are unchanged."""
    ads = {"platforms.0.ranking.ads": 2.0}
    _, _, _, charged = _pages(ads)
    _, _, _, free = _pages({**ads, "platforms.0.auction.charge_organic": False})
    sponsored = np.asarray(charged.sponsored)
    np.testing.assert_array_equal(np.asarray(free.listing), np.asarray(charged.listing))
    np.testing.assert_array_equal(np.asarray(free.sponsored), sponsored)
    assert np.any(np.asarray(charged.cpc)[~sponsored] > 0)  # organic positions were sold
    assert np.all(np.asarray(free.cpc)[~sponsored] == 0)
    np.testing.assert_array_equal(
        np.asarray(free.cpc)[sponsored], np.asarray(charged.cpc)[sponsored]
    )


def test_uncharged_organic_clicks_earn_no_ad_revenue_on_a_day():
    """A day of a taobao world that weights bids heavily: with ``charge_organic = False``
    on every platform the day's ad revenue is exactly its sponsored clicks' revenue under
    today's rule (the clicks are the same: buyers never see prices per click)."""
    from .conftest import one_day

    world = {
        "market.buyers": 3000,
        "market.seller_capacity": 30,
        "market.initial_sellers": 30,
        **{f"platforms.{p}.ranking.ads": 2.0 for p in range(3)},
    }
    _, _, _, _, charged = one_day("taobao", world)
    free_all = {f"platforms.{p}.auction.charge_organic": False for p in range(3)}
    _, _, _, _, free = one_day("taobao", {**world, **free_all})
    sponsored = np.asarray(charged.pages.sponsored)
    np.testing.assert_array_equal(np.asarray(free.clicks.clicks), np.asarray(charged.clicks.clicks))
    paid = np.asarray(charged.clicks.ad_cents)
    assert paid[~sponsored].sum() > 0  # organic clicks were charged under today's rule
    assert np.all(np.asarray(free.clicks.ad_cents)[~sponsored] == 0)
    np.testing.assert_array_equal(np.asarray(free.clicks.ad_cents)[sponsored], paid[sponsored])
    sponsored_revenue = (paid * sponsored).reshape(3, -1).sum(axis=1)
    np.testing.assert_array_equal(np.asarray(free.clicks.flows.ads), sponsored_revenue)
