"""Best-response iteration on a small two-platform market: it terminates, reports its
path, and gives the same path with the same seeds."""

from __future__ import annotations

import numpy as np
import pytest

from twosided.env import policy as pol
from twosided.scenario import Scenario
from twosided.simulation import prepare
from twosided.strategy.equilibrium import best_responses
from twosided.strategy.optimize import search_space

SMALL = {"market.buyers": 1000, "market.seller_capacity": 16, "market.initial_sellers": 8}
ROUNDS = 3


@pytest.fixture(scope="module")
def duopoly() -> Scenario:
    data = prepare("taobao", SMALL).model_dump()
    data["platforms"] = data["platforms"][:2]
    return Scenario.model_validate(data)


def _iterate(sc: Scenario, steps: list | None = None):
    spaces = [search_space(sc, i, ["rank_ads"], {"rank_ads": (0.0, 5.0)}) for i in range(2)]
    return best_responses(
        sc,
        spaces,
        seeds=[0, 1],
        eval_seeds=[5, 6],
        rounds=ROUNDS,
        tol=0.05,
        generations=2,
        batch=4,
        periods=2,
        report=None if steps is None else steps.append,
    )


def test_terminates_reports_its_path_and_is_deterministic(duopoly):
    steps: list = []
    eq = _iterate(duopoly, steps)
    assert 1 <= eq.rounds <= ROUNDS
    assert len(eq.path) == 2 * eq.rounds and steps == eq.path
    assert [s["platform"] for s in eq.path[:2]] == [p.name for p in duopoly.platforms]
    assert [s["round"] for s in eq.path] == [r for r in range(1, eq.rounds + 1) for _ in (0, 1)]
    for step in eq.path:
        assert 0.0 <= step["policy"]["rank_ads"] <= 5.0 and step["move"] >= 0.0
    last = eq.path[-2:]
    assert eq.converged == (max(s["move"] for s in last) < 0.05)
    assert eq.converged or eq.rounds == ROUNDS
    for i, step in enumerate(last):
        assert eq.policies[i, pol.INDEX["rank_ads"]] == pytest.approx(step["policy"]["rank_ads"])
    assert len(eq.start["revenue"]) == 2 and len(eq.end["consumer_surplus"]) == 2
    again = _iterate(duopoly)
    assert again.path == eq.path
    np.testing.assert_array_equal(again.policies, eq.policies)
