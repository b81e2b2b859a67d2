"""Seller behaviour: sales records, strategy adaptation, multi-homing, entry and exit.

* Ratings: each order adds the buyer's experience score (delivered quality; 0 when nothing
  arrived) to the listing's rating (``ranking.public_rating``).
* Adaptation, every ``adaptation_period`` days: each seller draws a random peer of its
  category. Per platform where both are listed, if the peer earned more in the period the
  seller imitates with probability ``min(1, Δprofit / imitation_scale)`` (proportional
  imitation, Schlag 1998), moving its markup and ad intensity ``imitation_step`` of the
  way toward the peer's. On total profit across platforms it imitates the peer's quality,
  and with probability ``type_imitation_rate`` its honesty type. Then every strategy is
  perturbed by a small mutation (experimentation).
* Prices: the markup is over cost; with ``fee_pass_through`` > 0 a share of the
  platform's fees is added on top (``pricing``). Each revision records the listing's ad
  spend per cent of sales over the period that ends (``ad_cost_share``), the ad part of
  those fees.
* Exit: a listing that lost money or sold nothing for ``exit_after_periods`` periods in a
  row is withdrawn; a seller listed nowhere leaves the market (its slot becomes free).
* Multi-homing: a seller lists on an open platform where listings of its category earned
  more per listing than its own did, with probability ``multihome_rate`` per period.
* Entry: each day ``Poisson(entry_per_thousand_sessions × sessions / 1000)`` new sellers
  try to enter each platform and category, taking free slots: entry follows traffic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from twosided.sim import draws, fees, governance, pricing
from twosided.sim.ledger import flow_record
from twosided.sim.params import F32, I32, I64, Dims, Params
from twosided.sim.pytree import pytree_dataclass, replace
from twosided.sim.ranking import Clicks, Pages
from twosided.sim.state import (
    HONEST,
    Sellers,
    State,
    category_of,
    draw_quality,
    draw_strategy,
    draw_types,
    is_open,
    live_listings,
)

if TYPE_CHECKING:
    from twosided.sim.shopping import Session


@flow_record
class SellerCosts:
    """What sellers pay the rest of the economy today ([P] int64 cents)."""

    cost_of_goods: jax.Array
    fixed_costs: jax.Array
    fake_reviews: jax.Array


@pytree_dataclass
class Accounts:
    """Sellers' books of the day: which listings traded (``live``, [P, M]), each
    listing's profit ([P, M] cents, float) and the costs paid out."""

    live: jax.Array
    profit: jax.Array
    costs: SellerCosts


@pytree_dataclass
class Turnover:
    """Listings that ended or opened at revisions and entry today ([P] counts) and their
    money (deposits, fees): ``revised`` is settled before entrants arrive."""

    exits: jax.Array
    entries: jax.Array
    revised: fees.ListingChanges
    entered: fees.ListingChanges


def record_sales(
    sellers: Sellers,
    orders: jax.Array,
    reviews: jax.Array,
    scores: jax.Array,
    profit: jax.Array,
    sales: jax.Array,
) -> Sellers:
    """Add a day's orders, reviews (real and fake) and their scores, profit and kept sales
    ([P, M]) to the records."""
    return replace(
        sellers,
        rating_sum=sellers.rating_sum + scores,
        rating_n=sellers.rating_n + reviews,
        period_profit=sellers.period_profit + profit,
        period_orders=sellers.period_orders + orders,
        year_sales=sellers.year_sales + sales,
    )


def _imitate(
    key: jax.Array, own: jax.Array, peer: jax.Array, eligible: jax.Array, params: Params
) -> jax.Array:
    """Proportional imitation: copy with probability min(1, Δprofit / scale)."""
    p = jnp.clip((peer - own) / params.sellers.imitation_scale_cents, 0.0, 1.0)
    return eligible & (jax.random.uniform(key, own.shape) < p)


def revise(
    key: jax.Array, sellers: Sellers, open_: jax.Array, params: Params, dims: Dims
) -> tuple[Sellers, jax.Array]:
    """One revision of every seller's strategy, listings and presence.

    Returns the revised sellers and the mask of listings newly created by multi-homing
    (they still owe their deposit and fee; see ``fees.listing_changes``).
    """
    P, M, Mc = dims.platforms, dims.sellers, dims.seller_capacity
    k_peer, k_imit, k_simit, k_type, k_mut, k_home, k_screen = jax.random.split(key, 7)
    category = category_of(dims)
    peer = category * Mc + jax.random.randint(k_peer, (M,), 0, Mc, dtype=I32)
    listed = sellers.listed & sellers.active[None, :]
    profit = sellers.period_profit
    step = params.sellers.imitation_step

    # per platform: markup and ad intensity toward a more profitable peer (the peer's last
    # complete period: revisions are staggered, so its current one is still running)
    peer_profit = sellers.last_profit[:, peer]
    both = listed & listed[:, peer]
    copy = _imitate(k_imit, profit, peer_profit, both, params)
    markup = jnp.where(
        copy, sellers.markup + step * (sellers.markup[:, peer] - sellers.markup), sellers.markup
    )
    ads = jnp.where(
        copy,
        sellers.ad_intensity + step * (sellers.ad_intensity[:, peer] - sellers.ad_intensity),
        sellers.ad_intensity,
    )

    # seller level: quality and honesty type toward a more profitable peer
    total = jnp.sum(jnp.where(listed, profit, 0.0), axis=0)
    peer_total = jnp.sum(jnp.where(listed, sellers.last_profit, 0.0), axis=0)[peer]
    alike = sellers.active & sellers.active[peer] & (peer != jnp.arange(M))
    copy_s = _imitate(k_simit, total, peer_total, alike, params)
    adopt_type = copy_s & (jax.random.uniform(k_type, (M,)) < params.sellers.type_imitation_rate)
    honesty = jnp.where(adopt_type, sellers.honesty[peer], sellers.honesty)
    peer_q = sellers.quality[peer]
    quality = jnp.where(
        copy_s & (honesty == HONEST) & (sellers.honesty[peer] == HONEST),
        sellers.quality + step * (peer_q - sellers.quality),
        sellers.quality,
    )
    quality = jnp.where(adopt_type, peer_q, quality)  # a new trade brings the peer's goods

    # experimentation
    noise = params.sellers.mutation_sd * jax.random.normal(k_mut, (2 * P + 1, M), F32)
    markup = jnp.maximum(markup + noise[:P], 0.0)
    ads = jnp.maximum(ads + noise[P : 2 * P], 0.0)
    quality = jnp.where(
        honesty == HONEST,
        jnp.clip(quality + noise[2 * P], params.sellers.quality_low, params.sellers.quality_high),
        params.sellers.counterfeit_claimed_quality,
    )

    # exit after sustained losses or no sales
    losing = listed & open_[:, None] & ((profit <= 0.0) | (sellers.period_orders <= 0.0))
    streak = jnp.where(losing, sellers.loss_streak + 1, 0)
    leave = listed & (streak >= params.sellers.exit_after_periods)

    # multi-homing toward platforms where the category pays better
    per_market = lambda x: x.reshape(P, dims.categories, Mc)  # noqa: E731
    n_market = jnp.maximum(jnp.sum(per_market(listed), axis=-1), 1)
    avg = jnp.sum(per_market(jnp.where(listed, sellers.last_profit, 0.0)), axis=-1) / n_market
    own_avg = total / jnp.maximum(jnp.sum(listed, axis=0), 1)
    better = avg[:, category] > jnp.maximum(own_avg, 0.0)[None, :]
    apply = (
        sellers.active[None, :]
        & ~listed
        & open_[:, None]
        & better
        & (jax.random.uniform(k_home, (P, M)) < params.sellers.multihome_rate)
    )
    apply = apply & ~governance.screened(k_screen, apply, honesty, params)

    new_listed = (listed & ~leave) | apply
    revised = replace(
        sellers,
        active=sellers.active & new_listed.any(axis=0),
        quality=quality,
        honesty=honesty,
        listed=new_listed,
        markup=markup,
        ad_intensity=ads,
        rating_sum=jnp.where(apply, 0.0, sellers.rating_sum),
        rating_n=jnp.where(apply, 0.0, sellers.rating_n),
        last_profit=profit,
        period_profit=jnp.zeros_like(profit),
        period_orders=jnp.zeros_like(profit),
        ad_cost_share=jnp.where(apply, 0.0, pricing.ad_cost_share(sellers)),
        period_ad_cents=jnp.zeros_like(profit),
        period_sales_cents=jnp.zeros_like(profit),
        loss_streak=jnp.where(new_listed & ~apply, streak, 0).astype(I32),
        year_sales=jnp.where(apply, 0, sellers.year_sales),
    )
    return revised, apply


def revise_due(
    key: jax.Array, sellers: Sellers, open_: jax.Array, day: jax.Array, params: Params, dims: Dims
) -> tuple[Sellers, jax.Array]:
    """Revise the sellers whose period ends today. Periods are staggered: slot ``m`` revises
    when ``(day + 1 + m) % adaptation_period == 0``, so the market never moves in lockstep."""
    revised, apply = revise(key, sellers, open_, params, dims)
    due = (day + 1 + jnp.arange(dims.sellers)) % params.sellers.adaptation_period_days == 0

    def pick(new: jax.Array, old: jax.Array) -> jax.Array:
        return jnp.where(due if old.ndim == 1 else due[None, :], new, old)

    merged = jax.tree_util.tree_map(pick, revised, sellers)
    return merged, apply & due[None, :]


def enter(
    key: jax.Array,
    sellers: Sellers,
    sessions: jax.Array,
    open_: jax.Array,
    log_ref_price: jax.Array,
    params: Params,
    dims: Dims,
) -> tuple[Sellers, jax.Array]:
    """New sellers take free slots, in numbers that follow each market's traffic.

    ``sessions`` is [P, C]. Returns the sellers and the mask of new listings [P, M].
    """
    P, C, Mc, M = dims.platforms, dims.categories, dims.seller_capacity, dims.sellers
    k_n, k_cost, k_type, k_q, k_strat, k_screen = jax.random.split(key, 6)
    rate = params.sellers.entry_per_thousand_sessions * sessions.astype(F32) / 1000.0
    entrants = jax.random.poisson(draws.poisson_key(k_n), rate, dtype=I32)
    n = jnp.where(open_[:, None], entrants, 0)  # [P, C]
    free = ~sellers.active.reshape(C, Mc)
    rank = jnp.cumsum(free, axis=1) - 1  # order of each free slot within its category
    cum = jnp.cumsum(n, axis=0)  # [P, C]
    takes = free & (rank < cum[-1][:, None])
    # slot with rank r goes to the first platform whose cumulative entrants exceed r
    home = jnp.sum(rank[None, :, :] >= cum[:, :, None], axis=0)  # [C, Mc]
    takes, home = takes.reshape(M), jnp.minimum(home.reshape(M), P - 1)

    category = category_of(dims)
    log_cost_level = log_ref_price - jnp.log1p(params.sellers.markup_mean)
    base_cost = jnp.exp(
        log_cost_level[category]
        + params.market.seller_cost_sigma * jax.random.normal(k_cost, (M,), F32)
    )
    honesty = draw_types(k_type, home, category, params)
    quality = draw_quality(k_q, honesty, params)
    markup, ads = draw_strategy(k_strat, (P, M), params)
    applying = takes[None, :] & (jnp.arange(P)[:, None] == home[None, :])
    new = applying & ~governance.screened(k_screen, applying, honesty, params)
    fresh = new.any(axis=0)

    def pick(new_value: jax.Array, old: jax.Array) -> jax.Array:
        mask = fresh if old.ndim == 1 else fresh[None, :]
        return jnp.where(mask, new_value, old)

    zf = jnp.zeros((P, M), F32)
    entered = replace(
        sellers,
        active=sellers.active | fresh,
        base_cost=pick(base_cost, sellers.base_cost),
        quality=pick(quality, sellers.quality),
        honesty=pick(honesty, sellers.honesty),
        listed=jnp.where(fresh[None, :], new, sellers.listed),
        markup=pick(markup, sellers.markup),
        ad_intensity=pick(ads, sellers.ad_intensity),
        rating_sum=pick(zf, sellers.rating_sum),
        rating_n=pick(zf, sellers.rating_n),
        period_profit=pick(zf, sellers.period_profit),
        period_orders=pick(zf, sellers.period_orders),
        last_profit=pick(zf, sellers.last_profit),
        loss_streak=pick(jnp.zeros((P, M), I32), sellers.loss_streak),
        year_sales=pick(jnp.zeros((P, M), I64), sellers.year_sales),
        year_fee=pick(jnp.zeros((P, M), I64), sellers.year_fee),
        period_ad_cents=pick(zf, sellers.period_ad_cents),
        period_sales_cents=pick(zf, sellers.period_sales_cents),
        ad_cost_share=pick(zf, sellers.ad_cost_share),
    )
    return entered, new


def _per_listing(slot: jax.Array, values: jax.Array, P: int, M: int) -> jax.Array:
    """Sum values ([S, ...]) into listings ``slot = platform × M + seller`` ([P, M, ...]);
    slot ``P × M`` is dropped."""
    out = jnp.zeros((P * M + 1, *values.shape[1:]), values.dtype).at[slot].add(values)
    return out[: P * M].reshape(P, M, *values.shape[1:])


def account(
    state: State, params: Params, dims: Dims, *, session: Session, pages: Pages, clicks: Clicks
) -> tuple[State, Accounts]:
    """Seller accounting: each listing records its orders, reviews (real and fake), their
    scores, its profit and its kept sales; sellers pay for goods, running costs and fake
    reviews. Per order the seller keeps ``OrderRow.kept_cents`` (the fields the settlement
    posts), less its cost and brushing; per listing it pays its clicks and its overhead."""
    P, C, M = dims.platforms, dims.categories, dims.sellers
    sellers = state.sellers
    live = live_listings(sellers, is_open(state.day, params))
    bought, platform, book = session.bought, session.platform, session.fate.book
    cost_cents = jnp.where(bought, jnp.round(session.unit_cost), 0.0).astype(I64)
    fakes = jnp.where(bought & (book.harmful > 0), params.sellers.fake_reviews_per_order, 0.0)
    brushing = jnp.round(fakes * params.sellers.fake_review_cost_cents.astype(F32)).astype(I64)
    slot = jnp.where(bought, platform * M + session.listing, P * M)  # P*M = dropped
    per_listing = _per_listing(
        slot,
        jnp.stack(
            [
                jnp.ones_like(session.delivered),
                1.0 + fakes,
                session.delivered + fakes * session.claimed,
                book.kept_cents().astype(F32) - cost_cents.astype(F32) - brushing.astype(F32),
            ],
            axis=1,
        ),
        P,
        M,
    )
    sales = _per_listing(slot, book.sales_cents(), P, M)
    page_slot = jnp.where(
        pages.listing >= 0, (jnp.arange(P * C) // C)[:, None] * M + pages.listing, P * M
    )
    ad_spend = _per_listing(page_slot.reshape(-1), clicks.ad_cents.reshape(-1).astype(F32), P, M)
    profit = per_listing[..., 3] - ad_spend - jnp.where(live, fees.daily_overhead(params), 0.0)
    sellers = record_sales(
        sellers, per_listing[..., 0], per_listing[..., 1], per_listing[..., 2], profit, sales
    )
    sellers = replace(  # what fee pass-through prices on (``pricing.ad_cost_share``)
        sellers,
        period_ad_cents=sellers.period_ad_cents + ad_spend,
        period_sales_cents=sellers.period_sales_cents + sales.astype(F32),
    )

    def per_platform(x: jax.Array) -> jax.Array:
        return jax.ops.segment_sum(x, platform, num_segments=P)

    costs = SellerCosts(
        cost_of_goods=per_platform(cost_cents),
        fixed_costs=jnp.sum(live, axis=1).astype(I64) * params.sellers.fixed_cost_per_day_cents,
        fake_reviews=per_platform(brushing),
    )
    return replace(state, sellers=sellers), Accounts(live=live, profit=profit, costs=costs)


def turnover(
    state: State, params: Params, key: jax.Array, dims: Dims, *, session: Session
) -> tuple[State, Turnover]:
    """Revision and entry: sellers whose period ends today adapt, multi-home or exit, then
    new sellers enter where today's traffic was. Listings that end or open at the revision
    are settled before entrants arrive, so a slot freed and taken again on the same day
    returns the leaver's deposit and charges the newcomer's deposit and fee."""
    P, C = dims.platforms, dims.categories
    k_rev, k_entry = key
    open_ = is_open(state.day, params)
    sellers = state.sellers
    before = sellers.listed
    sellers, multihomed = revise_due(k_rev, sellers, open_, state.day, params, dims)
    exits = jnp.sum(before & ~sellers.listed, axis=1)
    sellers = fees.open_listings(sellers, multihomed, params)
    no_forfeit = jnp.zeros_like(before)
    revised = fees.listing_changes(before, sellers.listed, no_forfeit, params)
    before = sellers.listed
    traffic = jax.ops.segment_sum(
        session.online.astype(I32), session.market, num_segments=P * C
    ).reshape(P, C)
    sellers, entered = enter(
        k_entry, sellers, traffic, open_, state.market.log_ref_price, params, dims
    )
    sellers = fees.open_listings(sellers, entered, params)
    record = Turnover(
        exits=exits,
        entries=jnp.sum(multihomed | entered, axis=1),
        revised=revised,
        entered=fees.listing_changes(before, sellers.listed, no_forfeit, params),
    )
    return replace(state, sellers=sellers), record
