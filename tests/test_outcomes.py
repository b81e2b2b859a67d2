"""Outcome labels and formats, the summary grid and the differences between two runs."""

from __future__ import annotations

import pandas as pd

from twosided.outcomes import (
    Outcome,
    key_outcomes,
    market_row,
    revenue_stream_columns,
    summary_grid,
    with_per_seed,
)
from twosided.report.comparison import MARKET, outcome_differences


def summary(platforms: dict[str, dict[str, float]]) -> pd.DataFrame:
    rows = [
        {"platform_id": i, "platform": name, **values}
        for i, (name, values) in enumerate(platforms.items())
    ]
    frame = pd.DataFrame(rows)
    frame["share_sessions"] = frame["sessions"] / frame["sessions"].sum()
    frame["take_rate"] = frame["revenue_cents"] / frame["gmv_cents"]
    return frame


A = summary(
    {
        "Taobao": {
            "sessions": 300,
            "gmv_cents": 1_000_000,
            "revenue_cents": 50_000,
            "revenue_ads_cents": 30_000,
            "revenue_commission_cents": 20_000,
            "active_sellers": 40,
        },
        "JD": {
            "sessions": 100,
            "gmv_cents": 500_000,
            "revenue_cents": 50_000,
            "revenue_ads_cents": 0,
            "revenue_commission_cents": 50_000,
            "active_sellers": 10,
        },
    }
)


def test_money_is_shown_in_yuan_shares_in_percent():
    assert Outcome("gmv_cents", "GMV", "yuan").format(123_456_789) == "1,234,568"
    assert Outcome("s", "share", "share").format(0.4567) == "45.7%"
    assert Outcome("t", "take", "ratio").format(0.0567) == "5.67%"
    assert Outcome("t", "take", "ratio").format(float("nan")) == "-"


def test_changes_are_points_for_shares_and_relative_for_amounts():
    assert Outcome("s", "share", "share").format_change(0.40, 0.45) == "+5.00 pts"
    assert Outcome("g", "GMV", "yuan").format_change(10_000, 15_000) == "+50 (+50.0%)"
    assert Outcome("g", "GMV", "yuan").format_change(0, 100) == "+1"
    assert Outcome("g", "GMV", "yuan").format_change(None, 100) == "-"


def test_revenue_streams_are_the_ledgers_streams_present():
    assert revenue_stream_columns(A.columns) == ["revenue_ads_cents", "revenue_commission_cents"]
    # a breakdown of a stream (not a stream of its own) is not counted twice
    assert revenue_stream_columns([*A.columns, "revenue_ads_misaligned_cents"]) == [
        "revenue_ads_cents",
        "revenue_commission_cents",
    ]


def test_market_row_sums_amounts_and_takes_the_ratio_of_sums():
    row = market_row(A)
    assert row["gmv_cents"] == 1_500_000 and row["active_sellers"] == 50
    assert row["take_rate"] == 100_000 / 1_500_000
    assert row["share_sessions"] == 1.0


def test_market_row_does_not_add_buyers_counted_on_several_platforms():
    with_buyers = A.assign(monthly_active_buyers=[700, 500])  # 1,200 is no market figure
    assert market_row(with_buyers)["monthly_active_buyers"] is None
    own = with_buyers.assign(market_monthly_active_buyers=900)  # the market's own count
    assert market_row(own)["monthly_active_buyers"] == 900
    grid = {row[0]: row[1:] for row in summary_grid(with_buyers)[1]}
    assert grid["Buyers (monthly active, last day)"] == ["700", "500", "-"]
    assert "Seller listings (last day)" in grid


def test_intervals_are_shown_as_plus_minus_in_the_units_of_the_value():
    assert Outcome("g", "GMV", "yuan").format_interval(123_456_789, 1_234_500) == (
        "1,234,568 ± 12,345"
    )
    assert Outcome("s", "share", "share").format_interval(0.4567, 0.012) == "45.7 ± 1.2%"
    assert Outcome("t", "take", "ratio").format_interval(0.0567, 0.0012) == "5.67 ± 0.12%"
    assert Outcome("g", "GMV", "yuan").format_interval(100, None) == "1"


def test_summary_grid_with_per_seed_summaries_shows_the_95_interval():
    seeds = [A.assign(gmv_cents=A["gmv_cents"] + shift) for shift in (-10_000, 10_000)]
    mean = with_per_seed(A.copy(), seeds)
    grid = {row[0]: row[1:] for row in summary_grid(mean)[1]}
    half = 12.706 * 14142.1356 / 2**0.5 / 100  # t(0.975, 1) * sd / sqrt(2), in yuan
    assert grid["GMV (yuan)"][0] == f"10,000 ± {half:,.0f}"
    assert grid["Share of sessions"][-1] == "100.0%"  # the market's share has no spread
    assert grid["GMV (yuan)"][-1] == f"15,000 ± {2 * half:,.0f}"  # the market, per seed


def test_summary_grid_from_one_seed_shows_the_values_alone():
    """One seed has no interval (twosided.statistics): no ± and no NaN in the cells."""
    one = with_per_seed(A.copy(), [A.copy()])
    assert summary_grid(one) == summary_grid(A)
    cells = [c for row in summary_grid(one)[1] for c in row[1:]]
    assert not any("±" in c or "nan" in c.lower() or "inf" in c for c in cells)


def test_summary_grid_has_a_column_per_platform_and_the_market():
    header, rows = summary_grid(A)
    assert header == ["", "Taobao", "JD", "Market"]
    grid = {row[0]: row[1:] for row in rows}
    assert grid["GMV (yuan)"] == ["10,000", "5,000", "15,000"]
    assert grid["  from ads (yuan)"] == ["300", "0", "300"]
    assert grid["Share of sessions"] == ["75.0%", "25.0%", "100.0%"]


def test_differences_match_platforms_by_name_and_add_the_market():
    b = summary(
        {
            "Taobao": {
                "sessions": 200,
                "gmv_cents": 800_000,
                "revenue_cents": 60_000,
                "revenue_ads_cents": 40_000,
                "revenue_commission_cents": 20_000,
                "active_sellers": 30,
            },
            "Pinduoduo": {
                "sessions": 200,
                "gmv_cents": 700_000,
                "revenue_cents": 7_000,
                "revenue_ads_cents": 0,
                "revenue_commission_cents": 7_000,
                "active_sellers": 20,
            },
        }
    )
    diffs = {(d.platform, d.outcome.column): d for d in outcome_differences(A, b)}
    assert [p for p, _ in diffs][:1] == ["Taobao"]
    assert {p for p, _ in diffs} == {"Taobao", "JD", "Pinduoduo", MARKET}
    assert diffs[("Taobao", "gmv_cents")].change_text == "-2,000 (-20.0%)"
    assert diffs[("JD", "gmv_cents")].b_text == "-"
    assert diffs[("Pinduoduo", "gmv_cents")].a_text == "-"
    assert diffs[(MARKET, "gmv_cents")].b == 1_500_000
    assert (MARKET, "share_sessions") not in diffs
    assert {o.column for o in key_outcomes(A.columns)} <= set(A.columns)


def test_the_market_row_shows_distinct_sellers_and_buyers_on_several_platforms():
    both = A.assign(
        monthly_active_buyers=[700, 500],
        multihoming_buyers=[300, 300],  # 300 buyers used both platforms this month
        market_monthly_active_buyers=900,
        market_multihoming_buyers=300,
        sellers=[40, 10],
        market_sellers=45,  # five sellers list on both platforms
    )
    both["share_multihoming"] = both["multihoming_buyers"] / both["monthly_active_buyers"]
    row = market_row(both)
    assert row["sellers"] == 45 and row["active_sellers"] == 50
    assert row["share_multihoming"] == 300 / 900
    grid = {r[0]: r[1:] for r in summary_grid(both)[1]}
    assert grid["Sellers (distinct, last day)"] == ["40", "10", "45"]
    assert grid["  also active on another platform"] == ["42.9%", "60.0%", "33.3%"]


def test_the_market_share_of_multihoming_buyers_has_its_interval_over_seeds():
    def seed(multi: int) -> pd.DataFrame:
        frame = A.assign(
            monthly_active_buyers=[700, 500],
            multihoming_buyers=[multi, multi],
            market_monthly_active_buyers=1200 - multi,
            market_multihoming_buyers=multi,
        )
        frame["share_multihoming"] = frame["multihoming_buyers"] / frame["monthly_active_buyers"]
        return frame

    seeds = [seed(200), seed(400)]  # market shares 200/1000 and 400/800
    mean = with_per_seed(seed(300), seeds)
    grid = {r[0]: r[1:] for r in summary_grid(mean)[1]}
    half = 12.706 * abs(0.5 - 0.2) / 2**0.5 / 2**0.5  # t(0.975, 1) * sd / sqrt(2)
    assert (
        grid["  also active on another platform"][-1]
        == f"{300 / 900:.1%}".replace("%", "") + f" ± {half * 100:.1f}%"
    )
