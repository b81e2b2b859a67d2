"""Global sensitivity through the same code path the study uses: on the Ishigami function
and a linear model, whose Sobol' indices are known in closed form, the reported indices
contain the known values; a parameter that does nothing gets μ* = 0 exactly; a step that
changes the answer's sign is counted as a flip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twosided.experiments.sensitivity import Factor, analyse, table

PI = math.pi
ISHIGAMI = [Factor(f"x{i}", -PI, PI) for i in (1, 2, 3)]
# Ishigami & Homma (1990), a = 7, b = 0.1: first-order and total Sobol' indices
S1 = [0.3139, 0.4424, 0.0]
ST = [0.5576, 0.4424, 0.2437]


def ishigami(point, a=7.0, b=0.1):
    x1, x2, x3 = point["x1"], point["x2"], point["x3"]
    y = math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)
    return np.array([y])  # one "seed": the function is deterministic


def test_sobol_indices_of_the_ishigami_function_contain_the_known_values():
    found = analyse(ishigami, ISHIGAMI, method="sobol", samples=4096, seed=1)
    got = found.indices.set_index("parameter")
    for i, name in enumerate(["x1", "x2", "x3"]):
        for index, known in (("S1", S1[i]), ("ST", ST[i])):
            value, conf = got.loc[name, index], got.loc[name, f"{index}_conf"]
            assert abs(value - known) <= conf, (name, index, value, conf, known)
    assert found.points.shape == (4096 * 5, 3)


def test_a_linear_models_shares_are_its_coefficients_squared():
    # y = 3 x1 + 1 x2 + 0 x3 on [0, 1]^3: S1 = ST = (9, 1, 0) / 10
    factors = [Factor(k, 0.0, 1.0) for k in ("x1", "x2", "x3")]
    found = analyse(
        lambda p: np.array([3 * p["x1"] + p["x2"]]), factors, method="sobol", samples=2048
    )
    got = found.indices.set_index("parameter")
    for name, known in (("x1", 0.9), ("x2", 0.1), ("x3", 0.0)):
        for index in ("S1", "ST"):
            assert abs(got.loc[name, index] - known) <= max(got.loc[name, f"{index}_conf"], 1e-9)


def test_morris_gives_a_dead_parameter_exactly_zero_and_ranks_the_others():
    factors = [Factor("strong", 0.0, 1.0), Factor("weak", 0.0, 1.0), Factor("dead", 0.0, 1.0)]
    seen = []

    def response(p):
        seen.append(dict(p))
        return np.array([4 * p["strong"] + 0.5 * p["weak"] ** 2, 4 * p["strong"] - 0.1])

    found = analyse(response, factors, method="morris", trajectories=6, seed=3)
    got = table(found).set_index("parameter")
    assert got.loc["dead", "mu_star"] == 0.0 and got.loc["dead", "sigma"] == 0.0
    assert got.loc["strong", "mu_star"] == pytest.approx(4.0)  # linear: every effect is 4
    assert got.loc["strong", "sigma"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < got.loc["weak", "mu_star"] < got.loc["strong", "mu_star"]
    assert len(seen) == 6 * 4 and got["steps"].tolist() == [6, 6, 6]


def test_a_step_that_changes_the_sign_is_a_flip():
    # the gap is x - 0.5: moving x across 0.5 flips the answer; y never does
    factors = [Factor("x", 0.0, 1.0), Factor("y", 0.0, 1.0)]
    found = analyse(lambda p: np.array([p["x"] - 0.5]), factors, trajectories=10, seed=0)
    flips = found.flips
    assert flips["y"] == 0 and flips["x"] > 0
    # every x-step that straddles 0.5 is counted, and no other
    expected = 0
    d = 2
    for t in range(10):
        block = found.points[t * (d + 1) : (t + 1) * (d + 1)]
        for k in range(d):
            if block[k + 1][0] != block[k][0]:
                expected += int((block[k + 1][0] - 0.5) * (block[k][0] - 0.5) < 0)
    assert flips["x"] == expected
