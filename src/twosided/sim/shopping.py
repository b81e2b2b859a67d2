"""Shopping sessions: platform choice, examination of the results page, purchase choice.

Each day ``S = buyers × sessions_per_buyer_per_day`` sessions are drawn; each picks a
buyer uniformly at random (so a buyer's sessions per day are close to Poisson) and a
category by the Zipf popularity of keywords. Then, for every session at once:

1. Platform choice: multinomial logit over the open platforms and an offline option,
   ``V_p = brand_p + trust_weight·trust_bp + assortment_weight·log(1 + n_pc)
   + switching_cost·[p = last]``,
   ``V_offline = offline_utility`` (McFadden 1974).
2. Examination and clicks, the position-based model (Richardson et al. 2007; Craswell et
   al. 2008): position ``k`` is examined with probability ``e_k`` and an examined listing is
   clicked with probability ``a_j`` (its attractiveness), independently.
3. Purchase: multinomial logit among the clicked listings with an outside option,
   ``P(j) = exp(u_bj) / (exp(u_0) + Σ_clicked exp(u_bk))``, with
   ``u_bj = β_quality,b · (rating_j − q_ref) − β_price,b · log(price_j / reference price)``.
4. Ad load: examining sponsored positions costs the buyer ``sponsored_disutility`` per
   position examined, in expectation ``Σ_k e_k · [k sponsored]`` (``ad_nuisance``); it is
   taken off the session's realized utility (trust signal, consumer surplus), not off the
   choice among listings.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from twosided.sim import buyers as buyer_memory
from twosided.sim import escrow
from twosided.sim.draws import categorical, uniform16_rows
from twosided.sim.params import F32, I32, Dims, Params
from twosided.sim.pytree import pytree_dataclass, replace
from twosided.sim.ranking import Pages
from twosided.sim.state import NEVER, NON_SHIPPER, State, delivered_quality, is_open, unit_cost

N_EXTRA_UNIFORMS = 10  # per session, besides one per page position (see ``stage``)

# the largest logit weight exp(u_j - u_0) kept as is: exp(80) ~ 5.5e34, so a page of up to
# 100 listings sums to a finite float32 (max 3.4e38) however sensitive its buyer is
MAX_LOG_WEIGHT = 80.0


def decayed_trust(
    trust: jax.Array, last_visit: jax.Array, day: jax.Array, params: Params
) -> jax.Array:
    """Trust today in each platform ``[S, P]``.

    A buyer's *general* trust is the mean of what it learned on the platforms it has used
    (0 before any experience): what it expects of online shopping. Trust in a platform
    fades from its value at the last visit toward that general level at ``trust_decay``
    per day since (exponential forgetting, applied lazily), and a platform never used is
    expected to be like the others. So an untried or long-unused platform is neither
    favoured nor penalised beyond its brand; a buyer leaves for it only when the platforms
    it knows fall below what it expects (adaptive expectations, as in Erev & Roth 1998).
    """
    known = last_visit.astype(I32) > NEVER
    n_known = jnp.sum(known, axis=-1, keepdims=True, dtype=I32)
    general = jnp.sum(jnp.where(known, trust, 0.0), axis=-1, keepdims=True) / jnp.maximum(
        n_known, 1
    ).astype(F32)
    days = jnp.maximum(day - last_visit.astype(I32), 0).astype(F32)
    keep = jnp.exp(days * jnp.log1p(-jnp.minimum(params.buyers.trust_decay_per_day, 0.999999)))
    return jnp.where(known, general + (trust - general) * keep, general)


def platform_utilities(
    trust: jax.Array,
    n_listed: jax.Array,
    last_platform: jax.Array,
    open_: jax.Array,
    params: Params,
) -> jax.Array:
    """Systematic utilities ``[S, P + 1]`` of each platform and (last column) of offline."""
    P = trust.shape[-1]
    is_last = last_platform[:, None].astype(I32) == jnp.arange(P, dtype=I32)[None, :]
    v = (
        params.platform.brand[None, :]
        + params.buyers.trust_weight * trust
        + params.buyers.assortment_weight * jnp.log1p(n_listed.astype(F32))
        + params.buyers.switching_cost * is_last.astype(F32)
    )
    v = jnp.where(open_[None, :] & (n_listed > 0), v, -jnp.inf)
    offline = jnp.full((v.shape[0], 1), params.buyers.offline_utility, F32)
    return jnp.concatenate([v, offline], axis=1)


def choose_platform(u: jax.Array, utilities: jax.Array) -> jax.Array:
    """Logit choice of a platform; index P means the buyer stays offline."""
    return categorical(u, utilities).astype(I32)


def clicks(u: jax.Array, examination: jax.Array, attract: jax.Array, valid: jax.Array) -> jax.Array:
    """Position-based model: click iff examined (prob. e_k) and attracted (prob. a_j)."""
    return (u < examination[None, :] * attract) & valid


def listing_utilities(
    price_sens: jax.Array,
    quality_sens: jax.Array,
    rating: jax.Array,
    log_rel_price: jax.Array,
    reference_quality: jax.Array,
) -> jax.Array:
    """Buyer-specific systematic utility of each listing on the page, centred on a typical
    listing (reference quality at the category's reference price)."""
    return (
        quality_sens[:, None] * (rating - reference_quality) - price_sens[:, None] * log_rel_price
    )


def weight_shift(utilities: jax.Array, clicked: jax.Array, outside_utility: jax.Array) -> jax.Array:
    """Per session, how far (in logit units) the page's weights are scaled down to stay
    finite: 0 unless the best clicked listing beats the outside option by more than
    ``MAX_LOG_WEIGHT``."""
    best = jnp.max(jnp.where(clicked, utilities - outside_utility, -jnp.inf), axis=-1)
    return jnp.maximum(best - MAX_LOG_WEIGHT, 0.0)


def purchase_weights(
    utilities: jax.Array,
    clicked: jax.Array,
    outside_utility: jax.Array,
    shift: jax.Array | None = None,
) -> jax.Array:
    """Logit weights ``exp(u_j − u_0 − shift)`` of the clicked listings (0 for the rest).

    ``shift`` (``weight_shift``) is 0 for any ordinary buyer; for an extremely sensitive
    one it keeps the weights finite: their ratios stay exact, and the outside option's
    weight, then below ``exp(-MAX_LOG_WEIGHT)`` of the best listing's, counts as 1.
    """
    if shift is None:
        shift = weight_shift(utilities, clicked, outside_utility)
    return jnp.where(clicked, jnp.exp(utilities - outside_utility - shift[..., None]), 0.0)


def inclusive_value(weights: jax.Array, shift: jax.Array) -> jax.Array:
    """The logit inclusive value ``log(1 + Σ exp(u_j − u_0))`` from (shifted) weights."""
    total = jnp.sum(weights, axis=-1)
    return jnp.where(shift > 0, shift + jnp.log(total), jnp.log1p(total))


def purchase_probabilities(
    utilities: jax.Array, clicked: jax.Array, outside_utility: jax.Array
) -> jax.Array:
    """Closed-form logit shares ``[S, L + 1]`` over clicked listings; last column: buy nothing."""
    shift = weight_shift(utilities, clicked, outside_utility)
    w = purchase_weights(utilities, clicked, outside_utility, shift)
    outside = jnp.exp(-shift)[..., None]
    total = outside + jnp.sum(w, axis=-1, keepdims=True)
    return jnp.concatenate([w, outside], axis=-1) / total


def choose_listing(u: jax.Array, weights: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Draw the purchase by inverse CDF from logit weights: ``(bought, position)``.

    The outside option has weight 1; position is 0 when nothing is bought.
    """
    cum = jnp.cumsum(weights, axis=-1)
    r = u * (1.0 + cum[:, -1])  # r < 1: the outside option
    bought = r >= 1.0
    position = jnp.sum(cum <= (r - 1.0)[:, None], axis=-1, dtype=I32)
    position = jnp.minimum(position, weights.shape[-1] - 1)
    return bought, jnp.where(bought, position, 0).astype(I32)


def draw_buyers(key: jax.Array, dims: Dims) -> jax.Array:
    """Who searches today: ``dims.sessions`` draws uniform over buyers (so a buyer's
    sessions per day are close to Poisson)."""
    return jax.random.randint(key, (dims.sessions,), 0, dims.buyers, dtype=I32)


def draw_categories(u_category: jax.Array, params: Params, dims: Dims) -> jax.Array:
    """For which keyword each session searches (Zipf popularity, by inverse CDF)."""
    cum = jnp.cumsum(jnp.exp(params.market.category_log_weights))
    category = jnp.searchsorted(cum / cum[-1], u_category, side="right")
    return jnp.minimum(category, dims.categories - 1).astype(I32)


def ad_nuisance(pages: Pages, market: jax.Array, online: jax.Array, params: Params) -> jax.Array:
    """Utility each session loses to the ads on its page ([S]): ``sponsored_disutility``
    per sponsored position examined, in expectation (``Σ_k e_k · [k sponsored]``, the
    examination curve of the position-based model); 0 offline."""
    examined = jnp.sum(params.buyers.examination[None, :] * pages.sponsored, axis=-1)  # [G]
    return jnp.where(online, params.buyers.sponsored_disutility * examined[market], 0.0)


@pytree_dataclass
class PageRows:
    """The page each session sees before it buys ([S, L] float32 per field): the values of
    its row of ``Pages`` that clicks, the purchase logit and price comparison read. Empty
    positions have attractiveness 0, so they are never clicked; the listing, the price in
    cents and the rest are read at the bought position only (``at_position``)."""

    attract: jax.Array
    rating: jax.Array
    log_rel_price: jax.Array
    price: jax.Array  # cents as float32 (what price comparison reads)


def page_rows(pages: Pages, market: jax.Array) -> PageRows:
    """The page each session sees (row ``market`` = platform × C + category): four float32
    row gathers (measured on the CPU: separate [G, L] row gathers beat one gather of the
    fields packed as [G, L, k] several times over, and beat gathering int64 prices)."""
    return PageRows(
        attract=pages.attract[market],
        rating=pages.rating[market],
        log_rel_price=pages.log_rel_price[market],
        price=pages.price.astype(F32)[market],
    )


def at_position(x: jax.Array, market: jax.Array, position: jax.Array) -> jax.Array:
    """The value of a ``[G, L]`` page field at each session's position ([S] gather)."""
    return x[market, position]


@pytree_dataclass
class PriceComparison:
    """What a session's price comparison saw ([S] per field): whether the buyer compared,
    on which platform, the cheapest price there, the price it set against it (paid, or the
    cheapest listing clicked) and the overpayment found (``_compare_prices``)."""

    compared: jax.Array  # bool
    other: jax.Array  # i32 the platform looked up (drawn for every session)
    seen: jax.Array  # f32 cents: lowest price on that platform's page (inf if it has none)
    considered: jax.Array  # f32 cents: paid, or the cheapest clicked (inf if neither)
    overpay: jax.Array  # f32 max(0, log(considered / seen)) when compared, else 0


@pytree_dataclass
class SessionLogFields:
    """Values of a session that only the session log reads ([S] unless noted): what the
    platform-choice logit and the trust update used that the day's other stages do not
    keep. Every program computes them, but a run without the log never reads them, so
    the compiler drops them (``log_sessions`` is a static flag of the compiled day)."""

    utilities: jax.Array  # f32[S, P + 1] systematic utilities of the platforms and offline
    inclusive: jax.Array  # f32 the page's logit inclusive value (the signal's first term)
    comparison: PriceComparison
    honesty: jax.Array  # i8 honesty type of the slot bought from (slot 0's if nothing)
    quality_gap: jax.Array  # f32 max(0, rating shown − delivered) of a purchase, else 0
    ref_price: jax.Array  # f32 cents: the category's reference price
    ad_nuisance: jax.Array  # f32 utility lost to the sponsored positions examined


@pytree_dataclass
class Session:
    """The day's shopping sessions, one entry per session ([S]; [S, L] per position and
    [S, P] per platform where noted)."""

    buyer: jax.Array  # i32 who searched
    category: jax.Array  # i32 the keyword
    platform: jax.Array  # i32 the platform chosen (P - 1 when offline: mask with online)
    online: jax.Array  # bool the buyer chose a platform, not offline
    market: jax.Array  # i32 keyword market: platform × C + category
    trust: jax.Array  # f32[S, P] decayed trust in each platform
    last_platform: jax.Array  # i8 the buyer's last platform before today
    last_harm: jax.Array  # i8 the harm met there
    last_of_day: jax.Array  # bool the buyer's last online session of the day
    page_listing: jax.Array  # i32[S, L] the listings shown
    clicked: jax.Array  # bool[S, L]
    bought: jax.Array  # bool
    position: jax.Array  # i32 position bought (0 if nothing)
    listing: jax.Array  # i32 seller slot bought from (0 if nothing)
    price: jax.Array  # i64 cents paid (0 if nothing)
    claimed: jax.Array  # f32 quality the listing claims
    delivered: jax.Array  # f32 quality delivered
    unit_cost: jax.Array  # f32 cents the seller pays for the good
    misaligned: jax.Array  # bool bought a listing a buyer-first page would not show
    fate: escrow.OrderFate  # the order's drawn path
    signal: jax.Array  # f32 trust signal
    harm: jax.Array  # i8 harm met (HARM_*)
    surplus: jax.Array  # f32 consumer surplus, cents
    price_sens: jax.Array  # f32 β_price of the buyer
    quality_sens: jax.Array  # f32 β_quality of the buyer
    log: SessionLogFields  # read by the session log only (``collect.session_log``)


def _compare_prices(
    u: jax.Array,
    platform: jax.Array,
    category: jax.Array,
    bought: jax.Array,
    price: jax.Array,
    clicked: jax.Array,
    rows: PageRows,
    price_sens: jax.Array,
    pages: Pages,
    open_: jax.Array,
    params: Params,
    dims: Dims,
) -> PriceComparison:
    """Overpayment found by comparing: log(considered price / cheapest elsewhere), ≥ 0
    (``overpay``), with what the comparison saw.

    A comparing buyer looks up the same keyword on another open platform and sets what it
    paid (or, if it bought nothing, the cheapest listing it looked at) against the
    cheapest price there. ``u`` holds two uniforms per session.
    """
    P, C = dims.platforms, dims.categories
    other = (platform + 1 + jnp.floor(u[:, 0] * (P - 1)).astype(I32)) % P
    seen = pages.min_price[other * C + category]
    looked = jnp.min(jnp.where(clicked, rows.price, jnp.inf), axis=-1)
    considered = jnp.where(bought, price.astype(F32), looked)
    compare = (
        jnp.isfinite(considered)
        & (P > 1)
        & (
            u[:, 1]
            < params.buyers.compare_probability
            * price_sens
            / params.buyers.price_sensitivity_median
        )
        & open_[other]
        & jnp.isfinite(seen)
    )
    overpay = jnp.where(
        compare,
        jnp.maximum(jnp.log(jnp.where(compare, considered / seen, 1.0)), 0.0),
        0.0,
    )
    return PriceComparison(
        compared=compare, other=other, seen=seen, considered=considered, overpay=overpay
    )


def stage(
    state: State, params: Params, key: jax.Array, dims: Dims, *, pages: Pages
) -> tuple[State, Session]:
    """The day's sessions: who searches for what, platform choice, examination and clicks,
    purchase, price comparison, each order's path, and what the buyer makes of it.

    Sessions are independent given the state and the pages, so they are simulated in
    blocks of ``dims.session_rows`` (a loop over blocks when there are several): the
    block's temporaries, not the day's, set the memory the kernel needs. A session's
    uniforms are its own row of one counter-based stream (``uniform16_rows``), so the
    outcomes do not depend on the block size. The state is unchanged (buyers remember in
    ``buyers.stage``)."""
    S, rows, blocks = dims.sessions, dims.session_rows, dims.session_blocks
    open_ = is_open(state.day, params)
    k_buyer, k_u = jax.random.split(key)
    buyer = jnp.pad(draw_buyers(k_buyer, dims), (0, rows * blocks - S))

    def block(first_row: jax.Array, buyers: jax.Array) -> Session:
        u = uniform16_rows(k_u, first_row, rows, dims.page_length + N_EXTRA_UNIFORMS)
        return sessions(state, params, dims, pages, open_, buyers, u)

    if blocks == 1:
        session = block(jnp.int32(0), buyer)
    else:
        first = jnp.arange(blocks, dtype=I32) * rows
        stacked = jax.lax.map(lambda a: block(*a), (first, buyer.reshape(blocks, rows)))
        session = jax.tree.map(lambda x: x.reshape(blocks * rows, *x.shape[2:]), stacked)
    session = jax.tree.map(lambda x: x[:S], session)
    last_of_day = buyer_memory.last_session_of_day(session.buyer, session.online, dims.buyers)
    return state, replace(session, last_of_day=last_of_day)


def sessions(
    state: State,
    params: Params,
    dims: Dims,
    pages: Pages,
    open_: jax.Array,
    buyer: jax.Array,
    u: jax.Array,
) -> Session:
    """A block of sessions: ``buyer`` [B] who searches, ``u`` [B, L + N_EXTRA_UNIFORMS]
    their uniforms (one per page position, then the category, platform, purchase, price
    comparison and order fate). ``last_of_day`` is left False: it needs the whole day
    (``stage`` sets it)."""
    P, C, L = dims.platforms, dims.categories, dims.page_length
    day = state.day
    b_state, sellers = state.buyers, state.sellers
    category = draw_categories(u[:, L], params, dims)
    trust = decayed_trust(b_state.trust[buyer], b_state.last_visit[buyer], day, params)
    n_listed = pages.n_listed.reshape(P, C)[:, category].T  # [S, P]
    last = b_state.last_platform[buyer]
    utilities = platform_utilities(trust, n_listed, last, open_, params)
    chosen = choose_platform(u[:, L + 1], utilities)
    online = chosen < P
    platform = jnp.minimum(chosen, P - 1)
    market = platform * C + category

    rows = page_rows(pages, market)
    clicked = clicks(u[:, :L], params.buyers.examination, rows.attract, online[:, None])
    price_sens = b_state.price_sens[buyer]
    quality_sens = b_state.quality_sens[buyer]
    util = listing_utilities(
        price_sens, quality_sens, rows.rating, rows.log_rel_price, params.buyers.reference_quality
    )
    shift = weight_shift(util, clicked, params.buyers.outside_utility)
    weights = purchase_weights(util, clicked, params.buyers.outside_utility, shift)
    inclusive = inclusive_value(weights, shift)
    bought, position = choose_listing(u[:, L + 2], weights)
    bought = bought & online

    listing = jnp.where(bought, at_position(pages.listing, market, position), 0)
    price = jnp.where(bought, at_position(pages.price, market, position), 0)
    shown = jnp.take_along_axis(rows.rating, position[:, None], axis=1)[:, 0]
    misaligned = bought & at_position(pages.misaligned, market, position)
    honesty = sellers.honesty[listing]
    claimed = sellers.quality[listing]
    delivered = jnp.where(bought, delivered_quality(honesty, claimed, params), 0.0)
    comparison = _compare_prices(
        u[:, L + 3 : L + 5],
        platform,
        category,
        bought,
        price,
        clicked,
        rows,
        price_sens,
        pages,
        open_,
        params,
        dims,
    )

    fate = escrow.order_fates(
        u[:, L + 5 : L + 10], honesty, platform, category, price, claimed, delivered, params
    )
    refunded = bought & fate.upheld
    lost_to_fraud = bought & (honesty == NON_SHIPPER) & ~fate.upheld
    quality_gap = jnp.where(bought, jnp.maximum(shown - delivered, 0.0), 0.0)
    nuisance = ad_nuisance(pages, market, online, params)
    signal, harm = buyer_memory.experience(
        inclusive_value=inclusive,
        bought=bought,
        overpay=comparison.overpay,
        quality_gap=quality_gap,
        lost_to_fraud=lost_to_fraud,
        refunded=refunded,
        price_sens=price_sens,
        quality_sens=quality_sens,
        params=params,
        ad_nuisance=nuisance,
    )
    # consumer surplus in cents: the logit inclusive value (Small & Rosen 1981) at the
    # category's reference price, less the quality shortfall of unrefunded purchases and
    # the ad load's nuisance
    ref_price = jnp.exp(state.market.log_ref_price[category])
    lost_utility = jnp.where(refunded, 0.0, quality_sens * quality_gap) + nuisance
    surplus = jnp.where(online, ref_price / price_sens * (inclusive - lost_utility), 0.0)
    return Session(
        buyer=buyer,
        category=category,
        platform=platform,
        online=online,
        market=market,
        trust=trust,
        last_platform=last,
        last_harm=b_state.last_harm[buyer],
        last_of_day=jnp.zeros_like(online),
        page_listing=pages.listing[market],  # read by the session log only
        clicked=clicked,
        bought=bought,
        position=position,
        listing=listing,
        price=price,
        claimed=claimed,
        delivered=delivered,
        unit_cost=unit_cost(sellers, params)[listing],
        misaligned=misaligned,
        fate=fate,
        signal=signal,
        harm=harm,
        surplus=surplus,
        price_sens=price_sens,
        quality_sens=quality_sens,
        log=SessionLogFields(
            utilities=utilities,
            inclusive=inclusive,
            comparison=comparison,
            honesty=honesty,
            quality_gap=quality_gap,
            ref_price=ref_price,
            ad_nuisance=nuisance,
        ),
    )
