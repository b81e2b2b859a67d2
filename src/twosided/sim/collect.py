"""The day's metrics: what the data collector (``twosided.metrics``) makes tables of.

``collect`` reads the day's stage records (a ``DayRecords``) and the state after the day,
fills a typed ``DailyMetrics`` ([P] arrays per platform unless noted), and returns it as a
dict keyed by the daily table's column names (``DailyMetrics.columns``): that dict is the
engine's tidy-table interface, stacked by ``lax.scan`` over days and ``vmap`` over seeds
and read by ``metrics.daily_table`` and its siblings. Revenue columns are one per revenue
stream of ``sim/streams.py``; the four terminal-state counts are named ``orders_<state>``.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from twosided.sim import buyers as buyer_memory
from twosided.sim import escrow, ledger
from twosided.sim.escrow import Orders
from twosided.sim.fees import AnnualFee
from twosided.sim.governance import Policing
from twosided.sim.params import I32, I64, Dims, Params
from twosided.sim.pytree import pytree_dataclass
from twosided.sim.ranking import Clicks, Pages
from twosided.sim.sellers import Accounts, Turnover
from twosided.sim.shopping import Session
from twosided.sim.state import HONEST, NON_SHIPPER, TERMINAL_STATES, State
from twosided.sim.streams import revenue_column

Metrics = dict[str, jax.Array]
MONTH_DAYS = 30  # a buyer is monthly active on a platform used in the last 30 days


@pytree_dataclass
class DayRecords:
    """Every stage's record of one day, in the order the stages ran."""

    policing: Policing
    annual_fee: AnnualFee
    pages: Pages
    session: Session
    orders: Orders
    clicks: Clicks
    accounts: Accounts
    turnover: Turnover
    flows: jax.Array  # i64[streams, P] the day's money, as posted


@pytree_dataclass
class DailyMetrics:
    """The day's outcomes per platform ([P]) and the ledger's balances and flows."""

    sessions: jax.Array
    sessions_price_sensitive: jax.Array
    sessions_middle: jax.Array
    sessions_quality_sensitive: jax.Array
    active_buyers: jax.Array
    monthly_active_buyers: jax.Array
    multihoming_buyers: jax.Array  # monthly active here and on another platform
    market_monthly_active_buyers: jax.Array  # distinct buyers of the market (same on every P)
    market_multihoming_buyers: jax.Array  # monthly active on 2+ platforms (same on every P)
    orders: jax.Array
    harmful_orders: jax.Array
    gmv_cents: jax.Array
    clicks: jax.Array
    sponsored_clicks: jax.Array
    paid_clicks: jax.Array
    revenue_ads_misaligned_cents: jax.Array
    orders_misaligned: jax.Array
    commission_due_cents: jax.Array
    commission_misaligned_cents: jax.Array
    revenue: dict[str, jax.Array]  # by revenue stream (sim/streams.py)
    revenue_cents: jax.Array
    consumer_surplus_cents: jax.Array
    seller_profit_cents: jax.Array
    active_sellers: jax.Array  # live listings (a seller lists at most once per platform)
    market_sellers: jax.Array  # distinct sellers with a live listing (same on every P)
    harmful_sellers: jax.Array
    sellers_entered: jax.Array
    sellers_exited: jax.Array
    markup_sum: jax.Array
    ad_intensity_sum: jax.Array
    delivered_quality_sum: jax.Array
    trust_sum: jax.Array
    trust_n: jax.Array
    escrow_balance_cents: jax.Array
    escrow_held_cents: jax.Array
    orders_in_flight: jax.Array
    terminal: dict[str, jax.Array]  # orders reaching each terminal state today
    claims: jax.Array
    false_claims: jax.Array
    refunds_cents: jax.Array
    fraud_loss_cents: jax.Array
    counterfeit_loss_cents: jax.Array
    seller_claim_loss_cents: jax.Array
    deposits_forfeited_cents: jax.Array
    switches: jax.Array  # i64[P, P, 4] buyers switching from, to, by the harm met before
    accounts: jax.Array  # i64[accounts] balances after the day
    flows: jax.Array  # i64[streams, P] the day's money

    def columns(self) -> Metrics:
        """The metrics keyed by daily-table column (revenue and terminal states spread)."""
        out: Metrics = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "revenue":
                out.update({revenue_column(name): v for name, v in value.items()})
            elif field.name == "terminal":
                out.update({f"orders_{name}": v for name, v in value.items()})
            else:
                out[field.name] = value
        return out


def _switches(session: Session, dims: Dims) -> jax.Array:
    """Buyers who switched platform today, by route and the harm met before ([P, P, 4]).

    A buyer switched when its last session today was on another platform than its last
    session before today: one count per buyer, from its last session of the day."""
    P = dims.platforms
    last = session.last_platform.astype(I32)
    switched = session.last_of_day & (last >= 0) & (last != session.platform)
    index = jnp.where(
        switched,
        (jnp.maximum(last, 0) * P + session.platform) * 4 + session.last_harm.astype(I32),
        P * P * 4,
    )
    counts = jnp.zeros((P * P * 4 + 1,), I32).at[index].add(switched.astype(I32))
    return counts[: P * P * 4].reshape(P, P, 4).astype(I64)


def daily(
    state: State, params: Params, dims: Dims, *, day: jax.Array, r: DayRecords
) -> DailyMetrics:
    """The day's metrics from the stage records and the state after the day (``day`` is
    the day just simulated)."""
    P, C, L = dims.platforms, dims.categories, dims.page_length
    s, pages, clicks = r.session, r.pages, r.clicks.clicks
    platform, bought, book, due = s.platform, s.bought, s.fate.book, r.orders.due
    sellers, buyers, live = state.sellers, state.buyers, r.accounts.live

    def per_platform(x: jax.Array) -> jax.Array:
        return jax.ops.segment_sum(x, platform, num_segments=P)

    def count_per_platform(mask: jax.Array) -> jax.Array:  # int32 sums: S < 2^31
        return per_platform(mask.astype(I32)).astype(I64)

    def per_platform_pages(x: jax.Array) -> jax.Array:
        return jnp.sum(x.reshape(P, C * L), axis=1)

    # counts are summed in int32 (exact: sessions, buyers and listings are each below 2^31)
    # and widened after: an int64 sum of a mask is several times slower on the CPU
    on = s.online.astype(I32)
    segment = buyer_memory.segment(s.price_sens, s.quality_sens, params)
    by_segment = (
        jax.ops.segment_sum(on, platform * 3 + segment, num_segments=P * 3).reshape(P, 3)
    ).astype(I64)
    revenue = ledger.revenue(r.flows)
    recent = (day - buyers.last_visit.astype(I32)) < MONTH_DAYS  # [N, P]
    used = jnp.sum(recent, axis=1, dtype=I32)  # platforms each buyer used this month
    multihoming = recent & (used >= 2)[:, None]

    def count(x: jax.Array, axis: int | None = None) -> jax.Array:
        return jnp.sum(x, axis=axis, dtype=I32).astype(I64)

    def market(x: jax.Array) -> jax.Array:  # a market count, repeated on every platform
        return jnp.full((P,), count(x), I64)

    escrow_at = ledger.account_index("escrow", 0, P)
    return DailyMetrics(
        sessions=per_platform(on).astype(I64),
        sessions_price_sensitive=by_segment[:, 0],
        sessions_middle=by_segment[:, 1],
        sessions_quality_sensitive=by_segment[:, 2],
        active_buyers=count(buyers.last_visit == day.astype(jnp.int16), axis=0),
        monthly_active_buyers=count(recent, axis=0),
        multihoming_buyers=count(multihoming, axis=0),
        market_monthly_active_buyers=market(used > 0),
        market_multihoming_buyers=market(used >= 2),
        orders=count_per_platform(bought),
        harmful_orders=count_per_platform(bought & (book.harmful > 0)),
        gmv_cents=per_platform(s.price),
        clicks=per_platform_pages(clicks),
        sponsored_clicks=per_platform_pages(clicks * pages.sponsored),
        paid_clicks=per_platform_pages(clicks * (pages.cpc > 0)),
        revenue_ads_misaligned_cents=per_platform_pages(clicks * pages.cpc * pages.misaligned),
        orders_misaligned=count_per_platform(s.misaligned),
        commission_due_cents=per_platform(book.commission_cents),
        commission_misaligned_cents=per_platform(jnp.where(s.misaligned, book.commission_cents, 0)),
        revenue=revenue,
        revenue_cents=sum(revenue.values()),
        consumer_surplus_cents=per_platform(s.surplus.astype(jnp.float64)),
        seller_profit_cents=jnp.sum(jnp.where(live, r.accounts.profit, 0.0), axis=1).astype(
            jnp.float64
        ),
        active_sellers=count(live, axis=1),
        market_sellers=market(jnp.any(live, axis=0)),
        harmful_sellers=count(live & (sellers.honesty != HONEST)[None, :], axis=1),
        sellers_entered=r.turnover.entries.astype(I64),
        sellers_exited=(r.policing.exits + r.turnover.exits).astype(I64),
        markup_sum=jnp.sum(
            jnp.where(live, sellers.markup + params.platform.markup_shift[:, None], 0.0), axis=1
        ),
        ad_intensity_sum=jnp.sum(jnp.where(live, sellers.ad_intensity, 0.0), axis=1),
        delivered_quality_sum=per_platform(jnp.where(bought, s.delivered, 0.0)),
        trust_sum=jnp.sum(s.trust, axis=0),  # today's searchers: a uniform sample of buyers
        trust_n=jnp.full((P,), s.trust.shape[0], I64),
        escrow_balance_cents=state.balances[escrow_at : escrow_at + P],
        escrow_held_cents=escrow.held_in_escrow(state.orders, params.platform.escrow.enabled),
        orders_in_flight=escrow.in_flight(state.orders),
        terminal={name: getattr(due, name) for name in TERMINAL_STATES},
        claims=due.claims,
        false_claims=due.false_claims,
        refunds_cents=due.refund_cents,
        fraud_loss_cents=due.fraud_loss_cents,
        counterfeit_loss_cents=due.counterfeit_loss_cents,
        seller_claim_loss_cents=due.seller_loss_cents,
        deposits_forfeited_cents=r.flows[ledger.S["forfeit_to_buyers"]]
        + r.flows[ledger.S["forfeit_to_platform"]],
        switches=_switches(s, dims),
        accounts=state.balances,
        flows=r.flows,
    )


def session_log(r: DayRecords, dims: Dims) -> dict[str, jax.Array]:
    """The day's session log: ``metrics.sessions_table`` (one entry per session and
    position), ``metrics.choices_table`` (per session and platform-choice option) and
    ``metrics.session_outcomes_table`` (per session). Every drawn session is logged,
    offline ones included (``platform`` −1); the order and trust fields are masked to the
    sessions that bought (−1, NaN or 0 otherwise, as each table documents)."""
    s, pages, L = r.session, r.pages, r.session.clicked.shape[1]
    P, C = dims.platforms, dims.categories
    x, cmp, fate, bought = s.log, s.log.comparison, s.fate, s.bought
    online = s.online
    compared = online & cmp.compared
    nan = jnp.float32(jnp.nan)

    def if_bought(value: jax.Array, empty: float | int) -> jax.Array:
        return jnp.where(bought, value, empty)

    refunded = bought & fate.upheld
    return {
        # per session and position ([S, L]): the listings shown
        "buyer": s.buyer,
        "platform": jnp.where(online, s.platform, -1),
        "category": s.category,
        "listing": s.page_listing,
        "clicked": s.clicked,
        "purchased": (jnp.arange(L)[None, :] == s.position[:, None]) & bought[:, None],
        "price": pages.price[s.market],
        "rating": pages.rating[s.market],
        "sponsored": pages.sponsored[s.market],
        "log_rel_price": pages.log_rel_price[s.market],
        # per session ([S]) and option ([S, P + 1]): the platform choice
        "ref_price": x.ref_price,
        "utility": x.utilities,
        "trust": s.trust,
        "n_listed": pages.n_listed.reshape(P, C)[:, s.category].T,
        "last_platform": s.last_platform.astype(I32),
        # per session ([S]): what happened, and what the buyer made of it
        "position": if_bought(s.position, -1),
        "bought_listing": if_bought(s.listing, -1),
        "paid": s.price,
        "inclusive_value": jnp.where(online, x.inclusive, nan),
        "compared": compared,
        "compared_platform": jnp.where(compared, cmp.other, -1),
        "price_seen": jnp.where(compared, cmp.seen, nan),
        "price_considered": jnp.where(compared, cmp.considered, nan),
        "overpay": jnp.where(online, cmp.overpay, nan),
        "claimed_quality": if_bought(s.claimed, nan),
        "delivered_quality": if_bought(s.delivered, nan),
        "quality_gap": jnp.where(online, x.quality_gap, nan),
        "ad_nuisance": jnp.where(online, x.ad_nuisance, nan),
        "seller_honesty": if_bought(x.honesty.astype(I32), -1),
        "claim": bought & fate.claim,
        "refunded": refunded,
        "lost_to_fraud": bought & (x.honesty == NON_SHIPPER) & ~fate.upheld,
        "order_state": if_bought(fate.state, -1),
        "settle_delay": if_bought(fate.delay, -1),
        "refund_cents": if_bought(fate.book.refund_cents, 0),
        "fraud_loss_cents": if_bought(fate.book.fraud_loss_cents, 0),
        "counterfeit_loss_cents": if_bought(fate.book.counterfeit_loss_cents, 0),
        "signal": jnp.where(online, s.signal, nan),
        "harm": jnp.where(online, s.harm.astype(I32), -1),
        "price_sens": s.price_sens,
        "quality_sens": s.quality_sens,
    }
