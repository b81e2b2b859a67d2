"""Buyer memory: trust in each platform, moved by what happened there.

Trust is the buyer's learned expectation of a session on a platform (an exponentially
weighted average of experience, as in reinforcement-learning models of choice, Erev & Roth
1998): after each session on platform ``p``

    trust_bp ← trust_bp + trust_learning_rate · (signal − trust_bp)

where

    signal = surplus_weight · log(1 + Σ_clicked exp(u_j − u_0))      (what the search offered)
           − no_purchase_penalty · [bought nothing]
           − overpay_weight · β_price · log(paid / price seen elsewhere)   (when compared)
           − quality_gap_weight · β_quality · max(0, shown − delivered)    (unless refunded)
           − fraud_penalty · [paid, got nothing, no refund]
           + protection_bonus · [claim refunded]
           − sponsored_disutility · Σ_k e_k · [position k sponsored]      (ad load)

and between visits trust fades toward the buyer's general trust, its mean over the
platforms it has used, which is also what it expects of a platform it has never used
(``shopping.decayed_trust``); the platform's brand is a separate, standing term of
platform choice. Because trust averages what happened to *this* buyer, a
price-sensitive buyer's trust in a low-price platform ends up above a quality-sensitive
buyer's, and the platform-choice logit then sends them to different rivals.
The first term is the logit inclusive value (the expected best option over buying nothing,
Small & Rosen 1981), so a page full of good offers builds trust; the others are harm on
price, harm on quality, fraud and protection. Price-sensitive buyers feel price harm more
and quality-sensitive buyers feel quality harm more, which is how different harms send
different buyers to different rivals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from twosided.sim.params import F32, I32, Dims, Params
from twosided.sim.pytree import replace
from twosided.sim.state import HARM_FRAUD, HARM_NONE, HARM_PRICE, HARM_QUALITY, Buyers, State

if TYPE_CHECKING:
    from twosided.sim.shopping import Session

PRICE_SENSITIVE, MIDDLE, QUALITY_SENSITIVE = 0, 1, 2
SEGMENT_NAMES = ("price_sensitive", "middle", "quality_sensitive")
_TERCILE_Z = 0.4307273  # standard-normal 2/3 quantile: splits buyers into thirds


def segment(price_sens: jax.Array, quality_sens: jax.Array, params: Params) -> jax.Array:
    """Buyer segment by log(β_price / β_quality): top third price-sensitive, bottom third
    quality-sensitive. The terciles follow in closed form from the log-normal draws."""
    mu = jnp.log(params.buyers.price_sensitivity_median) - jnp.log(
        params.buyers.quality_sensitivity_median
    )
    sp, sq, rho = (
        params.buyers.price_sensitivity_sigma,
        params.buyers.quality_sensitivity_sigma,
        params.buyers.sensitivity_correlation,
    )
    sd = jnp.sqrt(jnp.maximum(sp * sp + sq * sq - 2.0 * rho * sp * sq, 0.0))
    t = jnp.log(price_sens) - jnp.log(quality_sens) - mu
    cut = _TERCILE_Z * sd
    return jnp.where(
        sd > 0,
        jnp.where(t > cut, PRICE_SENSITIVE, jnp.where(t < -cut, QUALITY_SENSITIVE, MIDDLE)),
        MIDDLE,
    ).astype(I32)


def experience(
    *,
    inclusive_value: jax.Array,
    bought: jax.Array,
    overpay: jax.Array,
    quality_gap: jax.Array,
    lost_to_fraud: jax.Array,
    refunded: jax.Array,
    price_sens: jax.Array,
    quality_sens: jax.Array,
    params: Params,
    ad_nuisance: jax.Array | float = 0.0,
) -> tuple[jax.Array, jax.Array]:
    """Trust signal of each session and the harm it carries (HARM_* codes).

    ``ad_nuisance`` is the utility the session lost to the sponsored positions it examined
    (``shopping.ad_nuisance``; 0 when ads cost buyers nothing)."""
    gap = jnp.where(refunded, 0.0, quality_gap)
    signal = (
        params.buyers.surplus_weight * inclusive_value
        - params.buyers.no_purchase_penalty * (~bought).astype(F32)
        - params.buyers.overpay_weight * price_sens * overpay
        - params.buyers.quality_gap_weight * quality_sens * gap
        - params.buyers.fraud_penalty * lost_to_fraud.astype(F32)
        + params.buyers.protection_bonus * refunded.astype(F32)
    ) - ad_nuisance
    harm = jnp.where(
        lost_to_fraud,
        HARM_FRAUD,
        jnp.where(
            gap > params.buyers.harm_threshold,
            HARM_QUALITY,
            jnp.where(overpay > params.buyers.harm_threshold, HARM_PRICE, HARM_NONE),
        ),
    ).astype(jnp.int8)
    return signal, harm


def last_session_of_day(buyer: jax.Array, online: jax.Array, n_buyers: int) -> jax.Array:
    """Mask of each buyer's last online session of the day (the highest session index):
    the one that sets where the buyer shopped last, and so whether it switched today."""
    order = jnp.arange(buyer.shape[0], dtype=I32)
    latest = (
        jnp.full((n_buyers,), -1, I32)
        .at[jnp.where(online, buyer, n_buyers)]
        .max(order, mode="drop")
    )
    return online & (latest[buyer] == order)


def remember(
    buyers: Buyers,
    buyer: jax.Array,
    platform: jax.Array,
    online: jax.Array,
    trust_now: jax.Array,
    signal: jax.Array,
    harm: jax.Array,
    day: jax.Array,
    params: Params,
    last_of_day: jax.Array | None = None,
) -> Buyers:
    """Write today's sessions into buyers' memory.

    ``trust_now`` is each session's decayed trust in its platform; several sessions of
    one buyer on one platform in a day all count (the set is idempotent, the adds sum).
    The platform and harm remembered as the last are those of ``last_of_day`` (each
    buyer's last session of the day, ``last_session_of_day``; all online sessions if
    not given, for a single session per buyer).
    """
    P = buyers.trust.shape[1]
    p = jnp.where(online, platform, P)  # offline sessions are dropped by the scatters
    trust = buyers.trust.at[buyer, p].set(trust_now, mode="drop")
    trust = trust.at[buyer, p].add(
        params.buyers.trust_learning_rate * (signal - trust_now), mode="drop"
    )
    last_visit = buyers.last_visit.at[buyer, p].set(day.astype(jnp.int16), mode="drop")
    latest = online if last_of_day is None else last_of_day
    who = jnp.where(latest, buyer, buyers.last_platform.shape[0])
    last_platform = buyers.last_platform.at[who].set(platform.astype(jnp.int8), mode="drop")
    last_harm = buyers.last_harm.at[who].set(harm, mode="drop")
    return replace(
        buyers,
        trust=trust,
        last_visit=last_visit,
        last_platform=last_platform,
        last_harm=last_harm,
    )


def stage(state: State, params: Params, dims: Dims, *, session: Session) -> tuple[State, None]:
    """Buyer memory: each buyer's trust in the platform it used moves toward what the
    session signalled; the last platform and harm met are remembered. No record."""
    platform = session.platform
    trust_now = jnp.take_along_axis(session.trust, platform[:, None], axis=1)[:, 0]
    buyers = remember(
        state.buyers,
        session.buyer,
        platform,
        session.online,
        trust_now,
        session.signal,
        session.harm,
        state.day,
        params,
        last_of_day=session.last_of_day,
    )
    return replace(state, buyers=buyers), None
