"""A straightforward Mesa model of the engine's shopping rules: the speed baseline.

This is how a Mesa (>= 3) user would write the buyer side of a twosided day: one Python
object per buyer, one method call per shopping session, draws from ``model.random``. It
follows the engine's rules and numbers (``twosided.sim.shopping``, ``buyers``, ``day``;
parameters from ``twosided.sim.params.build(scenario)``):

1. each day ``sessions_per_day`` sessions each pick a buyer uniformly at random and a
   category by the Zipf popularity of keywords;
2. the buyer picks a platform by logit over ``brand + trust_weight·trust + assortment_weight·
   log(1 + listings) + switching_cost·[last platform]`` against an offline option, with
   trust faded toward 0 since the last visit (lazily, as the engine);
3. the buyer examines the results page: position ``k`` is examined with probability
   ``e_k`` and an examined listing clicked with its attractiveness;
4. the buyer buys one clicked listing or nothing by multinomial logit with an outside
   option, ``u_j = β_quality·(rating_j − reference quality) − β_price·log(price_j /
   reference price)``;
5. the buyer may compare what it paid (or, having bought nothing, the cheapest listing it
   clicked) with the cheapest listing of the same keyword on another platform, more often
   the more price-sensitive it is; the goods arrive at the seller's delivered quality; the
   buyer may claim and the claim may be upheld (the escrow rules of ``escrow.order_fates``);
6. trust moves toward the session's signal: ``trust ← trust + trust_learning_rate ·
   (signal − trust)`` (``buyers.experience`` and ``buyers.remember``).

The results pages are **the engine's own**: ``twosided.sim.ranking.build_pages`` for the
engine's initial state of the same scenario and seed, converted once to Python objects.
The Mesa model has no seller side, so the pages stay fixed from day to day, and it keeps no
ledger, order book or seller records. It therefore does *less* work per day than the
engine (which also rebuilds every page with its auction, books and settles orders, posts
the ledger and revises sellers): a ratio engine / Mesa computed with it understates the
engine's advantage.

One deliberate difference of execution, not of rules: the Mesa model runs a day's sessions
one after another, so a buyer's second session on the same day sees the trust left by the
first; the engine runs the day's sessions together from the morning's state. With 0.2
sessions per buyer per day such repeats are rare (about 10% of a day's sessions).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import mesa
import numpy as np

from twosided.sim import ranking
from twosided.sim.params import Dims, Params, build
from twosided.sim.precision import with_x64
from twosided.sim.state import Sellers, init_state
from twosided.simulation import prepare

HONEST, COUNTERFEITER, NON_SHIPPER = 0, 1, 2
HARM_NONE, HARM_PRICE, HARM_QUALITY, HARM_FRAUD = 0, 1, 2, 3
NEVER = -30_000  # day of the last visit of a platform never used (the engine's value)


@dataclasses.dataclass(frozen=True)
class Listing:
    """One position of a results page, as the buyer sees it (and what the seller ships)."""

    position: int  # on the page, from 0 (the top)
    seller: int
    price: float  # cents
    log_rel_price: float  # log(price / category reference price)
    rating: float  # public rating
    attract: float  # click probability when examined
    honesty: int  # HONEST / COUNTERFEITER / NON_SHIPPER
    quality: float  # listed quality (true for honest sellers, claimed otherwise)


@dataclasses.dataclass(frozen=True)
class Page:
    """The results page of one platform and category, and facts about that market."""

    listings: tuple[Listing, ...]
    n_listed: int  # listings in the market (the assortment)
    min_price: float  # cheapest price on the page (inf if empty)


@dataclasses.dataclass(frozen=True)
class Rules:
    """The scenario's numbers that the shopping rules use, as plain Python floats."""

    platforms: int
    category_weights: tuple[float, ...]
    examination: tuple[float, ...]
    open_: tuple[bool, ...]  # platform open on the benchmark days
    brand: tuple[float, ...]
    trust_weight: float
    assortment_weight: float
    switching_cost: float
    offline_utility: float
    outside_utility: float
    reference_quality: float
    trust_decay: float
    trust_learning_rate: float
    surplus_weight: float
    no_purchase_penalty: float
    compare_probability: float
    overpay_weight: float
    quality_gap_weight: float
    fraud_penalty: float
    protection_bonus: float
    harm_threshold: float
    counterfeit_delivered_quality: float
    claim_if_not_delivered: float
    claim_if_counterfeit: float
    false_claim_rate: float
    escrow: tuple[bool, ...]
    buyer_first: tuple[bool, ...]
    evidence_accuracy: tuple[float, ...]
    recovery_rate: tuple[float, ...]
    price_sens_median: float
    price_sens_sigma: float
    quality_sens_median: float
    quality_sens_sigma: float
    sens_correlation: float

    @classmethod
    def from_params(cls, params: Params, dims: Dims, day: int = 0) -> Rules:
        """Read the numbers from the engine's ``Params`` (``twosided.sim.params.build``)."""

        def f(x: Any) -> float:
            return float(np.asarray(x))

        def per_platform(x: Any, kind: type = float) -> tuple:
            return tuple(kind(v) for v in np.asarray(x).tolist())

        weights = np.exp(np.asarray(params.market.category_log_weights, dtype=np.float64))
        return cls(
            platforms=dims.platforms,
            category_weights=tuple((weights / weights.sum()).tolist()),
            examination=per_platform(params.buyers.examination),
            open_=tuple(bool(day >= d) for d in np.asarray(params.platform.entry_day).tolist()),
            brand=per_platform(params.platform.brand),
            trust_weight=f(params.buyers.trust_weight),
            assortment_weight=f(params.buyers.assortment_weight),
            switching_cost=f(params.buyers.switching_cost),
            offline_utility=f(params.buyers.offline_utility),
            outside_utility=f(params.buyers.outside_utility),
            reference_quality=f(params.buyers.reference_quality),
            trust_decay=f(params.buyers.trust_decay_per_day),
            trust_learning_rate=f(params.buyers.trust_learning_rate),
            surplus_weight=f(params.buyers.surplus_weight),
            no_purchase_penalty=f(params.buyers.no_purchase_penalty),
            compare_probability=f(params.buyers.compare_probability),
            overpay_weight=f(params.buyers.overpay_weight),
            quality_gap_weight=f(params.buyers.quality_gap_weight),
            fraud_penalty=f(params.buyers.fraud_penalty),
            protection_bonus=f(params.buyers.protection_bonus),
            harm_threshold=f(params.buyers.harm_threshold),
            counterfeit_delivered_quality=f(params.sellers.counterfeit_delivered_quality),
            claim_if_not_delivered=f(params.buyers.claim_if_not_delivered),
            claim_if_counterfeit=f(params.buyers.claim_if_counterfeit),
            false_claim_rate=f(params.buyers.false_claim_rate),
            escrow=per_platform(params.platform.escrow.enabled, bool),
            buyer_first=per_platform(params.platform.escrow.buyer_first, bool),
            evidence_accuracy=per_platform(params.platform.escrow.evidence_accuracy),
            recovery_rate=per_platform(params.platform.escrow.recovery_rate),
            price_sens_median=f(params.buyers.price_sensitivity_median),
            price_sens_sigma=f(params.buyers.price_sensitivity_sigma),
            quality_sens_median=f(params.buyers.quality_sensitivity_median),
            quality_sens_sigma=f(params.buyers.quality_sensitivity_sigma),
            sens_correlation=f(params.buyers.sensitivity_correlation),
        )


@dataclasses.dataclass
class Outcome:
    """What happened in one session after the platform was chosen."""

    bought: bool = False
    inclusive_value: float = 0.0
    overpay: float = 0.0
    quality_gap: float = 0.0
    lost_to_fraud: bool = False
    refunded: bool = False


class Buyer(mesa.Agent):
    """A buyer (user): price and quality sensitivity, and trust in each platform."""

    def __init__(self, model: ShoppingModel, price_sens: float, quality_sens: float) -> None:
        super().__init__(model)
        P = model.rules.platforms
        self.price_sens = price_sens
        self.quality_sens = quality_sens
        self.trust = [0.0] * P  # no experience yet
        self.last_visit = [NEVER] * P
        self.last_platform = -1
        self.last_harm = HARM_NONE

    # -- platform choice -------------------------------------------------------------

    def trust_today(self, platform: int) -> float:
        """Trust at the last visit, faded since then toward the buyer's general trust (its
        mean over the platforms it has used; what it expects of a platform never used)."""
        rules = self.model.rules
        known = [t for t, seen in zip(self.trust, self.last_visit) if seen > NEVER]
        general = sum(known) / len(known) if known else 0.0
        if self.last_visit[platform] <= NEVER:
            return general
        days = max(self.model.day - self.last_visit[platform], 0)
        keep = math.exp(days * math.log1p(-min(rules.trust_decay, 0.999999)))
        return general + (self.trust[platform] - general) * keep

    def platform_utilities(self, category: int) -> list[float]:
        """Utility of each platform (``-inf`` if closed or empty) and, last, of offline."""
        rules = self.model.rules
        out = []
        for p in range(rules.platforms):
            n = self.model.pages[p][category].n_listed
            if not rules.open_[p] or n == 0:
                out.append(-math.inf)
                continue
            out.append(
                rules.brand[p]
                + rules.trust_weight * self.trust_today(p)
                + rules.assortment_weight * math.log1p(n)
                + rules.switching_cost * (p == self.last_platform)
            )
        out.append(rules.offline_utility)
        return out

    def choose_platform(self, category: int) -> int:
        """Logit choice of a platform; ``platforms`` means the buyer stays offline."""
        utilities = self.platform_utilities(category)
        top = max(utilities)
        weights = [math.exp(v - top) for v in utilities]
        r = self.random.random() * sum(weights)
        for p, w in enumerate(weights):
            r -= w
            if r < 0:
                return p
        return len(weights) - 1

    # -- the results page ------------------------------------------------------------

    def examine(self, page: Page) -> list[int]:
        """Indices (into ``page.listings``) of the listings clicked: the position is examined
        with probability e_k, an examined listing clicked with its attractiveness a_j."""
        examination = self.model.rules.examination
        return [
            k
            for k, listing in enumerate(page.listings)
            if self.random.random() < examination[listing.position] * listing.attract
        ]

    def utility(self, listing: Listing) -> float:
        """This buyer's systematic utility of a listing."""
        rules = self.model.rules
        return (
            self.quality_sens * (listing.rating - rules.reference_quality)
            - self.price_sens * listing.log_rel_price
        )

    def choose_purchase(self, page: Page, clicked: list[int]) -> tuple[int | None, float]:
        """Logit choice among the clicked listings and buying nothing.

        Returns the position bought (None for nothing) and the logit inclusive value
        ``log(1 + Σ exp(u_j − u_0))``.
        """
        u0 = self.model.rules.outside_utility
        weights = [math.exp(self.utility(page.listings[k]) - u0) for k in clicked]
        total = 1.0 + sum(weights)
        r = self.random.random() * total - 1.0  # below 0: the outside option
        bought = None
        for k, w in zip(clicked, weights):
            if r < 0:
                break
            r -= w
            bought = k
        if r >= 0 and clicked:  # rounding at the top end: the last clicked listing
            bought = clicked[-1]
        return bought, math.log(total)

    # -- after the purchase ----------------------------------------------------------

    def delivered_quality(self, listing: Listing) -> float:
        """True quality from an honest seller, the counterfeit's from a counterfeiter,
        nothing from a non-shipper."""
        if listing.honesty == HONEST:
            return listing.quality
        if listing.honesty == COUNTERFEITER:
            return self.model.rules.counterfeit_delivered_quality
        return 0.0

    def compare_price(self, platform: int, category: int, price: float) -> float:
        """Overpayment ``max(log(price / cheapest elsewhere), 0)`` if the buyer compares
        (with probability ``compare_probability × β_price / median β_price``)."""
        rules = self.model.rules
        P = rules.platforms
        if P < 2 or not math.isfinite(price):
            return 0.0
        other = (platform + 1 + int(self.random.random() * (P - 1))) % P
        chance = rules.compare_probability * self.price_sens / rules.price_sens_median
        if self.random.random() >= chance or not rules.open_[other]:
            return 0.0
        seen = self.model.pages[other][category].min_price
        if not math.isfinite(seen):
            return 0.0
        return max(math.log(price / seen), 0.0)

    def claim_upheld(self, platform: int, listing: Listing) -> bool:
        """Whether the buyer claims and the platform refunds (the escrow dispute rules).

        Under escrow a parcel never delivered is always disputed (no auto-confirmation)."""
        rules = self.model.rules
        claim_p = {
            NON_SHIPPER: rules.claim_if_not_delivered,
            COUNTERFEITER: rules.claim_if_counterfeit,
        }.get(listing.honesty, rules.false_claim_rate)
        forced = rules.escrow[platform] and listing.honesty == NON_SHIPPER
        if self.random.random() >= claim_p and not forced:
            return False
        if not rules.escrow[platform]:
            upheld_p = rules.recovery_rate[platform]
        elif rules.buyer_first[platform]:
            upheld_p = 1.0
        else:
            acc = rules.evidence_accuracy[platform]
            upheld_p = acc if listing.honesty != HONEST else 1.0 - acc
        return self.random.random() < upheld_p

    def experience(self, outcome: Outcome) -> tuple[float, int]:
        """The trust signal of a session and the harm it carried (HARM_* codes)."""
        rules = self.model.rules
        gap = 0.0 if outcome.refunded else outcome.quality_gap
        signal = (
            rules.surplus_weight * outcome.inclusive_value
            - rules.no_purchase_penalty * (not outcome.bought)
            - rules.overpay_weight * self.price_sens * outcome.overpay
            - rules.quality_gap_weight * self.quality_sens * gap
            - rules.fraud_penalty * outcome.lost_to_fraud
            + rules.protection_bonus * outcome.refunded
        )
        if outcome.lost_to_fraud:
            harm = HARM_FRAUD
        elif gap > rules.harm_threshold:
            harm = HARM_QUALITY
        elif outcome.overpay > rules.harm_threshold:
            harm = HARM_PRICE
        else:
            harm = HARM_NONE
        return signal, harm

    def learned_trust(self, trust_now: float, signal: float) -> float:
        """Trust after a session: moved toward its signal at the learning rate."""
        return trust_now + self.model.rules.trust_learning_rate * (signal - trust_now)

    # -- one session -----------------------------------------------------------------

    def shop(self, category: int) -> int:
        """One shopping session for a keyword; returns the platform (``platforms`` if offline)."""
        model = self.model
        platform = self.choose_platform(category)
        if platform == model.rules.platforms:
            return platform
        page = model.pages[platform][category]
        trust_now = self.trust_today(platform)
        clicked = self.examine(page)
        position, inclusive = self.choose_purchase(page, clicked)
        outcome = Outcome(inclusive_value=inclusive)
        if position is None:
            cheapest = min((page.listings[k].price for k in clicked), default=math.inf)
            outcome.overpay = self.compare_price(platform, category, cheapest)
        else:
            listing = page.listings[position]
            delivered = self.delivered_quality(listing)
            outcome.bought = True
            outcome.overpay = self.compare_price(platform, category, listing.price)
            outcome.refunded = self.claim_upheld(platform, listing)
            outcome.lost_to_fraud = listing.honesty == NON_SHIPPER and not outcome.refunded
            outcome.quality_gap = max(listing.rating - delivered, 0.0)
            model.orders[platform] += 1
        signal, harm = self.experience(outcome)
        self.trust[platform] = self.learned_trust(trust_now, signal)
        self.last_visit[platform] = model.day
        self.last_platform = platform
        self.last_harm = harm
        model.sessions_reached[platform] += 1
        return platform


class ShoppingModel(mesa.Model):
    """Buyers shopping on the engine's results pages, one session at a time."""

    def __init__(
        self,
        preset: str = "taobao",
        buyers: int = 10_000,
        seed: int = 0,
        sessions_per_buyer: float | None = None,
    ) -> None:
        super().__init__(seed=seed)
        overrides: dict[str, Any] = {"market.buyers": buyers}
        if sessions_per_buyer is not None:
            overrides["market.sessions_per_buyer_per_day"] = sessions_per_buyer
        self.scenario = prepare(preset, overrides)
        self.sessions_per_day = self.scenario.sessions_per_day
        self.day = 0
        self.rules, self.pages = engine_pages(self.scenario, seed)
        P = self.rules.platforms
        self.sessions_reached = [0] * P
        self.orders = [0] * P
        self.categories = list(range(len(self.rules.category_weights)))
        for _ in range(buyers):
            Buyer(self, *self.draw_sensitivities())
        self.buyer_list = list(self.agents_by_type[Buyer])

    def draw_sensitivities(self) -> tuple[float, float]:
        """β_price and β_quality: the engine's correlated log-normal draws."""
        r = self.rules
        z0, z1 = self.random.gauss(0.0, 1.0), self.random.gauss(0.0, 1.0)
        zq = r.sens_correlation * z0 + math.sqrt(1.0 - r.sens_correlation**2) * z1
        return (
            r.price_sens_median * math.exp(r.price_sens_sigma * z0),
            r.quality_sens_median * math.exp(r.quality_sens_sigma * zq),
        )

    def step(self) -> None:
        """One day: ``sessions_per_day`` sessions, each a random buyer and keyword."""
        weights = self.rules.category_weights
        for _ in range(self.sessions_per_day):
            buyer = self.random.choice(self.buyer_list)
            category = self.random.choices(self.categories, weights)[0]
            buyer.shop(category)
        self.day += 1


@with_x64
@functools.partial(jax.jit, static_argnums=1)
def _day0_pages(key: jax.Array, dims: Dims, params: Params) -> tuple[Sellers, ranking.Pages]:
    """The engine's sellers and results pages on day 0 (the engine's initial-state key)."""
    state = init_state(jax.random.fold_in(key, 0), dims, params)
    listings = ranking.listing_features(
        state.sellers, params, state.market.log_ref_price, dims, state.day
    )
    return state.sellers, ranking.build_pages(jax.random.fold_in(key, 1), listings, params, dims)


def engine_pages(scenario: Any, seed: int) -> tuple[Rules, list[list[Page]]]:
    """The engine's results pages for its initial state (day 0) of ``scenario`` and ``seed``,
    as Python objects indexed ``[platform][category]``."""

    dims, params = build(scenario)
    sellers, pages = jax.device_get(_day0_pages(jax.random.key(seed), dims, params))
    honesty = np.asarray(sellers.honesty)
    quality = np.asarray(sellers.quality)
    C = dims.categories
    grid: list[list[Page]] = []
    for p in range(dims.platforms):
        row = []
        for c in range(C):
            g = p * C + c
            shown = tuple(
                Listing(
                    position=k,
                    seller=int(m),
                    price=float(pages.price[g, k]),
                    log_rel_price=float(pages.log_rel_price[g, k]),
                    rating=float(pages.rating[g, k]),
                    attract=float(pages.attract[g, k]),
                    honesty=int(honesty[m]),
                    quality=float(quality[m]),
                )
                for k, m in enumerate(pages.listing[g].tolist())
                if m >= 0
            )
            row.append(Page(shown, int(pages.n_listed[g]), float(pages.min_price[g])))
        grid.append(row)
    return Rules.from_params(params, dims), grid
