"""Sellers' prices: a markup over cost, with a share of the platform's fees passed on.

A listing's price on platform ``p`` is

    price_pm = round(basis_m · (1 + max(markup_pm + markup_shift_p, −0.9)) / (1 − θ · f_pm))

where ``basis_m`` is the unit cost of an honest good of the listed quality
(``state.unit_price_basis``), ``θ = sellers.fee_pass_through`` and ``f_pm`` is what the
platform takes per order as a share of the price:

    f_pm = commission_p,c(m) + affiliate_order_share_p · affiliate_fee_rate_p + ad_cost_share_pm

the commission rate of the seller's category, the expected affiliate fee per order, and the
listing's ad spend per unit of sales over its last revision period with sales
(``Sellers.ad_cost_share``, updated at each revision). With ``θ = 1`` the seller keeps
``basis · (1 + markup)`` of each order after fees: the fees are passed on in full, as an ad
valorem fee is under competition with constant costs (Weyl & Fabinger 2013); with ``θ = 0``
the price ignores fees, which the seller then pays out of its margin. Imitation and
mutation act on the markup on top of this rule (``sellers.revise``), so sellers may still
learn to absorb a fee. The fee share is capped at ``MAX_FEE_SHARE`` (a price is never more
than ten times the price before fees).

Every price the engine uses is this one: the results pages, the orders and their fees, the
ranking's expected commission and the bids read ``ranking.listing_features``, which calls
``listed_prices``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from twosided.sim.params import F32, I64, Dims, Params
from twosided.sim.state import Sellers, category_of, unit_price_basis

MIN_MARKUP = -0.9  # prices never fall below a tenth of the cost basis
MAX_FEE_SHARE = 0.9  # fees passed on never make a price more than ten times its pre-fee level


def fee_share(sellers: Sellers, params: Params, dims: Dims) -> jax.Array:
    """What the platform takes per order as a share of the price ([P, M]): commission of
    the seller's category, the expected affiliate fee and the last period's ad-cost share,
    capped at ``MAX_FEE_SHARE``."""
    fees = params.platform.fees
    per_sale = (
        fees.commission[:, category_of(dims)]
        + (fees.affiliate_order_share * fees.affiliate_fee_rate)[:, None]
    )
    return jnp.clip(per_sale + sellers.ad_cost_share, 0.0, MAX_FEE_SHARE)


def listed_prices(sellers: Sellers, params: Params, dims: Dims) -> tuple[jax.Array, jax.Array]:
    """Every listing's price (int64 cents, [P, M]) and the share of it that is fees passed
    on (``θ · f``, float32 [P, M]; the seller keeps ``price · (1 − θ · f)`` before it pays
    its fees). With ``fee_pass_through = 0`` the share is 0 and the price is exactly
    ``round(basis · (1 + markup))``."""
    basis = unit_price_basis(sellers, params)[None, :]
    markup = jnp.maximum(sellers.markup + params.platform.markup_shift[:, None], MIN_MARKUP)
    passed = params.sellers.fee_pass_through * fee_share(sellers, params, dims)
    price = jnp.round(basis * (1.0 + markup) / (1.0 - passed))
    return jnp.maximum(price, 1.0).astype(I64), passed.astype(F32)


def ad_cost_share(sellers: Sellers) -> jax.Array:
    """The ad-cost share observed over the period that ends at a revision ([P, M]): ad spend
    per cent of sales; a listing that sold nothing keeps its previous estimate (it has no
    sales to spread its ad spend over)."""
    sales = sellers.period_sales_cents
    return jnp.where(
        sales > 0.0,
        sellers.period_ad_cents / jnp.where(sales > 0.0, sales, 1.0),
        sellers.ad_cost_share,
    )
