"""Fulfilment, escrow, claims and refunds: the life of an order.

Every order walks one path of a fixed state machine (docs/model.md draws it):

    paid ──► shipped (or a fake tracking number) ──► delivered (or nothing arrives)
      │                                                │
      │              ┌─────────────── no claim ────────┤
      │              ▼                                 ▼ claim
      │    confirmed by the buyer             disputed ──► refunded
      │    or auto-confirmed at the timeout             └─► claim_rejected
      ▼
    terminal: confirmed | auto_confirmed | refunded | claim_rejected

With escrow the payment waits in the platform's escrow account until the terminal day and
is then released to the seller (confirmed, auto_confirmed, claim_rejected) or returned to
the buyer (refunded). Without escrow the seller is paid at once and a refund must come
back from the seller, which succeeds only at ``recovery_rate``. Under escrow a parcel that
was never delivered cannot be auto-confirmed: the missing delivery record turns the
timeout into a claim, settled by the dispute policy. Commission and affiliate
fees are taken at the terminal day on orders that are not refunded.

The path of an order is drawn when it is placed (event scheduling): the draws decide
whether the buyer claims, whether a claim is upheld and when the buyer confirms; money
moves on the order's own timeline through ``orders``, a book of in-flight orders indexed
by terminal day (a ring of ``horizon`` days) and platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from twosided.sim.fees import affiliate_split, commission_due
from twosided.sim.ledger import flow_record
from twosided.sim.params import F32, I32, I64, Dims, Params
from twosided.sim.pytree import pytree_dataclass, replace
from twosided.sim.state import COUNTERFEITER, HONEST, NON_SHIPPER, OrderRow, State

if TYPE_CHECKING:
    from twosided.sim.shopping import Session

CONFIRMED, AUTO_CONFIRMED, REFUNDED, CLAIM_REJECTED = 0, 1, 2, 3


@pytree_dataclass
class OrderFate:
    """Each order's drawn path ([S] per field): its terminal ``state`` (CONFIRMED ...),
    ``delay`` (days from payment to the terminal state), its order-book row ``book``, and
    whether a claim was filed (``claim``) and upheld (``upheld``)."""

    state: jax.Array
    delay: jax.Array
    book: OrderRow
    upheld: jax.Array
    claim: jax.Array


@flow_record
class Payments:
    """Buyers' payments for today's orders ([P] int64 cents): into escrow or to sellers."""

    payment_escrow: jax.Array
    payment_direct: jax.Array


@flow_record
class Settlement:
    """Money of the orders settled today ([P] int64 cents)."""

    release: jax.Array
    refund_escrow: jax.Array
    refund_seller: jax.Array
    commission: jax.Array
    affiliate_platform: jax.Array
    affiliate_payout: jax.Array


@pytree_dataclass
class Orders:
    """The orders stage's record: today's payments, what settled (``due``, [P] per
    field) and its money."""

    payments: Payments
    due: OrderRow
    settlement: Settlement


def claim_probability(honesty: jax.Array, params: Params) -> jax.Array:
    """Chance the buyer claims: a missing parcel, a noticed fake, or a false claim."""
    return jnp.select(
        [honesty == NON_SHIPPER, honesty == COUNTERFEITER],
        [params.buyers.claim_if_not_delivered, params.buyers.claim_if_counterfeit],
        params.buyers.false_claim_rate,
    )


def upheld_probability(valid: jax.Array, platform: jax.Array, params: Params) -> jax.Array:
    """Chance a claim ends in a refund under the platform's dispute policy.

    Escrow and buyer_first: every claim. Escrow and evidence: valid claims with the
    platform's accuracy, false ones with its error rate. No escrow: the seller must be
    made to pay back, which succeeds at the recovery rate.
    """
    acc = params.platform.escrow.evidence_accuracy[platform]
    evidence = jnp.where(valid, acc, 1.0 - acc)
    escrowed = jnp.where(params.platform.escrow.buyer_first[platform], 1.0, evidence)
    return jnp.where(
        params.platform.escrow.enabled[platform],
        escrowed,
        params.platform.escrow.recovery_rate[platform],
    )


def order_fates(
    u: jax.Array,
    honesty: jax.Array,
    platform: jax.Array,
    category: jax.Array,
    price: jax.Array,
    claimed_quality: jax.Array,
    delivered_quality: jax.Array,
    params: Params,
) -> OrderFate:
    """Draw each order's path. ``u`` holds 5 uniforms per order ``[S, 5]``."""
    ship = params.platform.escrow.ship_days[platform]
    delivery = ship + params.platform.escrow.transit_days[platform]
    deadline = ship + params.platform.escrow.auto_confirm_days[platform]
    claim_day = jnp.minimum(delivery + 1, deadline)

    escrowed = params.platform.escrow.enabled[platform]
    # under escrow a parcel never delivered cannot be auto-confirmed: the tracking record
    # turns the timeout into a claim even when the buyer does not file one
    claim = (u[:, 0] < claim_probability(honesty, params)) | (escrowed & (honesty == NON_SHIPPER))
    valid = honesty != HONEST
    upheld = claim & (u[:, 1] < upheld_probability(valid, platform, params))
    never = (u[:, 2] < params.buyers.never_confirm_share) | (honesty == NON_SHIPPER)
    wait = jnp.floor(-jnp.log(u[:, 3]) * params.buyers.confirm_mean_days).astype(I32)
    confirm_day = delivery + wait
    auto = never | (confirm_day >= deadline)
    state = jnp.where(
        claim,
        jnp.where(upheld, REFUNDED, CLAIM_REJECTED),
        jnp.where(auto, AUTO_CONFIRMED, CONFIRMED),
    ).astype(I32)
    delay = jnp.where(
        claim,
        claim_day + params.platform.escrow.dispute_days[platform],
        jnp.where(auto, deadline, confirm_day),
    ).astype(I32)

    kept = ~upheld  # the seller keeps the money
    referred = u[:, 4] < params.platform.fees.affiliate_order_share[platform]
    commission = commission_due(price, platform, category, params)
    aff_platform, aff_payout = affiliate_split(price, referred, platform, params)
    fraud_loss = jnp.where(kept & (honesty == NON_SHIPPER), price, 0)
    shortfall = 1.0 - delivered_quality / jnp.maximum(claimed_quality, 1e-6)
    counterfeit_loss = jnp.where(
        kept & (honesty == COUNTERFEITER), jnp.round(price.astype(F32) * shortfall), 0.0
    ).astype(I64)

    zero = jnp.zeros_like(price)
    book = OrderRow(
        confirmed=(state == CONFIRMED).astype(I64),
        auto_confirmed=(state == AUTO_CONFIRMED).astype(I64),
        refunded=(state == REFUNDED).astype(I64),
        claim_rejected=(state == CLAIM_REJECTED).astype(I64),
        release_cents=jnp.where(escrowed & kept, price, zero),
        refund_cents=jnp.where(upheld, price, zero),
        commission_cents=jnp.where(kept, commission, zero),
        affiliate_platform_cents=jnp.where(kept, aff_platform, zero),
        affiliate_payout_cents=jnp.where(kept, aff_payout, zero),
        paid_cents=price,
        claims=claim.astype(I64),
        false_claims=(claim & ~valid).astype(I64),
        fraud_loss_cents=fraud_loss,
        counterfeit_loss_cents=counterfeit_loss,
        seller_loss_cents=jnp.where(upheld & ~valid, price, zero),
        harmful=valid.astype(I64),
    )
    return OrderFate(state=state, delay=delay, book=book, upheld=upheld, claim=claim)


def book_orders(
    orders: jax.Array,
    day: jax.Array,
    platform: jax.Array,
    delay: jax.Array,
    book: OrderRow,
    placed: jax.Array,
) -> jax.Array:
    """Add today's orders to the book at their terminal day (a ring of ``horizon`` days).

    A session that placed no order is sent to a spare row that is then dropped, rather than
    zeroing its fields: the scatter reads the stacked rows as they are (masking the
    ``[S, fields]`` rows first costs a session-sized pass and, on the CPU, a much slower
    scatter). Integer sums, so the book is the same either way."""
    H, P, F = orders.shape
    slot = jnp.where(placed, ((day + delay) % H) * P + platform, H * P)  # H × P: dropped
    added = jnp.zeros((H * P + 1, F), orders.dtype).at[slot].add(book.stack())
    return orders + added[: H * P].reshape(H, P, F)


def settle(orders: jax.Array, day: jax.Array) -> tuple[jax.Array, OrderRow]:
    """Take out the orders that reach their terminal state today: ``(book, due)``, ``due``
    per platform ([P] per field)."""
    slot = day % orders.shape[0]
    due = orders[slot]
    return orders.at[slot].set(0), OrderRow.of(due)


def settlement(due: OrderRow, escrow: jax.Array) -> Settlement:
    """Ledger amounts ([P] int64) for the orders settled today."""
    refund = due.refund_cents
    return Settlement(
        release=due.release_cents,
        refund_escrow=jnp.where(escrow, refund, 0),
        refund_seller=jnp.where(escrow, 0, refund),
        commission=due.commission_cents,
        affiliate_platform=due.affiliate_platform_cents,
        affiliate_payout=due.affiliate_payout_cents,
    )


def stage(state: State, params: Params, dims: Dims, *, session: Session) -> tuple[State, Orders]:
    """Orders: buyers pay for today's orders (into escrow or to the seller), each order is
    booked at its terminal day, and today's terminal orders settle their money."""
    day = state.day
    fate = session.fate
    orders = book_orders(state.orders, day, session.platform, fate.delay, fate.book, session.bought)
    orders, due = settle(orders, day)
    paid = jax.ops.segment_sum(session.price, session.platform, num_segments=dims.platforms)
    escrowed = params.platform.escrow.enabled
    payments = Payments(
        payment_escrow=jnp.where(escrowed, paid, 0), payment_direct=jnp.where(escrowed, 0, paid)
    )
    record = Orders(payments=payments, due=due, settlement=settlement(due, escrowed))
    return replace(state, orders=orders), record


def in_flight(orders: jax.Array) -> jax.Array:
    """Orders still in flight per platform ([P] int64): all rows of the book."""
    return jnp.sum(OrderRow.of(orders).terminal(), axis=0)


def held_in_escrow(orders: jax.Array, escrow: jax.Array) -> jax.Array:
    """Money of the orders in flight that sits in escrow ([P] int64 cents)."""
    paid = jnp.sum(OrderRow.of(orders).paid_cents, axis=0)
    return jnp.where(escrow, paid, 0)
