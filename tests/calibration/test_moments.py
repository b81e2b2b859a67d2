"""The catalogue of moments on a daily table whose answers are known by hand: flows summed
over the window after the warm-up, levels averaged, stocks read on its last day, market
figures over all platforms, one value per seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twosided.calibration.moments import MOMENTS, Window, catalogue, moment_values

PLATFORMS = ("A", "B")


def daily() -> pd.DataFrame:
    """Two seeds, days 0-2, two platforms; day 0 is the warm-up (values that would spoil
    every moment if it were counted). Seed 1 doubles seed 0's flows."""
    rows = []
    for seed, k in ((0, 1), (1, 2)):
        for day in range(3):
            warm = 1000 if day == 0 else 1
            for pid, name in enumerate(PLATFORMS):
                a = pid == 0
                rows.append(
                    {
                        "seed": seed,
                        "day": day,
                        "platform_id": pid,
                        "platform": name,
                        "sessions": warm * k * (100 if a else 50),
                        "orders": warm * k * (20 if a else 5),
                        "gmv_cents": warm * k * (200_000 if a else 50_000),
                        "revenue_cents": warm * k * 999_999,  # cash: ignored for accrual
                        "revenue_accrual_cents": warm * k * (8_000 if a else 1_000),
                        "revenue_ads_cents": warm * k * (6_000 if a else 900),
                        "revenue_commission_cents": warm * k * (2_000 if a else 100),
                        "revenue_affiliate_cents": 0,
                        "clicks": warm * k * (40 if a else 10),
                        "paid_clicks": warm * k * (30 if a else 1),
                        "sponsored_clicks": warm * k * (10 if a else 1),
                        "refunds_cents": warm * k * (2_000 if a else 0),
                        "monthly_active_buyers": (60 if a else 30) + day,
                        "market_monthly_active_buyers": 80 + day,
                        "active_sellers": (10 if a else 4) * (day + 1),
                        "market_sellers": 12 * (day + 1),
                        "multihoming_buyers": 10 if a else 5,
                        "market_multihoming_buyers": 8,
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture
def window() -> Window:
    return Window.of(daily(), warmup=1, buyers=2000)


CASES = [
    ("take_rate", "A", [8_000 / 200_000] * 2),
    ("take_rate", None, [9_000 / 250_000] * 2),
    ("ads_share_of_revenue", "B", [0.9, 0.9]),
    ("commission_share_of_revenue", "A", [0.25, 0.25]),
    ("gmv_share", "A", [0.8, 0.8]),
    ("session_share", "B", [50 / 150] * 2),
    # 2 days × 20 orders over the mean MAU (61 + 62) / 2, scaled from 2 days to 365
    ("orders_per_buyer_year", "A", [40 / 61.5 * 365 / 2, 80 / 61.5 * 365 / 2]),
    ("orders_per_buyer_year", None, [50 / 81.5 * 365 / 2, 100 / 81.5 * 365 / 2]),
    ("conversion_per_session", "A", [0.2, 0.2]),
    ("conversion_per_session", None, [25 / 150] * 2),
    ("average_order_value", "A", [100.0, 100.0]),  # 10,000 cents an order: 100 yuan
    ("paid_share_of_clicks", "A", [0.75, 0.75]),
    ("sponsored_share_of_clicks", None, [11 / 50] * 2),
    ("sellers_per_thousand_buyers", "A", [30 * 1000 / 2000] * 2),  # last day: 10 × 3
    ("sellers_per_thousand_buyers", None, [36 * 1000 / 2000] * 2),
    ("multihoming_share", "B", [5 / 32] * 2),  # last day's MAU: 30 + 2
    ("multihoming_share", None, [8 / 82] * 2),
    ("refund_share_of_gmv", "A", [0.01, 0.01]),
]


@pytest.mark.parametrize("name,platform,expected", CASES)
def test_each_moment_matches_its_hand_computed_value(window, name, platform, expected):
    np.testing.assert_allclose(moment_values(window, name, platform), expected, rtol=1e-12)


def test_every_moment_is_tested_above_and_listed():
    assert {name for name, _, _ in CASES} == set(MOMENTS)
    assert [row[0] for row in catalogue()] == list(MOMENTS)


def test_the_warmup_and_the_window_length_count(window):
    assert window.days == 2 and window.seeds == [0, 1]
    whole = Window.of(daily(), warmup=0, buyers=2000)
    assert moment_values(whole, "conversion_per_session", "A")[0] == pytest.approx(0.2)
    assert moment_values(whole, "take_rate", "A")[0] == pytest.approx(0.04)
    assert whole.flow("orders", "A")[0] == 20 * 1002  # the warm-up day counted now


def test_a_moment_without_its_event_is_nan_not_zero():
    frame = daily()
    frame.loc[frame["platform"] == "B", "orders"] = 0
    w = Window.of(frame, warmup=1, buyers=2000)
    assert np.isnan(moment_values(w, "average_order_value", "B")).all()
