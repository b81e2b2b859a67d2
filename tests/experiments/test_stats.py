"""Intervals over seeds: percentile intervals stay within the seeds' values, and paired
differences measure a change seed by seed, as findings do."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twosided.experiments.stats import interval, paired_differences, percentile_interval


def test_a_percentile_interval_stays_within_the_seeds_values():
    values = [0.0, 0.0, 0.0, 40.0]  # a count: the t interval would reach below zero
    assert interval(values)[1] < 0
    mean, lo, hi = percentile_interval(values)
    assert mean == 10.0 and 0.0 <= lo <= mean <= hi <= 40.0
    shares = [0.99, 1.0, 0.6]
    assert percentile_interval(shares)[2] <= 1.0 < interval(shares)[2]
    assert percentile_interval(values) == percentile_interval(values)  # reproducible
    assert all(math.isnan(b) for b in percentile_interval([3.0])[1:])


def test_paired_differences_see_a_change_that_overlapping_levels_hide():
    base = np.array([100.0, 200.0, 300.0])
    seeds = pd.DataFrame(
        {
            "ads": [0.0] * 3 + [2.0] * 3,
            "platform": "Taobao",
            "seed": [0, 1, 2] * 2,
            "gmv": [*base, *(base + [1.0, 2.0, 1.5])],
        }
    )
    changes = paired_differences(seeds, "ads", 0.0, ["ads", "platform"], ["gmv"])
    row = changes[changes["ads"] == 2.0].iloc[0]
    assert row["gmv"] == 1.5 and 0 < row["gmv_lo"] < 1.5 < row["gmv_hi"]  # clear of zero
    levels = [interval(seeds[seeds["ads"] == a]["gmv"]) for a in (0.0, 2.0)]
    assert levels[1][1] < levels[0][2]  # the levels' intervals overlap
    zero = changes[changes["ads"] == 0.0].iloc[0]
    assert zero["gmv"] == zero["gmv_lo"] == zero["gmv_hi"] == 0.0
