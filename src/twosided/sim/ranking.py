"""Search ranking: the results page of every platform and keyword market for one day.

A page is built once per day for each (platform, category) and shown to every buyer who
searches there that day (rankings are not personalized). It has two parts:

1. Sponsored slots at the top, sold by the platform's keyword auction
   (``auction.auction_core``), quality-scored by each ad's predicted click rate.
2. Organic results below, ranked by the platform's *ranking policy*: a weighted sum of
   standardized terms (z-scores within the keyword market) plus the ad-spend term

       score_j = w_quality·z(rating_j) + w_price·z(−log price_j)
               + w_commission·z(expected commission per impression_j)
               + noise_j + w_ads · bid_j / mean bid

   The first two serve the buyer (users); the commission and ad terms serve the platform's
   revenue from sellers (customers). Listings already shown as ads are not repeated. An
   organic position that a listing holds only thanks to its bid is paid per click at the
   least bid that would have held it (``organic_prices``): the generalized-second-price
   rule applied to the blended ranking, so weighting ad spend monetizes organic traffic;
   a platform with ``auction.charge_organic = False`` does not charge them (the bid still
   lifts the listing, its organic clicks are free).

Listing features (price, public rating, predicted click rate, bid) are computed here too,
since both the auction and the ranking use them; the price is ``pricing.listed_prices``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from twosided.sim import pricing
from twosided.sim.auction import auction_core
from twosided.sim.ledger import flow_record
from twosided.sim.params import F32, I32, I64, Dims, Params
from twosided.sim.pytree import pytree_dataclass
from twosided.sim.state import Sellers, State, unit_cost

if TYPE_CHECKING:
    from twosided.sim.shopping import Session


@pytree_dataclass
class Listings:
    """Per-listing features on one day, [P, M]."""

    candidate: jax.Array  # bool: listed, active seller, platform open
    price: jax.Array  # i64 cents
    log_rel_price: jax.Array  # f32 log(price / category reference price)
    rating: jax.Array  # f32 public rating (Bayesian average of experience scores)
    attract: jax.Array  # f32 predicted click rate when examined (the ad quality score)
    bid: jax.Array  # f32 cents per click
    unit_cost: jax.Array  # f32 cents, what the seller pays per order


@pytree_dataclass
class Pages:
    """Results pages, one row per keyword market g = platform × C + category."""

    listing: jax.Array  # i32[G, L] seller slot shown, -1 if the position is empty
    price: jax.Array  # i64[G, L] cents
    log_rel_price: jax.Array  # f32[G, L]
    rating: jax.Array  # f32[G, L]
    attract: jax.Array  # f32[G, L]
    sponsored: jax.Array  # bool[G, L]
    cpc: jax.Array  # i64[G, L] price per click of a paid position (sponsored or bought), cents
    misaligned: jax.Array  # bool[G, L] a listing a buyer-first ranking would not have put on
    #                        the page: below the L best for the typical buyer in its market
    min_price: jax.Array  # f32[G] lowest price on the page (what a comparing buyer sees)
    n_listed: jax.Array  # i32[G] listings in the market


def public_rating(sellers: Sellers, params: Params) -> jax.Array:
    """Bayesian-average rating: the listed quality as a prior worth ``rating_prior_weight``
    pseudo-reviews, updated by buyers' experience scores (0 for a parcel never delivered)."""
    w = params.sellers.rating_prior_weight
    return (w * sellers.quality[None, :] + sellers.rating_sum) / (w + sellers.rating_n)


def attractiveness(rating: jax.Array, log_rel_price: jax.Array, params: Params) -> jax.Array:
    """Click probability of an examined listing (the cascade-free position-based model's
    attractiveness): a logistic function of rating and relative price."""
    z = (
        params.buyers.click_intercept
        + params.buyers.click_quality_weight * rating
        - params.buyers.click_price_weight * log_rel_price
    )
    return jax.nn.sigmoid(z)


def listing_features(
    sellers: Sellers, params: Params, log_ref_price: jax.Array, dims: Dims, day: jax.Array
) -> Listings:
    """Prices, ratings, click rates and bids of every listing on every platform."""
    category = jnp.arange(dims.sellers, dtype=I32) // dims.seller_capacity
    price, passed = pricing.listed_prices(sellers, params, dims)
    price_f = price.astype(F32)
    log_rel = jnp.log(price_f) - log_ref_price[category][None, :]
    rating = public_rating(sellers, params)
    attract = attractiveness(rating, log_rel, params)
    cost = unit_cost(sellers, params)[None, :]
    # a click is worth the margin the seller keeps of the price, not the fees it passed on
    margin = jnp.maximum(price_f * (1.0 - passed) - cost, 0.0)
    bid = sellers.ad_intensity * margin * params.sellers.conversion_estimate
    open_ = day >= params.platform.entry_day
    candidate = sellers.listed & sellers.active[None, :] & open_[:, None]
    return Listings(
        candidate=candidate,
        price=price,
        log_rel_price=log_rel,
        rating=rating,
        attract=attract,
        bid=bid,
        unit_cost=jnp.broadcast_to(cost, price.shape),
    )


def typical_buyer_value(rating: jax.Array, log_rel_price: jax.Array, params: Params) -> jax.Array:
    """A listing's utility to the median buyer (median β_quality and β_price): the yardstick
    for whether an ad serves buyers as well as the organic alternative."""
    return (
        params.buyers.quality_sensitivity_median * rating
        - params.buyers.price_sensitivity_median * log_rel_price
    )


def _zscore(x: jax.Array, mask: jax.Array) -> jax.Array:
    n = jnp.maximum(jnp.sum(mask), 1)
    mean = jnp.sum(jnp.where(mask, x, 0.0)) / n
    var = jnp.sum(jnp.where(mask, (x - mean) ** 2, 0.0)) / n
    return (x - mean) / jnp.where(var > 0, jnp.sqrt(var), 1.0)


def relevance(
    rating: jax.Array,
    log_rel_price: jax.Array,
    expected_commission: jax.Array,
    candidate: jax.Array,
    weights: tuple[jax.Array, jax.Array, jax.Array],
) -> jax.Array:
    """The ranking policy's blend of standardized non-ad terms; -inf for non-candidates."""
    w_q, w_p, w_c = weights
    score = (
        w_q * _zscore(rating, candidate)
        + w_p * _zscore(-log_rel_price, candidate)
        + w_c * _zscore(expected_commission, candidate)
    )
    return jnp.where(candidate, score, -jnp.inf)


def ad_boost(
    bid: jax.Array, candidate: jax.Array, reserve: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The ad-spend term: a bid (at or above the reserve) relative to the market's mean bid.

    Returns ``(term, mean bid)``; the term is 0 for sellers who do not bid.
    """
    eff = jnp.where(candidate & (bid >= reserve), bid, 0.0)
    n = jnp.maximum(jnp.sum(candidate), 1)
    mean = jnp.sum(eff) / n
    return eff / jnp.where(mean > 0, mean, 1.0), jnp.where(mean > 0, mean, 1.0)


def organic_prices(
    base: jax.Array,
    next_score: jax.Array,
    w_ads: jax.Array,
    mean_bid: jax.Array,
    bid: jax.Array,
    reserve: jax.Array,
) -> jax.Array:
    """Price per click of organic positions held by ad spend (GSP on the blended ranking).

    A listing ranked by ``base + w_ads · bid / mean_bid`` pays per click the least bid that
    would have kept it above the next listing, ``(next − base) · mean_bid / w_ads``, when that
    is positive (its own merit alone would not have held the position); at least the
    reserve, never more than its bid. With ``w_ads = 0`` no organic position is paid.
    """
    needed = (next_score - base) * mean_bid / jnp.where(w_ads > 0, w_ads, 1.0)
    paid = (w_ads > 0) & jnp.isfinite(needed) & (needed > 0)
    price = jnp.minimum(jnp.maximum(jnp.round(needed), reserve), jnp.floor(bid))
    return jnp.where(paid, price, 0.0)


def _market_page(
    candidate,
    rating,
    log_rel,
    attract,
    bid,
    exp_comm,
    noise,
    weights,
    slot_clicks,
    reserve,
    vcg,
    increment,
    charge_organic,
    page_length,
):
    """One keyword market's page: sponsored winners on top, then organic results.

    Returns the listing at each position, whether it is a sponsored slot, and the price
    per click each position pays (sponsored slots, and organic positions bought by bids
    where ``charge_organic``).
    """
    n = candidate.shape[0]
    ad_bid = jnp.where(candidate, bid, 0.0)
    winners, cpc = auction_core(ad_bid, attract, slot_clicks, reserve, vcg, increment)
    # charged in whole cents, never above the winner's own bid
    cpc = jnp.minimum(jnp.round(cpc), jnp.floor(ad_bid[jnp.clip(winners, 0, n - 1)]))
    n_ads = jnp.sum(winners >= 0)

    w_q, w_p, w_c, w_a = weights
    base = relevance(rating, log_rel, exp_comm, candidate, (w_q, w_p, w_c)) + noise
    boost, mean_bid = ad_boost(ad_bid, candidate, reserve)
    is_ad = jnp.zeros((n,), bool).at[jnp.where(winners >= 0, winners, n)].set(True, mode="drop")
    score = jnp.where(is_ad, -jnp.inf, base + w_a * boost)
    pad = max(0, page_length + 1 - n)
    score_p = jnp.concatenate([score, jnp.full((pad,), -jnp.inf, score.dtype)])
    org_score, organic = jax.lax.top_k(score_p, page_length + 1)
    shown = jnp.isfinite(org_score[:page_length])
    idx = jnp.clip(organic[:page_length], 0, n - 1)
    org_cpc = jnp.where(
        shown & charge_organic,
        organic_prices(base[idx], org_score[1:], w_a, mean_bid, ad_bid[idx], reserve),
        0.0,
    )
    organic = jnp.where(shown, organic[:page_length], -1)

    k = jnp.arange(page_length)
    ad_part = jnp.concatenate(
        [winners, jnp.full((max(0, page_length - winners.shape[0]),), -1, jnp.int32)]
    )[:page_length]
    ad_cpc = jnp.concatenate([cpc, jnp.zeros((max(0, page_length - cpc.shape[0]),), cpc.dtype)])[
        :page_length
    ]
    from_ads = k < n_ads
    j = jnp.clip(k - n_ads, 0, page_length - 1)
    listing = jnp.where(from_ads, ad_part, organic[j])
    price = jnp.where(from_ads, ad_cpc, org_cpc[j])
    return listing.astype(jnp.int32), from_ads & (listing >= 0), jnp.where(listing >= 0, price, 0.0)


def build_pages(key: jax.Array, listings: Listings, params: Params, dims: Dims) -> Pages:
    """Every platform's results page for every category today.

    ``key`` draws the day's ranking noise (``ranking_noise`` in z units) added to each
    organic score: the relevance and personalization differences the model leaves out.
    """
    P, C, Mc, L = dims.platforms, dims.categories, dims.seller_capacity, dims.page_length
    A = dims.ad_slots

    def per_market(x: jax.Array) -> jax.Array:
        return x.reshape(P, C, Mc)

    price_f = listings.price.astype(F32)
    commission = params.platform.fees.commission[:, :, None]  # [P, C, 1]
    exp_comm = (
        commission
        * per_market(price_f)
        * per_market(listings.attract)
        * params.sellers.conversion_estimate
    )
    slot_clicks = params.buyers.examination[:A][None, :] * (
        jnp.arange(A)[None, :] < params.platform.auction.slots[:, None]
    )  # [P, A]
    weights = (
        params.platform.ranking.quality,
        params.platform.ranking.price,
        params.platform.ranking.commission,
        params.platform.ranking.ads,
    )

    page_fn = jax.vmap(  # over categories
        _market_page,
        in_axes=(0, 0, 0, 0, 0, 0, 0, None, None, None, None, None, None, None),
    )
    page_fn = jax.vmap(  # over platforms
        page_fn,
        in_axes=(0, 0, 0, 0, 0, 0, 0, (0, 0, 0, 0), 0, 0, 0, 0, 0, None),
    )
    local, sponsored, cpc = page_fn(
        per_market(listings.candidate),
        per_market(listings.rating),
        per_market(listings.log_rel_price),
        per_market(listings.attract),
        per_market(listings.bid),
        exp_comm,
        params.market.ranking_noise * jax.random.normal(key, (P, C, Mc), F32),
        weights,
        slot_clicks,
        params.platform.auction.reserve_cents.astype(F32),
        params.platform.auction.vcg,
        params.platform.auction.increment_cents.astype(F32),
        params.platform.auction.charge_organic,
        L,
    )  # [P, C, L] local index within the category block
    valid = local >= 0
    offset = (jnp.arange(C, dtype=jnp.int32) * Mc)[None, :, None]
    glob = jnp.where(valid, local + offset, 0)  # global slot index
    plat = jnp.arange(P)[:, None, None]

    def gather(x: jax.Array) -> jax.Array:
        return x[plat, glob]

    price = jnp.where(valid, gather(listings.price), 0)
    cpc_cents = jnp.where(valid, cpc.astype(I64), 0)
    min_price = jnp.min(jnp.where(valid, price.astype(F32), jnp.inf), axis=-1)
    value = typical_buyer_value(listings.rating, listings.log_rel_price, params)
    value_pcm = jnp.where(per_market(listings.candidate), per_market(value), -jnp.inf)
    pad_v = max(0, L - Mc)
    value_pcm = jnp.concatenate([value_pcm, jnp.full((P, C, pad_v), -jnp.inf, F32)], axis=-1)
    cutoff = jax.lax.top_k(value_pcm, L)[0][..., -1:]  # the L-th best value in each market
    misaligned = valid & (gather(value) < cutoff)
    G = P * C
    return Pages(
        listing=jnp.where(valid, glob, -1).reshape(G, L),
        price=price.reshape(G, L),
        log_rel_price=jnp.where(valid, gather(listings.log_rel_price), 0.0).reshape(G, L),
        rating=jnp.where(valid, gather(listings.rating), 0.0).reshape(G, L),
        attract=jnp.where(valid, gather(listings.attract), 0.0).reshape(G, L),
        sponsored=sponsored.reshape(G, L),
        misaligned=misaligned.reshape(G, L),
        cpc=cpc_cents.reshape(G, L),
        min_price=min_price.reshape(G),
        n_listed=jnp.sum(per_market(listings.candidate), axis=-1).reshape(G).astype(I32),
    )


def stage(state: State, params: Params, key: jax.Array, dims: Dims) -> tuple[State, Pages]:
    """Results pages: every platform's page for every category today (the state is
    unchanged; the pages are the day's record)."""
    listings = listing_features(state.sellers, params, state.market.log_ref_price, dims, state.day)
    return state, build_pages(key, listings, params, dims)


@flow_record
class AdFlows:
    """What sellers pay for the day's clicks on paid positions ([P] int64 cents)."""

    ads: jax.Array


@pytree_dataclass
class Clicks:
    """The day's clicks per keyword market and position ([G, L] int64), what they cost
    (``ad_cents``, [G, L]) and the money of it."""

    clicks: jax.Array
    ad_cents: jax.Array
    flows: AdFlows


def charge_clicks(
    state: State, params: Params, dims: Dims, *, pages: Pages, session: Session
) -> tuple[State, Clicks]:
    """Paid positions are charged per click: their price per click (``Pages.cpc``) times
    the clicks they got today."""
    P, C, L = dims.platforms, dims.categories, dims.page_length
    clicks = jax.ops.segment_sum(  # counted in int32 (below S < 2^31), then widened
        session.clicked.astype(I32), session.market, num_segments=P * C
    ).astype(I64)  # [G, L]
    ad_cents = clicks * pages.cpc
    flows = AdFlows(ads=jnp.sum(ad_cents.reshape(P, C * L), axis=1))
    return state, Clicks(clicks=clicks, ad_cents=ad_cents, flows=flows)
