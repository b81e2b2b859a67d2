"""The scenario schema: every number the engine uses, typed, validated and documented.

Each field states its default and the reason for it (the single source of truth for
defaults; ``docs/model.md`` quotes it through ``twosided.docgen``). Money is given in integer
cents (``*_cents`` fields); behaviour in plain floats.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twosided.scenario.errors import ScenarioError, format_error
from twosided.scenario.writer import commented_toml, dump_toml

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Cents = Annotated[int, Field(ge=0, le=10**12)]
CENTS_PER_YUAN = 100  # money is integer cents everywhere; reports show yuan

MAX_PLATFORMS = 5
# the longest run: buyers remember the day of their last visit in int16 (2 bytes per
# platform keeps a buyer's state small), so days must stay below 2**15 (about 89 years)
MAX_DAYS = 32_767


class _Model(BaseModel):
    # no field has a meaning for infinity or NaN, so neither is accepted from a file
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False, strict=True
    )


# --------------------------------------------------------------------------- market


class Market(_Model):
    """Size and shape of the market: who is there and what is sold."""

    buyers: int = Field(
        200_000,
        ge=1,
        le=2_000_000_000,
        description="Number of buyers (users). 2e5 keeps a market-year under a minute on a laptop "
        "while leaving every seller enough sessions for ratings to learn.",
    )
    sessions_per_buyer_per_day: float = Field(
        0.2,
        gt=0.0,
        le=10.0,
        description="Mean shopping sessions a buyer starts per day (one keyword search each). "
        "0.2 is about six searches a month, of the order reported for active Taobao users.",
    )
    categories: int = Field(
        8,
        ge=1,
        le=4096,
        description="Keyword markets (categories). Each has its own results page and auction "
        "per platform. 8 is enough to carry category-level commission rates.",
    )
    daily_sessions_per_category: float | None = Field(
        None,
        gt=0.0,
        le=1e9,
        description="Markets that scale (docs/model.md §3.6): when set, the `categories` are "
        "category classes and the market holds as many copies of each as keep a copy's "
        "daily searches near this mean (copies = round(sessions per day / (categories × "
        "this)), at least 1); day-0 sellers and seller slots per copy follow the rest of "
        "the demand. 250 makes 10k, 20k, 50k and 200k buyers at 0.2 sessions a day "
        "1, 2, 5 and 20 copies of one market. Unset: a fixed `categories` whatever the "
        "market size, so a smaller market is a thinner one (0.1 behaviour).",
    )
    category_popularity_exponent: float = Field(
        0.8,
        ge=0.0,
        le=5.0,
        description="Searches are spread over categories by a Zipf law with this exponent "
        "(0 = equal); search demand across keywords is famously long-tailed.",
    )
    seller_capacity: int = Field(
        128,
        ge=1,
        le=10_000_000,
        description="Seller slots per category (fixed capacity; entry and exit flip masks). "
        "Room for the market to grow to about three times its day-0 size.",
    )
    initial_sellers: int = Field(
        48,
        ge=1,
        description="Active sellers per category on day 0 (must not exceed seller_capacity): "
        "about as many as the search traffic of a category can keep in business under "
        "the defaults, so that year one is not a shake-out.",
    )
    initial_reviews: float = Field(
        30.0,
        ge=0.0,
        le=1e6,
        description="Experience scores a day-0 listing already has (the market has a history): "
        "day-0 ratings reflect delivered quality instead of everyone's claims.",
    )
    ranking_noise: float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        description="Standard deviation of the daily noise added to organic scores (z units): "
        "relevance and personalization the model does not carry. It rotates the first page so "
        "that sellers below it see some traffic.",
    )
    base_cost_cents: Cents = Field(
        5_000,
        description="Median unit cost of a mid-quality good across categories (50 yuan), about "
        "the median order value of general merchandise on Chinese marketplaces.",
    )
    category_cost_sigma: float = Field(
        0.6,
        ge=0.0,
        le=3.0,
        description="Log-normal spread of category cost levels, so that categories range from "
        "cheap consumables to durable goods.",
    )
    seller_cost_sigma: float = Field(
        0.15,
        ge=0.0,
        le=2.0,
        description="Log-normal spread of unit cost among sellers of one category (efficiency).",
    )
    quality_cost_slope: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Unit cost grows as (1 + slope × (quality − 0.5)): better goods cost more "
        "to make, so quality is a real trade-off for sellers.",
    )
    page_length: int = Field(
        12,
        ge=1,
        le=100,
        description="Listings on the results page a buyer may examine (sponsored plus "
        "organic). A phone screen shows 4-6; 12 is two screens, beyond which examination is "
        "negligible under the default curve.",
    )


# --------------------------------------------------------------------------- buyers


class Buyers(_Model):
    """Buyer preferences, search behaviour, memory (trust) and claims."""

    price_sensitivity_median: float = Field(
        4.0,
        gt=0.0,
        le=100.0,
        description="Median β_price: utility lost per unit of log price relative to the "
        "category's reference price. 4 gives a price elasticity of demand around −2 to −4, "
        "in the range estimated for online retail.",
    )
    price_sensitivity_sigma: float = Field(
        0.5,
        ge=0.0,
        le=3.0,
        description="Log-normal spread of β_price across buyers (heterogeneous buyers).",
    )
    quality_sensitivity_median: float = Field(
        3.0,
        gt=0.0,
        le=100.0,
        description="Median β_quality: utility per unit of (perceived) quality on a 0-1 scale.",
    )
    quality_sensitivity_sigma: float = Field(
        0.5,
        ge=0.0,
        le=3.0,
        description="Log-normal spread of β_quality across buyers.",
    )
    sensitivity_correlation: float = Field(
        -0.3,
        ge=-0.99,
        le=0.99,
        description="Correlation of log β_price and log β_quality: bargain hunters care less "
        "about quality, so price harm and quality harm move different buyers.",
    )
    reference_quality: Probability = Field(
        0.6,
        description="Quality at which quality adds nothing to utility: utility is centred on a "
        "typical listing, u = β_quality·(rating − reference) − β_price·log(price/reference "
        "price), so price- and quality-sensitive buyers value a typical offer alike and differ "
        "in how they value departures from it.",
    )
    outside_utility: float = Field(
        0.4,
        ge=-20.0,
        le=20.0,
        description="Utility of buying nothing after a search (the logit outside option), "
        "against a typical listing's 0. Sets the per-session conversion to about a fifth "
        "under the defaults.",
    )
    examination_decay: float = Field(
        0.8,
        ge=0.0,
        le=5.0,
        description="Position-based examination curve e_k = (k+1)^(−decay), k = 0 at the top: "
        "the power-law shape fitted to eye-tracking and click logs (Craswell et al. 2008; "
        "Richardson et al. 2007).",
    )
    click_intercept: float = Field(
        -2.5,
        ge=-20.0,
        le=20.0,
        description="Intercept of the attractiveness (click-given-examined) logit a_j. Under the "
        "defaults about a fifth of examined listings are clicked (e-commerce search CTRs at the "
        "top of the page are 10-30%).",
    )
    click_quality_weight: float = Field(
        2.0,
        ge=0.0,
        le=20.0,
        description="Weight of the listing's rating in its attractiveness logit.",
    )
    click_price_weight: float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description="Weight of the listing's log relative price in its attractiveness logit.",
    )
    sponsored_disutility: float = Field(
        0.0,
        ge=0.0,
        le=20.0,
        description="Utility a buyer loses per sponsored position it examines (in "
        "expectation: Σ_k e_k over the page's sponsored positions), the cost of ad load to "
        "users: it lowers the session's realized utility, so its trust signal and consumer "
        "surplus, but not the choice among the listings clicked (the ads are already seen). "
        "Annoying or intrusive ads cost users measurably (Goldstein, McAfee & Suri 2013) and "
        "more ads drive users away (Huang, Reiley & Riabov 2018), which makes the number of "
        "sponsored slots a trade-off between ad revenue and buyers. 0 (the default): ads "
        "cost buyers nothing beyond the listings they displace, as before this setting "
        "existed.",
    )
    # platform choice
    trust_weight: float = Field(
        3.0,
        ge=0.0,
        le=20.0,
        description="Weight of the buyer's trust in a platform in its platform-choice logit. "
        "Trust is in utility units of a session; 3 lets a one-tenth difference in a "
        "session's expected value shift about 8% of a buyer's sessions.",
    )
    assortment_weight: float = Field(
        0.5,
        ge=0.0,
        le=20.0,
        description="Weight of log(1 + sellers listed in the category) in platform choice: the "
        "cross-side network effect: buyers value a platform for its sellers.",
    )
    switching_cost: float = Field(
        1.0,
        ge=0.0,
        le=50.0,
        description="Utility bonus for the platform used last (habit, saved addresses, app on "
        "the home screen). Higher values lock buyers in.",
    )
    offline_utility: float = Field(
        -1.0,
        ge=-50.0,
        le=50.0,
        description="Utility of not shopping online for this need (a bricks-and-mortar store): "
        "the platform-choice outside option, so buyers can leave every platform.",
    )
    # trust dynamics
    trust_learning_rate: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="How far one session moves trust toward what happened in it "
        "(exponential-recency learning: the last five or so sessions dominate).",
    )
    trust_decay_per_day: float = Field(
        0.001,
        ge=0.0,
        le=1.0,
        description="Daily pull of trust in an unused platform back toward the buyer's "
        "general trust (its mean trust over the platforms it has used): a half-life of "
        "about two years, so an impression of a platform outlasts months of not using it.",
    )
    surplus_weight: float = Field(
        0.5,
        ge=0.0,
        le=20.0,
        description="Trust gain per unit of realized utility above the outside option.",
    )
    no_purchase_penalty: float = Field(
        0.5,
        ge=0.0,
        le=20.0,
        description="Trust lost after a search that found nothing worth buying (a wasted "
        "search costs about as much as a typical purchase's expected gain).",
    )
    compare_probability: Probability = Field(
        0.3,
        description="Chance that a median buyer also checks the same keyword on another "
        "platform and notices if it was cheaper there than what it paid (or, if it bought "
        "nothing, than the cheapest listing it clicked). It scales with β_price / its "
        "median (capped at 1): the returns to search rise with price sensitivity (Stigler "
        "1961), so bargain hunters compare more.",
    )
    overpay_weight: float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description="Trust lost per unit of β_price × log(paid / price seen elsewhere).",
    )
    quality_gap_weight: float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description="Trust lost per unit of β_quality × (shown − delivered quality).",
    )
    fraud_penalty: float = Field(
        2.0,
        ge=0.0,
        le=50.0,
        description="Trust lost when the buyer loses money to fraud and gets nothing back.",
    )
    protection_bonus: float = Field(
        0.5,
        ge=0.0,
        le=50.0,
        description="Trust gained when a claim is refunded (the platform stood by the buyer).",
    )
    harm_threshold: float = Field(
        0.05,
        ge=0.0,
        le=5.0,
        description="A price or quality gap larger than this (log price or quality points) "
        "counts as harm for the switching-reason metrics.",
    )
    # orders and claims
    confirm_mean_days: float = Field(
        3.0,
        gt=0.0,
        le=60.0,
        description="Mean days from delivery until a satisfied buyer confirms receipt.",
    )
    never_confirm_share: Probability = Field(
        0.3,
        description="Share of satisfied buyers who never press 'confirm' and are auto-confirmed.",
    )
    claim_if_not_delivered: Probability = Field(
        0.9,
        description="Chance a buyer whose parcel never came files a claim.",
    )
    claim_if_counterfeit: Probability = Field(
        0.5,
        description="Chance a buyer who received a counterfeit notices and files a claim.",
    )
    false_claim_rate: Probability = Field(
        0.01,
        description="Chance a buyer who got what they ordered still claims 'the parcel never "
        "came'. About 1% of orders, the order of refund-abuse rates reported by retailers.",
    )


# --------------------------------------------------------------------------- sellers


class Sellers(_Model):
    """Seller types, strategies and how they adapt, enter and exit."""

    honest_share: float | list[float] = Field(
        0.9,
        description="Share of honest sellers among day-0 sellers and entrants: one share, or "
        "one per category. Platforms may set their own mix (platforms[].seller_types).",
    )
    counterfeiter_share: float | list[float] = Field(
        0.07,
        description="Share of counterfeiters (list a quality they do not ship, at lower "
        "cost), one or one per category: counterfeits concentrate in branded categories.",
    )
    non_shipper_share: float | list[float] = Field(
        0.03,
        description="Share of non-shippers (take the money and ship nothing), one or one per "
        "category.",
    )
    quality_low: Probability = Field(0.3, description="Lowest true quality of an honest good.")
    quality_high: Probability = Field(0.95, description="Highest true quality of an honest good.")
    counterfeit_claimed_quality: Probability = Field(
        0.85, description="Quality a counterfeit or fake listing claims (high, to attract buyers)."
    )
    counterfeit_delivered_quality: Probability = Field(
        0.15, description="Quality a counterfeit actually delivers."
    )
    counterfeit_cost_factor: float = Field(
        0.4,
        ge=0.0,
        le=1.0,
        description="Unit cost of a counterfeit relative to the honest good it imitates.",
    )
    fake_reviews_per_order: float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        description="Fake five-star reviews (at the claimed quality) a counterfeiter or "
        "non-shipper buys per real order ('brushing', widespread on Chinese marketplaces): "
        "they slow down how fast ratings reveal harmful sellers.",
    )
    fake_review_cost_cents: Cents = Field(
        500,
        description="What one fake review costs the seller (a brushed order's fees and the "
        "brusher's pay, about 5 yuan).",
    )
    markup_mean: float = Field(
        0.35,
        ge=0.0,
        le=10.0,
        description="Mean initial markup over unit cost (price = cost × (1 + markup)); "
        "a 25-40% gross margin is typical of online retail.",
    )
    markup_sd: float = Field(0.1, ge=0.0, le=5.0, description="Spread of initial markups.")
    fee_pass_through: Probability = Field(
        0.0,
        description="Share θ of the platform's fees that a seller passes on to its price "
        "there: price = cost × (1 + markup) / (1 − θ × fee share of price), the fee share "
        "being the category's commission rate, the expected affiliate fee per order "
        "(affiliate_order_share × affiliate_fee_rate) and the listing's ad spend per unit "
        "of sales over its last revision period. θ = 1 keeps the seller's markup over cost "
        "after fees (full pass-through of an ad valorem fee, as under competition with "
        "constant costs; Weyl & Fabinger 2013); with θ > 0 a platform's fees reach buyers "
        "as prices, so the price structure is not neutral (Rochet & Tirole 2006; Wang & "
        "Wright 2017). 0 (the default) prices on cost alone and leaves fees to the "
        "markup's imitation, as before this setting existed.",
    )
    ad_intensity_mean: float = Field(
        0.3,
        ge=0.0,
        le=5.0,
        description="Mean initial ad intensity: the bid per click as a share of the seller's "
        "expected margin per click (1 = bid the full value; truthful bidding).",
    )
    ad_intensity_sd: float = Field(0.2, ge=0.0, le=5.0, description="Spread of ad intensities.")
    conversion_estimate: Probability = Field(
        0.15,
        description="Purchases per click that sellers assume when valuing a click.",
    )
    rating_prior_weight: float = Field(
        20.0,
        gt=0.0,
        le=1e6,
        description="Pseudo-reviews behind the claimed quality in a listing's rating (a "
        "Bayesian average): about 20 orders before a listing's rating reflects experience.",
    )
    fixed_cost_per_day_cents: Cents = Field(
        500,
        description="A seller's daily fixed cost per listing (staff, shop upkeep: 5 yuan).",
    )
    initial_platforms_share: Probability = Field(
        0.35,
        description="Chance that a day-0 seller also lists on each platform besides its home "
        "platform (multi-homing).",
    )
    adaptation_period_days: int = Field(
        28,
        ge=1,
        le=3650,
        description="Days between strategy revisions (about monthly reviews of a shop's numbers).",
    )
    imitation_scale_cents: float = Field(
        50_000.0,
        gt=0.0,
        description="Profit gap (over a period) at which a seller certainly imitates a better "
        "peer (proportional imitation, Schlag 1998).",
    )
    imitation_step: Probability = Field(
        0.5, description="How far toward the better peer's markup, quality and ads a seller moves."
    )
    type_imitation_rate: Probability = Field(
        0.2,
        description="Chance that an imitating seller also adopts the peer's honesty type (honest "
        "sellers learn to cheat where cheating pays, and back).",
    )
    mutation_sd: float = Field(
        0.03,
        ge=0.0,
        le=1.0,
        description="Standard deviation of random experimentation on markup, quality and ads.",
    )
    entry_per_thousand_sessions: float = Field(
        0.05,
        ge=0.0,
        le=1000.0,
        description="New sellers entering a platform's category per 1,000 daily sessions there: "
        "entry follows traffic.",
    )
    multihome_rate: Probability = Field(
        0.1,
        description="Per revision, chance a seller lists on a platform where its category's "
        "listings earned more than its own.",
    )
    exit_after_periods: int = Field(
        3,
        ge=1,
        le=1000,
        description="Consecutive revision periods of losses (or no sales) after which a seller "
        "delists from a platform.",
    )

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Sellers:
        check_type_shares(self.honest_share, self.counterfeiter_share, self.non_shipper_share)
        if self.quality_low > self.quality_high:
            raise ValueError("quality_low must not exceed quality_high")
        return self


def _as_list(value: float | list[float], n: int) -> list[float]:
    return list(value) if isinstance(value, list) else [value] * n


def check_type_shares(
    honest: float | list[float],
    counterfeiter: float | list[float],
    non_shipper: float | list[float],
) -> None:
    """Each share in [0, 1], lists of one length, and the three shares summing to 1."""
    lengths = {len(v) for v in (honest, counterfeiter, non_shipper) if isinstance(v, list)}
    if len(lengths) > 1:
        raise ValueError("per-category type shares must all have the same length")
    n = lengths.pop() if lengths else 1
    for h, c, x in zip(_as_list(honest, n), _as_list(counterfeiter, n), _as_list(non_shipper, n)):
        for value in (h, c, x):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"type share {value:g} is outside [0, 1]")
        if abs(h + c + x - 1.0) > 1e-6:
            raise ValueError(
                "honest_share + counterfeiter_share + non_shipper_share must be 1, "
                f"got {h + c + x:g}"
            )


def type_share_table(
    honest: float | list[float],
    counterfeiter: float | list[float],
    non_shipper: float | list[float],
    categories: int,
) -> list[list[float]]:
    """Per category, the shares (honest, counterfeiter, non-shipper)."""
    return [
        [h, c, x]
        for h, c, x in zip(
            _as_list(honest, categories),
            _as_list(counterfeiter, categories),
            _as_list(non_shipper, categories),
        )
    ]


class SellerTypes(_Model):
    """A platform's own mix of seller types (its entrants and day-0 home sellers)."""

    honest_share: float | list[float] = Field(..., description="Share of honest sellers.")
    counterfeiter_share: float | list[float] = Field(..., description="Share of counterfeiters.")
    non_shipper_share: float | list[float] = Field(..., description="Share of non-shippers.")

    @model_validator(mode="after")
    def _valid(self) -> SellerTypes:
        check_type_shares(self.honest_share, self.counterfeiter_share, self.non_shipper_share)
        return self


# --------------------------------------------------------------------------- platforms


class Ranking(_Model):
    """The platform's ranking policy: weights of the organic score's standardized terms."""

    quality: float = Field(
        1.0, ge=0.0, le=100.0, description="Weight on the listing's public rating (buyer value)."
    )
    price: float = Field(1.0, ge=0.0, le=100.0, description="Weight on low price (buyer value).")
    commission: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="Weight on the platform's expected commission per impression.",
    )
    ads: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="Weight on the seller's ad spend (its bid per click).",
    )


class Auction(_Model):
    """The sponsored-search keyword auction sold per category (pay per click)."""

    mechanism: Literal["gsp", "vcg"] = Field(
        "gsp",
        description="Generalized second price (Taobao, Google, Baidu) or VCG (Facebook's ads).",
    )
    slots: int = Field(
        3, ge=0, le=20, description="Sponsored slots at the top of each results page."
    )
    reserve_cents: Cents = Field(
        10, description="Reserve price per click (0.1 yuan, Taobao's historical minimum bid)."
    )
    increment_cents: Cents = Field(
        1, description="Added to the GSP price ('next price plus one cent', Taobao's rule)."
    )
    charge_organic: bool = Field(
        True,
        description="Charge per click the organic positions a listing holds only thanks to "
        "its bid (ranking.ads > 0), at the least bid that would have held them (GSP on the "
        "blended ranking). False: the bid still lifts a listing in the organic ranking but "
        "its organic clicks are free, so only sponsored slots earn ad revenue. True (the "
        "default) is the engine's rule before this setting existed.",
    )


class Fees(_Model):
    """What the platform charges sellers."""

    commission: float | list[float] = Field(
        0.02,
        description="Commission on each completed sale, one rate or one per category (Tmall "
        "charges 0.5%-5% by category).",
    )
    service_fee_cents: Cents = Field(
        0,
        description="Annual technical-service fee per listed seller (Tmall: 30,000 or 60,000 "
        "yuan; 0 for Taobao's C2C shops).",
    )
    service_fee_refund_threshold_cents: Cents = Field(
        0,
        description="Annual sales above which the service fee is refunded (Tmall refunds "
        "50%-100% above a category threshold).",
    )
    service_fee_refund_share: Probability = Field(
        1.0, description="Share of the service fee refunded above the threshold."
    )
    affiliate_order_share: Probability = Field(
        0.1,
        description="Share of orders that arrive through affiliates (Taobaoke promoters).",
    )
    affiliate_fee_rate: Probability = Field(
        0.05,
        description="Cost-per-sale fee a seller pays on an affiliate-referred order.",
    )
    affiliate_platform_share: Probability = Field(
        0.1,
        description="Share of the affiliate fee the platform keeps; the rest pays the affiliate "
        "(Alimama keeps about a tenth as a service charge).",
    )

    @field_validator("commission")
    @classmethod
    def _commission_in_range(cls, value: float | list[float]) -> float | list[float]:
        rates = value if isinstance(value, list) else [value]
        for rate in rates:
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"commission rate {rate:g} is outside [0, 1]")
        return value


class Escrow(_Model):
    """Payment: escrow (Alipay's 2004 rule) or direct, and how claims are settled."""

    enabled: bool = Field(
        True,
        description="Hold the buyer's payment until confirmation (True) or pay the seller at "
        "once (False, as on Taobao in 2003).",
    )
    ship_days: int = Field(2, ge=0, le=60, description="Days from payment to shipping.")
    transit_days: int = Field(3, ge=0, le=60, description="Days from shipping to delivery.")
    auto_confirm_days: int = Field(
        10,
        ge=1,
        le=90,
        description="Days after shipping when an unconfirmed order is confirmed automatically "
        "(Taobao's rule for physical goods).",
    )
    dispute_days: int = Field(
        3, ge=0, le=60, description="Days the platform takes to settle a claim."
    )
    dispute_policy: Literal["buyer_first", "evidence"] = Field(
        "buyer_first",
        description="buyer_first refunds every claim; evidence refunds what it can verify.",
    )
    evidence_accuracy: Probability = Field(
        0.8,
        description="Under evidence: chance the platform judges a claim correctly.",
    )
    recovery_rate: Probability = Field(
        0.1,
        description="Without escrow: chance that a buyer's claim, founded or false, gets the "
        "payment back from the seller (the platform cannot hold money it never had, so it "
        "cannot tell the two apart).",
    )


class Governance(_Model):
    """How hard the platform polices harmful sellers."""

    detection_rate: Probability = Field(
        0.01,
        description="Daily chance a harmful (counterfeiting or non-shipping) listing is caught: "
        "0 turns a blind eye, 0.05 is strict (caught within about three weeks).",
    )
    false_positive_rate: Probability = Field(
        0.0005,
        description="Daily chance an honest listing is wrongly punished (strictness has a cost).",
    )
    verification_rate: Probability = Field(
        0.0,
        description="Chance a harmful applicant is screened out when it tries to list "
        "(verified-quality platforms).",
    )
    deposit_cents: Cents = Field(
        100_000,
        description="Deposit a seller pays when listing, returned on a voluntary exit "
        "(Taobao's consumer-protection deposit: 1,000 yuan).",
    )
    forfeit_to: Literal["buyers", "platform"] = Field(
        "buyers",
        description="Who receives a punished seller's deposit: compensation for buyers (paid "
        "into the households account as a whole; no single buyer's trust sees it), or the "
        "platform's coffers.",
    )


class Platform(_Model):
    """One platform and its policy."""

    name: str = Field(..., min_length=1, max_length=64, description="Display name.")
    entry_day: int = Field(
        0, ge=0, le=MAX_DAYS, description="Day the platform opens (0 = present from the start)."
    )
    brand: float = Field(
        0.0,
        ge=-20.0,
        le=20.0,
        description="Buyers' standing preference for the platform (awareness, reputation, "
        "habit of the market) in platform-choice utility: with assortment it sets the initial "
        "buyer share; experience (trust) then moves each buyer away from it.",
    )
    initial_seller_share: Probability = Field(
        1.0,
        description="Share of day-0 sellers whose home platform this is (normalized across "
        "platforms).",
    )
    markup_shift: float = Field(
        0.0,
        ge=-1.0,
        le=10.0,
        description="Added to every seller's markup here: negative for a low-price mandate "
        "(group buying), positive to force price harm in experiments.",
    )
    seller_types: SellerTypes | None = Field(
        None,
        description="This platform's own mix of seller types (for the sellers whose home it "
        "is); unset, the market's mix (sellers.*_share) applies.",
    )
    ranking: Ranking = Field(default_factory=Ranking, description="The ranking policy.")
    auction: Auction = Field(default_factory=Auction, description="The keyword auction.")
    fees: Fees = Field(default_factory=Fees, description="What sellers pay.")
    escrow: Escrow = Field(default_factory=Escrow, description="Payment and claims.")
    governance: Governance = Field(
        default_factory=Governance, description="Policing of harmful sellers."
    )


# --------------------------------------------------------------------------- scenario


class Scenario(_Model):
    """A whole market: its size, its buyers and sellers, and 1-5 platforms."""

    name: str = Field("custom", min_length=1, max_length=128, description="Scenario name.")
    description: str = Field("", max_length=4000, description="One line on what it models.")
    days: int = Field(
        365,
        ge=1,
        le=MAX_DAYS,
        description="Days to simulate (a market-year). At most 32,767 (about 89 years): "
        "buyers store their last visit's day in 16 bits.",
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Random seed of the first run.")
    chunk_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days compiled into one scan step between progress updates.",
    )
    session_block: int = Field(
        65_536,
        ge=0,
        le=2_000_000_000,
        description="Most shopping sessions simulated together: a larger day runs in even "
        "blocks of at most this many (rounded up to a multiple of 8), so the session "
        "kernel's memory grows with the block, not with the day. 0: the whole day in one "
        "block. 65,536 keeps the default market in one block and, measured at 2e6 sessions "
        "a day, cut peak memory by a fifth at no cost in speed (benchmarks/RESULTS.md). "
        "Integer outcomes do not depend on it (docs/reproducibility.md).",
    )
    market: Market = Field(default_factory=Market, description="Size and shape of the market.")
    buyers: Buyers = Field(default_factory=Buyers, description="Buyer behaviour.")
    sellers: Sellers = Field(default_factory=Sellers, description="Seller behaviour.")
    platforms: list[Platform] = Field(
        default_factory=lambda: [Platform(name="Marketplace", brand=1.0)],
        min_length=1,
        max_length=MAX_PLATFORMS,
        description="The platforms in the market (1-5).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.market.initial_sellers > self.market.seller_capacity:
            raise ValueError("market.initial_sellers must not exceed market.seller_capacity")
        names = [p.name for p in self.platforms]
        if len(set(names)) != len(names):
            raise ValueError("platform names must be unique")
        if not any(p.entry_day == 0 for p in self.platforms):
            raise ValueError("at least one platform must have entry_day = 0")
        for i, platform in enumerate(self.platforms):
            rates = platform.fees.commission
            if isinstance(rates, list) and len(rates) != self.market.categories:
                raise ValueError(
                    f"platforms.{i}.fees.commission has {len(rates)} rates but market.categories "
                    f"is {self.market.categories}"
                )
            mixes = [("sellers", self.sellers)]
            if platform.seller_types is not None:
                mixes.append((f"platforms.{i}.seller_types", platform.seller_types))
            for where, mix in mixes:
                for value in (mix.honest_share, mix.counterfeiter_share, mix.non_shipper_share):
                    if isinstance(value, list) and len(value) != self.market.categories:
                        raise ValueError(
                            f"{where}: per-category shares have {len(value)} entries but "
                            f"market.categories is {self.market.categories}"
                        )
            if platform.auction.slots > self.market.page_length:
                raise ValueError(f"platforms.{i}.auction.slots exceeds market.page_length")
        return self

    # ----------------------------------------------------------------- derived
    @property
    def sessions_per_day(self) -> int:
        """Shopping sessions drawn per day: buyers × sessions per buyer, at least one."""
        return max(1, round(self.market.buyers * self.market.sessions_per_buyer_per_day))

    def to_toml(self, comments: bool = False) -> str:
        """The scenario as TOML with every field written out (a copy-and-edit template);
        with ``comments``, each field's description is a comment above it."""
        if comments:
            return commented_toml(self)
        return dump_toml(self.model_dump(mode="json"))


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Validate a plain dict into a Scenario, raising ScenarioError with one clear line."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_error(err, Scenario)) from None
