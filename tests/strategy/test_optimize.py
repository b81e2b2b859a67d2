"""The policy optimizer: it finds a known optimum at the boundary, its frontier is the
undominated set of what it evaluated, it resumes exactly, and it compares paired."""

from __future__ import annotations

import numpy as np
import pytest

from twosided.env import policy as pol
from twosided.scenario import ScenarioError
from twosided.simulation import prepare
from twosided.strategy.frontier import dominated_by
from twosided.strategy.optimize import best_policy, evaluator_for, paired, search_space

SMALL = {"market.buyers": 1000, "market.seller_capacity": 16, "market.initial_sellers": 8}
SEEDS = [0, 1, 2, 3]
EVAL_SEEDS = [10, 11, 12, 13]
ADS_TOP = 5.0  # over 0..5 the monopoly's four-week revenue rises with the ad weight


@pytest.fixture(scope="module")
def evaluator():
    sc = prepare("monopoly", SMALL)
    space = search_space(sc, 0, ["rank_ads"], {"rank_ads": (0.0, ADS_TOP)})
    return evaluator_for(sc, 0, space, period_days=7, periods=4, batch=6)


def test_the_premise_revenue_rises_with_the_ad_weight(evaluator):
    grid = np.linspace(0.0, ADS_TOP, 6)[:, None]
    revenue = evaluator.evaluate(grid, SEEDS)["objective"].mean(axis=1)
    assert np.all(np.diff(revenue) > 0), revenue


def test_finds_the_boundary_and_its_frontier_is_undominated(evaluator):
    found = best_policy(evaluator, SEEDS, EVAL_SEEDS, generations=6, seed=1)
    assert found.best["rank_ads"] >= 0.9 * ADS_TOP
    # the rest of the policy is the scenario's
    base = pol.as_dict(evaluator.policies[0])
    assert {k: v for k, v in found.best.items() if k != "rank_ads"} == {
        k: v for k, v in base.items() if k != "rank_ads"
    }
    assert len(found.points) == 6 * 6 and found.generations == 6
    assert found.history[-1]["best"] == pytest.approx(found.objective.max())
    pts = np.stack([found.revenue, found.surplus], axis=1)
    assert len(found.frontier) >= 1
    for i in found.frontier:
        assert not dominated_by(pts, pts[i])
    for i in set(range(len(pts))) - set(found.frontier.tolist()):
        assert dominated_by(pts, pts[i])
    revenue = next(c for c in found.comparison if c.metric == "revenue_cents")
    assert revenue.seeds == len(EVAL_SEEDS) and revenue.difference > 0
    assert revenue.low <= revenue.difference <= revenue.high


def test_resume_continues_the_same_search(evaluator, tmp_path):
    state = tmp_path / "search.pkl"
    straight = best_policy(evaluator, SEEDS, EVAL_SEEDS, generations=4, seed=2)
    first = best_policy(evaluator, SEEDS, EVAL_SEEDS, generations=2, seed=2, state_path=state)
    assert state.exists() and first.generations == 2
    resumed = best_policy(evaluator, SEEDS, EVAL_SEEDS, generations=4, seed=2, state_path=state)
    np.testing.assert_array_equal(resumed.points, straight.points)
    assert resumed.best == straight.best
    with pytest.raises(ScenarioError, match="other settings"):
        best_policy(evaluator, SEEDS, EVAL_SEEDS, generations=4, seed=3, state_path=state)


def test_bounds_outside_the_schema_are_refused():
    sc = prepare("monopoly", SMALL)
    with pytest.raises(ScenarioError, match="rank_ads=0:500"):
        search_space(sc, 0, ["rank_ads"], {"rank_ads": (0.0, 500.0)})
    with pytest.raises(ScenarioError, match="policy field 'slots'"):
        search_space(sc, 0, ["slots"])


def test_paired_interval():
    c = paired("x", np.array([3.0, 4.0, 5.0, 6.0]), np.array([1.0, 2.0, 2.0, 4.0]))
    assert c.difference == pytest.approx(2.25)
    assert c.low < 2.25 < c.high and c.seeds == 4
