"""The catalogue of moments: figures of a run that a calibration matches to public data.

A moment is computed seed by seed from a run's daily table (``Result.daily``) after its
warm-up days, for one platform or for the whole market, so that its mean over seeds comes
with a seed interval. Flows (orders, GMV, revenue, clicks) are summed over the window;
levels (monthly active buyers) are averaged over its days; stocks (sellers) are read on its
last day. Revenue is the *accrual* revenue: the annual service fee spread over the days it
pays for (``revenue_accrual_cents``), so that a window shorter than a fee year is not
charged a whole fee; without that column (runs of twosided before 0.2), cash revenue.

The names, what each measures and whether it takes a platform are listed by
``catalogue()`` and in docs/calibration.md; adding one is adding an entry to ``MOMENTS``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from twosided.metrics import after_warmup
from twosided.sim.fees import YEAR_DAYS

Scope = Literal["platform", "market", "either"]
FLOWS = (
    "sessions",
    "orders",
    "gmv_cents",
    "revenue_cents",
    "revenue_accrual_cents",
    "revenue_ads_cents",
    "revenue_commission_cents",
    "revenue_affiliate_cents",
    "clicks",
    "paid_clicks",
    "sponsored_clicks",
    "refunds_cents",
)
LEVELS = ("monthly_active_buyers", "market_monthly_active_buyers")
STOCKS = (
    "active_sellers",
    "market_sellers",
    "multihoming_buyers",
    "monthly_active_buyers",
    "market_multihoming_buyers",
    "market_monthly_active_buyers",
)
PER_THOUSAND = 1000.0
CENTS_PER_YUAN = 100.0


@dataclasses.dataclass(frozen=True)
class Window:
    """A run's daily table over the days a calibration compares, reduced per seed.

    ``flows``: sums over the window per (seed, platform); ``levels``: means over its days;
    ``stocks``: values on its last day. ``days`` is the window's length, ``buyers`` the
    market's buyers (the scenario's ``market.buyers``)."""

    flows: pd.DataFrame
    levels: pd.DataFrame
    stocks: pd.DataFrame
    days: int
    buyers: int

    @classmethod
    def of(cls, daily: pd.DataFrame, warmup: int, buyers: int) -> Window:
        """The window of ``daily`` after its first ``warmup`` days."""
        frame = after_warmup(daily, warmup).copy()
        if "revenue_accrual_cents" not in frame:
            frame["revenue_accrual_cents"] = frame["revenue_cents"]
        keys = ["seed", "platform"]
        present = [c for c in FLOWS if c in frame]
        flows = frame.groupby(keys, sort=True)[present].sum()
        levels = frame.groupby(keys, sort=True)[[c for c in LEVELS if c in frame]].mean()
        last = frame[frame["day"] == frame["day"].max()]
        stocks = last.set_index(keys).sort_index()[[c for c in STOCKS if c in frame]]
        days = int(frame["day"].nunique())
        return cls(flows, levels, stocks, days, buyers)

    @property
    def seeds(self) -> list[int]:
        """The seeds, in the order every moment's values come."""
        return sorted(self.flows.index.get_level_values("seed").unique().tolist())

    def flow(self, column: str, platform: str | None) -> np.ndarray:
        """A flow per seed: of one platform, or summed over the market."""
        return self._per_seed(self.flows, column, platform, np.sum)

    def level(self, column: str, platform: str | None) -> np.ndarray:
        """A level's mean over the window per seed (market columns: any platform's row)."""
        return self._per_seed(self.levels, column, platform, _first)

    def stock(self, column: str, platform: str | None) -> np.ndarray:
        """A stock on the window's last day per seed (market columns: any platform's row)."""
        return self._per_seed(self.stocks, column, platform, _first)

    def _per_seed(
        self,
        table: pd.DataFrame,
        column: str,
        platform: str | None,
        combine: Callable[[np.ndarray], float],
    ) -> np.ndarray:
        if column not in table:
            raise KeyError(f"the run's daily table has no column {column!r}")
        values = table[column]
        if platform is not None:
            one = values.xs(platform, level="platform")
            return one.reindex(self.seeds).to_numpy(np.float64)
        grouped = values.groupby(level="seed", sort=True)
        return np.asarray([combine(g.to_numpy(np.float64)) for _, g in grouped], np.float64)


def _first(values: np.ndarray) -> float:
    return float(values[0])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` per seed, NaN where the denominator is zero (no such event)."""
    den = np.asarray(den, np.float64)
    return np.divide(num, den, out=np.full_like(den, np.nan), where=den != 0)


@dataclasses.dataclass(frozen=True)
class Moment:
    """One figure a calibration can target: its name, what it measures, whether it is
    measured per platform (``platform``), for the whole market (``market``) or either."""

    name: str
    description: str
    scope: Scope
    compute: Callable[[Window, str | None], np.ndarray]


def _take_rate(w: Window, p: str | None) -> np.ndarray:
    return _ratio(w.flow("revenue_accrual_cents", p), w.flow("gmv_cents", p))


def _revenue_share(stream: str) -> Callable[[Window, str | None], np.ndarray]:
    def share(w: Window, p: str | None) -> np.ndarray:
        return _ratio(w.flow(f"revenue_{stream}_cents", p), w.flow("revenue_accrual_cents", p))

    return share


def _market_share(column: str) -> Callable[[Window, str | None], np.ndarray]:
    def share(w: Window, p: str | None) -> np.ndarray:
        return _ratio(w.flow(column, p), w.flow(column, None))

    return share


def _orders_per_buyer_year(w: Window, p: str | None) -> np.ndarray:
    active = w.level("monthly_active_buyers" if p else "market_monthly_active_buyers", p)
    return _ratio(w.flow("orders", p), active) * (YEAR_DAYS / w.days)


def _per_session(w: Window, p: str | None) -> np.ndarray:
    return _ratio(w.flow("orders", p), w.flow("sessions", p))


def _order_value(w: Window, p: str | None) -> np.ndarray:
    return _ratio(w.flow("gmv_cents", p), w.flow("orders", p)) / CENTS_PER_YUAN


def _click_share(column: str) -> Callable[[Window, str | None], np.ndarray]:
    def share(w: Window, p: str | None) -> np.ndarray:
        return _ratio(w.flow(column, p), w.flow("clicks", p))

    return share


def _sellers_per_thousand(w: Window, p: str | None) -> np.ndarray:
    sellers = w.stock("active_sellers" if p else "market_sellers", p)
    return sellers * PER_THOUSAND / w.buyers


def _multihoming(w: Window, p: str | None) -> np.ndarray:
    if p is None:
        both = w.stock("market_multihoming_buyers", None)
        return _ratio(both, w.stock("market_monthly_active_buyers", None))
    return _ratio(w.stock("multihoming_buyers", p), w.stock("monthly_active_buyers", p))


def _refunds(w: Window, p: str | None) -> np.ndarray:
    return _ratio(w.flow("refunds_cents", p), w.flow("gmv_cents", p))


MOMENTS: dict[str, Moment] = {
    m.name: m
    for m in (
        Moment(
            "take_rate",
            "Revenue (accrual) over GMV: what the platform keeps of what buyers pay.",
            "either",
            _take_rate,
        ),
        Moment(
            "ads_share_of_revenue",
            "Ad revenue (paid clicks) over revenue (accrual).",
            "either",
            _revenue_share("ads"),
        ),
        Moment(
            "commission_share_of_revenue",
            "Commission revenue over revenue (accrual).",
            "either",
            _revenue_share("commission"),
        ),
        Moment(
            "gmv_share",
            "The platform's GMV over the market's (all platforms).",
            "platform",
            _market_share("gmv_cents"),
        ),
        Moment(
            "session_share",
            "The platform's shopping sessions over the market's online sessions.",
            "platform",
            _market_share("sessions"),
        ),
        Moment(
            "orders_per_buyer_year",
            "Orders per monthly-active buyer, per year of 365 days (the window's orders over "
            "its mean monthly-active buyers, scaled to a year).",
            "either",
            _orders_per_buyer_year,
        ),
        Moment(
            "conversion_per_session",
            "Orders per online shopping session.",
            "either",
            _per_session,
        ),
        Moment(
            "average_order_value",
            "GMV per order, in yuan.",
            "either",
            _order_value,
        ),
        Moment(
            "paid_share_of_clicks",
            "Clicks charged to an advertiser (sponsored slots and bid-held organic positions) "
            "over all clicks.",
            "either",
            _click_share("paid_clicks"),
        ),
        Moment(
            "sponsored_share_of_clicks",
            "Clicks on sponsored slots over all clicks.",
            "either",
            _click_share("sponsored_clicks"),
        ),
        Moment(
            "sellers_per_thousand_buyers",
            "Sellers listed on the window's last day per 1,000 buyers of the market "
            "(market: distinct sellers).",
            "either",
            _sellers_per_thousand,
        ),
        Moment(
            "multihoming_share",
            "Share of monthly-active buyers also active on another platform, last day "
            "(market: active on two or more).",
            "either",
            _multihoming,
        ),
        Moment(
            "refund_share_of_gmv",
            "Refunds over GMV.",
            "either",
            _refunds,
        ),
    )
}


def catalogue() -> list[tuple[str, str, str]]:
    """Every moment's ``(name, scope, description)``, for help text and docs."""
    return [(m.name, m.scope, m.description) for m in MOMENTS.values()]


def moment_values(window: Window, name: str, platform: str | None) -> np.ndarray:
    """Moment ``name`` of ``platform`` (None: the market) per seed of ``window``."""
    return MOMENTS[name].compute(window, platform)
