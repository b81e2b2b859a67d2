"""The Pareto frontier: exactly the undominated points."""

from __future__ import annotations

import numpy as np

from twosided.strategy.frontier import dominated_by, pareto


def test_pareto_keeps_exactly_the_undominated_points():
    pts = np.array([[3, 1], [2, 2], [1, 3], [1, 1], [2, 1], [3, 1], [0, 0]], float)
    front = pareto(pts)
    assert sorted(front.tolist()) == [0, 1, 2, 5]  # the duplicate (3, 1) stays
    assert pts[front[0], 0] == 3.0  # best revenue first
    for i in range(len(pts)):
        assert (i in front) == (not dominated_by(np.delete(pts, i, 0), pts[i]))


def test_pareto_of_random_clouds():
    rng = np.random.default_rng(0)
    for _ in range(20):
        pts = rng.normal(size=(40, 2)).round(1)
        front = pareto(pts)
        assert len(front) >= 1
        for i in front:
            assert not dominated_by(pts, pts[i])
        for i in set(range(40)) - set(front.tolist()):
            assert dominated_by(pts, pts[i])
