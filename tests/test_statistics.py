"""Statistics over seeds: the Student-t interval against scipy's own and the printed tables,
the one rule for a single seed, the paired t-test, and Holm's adjustment on a worked
example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from twosided.statistics import CONFIDENCE, half_width, holm, t_interval, t_test_p


def test_the_interval_of_a_known_sample_is_scipys_t_interval():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]  # mean 3, sd sqrt(2.5), standard error sqrt(0.5)
    mean, low, high = t_interval(x)
    expected = scipy_stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert mean == 3.0
    assert low == pytest.approx(expected.low, rel=1e-12)
    assert high == pytest.approx(expected.high, rel=1e-12)
    # by hand: t(0.975; 4 df) = 2.776445 from the tables
    half = 2.776445 * math.sqrt(0.5)
    assert (low, high) == pytest.approx((3 - half, 3 + half), abs=1e-5)
    assert half_width(x) == pytest.approx((high - low) / 2)
    narrow = t_interval(x, 0.5)
    assert low < narrow[1] < mean < narrow[2] < high


def test_the_multiplier_matches_the_printed_t_tables():
    rng = np.random.default_rng(0)
    for df, table in ((1, 12.706), (2, 4.303), (5, 2.571), (30, 2.042)):
        x = rng.normal(size=df + 1)
        assert round(half_width(x) / scipy_stats.sem(x), 3) == table


def test_one_seed_has_no_interval_and_no_p_value():
    assert t_interval([3.0])[0] == 3.0
    assert all(math.isnan(b) for b in t_interval([3.0])[1:])
    assert math.isnan(half_width([3.0])) and math.isnan(t_test_p([3.0]))
    assert all(math.isnan(v) for v in t_interval([]))
    assert math.isnan(t_test_p([]))
    # a seed whose value is unknown makes the interval unknown too
    assert math.isnan(half_width([1.0, math.nan, 2.0]))


def test_values_that_do_not_vary_have_a_point_interval():
    assert t_interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    assert t_test_p([2.0, 2.0, 2.0]) == 0.0  # the same difference on every seed: clear
    assert t_interval([0.0, 0.0]) == (0.0, 0.0, 0.0) and t_test_p([0.0, 0.0]) == 1.0


def test_confidence_must_be_a_probability():
    with pytest.raises(ValueError, match="confidence 1.5"):
        t_interval([1.0, 2.0], 1.5)


def test_the_p_value_is_the_paired_t_test_and_agrees_with_the_interval():
    rng = np.random.default_rng(1)
    agreed = 0
    for _ in range(200):
        n = int(rng.integers(2, 8))
        a = rng.normal(size=n)
        b = a + rng.normal(0.8, 1.0, size=n)
        p = t_test_p(b - a)
        assert p == pytest.approx(scipy_stats.ttest_rel(b, a).pvalue, rel=1e-9)
        _, low, high = t_interval(b - a)
        excludes_zero = low > 0 or high < 0
        assert excludes_zero == (p < 1 - CONFIDENCE)
        agreed += excludes_zero
    assert 0 < agreed < 200  # both outcomes were seen


def test_holm_on_a_worked_example():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # scipy's false_discovery_control (Benjamini-Hochberg) is a different, laxer adjustment
    assert scipy_stats.false_discovery_control(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([0.03]) == pytest.approx([0.03])  # a lone comparison is not adjusted
    assert holm([0.4, 0.5]) == pytest.approx([0.8, 0.8])  # never below a smaller p's
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]).size == 0


def test_holm_keeps_an_untestable_comparison_in_the_family():
    adjusted = holm([0.02, math.nan])
    assert adjusted[0] == pytest.approx(0.04) and math.isnan(adjusted[1])
    with pytest.raises(ValueError, match="p-values"):
        holm([0.5, 1.5])


def test_a_difference_clear_alone_can_stop_being_clear_among_several():
    alone = t_test_p([0.9, 1.1, 1.6, 0.4])
    assert alone < 0.05  # clear on its own (its 95% interval excludes zero)
    family = holm([alone, 0.3, 0.6])
    assert family[0] == pytest.approx(3 * alone) and family[0] > 0.05
