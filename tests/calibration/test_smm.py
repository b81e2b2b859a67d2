"""The simulated method of moments: on a linear model it finds the exact answer and the
closed-form standard errors; through the engine it recovers known parameters, and an
interrupted calibration resumes from its cache without simulating again."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twosided.calibration import TargetsSpec, calibrate, resolve, simulated_moments
from twosided.calibration.smm import Evaluator

SMALL = {"market.buyers": 1500, "market.initial_sellers": 8, "market.seller_capacity": 24}
TRUTH = (1.0, 0.0)  # sellers.ad_intensity_mean, buyers.outside_utility
SEEDS = 8


def spec(
    targets: list[float],
    ses: list[float],
    first_seed: int = 0,
    budget: int = 40,
    start: tuple[float, float] = (0.4, 1.0),
) -> TargetsSpec:
    """A small taobao market, three moments, the two parameters that move them."""
    names = [
        ("conversion_per_session", None),
        ("ads_share_of_revenue", "Taobao"),
        ("paid_share_of_clicks", "Taobao"),
    ]
    return TargetsSpec.model_validate(
        {
            "run": {
                "scenario": "taobao",
                "days": 30,
                "warmup": 5,
                "seeds": SEEDS,
                "first_seed": first_seed,
                "settings": SMALL,
            },
            "optimizer": {"max_evaluations": budget},
            "moments": [
                {"name": n, "platform": p, "target": t, "se": s, "source": "a known truth"}
                for (n, p), t, s in zip(names, targets, ses)
            ],
            "parameters": [
                {"key": "sellers.ad_intensity_mean", "lower": 0.1, "upper": 2.0, "start": start[0]},
                {"key": "buyers.outside_utility", "lower": -2.0, "upper": 3.0, "start": start[1]},
            ],
        }
    )


# --------------------------------------------------------------------------- a linear model

A = np.array([[2.0, 0.0], [0.5, 1.0], [0.0, -3.0]])  # moments per unit of each parameter
B = np.array([1.0, -1.0, 4.0])
NOISE = np.array([[0.02, -0.01, 0.03, -0.04], [0.0, 0.05, -0.05, 0.0], [0.1, -0.1, 0.0, 0.0]])


def linear(problem, values):
    """Moments ``A θ + b`` plus fixed per-seed noise (common random numbers)."""
    return (A @ np.asarray(values) + B)[:, None] + NOISE


def linear_spec(theta: tuple[float, float], se: list[float]) -> TargetsSpec:
    targets = A @ np.asarray(theta) + B + NOISE.mean(axis=1)
    base = spec(list(targets), se).model_dump()
    base["run"]["seeds"] = NOISE.shape[1]
    base["parameters"] = [
        {"key": "sellers.ad_intensity_mean", "lower": 0.0, "upper": 3.0, "start": 2.5},
        {"key": "buyers.outside_utility", "lower": -2.0, "upper": 3.0, "start": 2.0},
    ]
    return TargetsSpec.model_validate(base)


def test_a_linear_model_is_solved_exactly_with_the_closed_form_standard_errors():
    se = [0.05, 0.1, 0.2]
    cal = calibrate(resolve(linear_spec((1.2, 0.7), se)), simulate=linear)
    assert cal.estimate == pytest.approx((1.2, 0.7), abs=1e-6)
    assert cal.objective == pytest.approx(0.0, abs=1e-9)
    # the Jacobian of a linear model is its matrix, whatever the finite-difference step
    np.testing.assert_allclose(cal.jacobian, A, rtol=1e-6, atol=1e-9)
    # (A' W A)^-1 with W = 1 / (se² + seeds' variance / seeds)
    w = 1.0 / (np.asarray(se) ** 2 + NOISE.var(axis=1, ddof=1) / NOISE.shape[1])
    cov = np.linalg.inv(A.T @ (w[:, None] * A))
    assert cal.se == pytest.approx(tuple(np.sqrt(np.diag(cov))), rel=1e-6)
    # moment 0 moves only parameter 0, moment 2 only parameter 1
    assert cal.information[2, 0] == 0.0 and cal.information[0, 1] == 0.0
    assert cal.information.sum(axis=0) == pytest.approx([1.0, 1.0])
    assert all(f.within for f in cal.fits)


def test_a_parameter_no_moment_moves_is_reported_as_not_identified():
    def flat_in_the_second(problem, values):
        return linear(problem, (values[0], 0.0))

    cal = calibrate(resolve(linear_spec((1.2, 0.0), [0.05, 0.1, 0.2])), simulate=flat_in_the_second)
    assert math.isfinite(cal.se[0]) and math.isinf(cal.se[1])
    assert cal.estimate[0] == pytest.approx(1.2, abs=1e-6)


def test_the_budget_stops_the_search_and_the_best_point_is_kept():
    cal = calibrate(_budgeted(3), simulate=linear)
    assert "budget" in cal.message and not cal.converged
    assert cal.objective <= cal.start_objective
    assert 3 <= cal.evaluations <= 3 + 2  # the budget, then the Jacobian at the best point


def _budgeted(budget: int):
    s = linear_spec((1.2, 0.7), [0.05, 0.1, 0.2]).model_dump()
    s["optimizer"]["max_evaluations"] = budget
    return resolve(TargetsSpec.model_validate(s))


# --------------------------------------------------------------------------- the engine


@pytest.fixture(scope="module")
def truth():
    """The three moments at known parameter values on seeds 100-107 (not the seeds the
    calibration runs), with the standard error of their means."""
    probe = resolve(spec([0.1] * 3, [1.0] * 3, first_seed=100))
    m = simulated_moments(probe, TRUTH)
    return list(m.mean(axis=1)), list(m.std(axis=1, ddof=1) / math.sqrt(SEEDS))


def test_known_parameters_come_back_within_their_reported_interval(truth, tmp_path):
    targets, ses = truth
    cache = tmp_path / "evaluations.json"
    cal = calibrate(resolve(spec(targets, ses)), cache=cache)
    for j, true in enumerate(TRUTH):
        low, high = cal.interval(j)
        assert low <= true <= high, (j, cal.estimate, cal.se)
        assert abs(cal.start[j] - true) > high - low  # the start was well outside it
    assert cal.objective < 0.1 * cal.start_objective
    # an interrupted (here: finished) calibration resumes from its cache: no new runs
    again = Evaluator(resolve(spec(targets, ses)), cache=cache)
    assert len(again.done) == cal.evaluations and again.best.values == cal.estimate
    resumed = calibrate(resolve(spec(targets, ses)), cache=cache, simulate=_no_simulation)
    assert resumed.estimate == cal.estimate


def test_on_the_targets_own_seeds_the_truth_is_found_almost_exactly(truth):
    """Common random numbers: with the truth's seeds, the targets are the model's moments
    at the truth, so the search must land on it (to a fraction of its uncertainty)."""
    targets, ses = truth
    cal = calibrate(resolve(spec(targets, ses, first_seed=100)))
    for j, true in enumerate(TRUTH):
        assert abs(cal.estimate[j] - true) < 0.25 * cal.se[j], (j, cal.estimate, cal.se)


def _no_simulation(problem, values):
    raise AssertionError(f"simulated {values} again instead of reading the cache")
