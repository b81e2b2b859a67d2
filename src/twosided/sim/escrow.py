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

import jax
import jax.numpy as jnp

from twosided.sim.fees import affiliate_split, commission_due
from twosided.sim.params import F32, I32, I64, Params
from twosided.sim.state import (
    COUNTERFEITER,
    HONEST,
    NON_SHIPPER,
    OF,
    ORDER_FIELDS,
    TERMINAL_STATES,
)

CONFIRMED, AUTO_CONFIRMED, REFUNDED, CLAIM_REJECTED = 0, 1, 2, 3


def claim_probability(honesty: jax.Array, params: Params) -> jax.Array:
    """Chance the buyer claims: a missing parcel, a noticed fake, or a false claim."""
    return jnp.select(
        [honesty == NON_SHIPPER, honesty == COUNTERFEITER],
        [params.claim_if_not_delivered, params.claim_if_counterfeit],
        params.false_claim_rate,
    )


def upheld_probability(valid: jax.Array, platform: jax.Array, params: Params) -> jax.Array:
    """Chance a claim ends in a refund under the platform's dispute policy.

    Escrow and buyer_first: every claim. Escrow and evidence: valid claims with the
    platform's accuracy, false ones with its error rate. No escrow: the seller must be
    made to pay back, which succeeds at the recovery rate.
    """
    acc = params.evidence_accuracy[platform]
    evidence = jnp.where(valid, acc, 1.0 - acc)
    escrowed = jnp.where(params.buyer_first[platform], 1.0, evidence)
    return jnp.where(params.escrow[platform], escrowed, params.recovery_rate[platform])


def order_fates(
    u: jax.Array,
    honesty: jax.Array,
    platform: jax.Array,
    category: jax.Array,
    price: jax.Array,
    claimed_quality: jax.Array,
    delivered_quality: jax.Array,
    params: Params,
) -> dict[str, jax.Array]:
    """Draw each order's path. ``u`` holds 5 uniforms per order ``[S, 5]``.

    Returns per order: terminal ``state``, ``delay`` (days from payment to the terminal
    state), and the order-book row ``book`` ([S, len(ORDER_FIELDS)] int64).
    """
    ship = params.ship_days[platform]
    delivery = ship + params.transit_days[platform]
    deadline = ship + params.auto_confirm_days[platform]
    claim_day = jnp.minimum(delivery + 1, deadline)

    escrowed = params.escrow[platform]
    # under escrow a parcel never delivered cannot be auto-confirmed: the tracking record
    # turns the timeout into a claim even when the buyer does not file one
    claim = (u[:, 0] < claim_probability(honesty, params)) | (escrowed & (honesty == NON_SHIPPER))
    valid = honesty != HONEST
    upheld = claim & (u[:, 1] < upheld_probability(valid, platform, params))
    never = (u[:, 2] < params.never_confirm_share) | (honesty == NON_SHIPPER)
    wait = jnp.floor(-jnp.log(u[:, 3]) * params.confirm_mean_days).astype(I32)
    confirm_day = delivery + wait
    auto = never | (confirm_day >= deadline)
    state = jnp.where(
        claim,
        jnp.where(upheld, REFUNDED, CLAIM_REJECTED),
        jnp.where(auto, AUTO_CONFIRMED, CONFIRMED),
    ).astype(I32)
    delay = jnp.where(
        claim, claim_day + params.dispute_days[platform], jnp.where(auto, deadline, confirm_day)
    ).astype(I32)

    kept = ~upheld  # the seller keeps the money
    referred = u[:, 4] < params.affiliate_order_share[platform]
    commission = commission_due(price, platform, category, params)
    aff_platform, aff_payout = affiliate_split(price, referred, platform, params)
    fraud_loss = jnp.where(kept & (honesty == NON_SHIPPER), price, 0)
    shortfall = 1.0 - delivered_quality / jnp.maximum(claimed_quality, 1e-6)
    counterfeit_loss = jnp.where(
        kept & (honesty == COUNTERFEITER), jnp.round(price.astype(F32) * shortfall), 0.0
    ).astype(I64)

    zero = jnp.zeros_like(price)
    columns = {
        "confirmed": (state == CONFIRMED).astype(I64),
        "auto_confirmed": (state == AUTO_CONFIRMED).astype(I64),
        "refunded": (state == REFUNDED).astype(I64),
        "claim_rejected": (state == CLAIM_REJECTED).astype(I64),
        "release_cents": jnp.where(escrowed & kept, price, zero),
        "refund_cents": jnp.where(upheld, price, zero),
        "commission_cents": jnp.where(kept, commission, zero),
        "affiliate_platform_cents": jnp.where(kept, aff_platform, zero),
        "affiliate_payout_cents": jnp.where(kept, aff_payout, zero),
        "paid_cents": price,
        "claims": claim.astype(I64),
        "false_claims": (claim & ~valid).astype(I64),
        "fraud_loss_cents": fraud_loss,
        "counterfeit_loss_cents": counterfeit_loss,
        "seller_loss_cents": jnp.where(upheld & ~valid, price, zero),
        "harmful": valid.astype(I64),
    }
    book = jnp.stack([columns[name] for name in ORDER_FIELDS], axis=-1)
    return {"state": state, "delay": delay, "book": book, "upheld": upheld, "claim": claim}


def book_orders(
    orders: jax.Array,
    day: jax.Array,
    platform: jax.Array,
    delay: jax.Array,
    book: jax.Array,
    placed: jax.Array,
) -> jax.Array:
    """Add today's orders to the book at their terminal day (a ring of ``horizon`` days)."""
    H = orders.shape[0]
    slot = (day + delay) % H
    rows = jnp.where(placed[:, None], book, 0)
    return orders.at[slot, platform].add(rows)


def settle(orders: jax.Array, day: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Take out the orders that reach their terminal state today: ``(book, due[P, F])``."""
    slot = day % orders.shape[0]
    due = orders[slot]
    return orders.at[slot].set(0), due


def settlement_flows(due: jax.Array, escrow: jax.Array) -> dict[str, jax.Array]:
    """Ledger amounts ([P] int64) for the orders settled today."""
    refund = due[:, OF["refund_cents"]]
    return {
        "release": due[:, OF["release_cents"]],
        "refund_escrow": jnp.where(escrow, refund, 0),
        "refund_seller": jnp.where(escrow, 0, refund),
        "commission": due[:, OF["commission_cents"]],
        "affiliate_platform": due[:, OF["affiliate_platform_cents"]],
        "affiliate_payout": due[:, OF["affiliate_payout_cents"]],
    }


def in_flight(orders: jax.Array) -> jax.Array:
    """Orders still in flight per platform ([P] int64): all rows of the book."""
    return jnp.sum(orders[:, :, : len(TERMINAL_STATES)], axis=(0, 2))


def held_in_escrow(orders: jax.Array, escrow: jax.Array) -> jax.Array:
    """Money of the orders in flight that sits in escrow ([P] int64 cents)."""
    paid = jnp.sum(orders[:, :, OF["paid_cents"]], axis=0)
    return jnp.where(escrow, paid, 0)

