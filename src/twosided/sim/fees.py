"""What platforms charge sellers: commission, the annual service fee, affiliate fees, deposits.

* Commission: a rate per platform and category on each completed sale (Tmall's schedule
  runs from 0.5% to 5% by category), taken when the order is settled, not on refunds.
* Technical-service fee: an annual fee per listed seller, charged on listing and at the
  start of each fee year (every 365 days, and on the day a late platform opens); refunded
  (a share) at the end of the fee year when the seller's sales there reached the threshold
  (Tmall's annual-fee refund rule).
* Affiliate fee: cost per sale on the share of orders referred by affiliates (Taobaoke);
  the platform keeps a share and pays the rest to the affiliates.
* Deposit: paid on listing, returned on a voluntary exit, forfeited when punished.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from twosided.sim.ledger import flow_record
from twosided.sim.params import F32, I64, Dims, Params
from twosided.sim.pytree import replace
from twosided.sim.state import Sellers, State, is_open, live_listings

YEAR_DAYS = 365


@flow_record
class ListingChanges:
    """Money owed for listings that appeared or ended ([P] int64 cents)."""

    deposit_paid: jax.Array
    service_fee: jax.Array
    deposit_returned: jax.Array
    forfeit_to_buyers: jax.Array
    forfeit_to_platform: jax.Array


@flow_record
class AnnualFee:
    """The annual service fee charged at a fee year's start and refunded at its end."""

    service_fee: jax.Array
    service_fee_refund: jax.Array


def commission_due(
    price: jax.Array, platform: jax.Array, category: jax.Array, params: Params
) -> jax.Array:
    """Commission on a sale, in whole cents."""
    rate = params.platform.fees.commission[platform, category]
    return jnp.round(rate * price.astype(F32)).astype(I64)


def affiliate_split(
    price: jax.Array, referred: jax.Array, platform: jax.Array, params: Params
) -> tuple[jax.Array, jax.Array]:
    """Affiliate fee on a referred sale, split into (platform's share, affiliate's payout)."""
    fee = jnp.where(
        referred,
        jnp.round(params.platform.fees.affiliate_fee_rate[platform] * price.astype(F32)),
        0.0,
    ).astype(I64)
    to_platform = jnp.round(
        fee.astype(F32) * params.platform.fees.affiliate_platform_share[platform]
    ).astype(I64)
    return to_platform, fee - to_platform


def listing_changes(
    before: jax.Array, after: jax.Array, forfeited: jax.Array, params: Params
) -> ListingChanges:
    """Money owed for listings that appear or disappear ([P, M] masks -> [P] int64 cents).

    A new listing pays the deposit and the annual service fee; a listing that ends pays back
    its deposit unless it was ``forfeited`` (punished), in which case the deposit goes to
    buyers or to the platform as the platform's governance says.
    """
    new = after & ~before
    gone = before & ~after
    n_new = jnp.sum(new, axis=1).astype(I64)
    n_returned = jnp.sum(gone & ~forfeited, axis=1).astype(I64)
    n_forfeited = jnp.sum(gone & forfeited, axis=1).astype(I64)
    forfeit = n_forfeited * params.platform.governance.deposit_cents
    return ListingChanges(
        deposit_paid=n_new * params.platform.governance.deposit_cents,
        service_fee=n_new * params.platform.fees.service_fee_cents,
        deposit_returned=n_returned * params.platform.governance.deposit_cents,
        forfeit_to_buyers=jnp.where(params.platform.governance.forfeit_to_buyers, forfeit, 0),
        forfeit_to_platform=jnp.where(params.platform.governance.forfeit_to_buyers, 0, forfeit),
    )


def annual_service_fee(
    listed: jax.Array, year_sales: jax.Array, year_fee: jax.Array, day: jax.Array, params: Params
) -> tuple[jax.Array, jax.Array, AnnualFee]:
    """Charge the fee at the start of each fee year; refund it at the end above the threshold.

    Returns updated ``(year_sales, year_fee)`` and the day's flows.
    """
    fee = params.platform.fees.service_fee_cents[:, None]
    year_end = (day % YEAR_DAYS) == YEAR_DAYS - 1
    # a fee year starts every 365 days, and on the day a late platform opens (its sellers
    # who signed up in advance pay then)
    year_start = (((day % YEAR_DAYS) == 0) | (day == params.platform.entry_day))[:, None]
    qualifies = (
        listed
        & (year_sales >= params.platform.fees.service_fee_refund_threshold_cents[:, None])
        & (fee > 0)
    )
    refund = jnp.where(
        year_end & qualifies,
        jnp.round(
            year_fee.astype(F32) * params.platform.fees.service_fee_refund_share[:, None]
        ).astype(I64),
        0,
    )
    charge = jnp.where(year_start & listed, fee, 0)
    year_sales = jnp.where(year_end, 0, year_sales)
    year_fee = jnp.where(year_end, 0, year_fee) + charge
    flows = AnnualFee(
        service_fee=jnp.sum(charge, axis=1), service_fee_refund=jnp.sum(refund, axis=1)
    )
    return year_sales, year_fee, flows


def stage(state: State, params: Params, dims: Dims) -> tuple[State, AnnualFee]:
    """Annual fees: charged on every live listing at a fee year's start, refunded (a
    share) at its end to listings whose year's sales reached the threshold."""
    sellers = state.sellers
    live = live_listings(sellers, is_open(state.day, params))
    year_sales, year_fee, flows = annual_service_fee(
        live, sellers.year_sales, sellers.year_fee, state.day, params
    )
    sellers = replace(sellers, year_sales=year_sales, year_fee=year_fee)
    return replace(state, sellers=sellers), flows


def open_listings(sellers: Sellers, new: jax.Array, params: Params) -> Sellers:
    """A new listing starts its fee year having paid the annual fee on listing."""
    return replace(
        sellers,
        year_fee=jnp.where(new, params.platform.fees.service_fee_cents[:, None], sellers.year_fee),
    )


def daily_overhead(params: Params) -> jax.Array:
    """A live listing's running cost per day ([P, 1] cents, float): the fixed cost and a
    365th of the annual fee (its share of a seller's profit; the fee itself is paid as
    ``AnnualFee``/``ListingChanges``, the fixed cost as the ``fixed_costs`` stream)."""
    return (
        params.sellers.fixed_cost_per_day_cents.astype(F32)
        + params.platform.fees.service_fee_cents[:, None].astype(F32) / YEAR_DAYS
    )
