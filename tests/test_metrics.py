"""The data collector (``twosided.metrics``): engine arrays -> tidy tables."""

from __future__ import annotations

import numpy as np

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
