"""Engine state: buyers, sellers, the order book, the ledger, as immutable pytrees.

Arrays, not objects: buyer ``i`` is row ``i`` of every buyer array. Seller slots are laid
out category-major (slot ``m`` sells in category ``m // seller_capacity``), so a keyword
market is a contiguous block; sellers enter and leave by flipping ``active`` and
``listed`` masks, never by changing shapes. Money is int64 cents; behaviour float32.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from twosided.sim import ledger
from twosided.sim.params import F32, I32, I64, Dims, Params
from twosided.sim.pytree import pytree_dataclass, replace

NEVER = -30_000  # last_visit of a platform never used (int16)

HONEST, COUNTERFEITER, NON_SHIPPER = 0, 1, 2
HARM_NONE, HARM_PRICE, HARM_QUALITY, HARM_FRAUD = 0, 1, 2, 3
HARM_NAMES = ("none", "price", "quality", "fraud")


@pytree_dataclass
class OrderRow:
    """Named fields of the order book (int64 counts and cents, any leading shape).

    The book itself stays one int64 array ``[horizon, P, len(ORDER_FIELDS)]`` (what the
    scan carries and checkpoints hold); ``OrderRow.of`` reads it by name and ``stack``
    writes a row back. The first four fields are the terminal states.
    """

    confirmed: jax.Array  # buyer confirmed receipt
    auto_confirmed: jax.Array  # confirmed by the timeout
    refunded: jax.Array  # claim upheld, money back to the buyer
    claim_rejected: jax.Array  # claim denied, money to the seller
    release_cents: jax.Array  # held money released to the seller (escrow only)
    refund_cents: jax.Array  # money returned to buyers
    commission_cents: jax.Array
    affiliate_platform_cents: jax.Array
    affiliate_payout_cents: jax.Array
    paid_cents: jax.Array  # what buyers paid for these orders
    claims: jax.Array
    false_claims: jax.Array
    fraud_loss_cents: jax.Array  # buyers' payments for parcels never delivered, not recovered
    counterfeit_loss_cents: jax.Array  # value buyers lost to counterfeits not refunded
    seller_loss_cents: jax.Array  # sellers' revenue refunded on false claims
    harmful: jax.Array  # orders from counterfeiters and non-shippers

    @classmethod
    def of(cls, book: jax.Array) -> OrderRow:
        """The named fields of a book (or row) array whose last axis is the fields."""
        return cls(*(book[..., i] for i in range(len(ORDER_FIELDS))))

    def stack(self) -> jax.Array:
        """The row as an array, fields on the last axis (the book's layout)."""
        return jnp.stack([getattr(self, name) for name in ORDER_FIELDS], axis=-1)

    def terminal(self) -> jax.Array:
        """Orders that reached a terminal state (any of the four)."""
        return self.confirmed + self.auto_confirmed + self.refunded + self.claim_rejected

    def sales_cents(self) -> jax.Array:
        """What the seller sold, net of refunds (the basis of the annual-fee refund rule)."""
        return self.paid_cents - self.refund_cents

    def kept_cents(self) -> jax.Array:
        """What the seller keeps of the payment: net of refunds, commission and affiliate
        fees: the same fields the settlement posts to the ledger (``escrow.settlement``)."""
        return (
            self.paid_cents
            - self.refund_cents
            - self.commission_cents
            - self.affiliate_platform_cents
            - self.affiliate_payout_cents
        )


ORDER_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(OrderRow))
TERMINAL_STATES = ORDER_FIELDS[:4]


@pytree_dataclass
class Buyers:
    """Buyers (users): preferences and memory. 4 + 4 + P × 6 + 2 bytes each."""

    price_sens: jax.Array  # f32[N] β_price
    quality_sens: jax.Array  # f32[N] β_quality
    trust: jax.Array  # f32[N, P] trust at the last visit (decays lazily toward 0)
    last_visit: jax.Array  # i16[N, P] day of the last session on each platform
    last_platform: jax.Array  # i8[N] platform of the last session, -1 if none yet
    last_harm: jax.Array  # i8[N] the harm met there last (HARM_*)


@pytree_dataclass
class Sellers:
    """Seller slots (customers): type, product, and one listing per platform."""

    active: jax.Array  # bool[M] in the market
    base_cost: jax.Array  # f32[M] unit cost of a mid-quality good (efficiency), cents
    quality: jax.Array  # f32[M] true quality (honest) or claimed quality (harmful)
    honesty: jax.Array  # i8[M] HONEST / COUNTERFEITER / NON_SHIPPER
    listed: jax.Array  # bool[P, M]
    markup: jax.Array  # f32[P, M]
    ad_intensity: jax.Array  # f32[P, M] bid as a share of expected margin per click
    rating_sum: jax.Array  # f32[P, M] sum of buyers' experience scores
    rating_n: jax.Array  # f32[P, M] number of scores
    period_profit: jax.Array  # f32[P, M] profit in the current revision period, cents
    period_orders: jax.Array  # f32[P, M]
    last_profit: jax.Array  # f32[P, M] profit in the last completed period
    loss_streak: jax.Array  # i32[P, M] consecutive losing periods
    year_sales: jax.Array  # i64[P, M] sales this fee year, cents
    year_fee: jax.Array  # i64[P, M] service fee paid this fee year, cents
    period_ad_cents: jax.Array  # f32[P, M] ad spend in the current revision period, cents
    period_sales_cents: jax.Array  # f32[P, M] sales (net of refunds) in the period, cents
    ad_cost_share: jax.Array  # f32[P, M] ad spend / sales in the last period with sales


@pytree_dataclass
class Market:
    """Fixed features of the keyword markets, drawn once per run."""

    log_ref_price: jax.Array  # f32[C] log reference price of each category, cents


@pytree_dataclass
class State:
    """The whole simulated world on one day."""

    day: jax.Array  # i32 scalar
    buyers: Buyers
    sellers: Sellers
    market: Market
    orders: jax.Array  # i64[H, P, len(ORDER_FIELDS)] orders in flight by terminal day
    balances: jax.Array  # i64[accounts] ledger balances


def is_open(day: jax.Array, params: Params) -> jax.Array:
    """Which platforms are open today ([P] bool): those whose entry day has come."""
    return day >= params.platform.entry_day


def live_listings(sellers: Sellers, open_: jax.Array) -> jax.Array:
    """Listings that trade today ([P, M]): listed, of an active seller, on an open platform."""
    return sellers.listed & sellers.active[None, :] & open_[:, None]


def delist(sellers: Sellers, ended: jax.Array) -> Sellers:
    """Withdraw listings ([P, M]); a seller left with none leaves the market."""
    listed = sellers.listed & ~ended
    return replace(sellers, listed=listed, active=sellers.active & listed.any(axis=0))


def category_of(dims: Dims) -> jax.Array:
    """Category of every seller slot (slots are laid out category-major)."""
    return jnp.arange(dims.sellers, dtype=I32) // dims.seller_capacity


def unit_price_basis(sellers: Sellers, params: Params) -> jax.Array:
    """Unit cost of an honest good of the listed quality: the basis a seller prices on."""
    return sellers.base_cost * (1.0 + params.market.quality_cost_slope * (sellers.quality - 0.5))


def unit_cost(sellers: Sellers, params: Params) -> jax.Array:
    """What a seller really pays per order: honest full cost, counterfeit less, fake none."""
    factor = jnp.select(
        [sellers.honesty == HONEST, sellers.honesty == COUNTERFEITER],
        [jnp.float32(1.0), params.sellers.counterfeit_cost_factor],
        jnp.float32(0.0),
    )
    return unit_price_basis(sellers, params) * factor


def delivered_quality(honesty: jax.Array, quality: jax.Array, params: Params) -> jax.Array:
    """Quality a buyer receives: the true quality from an honest seller, the counterfeit's
    low quality from a counterfeiter, nothing (0) from a non-shipper."""
    return jnp.select(
        [honesty == HONEST, honesty == COUNTERFEITER],
        [quality, jnp.broadcast_to(params.sellers.counterfeit_delivered_quality, quality.shape)],
        jnp.zeros_like(quality),
    )


def draw_sensitivities(key: jax.Array, n: int, params: Params) -> tuple[jax.Array, jax.Array]:
    """β_price and β_quality: correlated log-normal draws (documented in docs/model.md)."""
    z = jax.random.normal(key, (2, n), dtype=F32)
    rho = params.buyers.sensitivity_correlation
    zq = rho * z[0] + jnp.sqrt(1.0 - rho * rho) * z[1]
    price = params.buyers.price_sensitivity_median * jnp.exp(
        params.buyers.price_sensitivity_sigma * z[0]
    )
    quality = params.buyers.quality_sensitivity_median * jnp.exp(
        params.buyers.quality_sensitivity_sigma * zq
    )
    return price, quality


def init_buyers(key: jax.Array, dims: Dims, params: Params) -> Buyers:
    """Buyers with drawn sensitivities and no history (trust 0: no experience yet)."""
    price, quality = draw_sensitivities(key, dims.buyers, params)
    P = dims.platforms
    return Buyers(
        price_sens=price,
        quality_sens=quality,
        trust=jnp.zeros((dims.buyers, P), F32),
        last_visit=jnp.full((dims.buyers, P), NEVER, jnp.int16),
        last_platform=jnp.full((dims.buyers,), -1, jnp.int8),
        last_harm=jnp.zeros((dims.buyers,), jnp.int8),
    )


def draw_types(key: jax.Array, home: jax.Array, category: jax.Array, params: Params) -> jax.Array:
    """Honesty types of sellers by the shares of their home platform and category."""
    logits = jnp.log(params.platform.seller_types[home, category])
    return jax.random.categorical(key, logits).astype(jnp.int8)


def draw_quality(key: jax.Array, honesty: jax.Array, params: Params) -> jax.Array:
    """True quality of honest goods (uniform in the range); harmful sellers list the claim."""
    q = jax.random.uniform(
        key, honesty.shape, F32, params.sellers.quality_low, params.sellers.quality_high
    )
    return jnp.where(honesty == HONEST, q, params.sellers.counterfeit_claimed_quality)


def draw_strategy(
    key: jax.Array, shape: tuple[int, ...], params: Params
) -> tuple[jax.Array, jax.Array]:
    """Initial markups and ad intensities (normal, clipped at zero)."""
    km, ka = jax.random.split(key)
    markup = params.sellers.markup_mean + params.sellers.markup_sd * jax.random.normal(
        km, shape, F32
    )
    ads = params.sellers.ad_intensity_mean + params.sellers.ad_intensity_sd * jax.random.normal(
        ka, shape, F32
    )
    return jnp.maximum(markup, 0.0), jnp.maximum(ads, 0.0)


def init_sellers(key: jax.Array, dims: Dims, params: Params, log_cost_level: jax.Array) -> Sellers:
    """Day-0 sellers: the first ``initial_sellers`` slots of each category are active."""
    P, M = dims.platforms, dims.sellers
    k_cost, k_type, k_q, k_home, k_multi, k_strat, k_screen = jax.random.split(key, 7)
    category = category_of(dims)
    active = (jnp.arange(M) % dims.seller_capacity) < params.market.initial_sellers
    base_cost = jnp.exp(
        log_cost_level[category]
        + params.market.seller_cost_sigma * jax.random.normal(k_cost, (M,), F32)
    )
    home_logits = jnp.log(params.platform.initial_seller_share + 1e-12)
    home = jax.random.categorical(k_home, home_logits, shape=(M,))
    honesty = draw_types(k_type, home, category, params)
    quality = draw_quality(k_q, honesty, params)
    # day-0 multi-homing is onto the platforms open on day 0; a platform that opens later
    # starts with only the sellers whose home it is (they signed up before launch)
    multi = (jax.random.uniform(k_multi, (P, M)) < params.sellers.initial_platforms_share) & (
        params.platform.entry_day <= 0
    )[:, None]
    listed = (jnp.arange(P)[:, None] == home[None, :]) | multi
    screened = (honesty != HONEST)[None, :] & (
        jax.random.uniform(k_screen, (P, M)) < params.platform.governance.verification_rate[:, None]
    )
    # sellers may sign up with a platform that opens later; they trade there once it opens
    listed = listed & active[None, :] & ~screened
    active = active & listed.any(axis=0)
    markup, ads = draw_strategy(k_strat, (P, M), params)
    zf = jnp.zeros((P, M), F32)
    zi = jnp.zeros((P, M), I64)
    reviews = jnp.where(listed, params.market.initial_reviews, 0.0)
    return Sellers(
        active=active,
        base_cost=base_cost,
        quality=quality,
        honesty=honesty,
        listed=listed,
        markup=markup,
        ad_intensity=ads,
        rating_sum=reviews * delivered_quality(honesty, quality, params)[None, :],
        rating_n=reviews,
        period_profit=zf,
        period_orders=zf,
        last_profit=zf,
        loss_streak=jnp.zeros((P, M), I32),
        year_sales=zi,
        year_fee=zi,
        period_ad_cents=zf,
        period_sales_cents=zf,
        ad_cost_share=zf,
    )


def init_state(key: jax.Array, dims: Dims, params: Params) -> State:
    """The world on day 0: drawn buyers, sellers and categories; deposits already paid."""
    k_cat, k_buy, k_sell = jax.random.split(key, 3)
    log_cost_level = jnp.log(
        params.market.base_cost_cents.astype(F32)
    ) + params.market.category_cost_sigma * jax.random.normal(k_cat, (dims.categories,), F32)
    sellers = init_sellers(k_sell, dims, params, log_cost_level)
    deposits = (
        jnp.sum(sellers.listed, axis=1).astype(I64) * params.platform.governance.deposit_cents
    )
    balances = ledger.opening_balances(dims.platforms, deposits)
    return State(
        day=jnp.asarray(0, I32),
        buyers=init_buyers(k_buy, dims, params),
        sellers=sellers,
        market=Market(log_ref_price=log_cost_level + jnp.log1p(params.sellers.markup_mean)),
        orders=jnp.zeros((dims.horizon, dims.platforms, len(ORDER_FIELDS)), I64),
        balances=balances,
    )
