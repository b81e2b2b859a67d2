"""The Python API: simulate() returns tidy tables, seeds as asked, and a session log from
which a researcher can estimate the click and choice models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import twosided
from twosided.sim.params import build

SMALL = {"market.buyers": 3000, "market.seller_capacity": 32, "market.initial_sellers": 16}


@pytest.fixture(scope="module")
def logged():
    return twosided.simulate("taobao", days=4, seeds=2, overrides=SMALL, log_sessions=True)


def test_daily_has_one_row_per_seed_day_platform(logged):
    d = logged.daily
    assert len(d) == 2 * 4 * 3
    assert not d.duplicated(["seed", "day", "platform"]).any()
    for column in (
        "sessions",
        "active_buyers",
        "orders",
        "gmv_cents",
        "revenue_ads_cents",
        "revenue_commission_cents",
        "revenue_service_fee_cents",
        "revenue_affiliate_cents",
        "take_rate",
        "consumer_surplus_cents",
        "seller_profit_cents",
        "active_sellers",
        "avg_markup",
        "avg_delivered_quality",
        "ad_load",
    ):
        assert column in d.columns, column


def test_session_log_rows_are_sessions_times_listings_shown(logged):
    log = logged.sessions
    assert set(log.columns) >= {
        "day",
        "buyer",
        "platform",
        "category",
        "position",
        "listing",
        "price_cents",
        "rating",
        "sponsored",
        "clicked",
        "purchased",
    }
    # every logged session reached a platform, and sessions agree with the daily table
    per_day = log.groupby(["seed", "day", "platform"])["session"].nunique()
    daily = logged.daily.set_index(["seed", "day", "platform"])["sessions"]
    assert (per_day.reindex(daily.index, fill_value=0) == daily).all()
    # at most one purchase per session, and only of a clicked listing
    per_session = log.groupby(["seed", "day", "session"])["purchased"].sum()
    assert per_session.max() <= 1
    assert not (log["purchased"] & ~log["clicked"]).any()
    orders = log.groupby(["seed", "day", "platform"])["purchased"].sum()
    assert (
        orders.reindex(daily.index, fill_value=0)
        == logged.daily.set_index(["seed", "day", "platform"])["orders"]
    ).all()
    # sponsored listings sit on top of the page
    first_organic = log[~log["sponsored"]].groupby(["seed", "day", "session"])["position"].min()
    last_ad = log[log["sponsored"]].groupby(["seed", "day", "session"])["position"].max()
    both = first_organic.index.intersection(last_ad.index)
    assert (last_ad.loc[both] < first_organic.loc[both]).all()


def test_click_rates_estimated_from_the_log_fall_with_position(logged):
    log = logged.sessions
    ctr = log.groupby("position")["clicked"].mean()
    _, params = build(logged.scenario)
    e = np.asarray(params.buyers.examination)
    # clicks = examination × attractiveness: normalizing by position 0 recovers the curve
    # up to the attractiveness of what is shown there (within sampling error)
    ratio = (ctr / ctr.iloc[0]).to_numpy()
    assert ratio[-1] < ratio[1] < 1.0
    assert np.corrcoef(ratio, e[: len(ratio)] / e[0])[0, 1] > 0.9


def test_seeds_count_and_list():
    r = twosided.simulate("monopoly", days=2, seeds=[5, 9], overrides=SMALL)
    assert sorted(r.daily["seed"].unique()) == [5, 9]
    with pytest.raises(ValueError):
        twosided.simulate("monopoly", days=2, seeds=0, overrides=SMALL)


def test_summary_prints_the_command_lines_table_with_intervals(logged):
    """``Result.summary()`` is the CLI's table: yuan (never cents in scientific notation), a
    Market column, and with two seeds each figure's 95% interval over seeds."""
    from twosided.outcomes import summary_grid

    summary = logged.summary()
    text = repr(summary)
    header, rows = summary_grid(summary)
    assert header == ["", "Taobao", "Pinduoduo", "JD", "Market"]
    assert text.splitlines()[0].split() == header[1:]
    gmv = next(row for row in rows if row[0] == "GMV (yuan)")
    assert all(" ± " in cell for cell in gmv[1:])
    mean = summary["gmv_cents"].sum() / 100
    assert gmv[-1].startswith(f"{mean:,.0f} ± ")  # the market's GMV, in yuan
    assert "e+" not in text and "gmv_cents" not in text
    assert "95% interval over 2 seeds" in text
    assert " ± " in summary._repr_html_()
    # the numbers are still a DataFrame of cents, one row per platform
    assert summary["gmv_cents"].dtype.kind == "f" and len(summary) == 3
    assert type(summary[["gmv_cents"]]) is pd.DataFrame


def test_summary_of_one_seed_has_no_interval():
    one = twosided.simulate("taobao", days=4, seeds=1, overrides=SMALL)
    assert " ± " not in repr(one.summary()) and "Market" in repr(one.summary())


def test_per_seed_summaries_are_each_seeds_own_summary(logged):
    from twosided import metrics
    from twosided.simulation import per_seed_summary

    table = per_seed_summary(logged.daily)
    for i, (_, rows) in enumerate(logged.daily.groupby("seed", sort=True)):
        alone = metrics.summarize(rows)
        mine = table[table["seed_index"] == i].reset_index(drop=True)[alone.columns]
        pd.testing.assert_frame_equal(mine, alone, check_dtype=False)


def test_a_warmup_leaves_the_first_days_out_of_the_summary(logged):
    """``summary(warmup=N)`` is the summary of the days after the first N, and
    ``after_warmup`` cuts every day table the same way; a warm-up leaving no day is
    refused in one line."""
    from twosided import metrics

    later = logged.daily[logged.daily["day"] >= 1]
    pd.testing.assert_frame_equal(
        pd.DataFrame(logged.summary(warmup=1)), metrics.summarize(later), check_dtype=False
    )
    assert logged.summary(warmup=1)["sessions"].sum() < logged.summary()["sessions"].sum()
    cut = logged.after_warmup(1)
    assert cut.warmup == 1 and logged.warmup == 0
    for table in (cut.daily, cut.accounts, cut.flows, cut.sessions):
        assert table["day"].min() == 1
    pd.testing.assert_frame_equal(
        pd.DataFrame(cut.summary()), pd.DataFrame(logged.summary(warmup=1))
    )
    for bad in (-1, 4):
        with pytest.raises(ValueError, match=f"warmup: {bad} days must be at least 0"):
            logged.summary(warmup=bad)


def test_a_short_runs_take_rate_on_an_accrual_basis_is_sane_where_cash_is_not():
    """30 days: the annual fee is cash on day 0 (a take rate near 100%), while on an
    accrual basis only the run's days of it count: revenue, accrual is the cash revenue with
    each charge replaced by its share (no refund falls in the first year's first month)."""
    run = twosided.simulate("taobao", days=30, seeds=1, overrides={"market.buyers": 5000})
    s = run.summary().set_index("platform")
    assert s.loc["Taobao", "take_rate"] > 0.5 and s.loc["Taobao", "take_rate_accrual"] < 0.2
    fees = run.flows[run.flows["stream"] == "service_fee"]
    # a charge on day d (on listing) pays for days d..364: (30 - d) of them in the run
    share = fees["cents"] * (30 - fees["day"]) / (365 - fees["day"])
    fee = share.groupby(fees["platform"]).sum()
    assert (fees.loc[fees["day"] == 0, "cents"].sum()) > 0.9 * fees["cents"].sum()
    for p in s.index:
        cash = s.loc[p, "revenue_cents"] - s.loc[p, "revenue_service_fee_cents"]
        assert s.loc[p, "revenue_accrual_cents"] == pytest.approx(cash + fee[p])
