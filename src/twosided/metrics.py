"""Daily metrics -> tidy tables (the data collector).

The engine returns arrays stacked as ``[seed, day, platform]``; this module turns them
into long tables with one row per seed, day and platform (``daily``), per account
(``accounts``), per money stream (``flows``) and per switching route (``switches``).
Money columns are integer cents (``*_cents``); shares and averages are derived here, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from twosided.sim import ledger
from twosided.sim.fees import YEAR_DAYS
from twosided.sim.state import HARM_NAMES, TERMINAL_STATES
from twosided.sim.streams import STREAMS, revenue_columns

# metrics that are not [seed, day, platform] or are internal sums
_NOT_DAILY = {
    "accounts",
    "flows",
    "switches",
    "log",
    "markup_sum",
    "delivered_quality_sum",
    "trust_sum",
    "trust_n",
    "ad_intensity_sum",
}

# last-day levels of the market and of buyers on several platforms: counts of distinct
# buyers and sellers that no sum over platforms gives (market_* repeat on every platform)
MARKET_LEVELS = (
    "multihoming_buyers",
    "market_monthly_active_buyers",
    "market_multihoming_buyers",
    "market_sellers",
)

# the key outcomes, in the order a summary shows them
KEY_OUTCOMES = (
    "sessions",
    "active_buyers",
    "share_sessions",
    "share_gmv",
    "orders",
    "gmv_cents",
    "revenue_cents",
    "revenue_ads_cents",
    "revenue_commission_cents",
    "revenue_service_fee_cents",
    "revenue_affiliate_cents",
    "take_rate",
    "consumer_surplus_cents",
    "seller_profit_cents",
    "active_sellers",
)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def accrued_service_fee(flows: np.ndarray, start_day: int = 0) -> np.ndarray:
    """The annual service fee on an accrual basis: [seed, day, P] cents (float).

    ``flows`` is the engine's [seed, day, stream, P] money, from the run's first day. Each
    charge (``service_fee``: on listing, at a fee year's start, on a late platform's
    opening) is spread evenly over the days from its charge day to the end of the fee
    year it pays for (the day before the next multiple of 365); each refund
    (``service_fee_refund``, paid on a fee year's last day) is netted, once known, over
    the days of the fee year it closes, in proportion to the fee accrued on each of them.
    Over days that end a fee year the accrued fee is the cash fee net of refunds (up to
    float rounding, well under a cent); within a year it is the year's share so far.
    """
    charged = flows[:, :, ledger.S["service_fee"], :].astype(np.float64)
    refunded = flows[:, :, ledger.S["service_fee_refund"], :].astype(np.float64)
    days = start_day + np.arange(charged.shape[1])
    out = np.zeros_like(charged)
    for i in np.flatnonzero(charged.any(axis=(0, 2))):
        span = YEAR_DAYS - days[i] % YEAR_DAYS  # the charge day to its fee year's last day
        out[:, i : i + span] += charged[:, i, None, :] / span
    for i in np.flatnonzero(refunded.any(axis=(0, 2))):
        first = max(i - int(days[i] % YEAR_DAYS), 0)  # the fee year's first day in the run
        year = out[:, first : i + 1, :]
        total = year.sum(axis=1, keepdims=True)
        even = np.full_like(year, 1.0 / year.shape[1])
        weight = np.divide(year, total, out=even, where=total > 0)
        out[:, first : i + 1, :] = year - refunded[:, i, None, :] * weight
    return out


def daily_table(
    metrics: dict[str, np.ndarray],
    platforms: Sequence[str],
    seeds: Sequence[int],
    start_day: int = 0,
) -> pd.DataFrame:
    """One row per seed, day and platform with every outcome of the day."""
    sessions = np.asarray(metrics["sessions"])
    n_seeds, n_days, P = sessions.shape
    seed_col = np.repeat(np.asarray(seeds, dtype=np.int64), n_days * P)
    day_col = np.tile(
        np.repeat(np.arange(start_day, start_day + n_days, dtype=np.int64), P), n_seeds
    )
    plat_col = np.tile(np.arange(P, dtype=np.int64), n_seeds * n_days)
    data: dict[str, np.ndarray] = {
        "seed": seed_col,
        "day": day_col,
        "platform_id": plat_col,
        "platform": np.asarray(platforms, dtype=object)[plat_col],
    }
    for name, value in metrics.items():
        if name in _NOT_DAILY:
            continue
        data[name] = np.asarray(value).reshape(-1)

    def total_over_platforms(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.repeat(x.sum(axis=2), P, axis=1).reshape(-1)

    data["share_sessions"] = _safe_div(data["sessions"], total_over_platforms(sessions))
    data["share_gmv"] = _safe_div(data["gmv_cents"], total_over_platforms(metrics["gmv_cents"]))
    data["take_rate"] = _safe_div(data["revenue_cents"], data["gmv_cents"])
    if "flows" in metrics and "revenue_service_fee_cents" in data:
        accrued = accrued_service_fee(np.asarray(metrics["flows"]), start_day).reshape(-1)
        data["service_fee_accrual_cents"] = accrued
        data["revenue_accrual_cents"] = (
            data["revenue_cents"] - data["revenue_service_fee_cents"] + accrued
        )
        data["take_rate_accrual"] = _safe_div(data["revenue_accrual_cents"], data["gmv_cents"])
    data["avg_markup"] = _safe_div(
        np.asarray(metrics["markup_sum"]).reshape(-1), data["active_sellers"]
    )
    data["avg_ad_intensity"] = _safe_div(
        np.asarray(metrics["ad_intensity_sum"]).reshape(-1), data["active_sellers"]
    )
    data["avg_delivered_quality"] = _safe_div(
        np.asarray(metrics["delivered_quality_sum"]).reshape(-1), data["orders"]
    )
    data["ad_load"] = _safe_div(data["paid_clicks"], data["clicks"])
    data["conversion"] = _safe_div(data["orders"], data["sessions"])
    data["harmful_order_share"] = _safe_div(data["harmful_orders"], data["orders"])
    data["avg_trust"] = _safe_div(
        np.asarray(metrics["trust_sum"]).reshape(-1), np.asarray(metrics["trust_n"]).reshape(-1)
    )
    sw = np.asarray(metrics["switches"])  # [seed, day, from, to, reason]
    data["switched_in"] = sw.sum(axis=(2, 4)).reshape(-1)
    data["switched_out"] = sw.sum(axis=(3, 4)).reshape(-1)
    for r, reason in enumerate(HARM_NAMES):
        data[f"switched_out_{reason}"] = sw[..., r].sum(axis=3).reshape(-1)
    return pd.DataFrame(data)


def accounts_table(
    metrics: dict[str, np.ndarray],
    platforms: Sequence[str],
    seeds: Sequence[int],
    start_day: int = 0,
) -> pd.DataFrame:
    """One row per seed, day and account: the balance after the day, in cents."""
    acc = np.asarray(metrics["accounts"])  # [seed, day, A]
    n_seeds, n_days, A = acc.shape
    names = ledger.account_names(list(platforms))
    return pd.DataFrame(
        {
            "seed": np.repeat(np.asarray(seeds, dtype=np.int64), n_days * A),
            "day": np.tile(np.repeat(np.arange(start_day, start_day + n_days), A), n_seeds),
            "account": np.tile(np.asarray(names, dtype=object), n_seeds * n_days),
            "balance_cents": acc.reshape(-1).astype(np.int64),
        }
    )


def flows_table(
    metrics: dict[str, np.ndarray],
    platforms: Sequence[str],
    seeds: Sequence[int],
    start_day: int = 0,
) -> pd.DataFrame:
    """One row per seed, day, platform and money stream: the cents moved that day."""
    flows = np.asarray(metrics["flows"])  # [seed, day, stream, P]
    n_seeds, n_days, n_streams, P = flows.shape
    streams = np.asarray(ledger.STREAM_NAMES, dtype=object)
    src = [s.source for s in STREAMS]
    dst = [s.destination for s in STREAMS]
    per_day = n_streams * P
    return pd.DataFrame(
        {
            "seed": np.repeat(np.asarray(seeds, dtype=np.int64), n_days * per_day),
            "day": np.tile(np.repeat(np.arange(start_day, start_day + n_days), per_day), n_seeds),
            "platform": np.tile(np.asarray(platforms, dtype=object), n_seeds * n_days * n_streams),
            "stream": np.tile(np.repeat(streams, P), n_seeds * n_days),
            "source": np.tile(np.repeat(np.asarray(src, dtype=object), P), n_seeds * n_days),
            "destination": np.tile(np.repeat(np.asarray(dst, dtype=object), P), n_seeds * n_days),
            "cents": flows.reshape(-1).astype(np.int64),
        }
    )


def switches_table(
    metrics: dict[str, np.ndarray],
    platforms: Sequence[str],
    seeds: Sequence[int],
    start_day: int = 0,
) -> pd.DataFrame:
    """Buyers' switches between platforms: seed, day, from, to, the harm met before, count.

    Only non-zero routes are kept.
    """
    sw = np.asarray(metrics["switches"])  # [seed, day, from, to, reason]
    idx = np.nonzero(sw)
    names = np.asarray(platforms, dtype=object)
    return pd.DataFrame(
        {
            "seed": np.asarray(seeds, dtype=np.int64)[idx[0]],
            "day": idx[1] + start_day,
            "from_platform": names[idx[2]],
            "to_platform": names[idx[3]],
            "reason": np.asarray(HARM_NAMES, dtype=object)[idx[4]],
            "buyers": sw[idx].astype(np.int64),
        }
    )


# the session log's codes by name: seller honesty types (sim/state.py HONEST,
# COUNTERFEITER, NON_SHIPPER), the outside option of the platform choice
HONESTY_NAMES = ("honest", "counterfeiter", "non_shipper")
OFFLINE = "offline"


def _names(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Names of integer codes as an object array; a negative code (none) is ``None``."""
    codes = np.asarray(codes)
    lookup = np.asarray([*names, None], dtype=object)
    return lookup[np.where(codes >= 0, codes, len(names))]


def sessions_table(
    log: dict[str, np.ndarray], platforms: Sequence[str], seeds: Sequence[int], start_day: int = 0
) -> pd.DataFrame:
    """The session log's listing table: one row per session that reached a platform and
    listing shown on its results page (for click and purchase models).

    Columns (docs/model.md §3.4 "Session log" has the same list):

    ===============  =======  =======================================================
    seed, day        int64    the run's seed; the day (0 = the run's first day)
    session          int64    the session's index within the day (0 .. S − 1)
    buyer            int32    who searched
    platform         str      the platform chosen
    category         int32    the keyword (category) searched
    position         int64    position on the page, 0 at the top
    listing          int32    seller slot shown there
    price_cents      int64    the listing's price, cents
    rating           float32  the public rating shown (a quality in [0, 1])
    sponsored        bool     a sponsored slot (an ad)
    clicked          bool     the buyer clicked it
    purchased        bool     the buyer bought it (at most one row per session)
    log_rel_price    float32  log(price / the category's reference price): the price
                              term of the click and purchase utilities
    ref_price_cents  float64  the category's reference price, cents
    ===============  =======  =======================================================

    Sessions that went to no platform have no row here: ``session_outcomes_table`` has one
    row per session drawn (offline included), ``choices_table`` one per session and option.
    """
    listing = np.asarray(log["listing"])  # [seed, day, S, L]
    n_seeds, n_days, S, L = listing.shape
    online = np.asarray(log["platform"]) >= 0  # [seed, day, S]
    shown = (listing >= 0) & online[..., None]
    seed_i, day_i, sess_i, pos_i = np.nonzero(shown)
    names = np.asarray(platforms, dtype=object)

    def per_session(x: np.ndarray) -> np.ndarray:
        return np.asarray(x)[seed_i, day_i, sess_i]

    def per_row(x: np.ndarray) -> np.ndarray:
        return np.asarray(x)[seed_i, day_i, sess_i, pos_i]

    return pd.DataFrame(
        {
            "seed": np.asarray(seeds, dtype=np.int64)[seed_i],
            "day": day_i + start_day,
            "session": sess_i,
            "buyer": per_session(log["buyer"]),
            "platform": names[per_session(log["platform"])],
            "category": per_session(log["category"]),
            "position": pos_i,
            "listing": per_row(listing),
            "price_cents": per_row(log["price"]),
            "rating": per_row(log["rating"]),
            "sponsored": per_row(log["sponsored"]),
            "clicked": per_row(log["clicked"]),
            "purchased": per_row(log["purchased"]),
            "log_rel_price": per_row(log["log_rel_price"]),
            "ref_price_cents": per_session(log["ref_price"]).astype(np.float64),
        }
    )


def _session_keys(
    log: dict[str, np.ndarray], seeds: Sequence[int], start_day: int, repeat: int = 1
) -> dict[str, np.ndarray]:
    """seed, day, session, buyer and category of every session drawn, in engine order
    (seed, day, session), each row repeated ``repeat`` times."""
    buyer = np.asarray(log["buyer"])  # [seed, day, S]
    n_seeds, n_days, S = buyer.shape
    n = n_seeds * n_days * S
    seed = np.repeat(np.asarray(seeds, dtype=np.int64), n_days * S)
    day = np.tile(np.repeat(np.arange(start_day, start_day + n_days, dtype=np.int64), S), n_seeds)
    session = np.tile(np.arange(S, dtype=np.int64), n_seeds * n_days)
    keys = {
        "seed": seed,
        "day": day,
        "session": session,
        "buyer": buyer.reshape(n),
        "category": np.asarray(log["category"]).reshape(n),
    }
    return {k: np.repeat(v, repeat) for k, v in keys.items()}


def choices_table(
    log: dict[str, np.ndarray], platforms: Sequence[str], seeds: Sequence[int], start_day: int = 0
) -> pd.DataFrame:
    """The platform choice of every session drawn, in long form: one row per session and
    option (each platform, then offline), for conditional-logit estimation.

    The buyer chose by multinomial logit on ``utility``, ``P(option) = exp(utility) /
    Σ_options exp(utility)`` (sim/shopping.py ``platform_utilities``), where a platform's
    utility is ``brand + trust_weight · trust + assortment_weight · log(1 + n_listed) +
    switching_cost · last`` and offline's is ``offline_utility``. Columns (docs/model.md
    §3.4 "Session log" has the same list):

    ==========  =======  ==============================================================
    seed, day   int64    the run's seed; the day
    session     int64    the session's index within the day (as in the other tables)
    buyer       int32    who searched
    category    int32    the keyword searched
    option_id   int64    0 .. P − 1 the platforms in scenario order, P offline
    option      str      the platform's name, or ``"offline"``
    available   bool     the option could be chosen (a platform: open that day and
                         listing sellers in the category; offline: always)
    chosen      bool     the option the buyer chose (one per session)
    utility     float32  the systematic utility the logit used (−inf if unavailable)
    trust       float32  the buyer's trust in the platform that day, faded since its
                         last visit (utility units; NaN for offline)
    n_listed    int32    the platform's listings in the category (0 for offline)
    last        bool     the platform is the one the buyer used last (switching cost)
    ==========  =======  ==============================================================
    """
    utility = np.asarray(log["utility"])  # [seed, day, S, P + 1]
    n_seeds, n_days, S, K = utility.shape
    P = K - 1
    n = n_seeds * n_days * S
    option = np.tile(np.arange(K, dtype=np.int64), n)
    platform = np.asarray(log["platform"]).reshape(n)
    chosen = np.repeat(np.where(platform >= 0, platform, P), K) == option
    trust = np.concatenate(
        [np.asarray(log["trust"]).reshape(n, P), np.full((n, 1), np.nan, np.float32)], axis=1
    )
    n_listed = np.concatenate(
        [np.asarray(log["n_listed"]).reshape(n, P), np.zeros((n, 1), np.int32)], axis=1
    )
    last = np.repeat(np.asarray(log["last_platform"]).reshape(n), K) == option
    return pd.DataFrame(
        {
            **_session_keys(log, seeds, start_day, repeat=K),
            "option_id": option,
            "option": np.asarray([*platforms, OFFLINE], dtype=object)[option],
            "available": np.isfinite(utility).reshape(-1),
            "chosen": chosen,
            "utility": utility.reshape(-1),
            "trust": trust.reshape(-1),
            "n_listed": n_listed.reshape(-1),
            "last": last & (option < P),
        }
    )


def session_outcomes_table(
    log: dict[str, np.ndarray], platforms: Sequence[str], seeds: Sequence[int], start_day: int = 0
) -> pd.DataFrame:
    """One row per session drawn, offline ones included: where it went, what it bought,
    what its price comparison saw, the order's fate, and the trust signal the buyer took
    from it (everything ``sim/buyers.py`` reads to update trust).

    The buyer's trust in the platform moves to ``trust + trust_learning_rate · (signal −
    trust)`` (several sessions of one buyer on one platform in a day: ``trust +
    trust_learning_rate · Σ (signal − trust)``), with ``signal = surplus_weight ·
    inclusive_value − no_purchase_penalty · [not bought] − overpay_weight · beta_price ·
    overpay − quality_gap_weight · beta_quality · quality_gap · [not refunded] −
    fraud_penalty · lost_to_fraud + protection_bonus · refunded − ad_nuisance``. An order's money
    settles on ``settle_day`` (the daily table's refunds and losses count it then).
    Columns (docs/model.md §3.4 "Session log" has the same list; "none" is −1 for
    integers, NaN for floats, None for names):

    ======================  =======  ==================================================
    seed, day               int64    the run's seed; the day
    session                 int64    the session's index within the day
    buyer                   int32    who searched
    category                int32    the keyword searched
    online                  bool     the buyer chose a platform (False: offline)
    platform_id             int32    the platform chosen, −1 offline
    platform                str      its name, None offline
    ref_price_cents         float64  the category's reference price, cents
    beta_price              float32  the buyer's price sensitivity β_price (latent)
    beta_quality            float32  the buyer's quality sensitivity β_quality (latent)
    trust                   float32  trust in the chosen platform before the session
                                     (faded since the last visit; NaN offline)
    inclusive_value         float32  log(1 + Σ_clicked exp(u_j − u_0)): what the page
                                     offered (0 with no click; NaN offline)
    bought                  bool     the session placed an order
    position                int32    the position bought (−1 none)
    listing                 int32    the seller slot bought from (−1 none)
    price_cents             int64    the price paid, cents (0 none)
    compared                bool     the buyer compared prices on another platform
    compared_platform       str      where it looked (None if it did not compare)
    price_seen_cents        float32  the lowest price on that platform's page for the
                                     keyword, cents (NaN if it did not compare)
    price_considered_cents  float32  what it set against it: the price paid, or the
                                     cheapest listing clicked (NaN if not compared)
    overpay                 float32  max(0, log(considered / seen)) if compared, else 0
                                     (NaN offline)
    claimed_quality         float32  the quality the listing claims (NaN none)
    delivered_quality       float32  the quality delivered: 0 for a parcel never
                                     delivered (NaN none)
    quality_gap             float32  max(0, rating shown − delivered quality) of a
                                     purchase, 0 without one (NaN offline)
    ad_nuisance             float32  utility the session lost to the sponsored positions
                                     it examined, ``buyers.sponsored_disutility · Σ_k
                                     e_k · [k sponsored]`` (0 when ads cost nothing;
                                     NaN offline)
    seller_type             str      "honest", "counterfeiter" or "non_shipper" (None)
    counterfeit             bool     bought from a counterfeiter
    claim                   bool     the buyer (or, under escrow, the missing delivery
                                     record) filed a claim
    refunded                bool     the claim was upheld: the price came back
    lost_to_fraud           bool     paid a non-shipper and was not refunded
    order_state             str      the terminal state: confirmed, auto_confirmed,
                                     refunded or claim_rejected (None)
    settle_day              int64    the day the order reaches it (−1 none)
    refund_cents            int64    refunded to the buyer, cents (0 none)
    fraud_loss_cents        int64    paid for a parcel never delivered, not refunded
    counterfeit_loss_cents  int64    price · (1 − delivered/claimed) of a counterfeit
                                     not refunded, cents
    signal                  float32  the trust signal of the session (NaN offline)
    harm                    str      the harm met: none, price, quality, fraud (None
                                     offline)
    ======================  =======  ==================================================
    """
    platform = np.asarray(log["platform"])  # [seed, day, S]
    n = platform.size
    P = np.asarray(log["trust"]).shape[-1]
    keys = _session_keys(log, seeds, start_day)

    def col(name: str) -> np.ndarray:
        return np.asarray(log[name]).reshape(n)

    pid = platform.reshape(n)
    online = pid >= 0
    trust = np.take_along_axis(
        np.asarray(log["trust"]).reshape(n, P), np.maximum(pid, 0)[:, None], axis=1
    )[:, 0]
    bought = col("position") >= 0
    delay = col("settle_delay")
    honesty = col("seller_honesty")
    return pd.DataFrame(
        {
            **keys,
            "online": online,
            "platform_id": pid.astype(np.int32),
            "platform": _names(pid, platforms),
            "ref_price_cents": col("ref_price").astype(np.float64),
            "beta_price": col("price_sens"),
            "beta_quality": col("quality_sens"),
            "trust": np.where(online, trust, np.float32(np.nan)),
            "inclusive_value": col("inclusive_value"),
            "bought": bought,
            "position": col("position").astype(np.int32),
            "listing": col("bought_listing").astype(np.int32),
            "price_cents": col("paid").astype(np.int64),
            "compared": col("compared"),
            "compared_platform": _names(col("compared_platform"), platforms),
            "price_seen_cents": col("price_seen"),
            "price_considered_cents": col("price_considered"),
            "overpay": col("overpay"),
            "claimed_quality": col("claimed_quality"),
            "delivered_quality": col("delivered_quality"),
            "quality_gap": col("quality_gap"),
            "ad_nuisance": col("ad_nuisance"),
            "seller_type": _names(honesty, HONESTY_NAMES),
            "counterfeit": honesty == HONESTY_NAMES.index("counterfeiter"),
            "claim": col("claim"),
            "refunded": col("refunded"),
            "lost_to_fraud": col("lost_to_fraud"),
            "order_state": _names(col("order_state"), TERMINAL_STATES),
            "settle_day": np.where(bought, keys["day"] + delay, -1),
            "refund_cents": col("refund_cents").astype(np.int64),
            "fraud_loss_cents": col("fraud_loss_cents").astype(np.int64),
            "counterfeit_loss_cents": col("counterfeit_loss_cents").astype(np.int64),
            "signal": col("signal"),
            "harm": _names(col("harm"), HARM_NAMES),
        }
    )


def check_warmup(daily: pd.DataFrame, warmup: int) -> None:
    """Raise ``ValueError`` (one line) unless ``warmup`` leaves at least one day."""
    days = int(daily["day"].nunique())
    if warmup < 0 or warmup >= days:
        raise ValueError(
            f"warmup: {warmup} days must be at least 0 and less than the run's {days} days"
        )


def after_warmup(daily: pd.DataFrame, warmup: int) -> pd.DataFrame:
    """The rows of a day table (``daily``, ``accounts``, ...) after its first ``warmup``
    days; ``warmup`` is checked against the days of ``daily``."""
    check_warmup(daily, warmup)
    return daily[daily["day"] >= daily["day"].min() + warmup] if warmup else daily


def summarize(daily: pd.DataFrame, last_days: int | None = None, warmup: int = 0) -> pd.DataFrame:
    """Per platform: totals of flows and means of levels over days, averaged over seeds.

    ``warmup`` leaves the run's first days out; ``last_days`` keeps only the last days."""
    frame = after_warmup(daily, warmup)
    if last_days is not None:
        frame = frame[frame["day"] > frame["day"].max() - last_days]
    sums = [
        "sessions",
        "orders",
        "gmv_cents",
        "revenue_cents",
        *revenue_columns(),
        "consumer_surplus_cents",
        "seller_profit_cents",
        "sellers_entered",
        "sellers_exited",
        "refunds_cents",
        "fraud_loss_cents",
        "claims",
    ]
    sums += [c for c in ("revenue_accrual_cents", "service_fee_accrual_cents") if c in frame]
    per_seed = frame.groupby(["platform_id", "platform", "seed"], sort=True)
    totals = per_seed[sums].sum()
    last_day = frame["day"].max()
    level_columns = ["active_sellers", "monthly_active_buyers", "avg_trust"]
    level_columns += [c for c in MARKET_LEVELS if c in frame]  # absent in runs before 0.2
    levels = frame[frame["day"] == last_day].set_index(["platform_id", "platform", "seed"])[
        level_columns
    ]
    table = totals.join(levels).groupby(level=["platform_id", "platform"]).mean()
    market = table[["sessions", "gmv_cents"]].sum()
    table["share_sessions"] = table["sessions"] / max(market["sessions"], 1)
    table["share_gmv"] = table["gmv_cents"] / max(market["gmv_cents"], 1)
    gmv = table["gmv_cents"].where(table["gmv_cents"] > 0)
    table["take_rate"] = table["revenue_cents"] / gmv
    if "revenue_accrual_cents" in table:
        table["take_rate_accrual"] = table["revenue_accrual_cents"] / gmv
    if "multihoming_buyers" in table:
        active = table["monthly_active_buyers"].where(table["monthly_active_buyers"] > 0)
        table["share_multihoming"] = table["multihoming_buyers"] / active
    if "market_sellers" in table:  # on one platform, its listings are distinct sellers
        table["sellers"] = table["active_sellers"]
    return table.reset_index()
