"""One simulated day: a pure function ``(state, params, key) -> (state, metrics)``.

The order of events within a day:

1. governance punishes the harmful listings it catches (deposits forfeited);
2. the annual service fee is charged or refunded at the fee year's turn;
3. every platform builds its results pages (auction + organic ranking);
4. the day's shopping sessions run: platform choice, examination, clicks, purchase,
   price comparison, and each order's path through fulfilment and escrow;
5. orders are booked by terminal day and today's terminal orders settle their money;
6. buyers remember what happened (trust);
7. sellers record sales and ratings; at the end of a revision period they adapt,
   multi-home or exit; new sellers enter where the traffic is;
8. every cent of the day is posted to the ledger, and the day's metrics are returned.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from twosided.sim import buyers as buyer_memory
from twosided.sim import escrow, fees, governance, ledger, ranking, shopping
from twosided.sim import sellers as seller_behaviour
from twosided.sim.draws import uniform16
from twosided.sim.params import F32, I32, I64, Dims, Params
from twosided.sim.pytree import replace
from twosided.sim.state import (
    HONEST,
    NON_SHIPPER,
    OF,
    Sellers,
    State,
    delivered_quality,
    unit_cost,
)

Metrics = dict[str, jax.Array]
N_EXTRA_UNIFORMS = 10  # per session, besides one per page position (see _shop)


def _add_flows(flows: jax.Array, amounts: dict[str, jax.Array]) -> jax.Array:
    for stream, amount in amounts.items():
        flows = ledger.add(flows, stream, amount)
    return flows


def _per_platform(values: jax.Array, platform: jax.Array, P: int) -> jax.Array:
    return jax.ops.segment_sum(values, platform, num_segments=P)


def _shop(
    key: jax.Array, state: State, sellers: Sellers, pages: ranking.Pages, open_: jax.Array,
    dims: Dims, params: Params,
) -> dict[str, jax.Array]:
    """Run the day's sessions; returns one entry per session (and per position)."""
    P, C, L, S = dims.platforms, dims.categories, dims.page_length, dims.sessions
    day = state.day
    b_state = state.buyers
    k_buyer, k_u = jax.random.split(key)
    u = uniform16(k_u, (S, L + N_EXTRA_UNIFORMS))

    buyer, category = shopping.draw_buyers_and_categories(k_buyer, u[:, L], dims, params)
    trust = shopping.decayed_trust(b_state.trust[buyer], b_state.last_visit[buyer], day, params)
    n_listed = pages.n_listed.reshape(P, C)[:, category].T  # [S, P]
    last = b_state.last_platform[buyer]
    utilities = shopping.platform_utilities(trust, n_listed, last, open_, params)
    chosen = shopping.choose_platform(u[:, L + 1], utilities)
    online = chosen < P
    platform = jnp.minimum(chosen, P - 1)
    market = platform * C + category

    rows = shopping.page_rows(pages, market)
    valid = rows["listing"] >= 0
    clicked = shopping.clicks(u[:, :L], params.examination, rows["attract"], valid)
    clicked = clicked & online[:, None]
    price_sens = b_state.price_sens[buyer]
    quality_sens = b_state.quality_sens[buyer]
    util = shopping.listing_utilities(
        price_sens, quality_sens, rows["rating"], rows["log_rel_price"], params.reference_quality
    )
    shift = shopping.weight_shift(util, clicked, params.outside_utility)
    weights = shopping.purchase_weights(util, clicked, params.outside_utility, shift)
    inclusive = shopping.inclusive_value(weights, shift)
    bought, position = shopping.choose_listing(u[:, L + 2], weights)
    bought = bought & online

    def at_position(x: jax.Array) -> jax.Array:
        return jnp.take_along_axis(x, position[:, None], axis=1)[:, 0]

    listing = jnp.where(bought, at_position(rows["listing"]), 0)
    price = jnp.where(bought, at_position(rows["price"]), 0)
    shown = at_position(rows["rating"])
    misaligned = bought & at_position(pages.misaligned[market])
    honesty = sellers.honesty[listing]
    claimed = sellers.quality[listing]
    delivered = jnp.where(bought, delivered_quality(honesty, claimed, params), 0.0)

    # a comparing buyer looks up the same keyword on another open platform and sets what
    # it paid (or, if it bought nothing, the cheapest listing it looked at) against the
    # cheapest price there
    other = (platform + 1 + jnp.floor(u[:, L + 3] * (P - 1)).astype(I32)) % P
    seen = pages.min_price[other * C + category]
    looked = jnp.min(jnp.where(clicked, rows["price"].astype(F32), jnp.inf), axis=-1)
    considered = jnp.where(bought, price.astype(F32), looked)
    compare = (
        jnp.isfinite(considered)
        & (P > 1)
        & (u[:, L + 4] < params.compare_probability * price_sens / params.price_sens_median)
        & open_[other]
        & jnp.isfinite(seen)
    )
    overpay = jnp.where(
        compare,
        jnp.maximum(jnp.log(jnp.where(compare, considered / seen, 1.0)), 0.0),
        0.0,
    )

    fate = escrow.order_fates(
        u[:, L + 5 : L + 10], honesty, platform, category, price, claimed, delivered, params
    )
    refunded = bought & fate["upheld"]
    lost_to_fraud = bought & (honesty == NON_SHIPPER) & ~fate["upheld"]
    quality_gap = jnp.where(bought, jnp.maximum(shown - delivered, 0.0), 0.0)
    signal, harm = buyer_memory.experience(
        inclusive_value=inclusive,
        bought=bought,
        overpay=overpay,
        quality_gap=quality_gap,
        lost_to_fraud=lost_to_fraud,
        refunded=refunded,
        price_sens=price_sens,
        quality_sens=quality_sens,
        params=params,
    )
    # consumer surplus in cents: the logit inclusive value (Small & Rosen 1981) at the
    # category's reference price, less the quality shortfall of unrefunded purchases
    ref_price = jnp.exp(state.market.log_ref_price[category])
    lost_utility = jnp.where(refunded, 0.0, quality_sens * quality_gap)
    surplus = jnp.where(online, ref_price / price_sens * (inclusive - lost_utility), 0.0)
    return {
        "buyer": buyer,
        "category": category,
        "platform": platform,
        "online": online,
        "market": market,
        "trust": trust,
        "last_platform": last,
        "last_harm": b_state.last_harm[buyer],
        "clicked": clicked,
        "bought": bought,
        "position": position,
        "listing": listing,
        "price": price,
        "delivered": delivered,
        "claimed": claimed,
        "misaligned": misaligned,
        "signal": signal,
        "harm": harm,
        "surplus": surplus,
        "fate_delay": fate["delay"],
        "fate_book": fate["book"],
        "page_listing": rows["listing"],
        "price_sens": price_sens,
        "quality_sens": quality_sens,
        "unit_cost": unit_cost(sellers, params)[listing],
    }


def _open_listings(sellers: Sellers, new: jax.Array, params: Params) -> Sellers:
    """A new listing starts its fee year having paid the annual fee on listing."""
    return replace(sellers, year_fee=jnp.where(new, params.service_fee[:, None], sellers.year_fee))


def step(
    state: State, params: Params, key: jax.Array, dims: Dims, log_sessions: bool = False
) -> tuple[State, Metrics]:
    """Advance the world by one day. Pure: same inputs, same outputs."""
    P, C, M, L = dims.platforms, dims.categories, dims.sellers, dims.page_length
    G = P * C
    day = state.day
    open_ = day >= params.entry_day
    k_gov, k_shop, k_rev, k_entry, k_rank = jax.random.split(key, 5)
    flows = ledger.zero_flows(P)
    sellers = state.sellers

    # 1. governance
    punished = governance.detect(k_gov, sellers.listed & sellers.active[None, :], sellers.honesty, open_, params)
    before = sellers.listed
    sellers = seller_behaviour.delist(sellers, punished)
    flows = _add_flows(flows, fees.listing_changes(before, sellers.listed, punished, params))
    exits = jnp.sum(punished, axis=1)

    # 2. annual service fee
    year_sales, year_fee, fee_flows = fees.annual_service_fee(
        sellers.listed & sellers.active[None, :] & open_[:, None],
        sellers.year_sales, sellers.year_fee, day, params,
    )
    sellers = replace(sellers, year_sales=year_sales, year_fee=year_fee)
    flows = _add_flows(flows, fee_flows)

    # 3. results pages
    listings = ranking.listing_features(sellers, params, state.market.log_ref_price, dims, day)
    pages = ranking.build_pages(k_rank, listings, params, dims)

    # 4. sessions
    s = _shop(k_shop, state, sellers, pages, open_, dims, params)
    platform, bought, online = s["platform"], s["bought"], s["online"]
    price = s["price"]

    # 5. orders: book them by terminal day, settle today's
    orders = escrow.book_orders(state.orders, day, platform, s["fate_delay"], s["fate_book"], bought)
    orders, due = escrow.settle(orders, day)
    paid = _per_platform(price, platform, P)
    cost_cents = jnp.where(bought, jnp.round(s["unit_cost"]), 0.0).astype(I64)
    clicks = jax.ops.segment_sum(s["clicked"].astype(I64), s["market"], num_segments=G)  # [G, L]
    ad_cents = clicks * pages.cpc
    flows = _add_flows(
        flows,
        {
            "payment_escrow": jnp.where(params.escrow, paid, 0),
            "payment_direct": jnp.where(params.escrow, 0, paid),
            "cost_of_goods": _per_platform(cost_cents, platform, P),
            "ads": jnp.sum(ad_cents.reshape(P, C * L), axis=1),
            **escrow.settlement_flows(due, params.escrow),
        },
    )

    # 6. buyers remember
    trust_now = jnp.take_along_axis(s["trust"], platform[:, None], axis=1)[:, 0]
    s["last_of_day"] = buyer_memory.last_session_of_day(s["buyer"], online, dims.buyers)
    new_buyers = buyer_memory.remember(
        state.buyers, s["buyer"], platform, online, trust_now, s["signal"], s["harm"], day, params,
        last_of_day=s["last_of_day"],
    )

    # 7. sellers: sales records, fixed costs, revision, entry
    live = sellers.listed & sellers.active[None, :] & open_[:, None]
    book = s["fate_book"]
    kept = (
        book[:, OF["paid_cents"]] - book[:, OF["refund_cents"]] - book[:, OF["commission_cents"]]
        - book[:, OF["affiliate_platform_cents"]] - book[:, OF["affiliate_payout_cents"]]
    )
    slot = jnp.where(bought, platform * M + s["listing"], P * M)  # P*M = dropped
    harmful = bought & (book[:, OF["harmful"]] > 0)
    fakes = jnp.where(harmful, params.fake_reviews_per_order, 0.0)
    brushing = jnp.round(fakes * params.fake_review_cost.astype(F32)).astype(I64)
    per_listing = jnp.zeros((P * M + 1, 4), F32).at[slot].add(
        jnp.stack(
            [
                jnp.ones_like(s["delivered"]),
                1.0 + fakes,
                s["delivered"] + fakes * s["claimed"],
                kept.astype(F32) - cost_cents.astype(F32) - brushing.astype(F32),
            ],
            axis=1,
        )
    )[: P * M].reshape(P, M, 4)
    sales = jnp.zeros((P * M + 1,), I64).at[slot].add(
        book[:, OF["paid_cents"]] - book[:, OF["refund_cents"]]
    )[: P * M].reshape(P, M)
    page_slot = jnp.where(
        pages.listing >= 0, (jnp.arange(G) // C)[:, None] * M + pages.listing, P * M
    )
    ad_spend = jnp.zeros((P * M + 1,), F32).at[page_slot.reshape(-1)].add(
        ad_cents.reshape(-1).astype(F32)
    )[: P * M].reshape(P, M)
    daily_overhead = params.fixed_cost_per_day.astype(F32) + params.service_fee[:, None].astype(F32) / fees.YEAR_DAYS
    profit = per_listing[..., 3] - ad_spend - jnp.where(live, daily_overhead, 0.0)
    sellers = seller_behaviour.record_sales(
        sellers, per_listing[..., 0], per_listing[..., 1], per_listing[..., 2], profit, sales
    )
    flows = _add_flows(
        flows,
        {
            "fixed_costs": jnp.sum(live, axis=1).astype(I64) * params.fixed_cost_per_day,
            "fake_reviews": _per_platform(brushing, platform, P),
        },
    )

    # listings that end or open at the revision are settled before entrants arrive, so a
    # slot freed and taken again on the same day returns the leaver's deposit and charges
    # the newcomer's deposit and fee
    before = sellers.listed
    sellers, multihomed = seller_behaviour.revise_due(k_rev, sellers, open_, day, dims, params)
    exits = exits + jnp.sum(before & ~sellers.listed, axis=1)
    sellers = _open_listings(sellers, multihomed, params)
    no_forfeit = jnp.zeros_like(before)
    flows = _add_flows(flows, fees.listing_changes(before, sellers.listed, no_forfeit, params))
    before = sellers.listed
    sessions_pc = jax.ops.segment_sum(online.astype(I32), s["market"], num_segments=G).reshape(P, C)
    sellers, entered = seller_behaviour.enter(
        k_entry, sellers, sessions_pc, open_, state.market.log_ref_price, dims, params
    )
    new = multihomed | entered
    sellers = _open_listings(sellers, entered, params)
    flows = _add_flows(flows, fees.listing_changes(before, sellers.listed, no_forfeit, params))

    # 8. ledger and metrics
    balances = ledger.post(state.balances, flows)
    new_state = replace(
        state, day=day + 1, buyers=new_buyers, sellers=sellers, orders=orders, balances=balances
    )
    metrics = _metrics(
        s, pages, clicks, due, orders, flows, balances, sellers, new_buyers, exits,
        jnp.sum(new, axis=1), profit, live, day, dims, params,
    )
    if log_sessions:
        metrics["log"] = {
            "buyer": s["buyer"],
            "platform": jnp.where(online, platform, -1),
            "category": s["category"],
            "listing": s["page_listing"],
            "clicked": s["clicked"],
            "purchased": (jnp.arange(L)[None, :] == s["position"][:, None]) & bought[:, None],
            "price": pages.price[s["market"]],
            "rating": pages.rating[s["market"]],
            "sponsored": pages.sponsored[s["market"]],
        }
    return new_state, metrics


def _metrics(
    s: dict[str, jax.Array], pages: ranking.Pages, clicks: jax.Array, due: jax.Array,
    orders: jax.Array, flows: jax.Array, balances: jax.Array, sellers: Sellers,
    buyers: Any, exits: jax.Array, entries: jax.Array, profit: jax.Array, live: jax.Array,
    day: jax.Array, dims: Dims, params: Params,
) -> Metrics:
    """The day's outcomes per platform ([P] arrays) plus ledger balances and flows."""
    P, C, L = dims.platforms, dims.categories, dims.page_length
    platform, online, bought = s["platform"], s["online"], s["bought"]
    book = s["fate_book"]
    on = online.astype(I64)
    sessions = _per_platform(on, platform, P)
    orders_today = _per_platform(bought.astype(I64), platform, P)
    gmv = _per_platform(s["price"], platform, P)
    revenue = ledger.revenue(flows)
    revenue_total = sum(revenue.values())
    all_clicks = jnp.sum(clicks.reshape(P, C * L), axis=1)
    ad_clicks = jnp.sum((clicks * pages.sponsored).reshape(P, C * L), axis=1)
    paid_clicks = jnp.sum((clicks * (pages.cpc > 0)).reshape(P, C * L), axis=1)
    segment = buyer_memory.segment(s["price_sens"], s["quality_sens"], params)
    by_segment = jax.ops.segment_sum(
        on, platform * 3 + segment, num_segments=P * 3
    ).reshape(P, 3)
    last = s["last_platform"].astype(I32)
    # a buyer switched today when its last session today was on another platform than its
    # last session before today: one count per buyer, from its last session of the day
    switched = s["last_of_day"] & (last >= 0) & (last != platform)
    switch_index = jnp.where(
        switched, (jnp.maximum(last, 0) * P + platform) * 4 + s["last_harm"].astype(I32), P * P * 4
    )
    seen_today = buyers.last_visit == day.astype(jnp.int16)
    recent = (day - buyers.last_visit.astype(I32)) < 30
    markup_total = sellers.markup + params.markup_shift[:, None]
    n_live = jnp.sum(live, axis=1)
    trust_sum = jnp.sum(s["trust"], axis=0)  # today's searchers: a uniform sample of buyers
    escrow_balance = balances[
        ledger.account_index("escrow", 0, P) : ledger.account_index("escrow", 0, P) + P
    ]
    out: Metrics = {
        "sessions": sessions,
        "sessions_price_sensitive": by_segment[:, 0],
        "sessions_middle": by_segment[:, 1],
        "sessions_quality_sensitive": by_segment[:, 2],
        "active_buyers": jnp.sum(seen_today, axis=0).astype(I64),
        "monthly_active_buyers": jnp.sum(recent, axis=0).astype(I64),
        "orders": orders_today,
        "harmful_orders": _per_platform((bought & (book[:, OF["harmful"]] > 0)).astype(I64), platform, P),
        "gmv_cents": gmv,
        "clicks": all_clicks,
        "sponsored_clicks": ad_clicks,
        "paid_clicks": paid_clicks,
        "revenue_ads_misaligned_cents": jnp.sum(
            (clicks * pages.cpc * pages.misaligned).reshape(P, C * L), axis=1
        ),
        "orders_misaligned": _per_platform(s["misaligned"].astype(I64), platform, P),
        "commission_due_cents": _per_platform(book[:, OF["commission_cents"]], platform, P),
        "commission_misaligned_cents": _per_platform(
            jnp.where(s["misaligned"], book[:, OF["commission_cents"]], 0), platform, P
        ),
        **{f"revenue_{name}_cents": value for name, value in revenue.items()},
        "revenue_cents": revenue_total,
        "consumer_surplus_cents": _per_platform(s["surplus"].astype(jnp.float64), platform, P),
        "seller_profit_cents": jnp.sum(jnp.where(live, profit, 0.0), axis=1).astype(jnp.float64),
        "active_sellers": n_live.astype(I64),
        "harmful_sellers": jnp.sum(live & (sellers.honesty != HONEST)[None, :], axis=1).astype(I64),
        "sellers_entered": entries.astype(I64),
        "sellers_exited": exits.astype(I64),
        "markup_sum": jnp.sum(jnp.where(live, markup_total, 0.0), axis=1),
        "ad_intensity_sum": jnp.sum(jnp.where(live, sellers.ad_intensity, 0.0), axis=1),
        "delivered_quality_sum": _per_platform(jnp.where(bought, s["delivered"], 0.0), platform, P),
        "trust_sum": trust_sum,
        "trust_n": jnp.full((P,), s["trust"].shape[0], I64),
        "escrow_balance_cents": escrow_balance,
        "escrow_held_cents": escrow.held_in_escrow(orders, params.escrow),
        "orders_in_flight": escrow.in_flight(orders),
        **{f"orders_{name}": due[:, OF[name]] for name in ("confirmed", "auto_confirmed", "refunded", "claim_rejected")},
        "claims": due[:, OF["claims"]],
        "false_claims": due[:, OF["false_claims"]],
        "refunds_cents": due[:, OF["refund_cents"]],
        "fraud_loss_cents": due[:, OF["fraud_loss_cents"]],
        "counterfeit_loss_cents": due[:, OF["counterfeit_loss_cents"]],
        "seller_claim_loss_cents": due[:, OF["seller_loss_cents"]],
        "deposits_forfeited_cents": flows[ledger.S["forfeit_to_buyers"]] + flows[ledger.S["forfeit_to_platform"]],
        "switches": jnp.zeros((P * P * 4 + 1,), I64).at[switch_index].add(
            switched.astype(I64)
        )[: P * P * 4].reshape(P, P, 4),
        "accounts": balances,
        "flows": flows,
    }
    return out
