"""The flip search: on a gap with a known crossing it brackets it by bisection and reports
an interval that contains it; with no sign change in the range it says so; the interval's
ends are where the paired interval stops containing zero."""

from __future__ import annotations

import numpy as np
import pytest

from twosided.experiments.flip import FlipPoint, find_flip

CROSSING = 2.3
NOISE = np.random.default_rng(7).normal(0.0, 1.0, size=6)  # per seed, shared by all points


def linear_gap(point):
    """A gap of slope 2 per unit crossing zero at 2.3, plus per-seed luck (common seeds)."""
    return 2.0 * (point["buyers.offline_utility"] - CROSSING) + NOISE


def test_brackets_the_known_crossing_and_its_interval_contains_it():
    seen = []
    flip = find_flip(
        linear_gap, "buyers.offline_utility", -1.0, 5.0, steps=5,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert flip.found
    a, b = flip.bracket
    assert b - a == pytest.approx(6.0 / 2**5)
    # the mean gap is 2 (x - 2.3) + mean noise: its zero is the crossing, exactly
    assert flip.crossing == pytest.approx(CROSSING - NOISE.mean() / 2.0)
    low, high = flip.interval
    assert low < CROSSING < high and not (flip.open_low or flip.open_high)
    assert a <= flip.crossing <= b and low < a and b < high
    assert seen[-1] == (7, 7) and len(flip.points) == 7
    assert "flips from revenue-first to user-first" in flip.sentence()


def test_the_interval_is_where_the_paired_interval_contains_zero():
    flip = find_flip(linear_gap, "buyers.offline_utility", -1.0, 5.0, steps=6)
    low, high = flip.interval
    # just inside the interval zero is still inside the gap's interval; just outside not
    for inside in (low + 0.02, high - 0.02):
        assert FlipPoint.of(inside, linear_gap({"buyers.offline_utility": inside})).undecided
    for outside in (low - 0.05, high + 0.05):
        assert not FlipPoint.of(outside, linear_gap({"buyers.offline_utility": outside})).undecided


def test_no_sign_change_in_the_range_is_reported_not_searched():
    calls = []

    def always_user_first(point):
        calls.append(point)
        return np.array([5.0, 6.0, 7.0])

    flip = find_flip(always_user_first, "buyers.switching_cost", 0.0, 3.0)
    assert not flip.found and len(calls) == 2
    assert "No flip" in flip.sentence() and "user-first" in flip.sentence()


def test_an_interval_reaching_the_range_end_is_open():
    noisy = np.array([-30.0, 30.0, -25.0, 28.0])  # wide: undecided everywhere in [0, 4]

    def gap(point):
        return point["x"] - 1.0 + noisy

    flip = find_flip(gap, "x", 0.0, 4.0, steps=3)
    assert flip.found and flip.open_low and flip.open_high
    assert flip.interval == (0.0, 4.0)
    assert "below" in flip.sentence() and "or beyond" in flip.sentence()


def test_a_reversed_range_is_refused():
    with pytest.raises(ValueError, match="lower end"):
        find_flip(linear_gap, "x", 3.0, 1.0)
