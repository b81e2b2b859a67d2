"""Long-run dynamics promise, out of the mechanisms (fixed seeds, honest tolerances):
price harm sends price-sensitive buyers to the low-price rival, quality harm sends
quality-sensitive buyers to the quality rival; under competition a revenue-first incumbent
earns more ads early and loses buyers over three years, while a monopoly with high
switching costs keeps them; sellers follow buyers out, with a lag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..conftest import cached_run

SMALL = {"market.buyers": 50_000}
REVENUE_FIRST = {
    "platforms.0.ranking.quality": 0.2,
    "platforms.0.ranking.price": 0.2,
    "platforms.0.ranking.commission": 1.5,
    "platforms.0.ranking.ads": 1.5,
}
USER_FIRST = {
    "platforms.0.ranking.quality": 1.5,
    "platforms.0.ranking.price": 1.5,
    "platforms.0.ranking.commission": 0.0,
    "platforms.0.ranking.ads": 0.0,
}
HARM_DAYS = 180
YEARS3 = 3 * 365


def _segment_share(daily: pd.DataFrame, platform: str, segment: str, last: int = 60) -> pd.Series:
    """Share of a buyer segment's sessions that went to ``platform`` over the last days."""
    col = f"sessions_{segment}"
    recent = daily[daily["day"] > daily["day"].max() - last]
    return (
        recent[recent["platform"] == platform].groupby("seed")[col].sum()
        / recent.groupby("seed")[col].sum()
    )


def _harm_effect(overrides: dict, platform: str) -> dict[str, pd.Series]:
    base = cached_run("taobao", HARM_DAYS, seeds=2, overrides=SMALL).daily
    harmed = cached_run("taobao", HARM_DAYS, seeds=2, overrides={**SMALL, **overrides}).daily
    return {
        seg: _segment_share(harmed, platform, seg) - _segment_share(base, platform, seg)
        for seg in ("price_sensitive", "quality_sensitive")
    }


def test_price_harm_sends_price_sensitive_buyers_to_the_low_price_rival():
    # the incumbent's sellers are forced to raise markups by 30 points
    effect = _harm_effect({"platforms.0.markup_shift": 0.3}, "Pinduoduo")
    assert (effect["price_sensitive"] > 0.02).all()
    assert (effect["price_sensitive"] > effect["quality_sensitive"] + 0.02).all(), effect


def test_quality_harm_sends_quality_sensitive_buyers_to_the_quality_rival():
    # counterfeiters grow on the incumbent (its own seller mix), which turns a blind eye
    harm = {
        "platforms.0.governance.detection_rate": 0.0,
        "platforms.0.seller_types": {
            "honest_share": 0.6,
            "counterfeiter_share": 0.37,
            "non_shipper_share": 0.03,
        },
    }
    effect = _harm_effect(harm, "JD")
    assert (effect["quality_sensitive"] > 0.01).all()
    assert (effect["quality_sensitive"] > effect["price_sensitive"] + 0.005).all(), effect


def _incumbent(preset: str, policy: dict) -> pd.DataFrame:
    d = cached_run(preset, YEARS3, seeds=2, overrides={**SMALL, **policy}).daily
    return d[d["platform_id"] == 0]


def _quarter(d: pd.DataFrame, column: str, first: bool) -> pd.Series:
    window = d[d["day"] < 91] if first else d[d["day"] >= d["day"].max() - 90]
    return window.groupby("seed")[column].mean()


def test_under_competition_revenue_first_earns_ads_early_and_loses_buyers():
    rev, user = _incumbent("taobao", REVENUE_FIRST), _incumbent("taobao", USER_FIRST)
    assert (
        _quarter(rev, "revenue_ads_cents", True) > _quarter(user, "revenue_ads_cents", True)
    ).all()
    share_rev_end = _quarter(rev, "share_sessions", False)
    assert (share_rev_end < _quarter(rev, "share_sessions", True) - 0.05).all()
    assert (share_rev_end < _quarter(user, "share_sessions", False) - 0.1).all()
    # and by year three the user-first incumbent earns more in all
    assert (_quarter(user, "revenue_cents", False) > _quarter(rev, "revenue_cents", False)).all()


def test_a_monopoly_with_high_switching_costs_keeps_its_buyers_under_revenue_first():
    rev, user = _incumbent("monopoly", REVENUE_FIRST), _incumbent("monopoly", USER_FIRST)
    start, end = _quarter(rev, "sessions", True), _quarter(rev, "sessions", False)
    assert (end > 0.97 * start).all()
    assert (end > 0.97 * _quarter(user, "sessions", False)).all()
    # buyers are worse off, yet the revenue-first monopolist earns more throughout
    assert (
        _quarter(rev, "consumer_surplus_cents", False)
        < _quarter(user, "consumer_surplus_cents", False)
    ).all()
    assert (_quarter(rev, "revenue_cents", False) > _quarter(user, "revenue_cents", False)).all()


def _onset(x: np.ndarray, drop: float = 0.05) -> int:
    """First day a (smoothed) ratio falls ``drop`` below its start."""
    below = x < x[:7].mean() - drop
    assert below.any()
    return int(np.argmax(below))


def test_sellers_follow_buyers_out_with_a_lag():
    # the revenue-first incumbent relative to the user-first one, seed by seed, in year one
    rev = _incumbent("taobao", REVENUE_FIRST)
    user = _incumbent("taobao", USER_FIRST)
    for seed in rev["seed"].unique():
        a = rev[(rev["seed"] == seed) & (rev["day"] < 365)].set_index("day")
        b = user[(user["seed"] == seed) & (user["day"] < 365)].set_index("day")
        buyers = (a["sessions"] / b["sessions"]).rolling(14, min_periods=1).mean().to_numpy()
        sellers = (
            (a["active_sellers"] / b["active_sellers"]).rolling(14, min_periods=1).mean().to_numpy()
        )
        assert sellers[-90:].mean() < 0.9  # the platform that lost buyers lost sellers too
        # buyers start leaving at once; sellers only after losing money for a while
        assert _onset(sellers) > _onset(buyers) + 28, (_onset(sellers), _onset(buyers))
