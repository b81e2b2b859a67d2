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
from twosided.sim.state import HARM_NAMES
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


def sessions_table(
    log: dict[str, np.ndarray], platforms: Sequence[str], seeds: Sequence[int], start_day: int = 0
) -> pd.DataFrame:
    """The session log: one row per session and listing shown (for click-model estimation)."""
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
