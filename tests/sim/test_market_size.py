"""Markets that scale (``market.daily_sessions_per_category``, docs/model.md §3.6): a
market four times the size is four copies of the same market, so the incumbent's GMV
share, take rate and sellers per 1,000 buyers agree in law between 10,000 and 40,000
buyers; without the rule the fixed day-0 sellers make the small market a thicker one.

Tolerances are set from the seeds' spread measured on 2026-12-02 (3 seeds, 90 days, last
30 days; standard deviation over seeds at 10,000 / 40,000 buyers: GMV share 0.056 /
0.012, take rate 0.0053 / 0.0084, sellers per 1,000 buyers 1.8 / 0.6): about three
standard errors of the difference of the two means."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from twosided.calibration.moments import Window, moment_values
from twosided.simulation import simulate

pytestmark = pytest.mark.slow

DAYS, WINDOW, SEEDS = 90, 30, 3
TARGET = 250.0  # daily searches per copy of a category class: 10,000 buyers are one copy
FIGURES = ("gmv_share", "take_rate", "sellers_per_thousand_buyers")


@functools.lru_cache(maxsize=4)
def _incumbent(buyers: int, target: float | None, days: int = DAYS) -> dict[str, float]:
    """The incumbent's figures over the run's last ``WINDOW`` days (all of a shorter
    run), means over seeds."""
    run = simulate(
        "taobao",
        days=days,
        seeds=SEEDS,
        seed=100,
        overrides={"market.buyers": buyers, "market.daily_sessions_per_category": target},
    )
    window = Window.of(run.daily, max(0, days - WINDOW), buyers)
    return {f: float(np.mean(moment_values(window, f, "Taobao"))) for f in FIGURES}


def test_four_times_the_buyers_is_four_copies_of_the_same_market():
    small, large = _incumbent(10_000, TARGET), _incumbent(40_000, TARGET)
    assert large["gmv_share"] == pytest.approx(small["gmv_share"], abs=0.1)
    assert large["take_rate"] == pytest.approx(small["take_rate"], abs=0.02)
    assert large["sellers_per_thousand_buyers"] == pytest.approx(
        small["sellers_per_thousand_buyers"], rel=0.25
    )


def test_without_the_rule_a_small_market_has_more_sellers_per_buyer():
    # the comparison above would fail: day-0 sellers per category are fixed, so a market
    # of a quarter the buyers starts with four times the sellers per buyer
    small, large = _incumbent(10_000, None, 15), _incumbent(40_000, None, 15)
    ratio = small["sellers_per_thousand_buyers"] / large["sellers_per_thousand_buyers"]
    assert ratio > 2.0
