"""Engine parameters: the scenario turned into static sizes and a pytree of arrays.

``Dims`` holds the static shapes (hashable, compiled into the program); ``Params`` holds
every behavioural number as a JAX array, so that one compiled program serves every
policy variant of the same shape. Nothing here invents a number: each one comes from
the scenario schema (``twosided.scenario``), where its default is documented.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from twosided.scenario import Scenario, type_share_table
from twosided.sim.pytree import pytree_dataclass

jax.config.update("jax_enable_x64", True)

F32 = jnp.float32
I64 = jnp.int64
I32 = jnp.int32


@dataclasses.dataclass(frozen=True)
class Dims:
    """Static sizes of one simulation (shapes are fixed for a run; masks do the rest)."""

    buyers: int
    platforms: int
    categories: int
    seller_capacity: int  # slots per category
    sessions: int  # sessions drawn per day
    page_length: int
    ad_slots: int  # the most sponsored slots of any platform
    horizon: int  # days an order may stay in flight, plus one

    @property
    def sellers(self) -> int:
        """Seller slots in all: categories × capacity."""
        return self.categories * self.seller_capacity

    @property
    def markets(self) -> int:
        """Keyword markets in all: platforms × categories."""
        return self.platforms * self.categories


@pytree_dataclass
class Params:
    """Every behavioural number the engine uses, as arrays (per platform where it varies)."""

    # market
    initial_sellers: jax.Array
    initial_reviews: jax.Array
    ranking_noise: jax.Array
    base_cost: jax.Array
    category_cost_sigma: jax.Array
    seller_cost_sigma: jax.Array
    quality_cost_slope: jax.Array
    category_log_weights: jax.Array  # [C]
    examination: jax.Array  # [L]
    # buyers
    price_sens_median: jax.Array
    price_sens_sigma: jax.Array
    quality_sens_median: jax.Array
    quality_sens_sigma: jax.Array
    sens_correlation: jax.Array
    reference_quality: jax.Array
    outside_utility: jax.Array
    click_intercept: jax.Array
    click_quality_weight: jax.Array
    click_price_weight: jax.Array
    trust_weight: jax.Array
    assortment_weight: jax.Array
    switching_cost: jax.Array
    offline_utility: jax.Array
    trust_learning_rate: jax.Array
    trust_decay: jax.Array
    surplus_weight: jax.Array
    no_purchase_penalty: jax.Array
    compare_probability: jax.Array
    overpay_weight: jax.Array
    quality_gap_weight: jax.Array
    fraud_penalty: jax.Array
    protection_bonus: jax.Array
    harm_threshold: jax.Array
    confirm_mean_days: jax.Array
    never_confirm_share: jax.Array
    claim_if_not_delivered: jax.Array
    claim_if_counterfeit: jax.Array
    false_claim_rate: jax.Array
    # sellers
    type_shares: jax.Array  # [P, C, 3] honest, counterfeiter, non-shipper
    quality_low: jax.Array
    quality_high: jax.Array
    counterfeit_claimed_quality: jax.Array
    counterfeit_delivered_quality: jax.Array
    counterfeit_cost_factor: jax.Array
    fake_reviews_per_order: jax.Array
    fake_review_cost: jax.Array  # int64 cents
    markup_mean: jax.Array
    markup_sd: jax.Array
    ad_intensity_mean: jax.Array
    ad_intensity_sd: jax.Array
    conversion_estimate: jax.Array
    rating_prior_weight: jax.Array
    fixed_cost_per_day: jax.Array  # int64 cents
    initial_platforms_share: jax.Array
    adaptation_period: jax.Array
    imitation_scale: jax.Array
    imitation_step: jax.Array
    type_imitation_rate: jax.Array
    mutation_sd: jax.Array
    entry_per_thousand_sessions: jax.Array
    multihome_rate: jax.Array
    exit_after_periods: jax.Array
    # platforms, [P] unless noted
    entry_day: jax.Array
    brand: jax.Array
    initial_seller_share: jax.Array
    markup_shift: jax.Array
    w_quality: jax.Array
    w_price: jax.Array
    w_commission: jax.Array
    w_ads: jax.Array
    vcg: jax.Array  # bool
    slots: jax.Array  # int32
    reserve: jax.Array  # float cents
    increment: jax.Array  # float cents
    commission: jax.Array  # [P, C]
    service_fee: jax.Array  # int64 cents
    service_fee_refund_threshold: jax.Array  # int64 cents
    service_fee_refund_share: jax.Array
    affiliate_order_share: jax.Array
    affiliate_fee_rate: jax.Array
    affiliate_platform_share: jax.Array
    escrow: jax.Array  # bool
    ship_days: jax.Array  # int32
    transit_days: jax.Array
    auto_confirm_days: jax.Array
    dispute_days: jax.Array
    buyer_first: jax.Array  # bool
    evidence_accuracy: jax.Array
    recovery_rate: jax.Array
    detection_rate: jax.Array
    false_positive_rate: jax.Array
    verification_rate: jax.Array
    deposit: jax.Array  # int64 cents
    forfeit_to_buyers: jax.Array  # bool


def _f(x: float | list[float] | np.ndarray) -> jax.Array:
    return jnp.asarray(x, dtype=F32)


def horizon(scenario: Scenario) -> int:
    """Longest life of an order in days (payment to its terminal state), plus one."""
    longest = 0
    for p in scenario.platforms:
        e = p.escrow
        delivery = e.ship_days + e.transit_days
        # claims are filed the day after the expected delivery, or by the auto-confirm deadline
        claim_day = min(delivery + 1, e.ship_days + e.auto_confirm_days)
        longest = max(longest, e.ship_days + e.auto_confirm_days, claim_day + e.dispute_days)
    return longest + 1


def build(scenario: Scenario) -> tuple[Dims, Params]:
    """Turn a validated scenario into static sizes and an array pytree of parameters."""
    m, b, s = scenario.market, scenario.buyers, scenario.sellers
    plats = scenario.platforms
    C = m.categories
    dims = Dims(
        buyers=m.buyers,
        platforms=len(plats),
        categories=C,
        seller_capacity=m.seller_capacity,
        sessions=scenario.sessions_per_day,
        page_length=m.page_length,
        ad_slots=max(1, max(p.auction.slots for p in plats)),
        horizon=horizon(scenario),
    )
    ranks = np.arange(1, C + 1, dtype=np.float64)
    weights = ranks ** (-m.category_popularity_exponent)
    weights /= weights.sum()
    positions = np.arange(m.page_length, dtype=np.float64)
    examination = (positions + 1.0) ** (-b.examination_decay)

    def per_platform(get, dtype=F32) -> jax.Array:
        return jnp.asarray([get(p) for p in plats], dtype=dtype)

    def type_shares(p) -> list[list[float]]:
        mix = p.seller_types if p.seller_types is not None else s
        return type_share_table(mix.honest_share, mix.counterfeiter_share, mix.non_shipper_share, C)

    def commission_rates(p) -> list[float]:
        rate = p.fees.commission
        return list(rate) if isinstance(rate, list) else [rate] * C

    params = Params(
        initial_sellers=jnp.asarray(m.initial_sellers, I32),
        initial_reviews=_f(m.initial_reviews),
        ranking_noise=_f(m.ranking_noise),
        base_cost=_f(m.base_cost_cents),
        category_cost_sigma=_f(m.category_cost_sigma),
        seller_cost_sigma=_f(m.seller_cost_sigma),
        quality_cost_slope=_f(m.quality_cost_slope),
        category_log_weights=_f(np.log(weights)),
        examination=_f(examination),
        price_sens_median=_f(b.price_sensitivity_median),
        price_sens_sigma=_f(b.price_sensitivity_sigma),
        quality_sens_median=_f(b.quality_sensitivity_median),
        quality_sens_sigma=_f(b.quality_sensitivity_sigma),
        sens_correlation=_f(b.sensitivity_correlation),
        reference_quality=_f(b.reference_quality),
        outside_utility=_f(b.outside_utility),
        click_intercept=_f(b.click_intercept),
        click_quality_weight=_f(b.click_quality_weight),
        click_price_weight=_f(b.click_price_weight),
        trust_weight=_f(b.trust_weight),
        assortment_weight=_f(b.assortment_weight),
        switching_cost=_f(b.switching_cost),
        offline_utility=_f(b.offline_utility),
        trust_learning_rate=_f(b.trust_learning_rate),
        trust_decay=_f(b.trust_decay_per_day),
        surplus_weight=_f(b.surplus_weight),
        no_purchase_penalty=_f(b.no_purchase_penalty),
        compare_probability=_f(b.compare_probability),
        overpay_weight=_f(b.overpay_weight),
        quality_gap_weight=_f(b.quality_gap_weight),
        fraud_penalty=_f(b.fraud_penalty),
        protection_bonus=_f(b.protection_bonus),
        harm_threshold=_f(b.harm_threshold),
        confirm_mean_days=_f(b.confirm_mean_days),
        never_confirm_share=_f(b.never_confirm_share),
        claim_if_not_delivered=_f(b.claim_if_not_delivered),
        claim_if_counterfeit=_f(b.claim_if_counterfeit),
        false_claim_rate=_f(b.false_claim_rate),
        type_shares=_f([type_shares(p) for p in plats]),
        quality_low=_f(s.quality_low),
        quality_high=_f(s.quality_high),
        counterfeit_claimed_quality=_f(s.counterfeit_claimed_quality),
        counterfeit_delivered_quality=_f(s.counterfeit_delivered_quality),
        counterfeit_cost_factor=_f(s.counterfeit_cost_factor),
        fake_reviews_per_order=_f(s.fake_reviews_per_order),
        fake_review_cost=jnp.asarray(s.fake_review_cost_cents, I64),
        markup_mean=_f(s.markup_mean),
        markup_sd=_f(s.markup_sd),
        ad_intensity_mean=_f(s.ad_intensity_mean),
        ad_intensity_sd=_f(s.ad_intensity_sd),
        conversion_estimate=_f(s.conversion_estimate),
        rating_prior_weight=_f(s.rating_prior_weight),
        fixed_cost_per_day=jnp.asarray(s.fixed_cost_per_day_cents, I64),
        initial_platforms_share=_f(s.initial_platforms_share),
        adaptation_period=jnp.asarray(s.adaptation_period_days, I32),
        imitation_scale=_f(s.imitation_scale_cents),
        imitation_step=_f(s.imitation_step),
        type_imitation_rate=_f(s.type_imitation_rate),
        mutation_sd=_f(s.mutation_sd),
        entry_per_thousand_sessions=_f(s.entry_per_thousand_sessions),
        multihome_rate=_f(s.multihome_rate),
        exit_after_periods=jnp.asarray(s.exit_after_periods, I32),
        entry_day=per_platform(lambda p: p.entry_day, I32),
        brand=per_platform(lambda p: p.brand),
        initial_seller_share=per_platform(lambda p: p.initial_seller_share),
        markup_shift=per_platform(lambda p: p.markup_shift),
        w_quality=per_platform(lambda p: p.ranking.quality),
        w_price=per_platform(lambda p: p.ranking.price),
        w_commission=per_platform(lambda p: p.ranking.commission),
        w_ads=per_platform(lambda p: p.ranking.ads),
        vcg=per_platform(lambda p: p.auction.mechanism == "vcg", bool),
        slots=per_platform(lambda p: p.auction.slots, I32),
        reserve=per_platform(lambda p: p.auction.reserve_cents),
        increment=per_platform(lambda p: p.auction.increment_cents),
        commission=jnp.asarray([commission_rates(p) for p in plats], F32),
        service_fee=per_platform(lambda p: p.fees.service_fee_cents, I64),
        service_fee_refund_threshold=per_platform(
            lambda p: p.fees.service_fee_refund_threshold_cents, I64
        ),
        service_fee_refund_share=per_platform(lambda p: p.fees.service_fee_refund_share),
        affiliate_order_share=per_platform(lambda p: p.fees.affiliate_order_share),
        affiliate_fee_rate=per_platform(lambda p: p.fees.affiliate_fee_rate),
        affiliate_platform_share=per_platform(lambda p: p.fees.affiliate_platform_share),
        escrow=per_platform(lambda p: p.escrow.enabled, bool),
        ship_days=per_platform(lambda p: p.escrow.ship_days, I32),
        transit_days=per_platform(lambda p: p.escrow.transit_days, I32),
        auto_confirm_days=per_platform(lambda p: p.escrow.auto_confirm_days, I32),
        dispute_days=per_platform(lambda p: p.escrow.dispute_days, I32),
        buyer_first=per_platform(lambda p: p.escrow.dispute_policy == "buyer_first", bool),
        evidence_accuracy=per_platform(lambda p: p.escrow.evidence_accuracy),
        recovery_rate=per_platform(lambda p: p.escrow.recovery_rate),
        detection_rate=per_platform(lambda p: p.governance.detection_rate),
        false_positive_rate=per_platform(lambda p: p.governance.false_positive_rate),
        verification_rate=per_platform(lambda p: p.governance.verification_rate),
        deposit=per_platform(lambda p: p.governance.deposit_cents, I64),
        forfeit_to_buyers=per_platform(lambda p: p.governance.forfeit_to == "buyers", bool),
    )
    return dims, params
