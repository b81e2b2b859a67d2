"""The paired revenue gap: both policies on the same seeds, the long-run window of the
study; several points batched into one program give what each point run alone gives
(money is exact over a short run)."""

from __future__ import annotations

import numpy as np

from twosided.experiments.policy_gap import PolicyGap
from twosided.experiments.whom_to_save.study import REVENUE_FIRST, USER_FIRST
from twosided.scenario import apply_overrides, load_scenario

SMALL = {"market.buyers": 1500, "market.initial_sellers": 8, "market.seller_capacity": 24}
POINTS = [{"buyers.offline_utility": -1.0}, {"buyers.offline_utility": 4.0}]


def world():
    return apply_overrides(load_scenario("monopoly"), SMALL)


def test_batched_points_equal_points_run_alone_and_the_gap_is_the_difference():
    batched = PolicyGap(world(), days=20, seeds=[0, 1], batch=True).many(POINTS)
    alone = PolicyGap(world(), days=20, seeds=[0, 1], batch=False)
    for point, gap in zip(POINTS, batched):
        user, revenue = alone.revenue(point, USER_FIRST), alone.revenue(point, REVENUE_FIRST)
        np.testing.assert_array_equal(gap, user - revenue)  # revenue is whole cents
        assert gap.shape == (2,) and np.isfinite(gap).all()
    assert not np.array_equal(batched[0], batched[1])  # the outside option moves it
