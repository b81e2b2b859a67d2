"""The data collector (``twosided.metrics``): engine arrays -> tidy tables."""

from __future__ import annotations

import numpy as np
import pytest

from twosided import metrics
from twosided.sim import ledger, streams

PLATFORMS = ["A", "B"]


def _raw() -> dict[str, np.ndarray]:
    """One seed, two days, two platforms: the metrics the daily table reads."""
    per_day = lambda a, b: np.asarray([[a, b]], dtype=np.int64).reshape(1, 1, 2)  # noqa: E731
    days = lambda x, y: np.concatenate([x, y], axis=1)  # noqa: E731
    zero = days(per_day(0, 0), per_day(0, 0))
    raw = {
        "sessions": days(per_day(30, 10), per_day(20, 20)),
        "orders": days(per_day(3, 1), per_day(2, 0)),
        "gmv_cents": days(per_day(3000, 1000), per_day(2000, 0)),
        "revenue_cents": days(per_day(300, 50), per_day(100, 0)),
        "active_sellers": days(per_day(2, 1), per_day(2, 1)),
        "markup_sum": days(per_day(1, 0), per_day(1, 0)).astype(float),
        "ad_intensity_sum": zero.astype(float),
        "delivered_quality_sum": zero.astype(float),
        "paid_clicks": zero,
        "clicks": zero,
        "harmful_orders": zero,
        "trust_sum": zero.astype(float),
        "trust_n": days(per_day(1, 1), per_day(1, 1)),
        "switches": np.zeros((1, 2, 2, 2, 4), np.int64),
    }
    raw["switches"][0, 1, 0, 1, 3] = 2  # day 1: two buyers from A to B after fraud
    return raw


def test_shares_and_rates_are_derived_per_day_and_platform():
    d = metrics.daily_table(_raw(), PLATFORMS, seeds=[9])
    assert d["share_sessions"].tolist() == [0.75, 0.25, 0.5, 0.5]
    assert d["take_rate"].tolist() == [0.1, 0.05, 0.05, 0.0]  # no GMV: 0, not NaN
    assert d["avg_markup"].tolist() == [0.5, 0.0, 0.5, 0.0]
    assert d["switched_in"].tolist() == [0, 0, 0, 2]
    assert d["switched_out_fraud"].tolist() == [0, 0, 2, 0]
    assert d["seed"].tolist() == [9] * 4 and d["day"].tolist() == [0, 0, 1, 1]


def test_the_flows_table_names_every_streams_accounts_from_the_registry():
    flows = np.zeros((1, 1, len(streams.STREAMS), 2), np.int64)
    flows[0, 0, ledger.S["commission"], 1] = 42
    table = metrics.flows_table({"flows": flows}, PLATFORMS, seeds=[0])
    assert len(table) == len(streams.STREAMS) * 2
    row = table[table["cents"] == 42].iloc[0]
    assert (row["stream"], row["source"], row["destination"], row["platform"]) == (
        "commission",
        "sellers",
        "platform",
        "B",
    )


def test_switches_keep_only_the_routes_taken():
    table = metrics.switches_table(_raw(), PLATFORMS, seeds=[9])
    assert table.to_dict("records") == [
        {
            "seed": 9,
            "day": 1,
            "from_platform": "A",
            "to_platform": "B",
            "reason": "fraud",
            "buyers": 2,
        }
    ]


def _fee_flows(n_days: int) -> np.ndarray:
    """One seed, two platforms: fee charges and a refund in the engine's flow layout."""
    flows = np.zeros((1, n_days, len(ledger.STREAM_NAMES), 2), np.int64)
    fee, refund = ledger.S["service_fee"], ledger.S["service_fee_refund"]
    flows[0, 0, fee] = [365_000, 0]  # the first fee year's charge
    flows[0, 100, fee] = [26_500, 73_000]  # a new listing; B opens on day 100
    flows[0, 364, refund] = [91_250, 7_300]  # the year's refunds, on its last day
    flows[0, 365, fee] = [730_000, 73_000]  # the second fee year
    return flows


def test_the_accrued_fee_spreads_each_charge_over_its_fee_year_and_nets_the_refund():
    flows = _fee_flows(400)
    accrued = metrics.accrued_service_fee(flows)[0]
    fee, refund = ledger.S["service_fee"], ledger.S["service_fee_refund"]
    cash_year = flows[0, :365, fee].sum(axis=0) - flows[0, :365, refund].sum(axis=0)
    np.testing.assert_allclose(accrued[:365].sum(axis=0), cash_year, rtol=0, atol=1e-6)
    # the second year's charge: a 365th a day, for both platforms
    np.testing.assert_allclose(accrued[365:], np.tile([2000.0, 200.0], (35, 1)))
    # B earns nothing before it opens, and nothing is negative
    assert (accrued[:100, 1] == 0).all() and (accrued >= 0).all()
    # A's first days: 1,000 a day of the year's charge, less its share of the refund
    net = 1000 * (1 - 91_250 / (365_000 + 26_500))
    assert accrued[0, 0] == pytest.approx(net)


def test_the_daily_table_carries_revenue_and_take_rate_on_an_accrual_basis():
    raw = _raw()
    raw["flows"] = _fee_flows(400)[:, :2]  # the first two days of it
    raw["revenue_service_fee_cents"] = raw["flows"][:, :, ledger.S["service_fee"], :]
    d = metrics.daily_table(raw, PLATFORMS, seeds=[9])
    assert d["service_fee_accrual_cents"].tolist() == [1000.0, 0.0, 1000.0, 0.0]
    assert d["revenue_accrual_cents"].tolist() == [300 - 365_000 + 1000, 50, 100 + 1000, 0]
    assert d["take_rate_accrual"].tolist()[2:] == [1100 / 2000, 0.0]
