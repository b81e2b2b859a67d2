"""Governance: platforms detect and punish harmful sellers with a chosen intensity.

Each day every listing of a counterfeiter or non-shipper on platform ``p`` is caught with
probability ``detection_rate[p]`` (0 turns a blind eye; 0.05 catches a fraudster within
about three weeks on average), and every honest listing is wrongly punished with
probability ``false_positive_rate[p]`` (strict policing has a cost to honest sellers).
A punished listing is delisted and its deposit forfeited, to the harmed buyers or to the
platform. Verified-quality platforms also screen harmful applicants when they list
(``verification_rate``, applied where listings are created).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from twosided.sim.fees import ListingChanges, listing_changes
from twosided.sim.params import Dims, Params
from twosided.sim.pytree import pytree_dataclass, replace
from twosided.sim.state import HONEST, State, delist, is_open


@pytree_dataclass
class Policing:
    """Governance's record of the day: the listings punished ([P, M]), how many per
    platform ([P]), and the money of their ending (deposits forfeited)."""

    punished: jax.Array
    exits: jax.Array
    changes: ListingChanges


def stage(state: State, params: Params, key: jax.Array, dims: Dims) -> tuple[State, Policing]:
    """Governance: detect harmful (and, by error, honest) listings, delist them and
    forfeit their deposits."""
    sellers = state.sellers
    open_ = is_open(state.day, params)
    punished = detect(key, sellers.listed & sellers.active[None, :], sellers.honesty, open_, params)
    after = delist(sellers, punished)
    changes = listing_changes(sellers.listed, after.listed, punished, params)
    record = Policing(punished=punished, exits=jnp.sum(punished, axis=1), changes=changes)
    return replace(state, sellers=after), record


def detect(
    key: jax.Array, listed: jax.Array, honesty: jax.Array, open_: jax.Array, params: Params
) -> jax.Array:
    """Listings ([P, M]) punished today."""
    harmful = (honesty != HONEST)[None, :]
    rate = jnp.where(
        harmful,
        params.platform.governance.detection_rate[:, None],
        params.platform.governance.false_positive_rate[:, None],
    )
    return listed & open_[:, None] & (jax.random.uniform(key, listed.shape) < rate)


def screened(key: jax.Array, applying: jax.Array, honesty: jax.Array, params: Params) -> jax.Array:
    """Which of the applying listings ([P, M]) the platform's verification turns away."""
    harmful = (honesty != HONEST)[None, :]
    return (
        applying
        & harmful
        & (
            jax.random.uniform(key, applying.shape)
            < params.platform.governance.verification_rate[:, None]
        )
    )
