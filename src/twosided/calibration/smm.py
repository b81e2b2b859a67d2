"""The simulated method of moments (McFadden 1989; Pakes & Pollard 1989; Gouriéroux &
Monfort 1996): the parameter values whose simulated moments come closest to the targets.

The estimate minimises ``Σ_i r_i(θ)²``, ``r_i = (m̄_i(θ) − t_i) / s_i``: each moment's
mean over a fixed set of seeds less its target, in units of the target's standard error
(a diagonal weighting matrix, ``W = diag(1/s_i²)``). Every candidate runs on the *same*
seeds (common random numbers), so the objective is a deterministic function of θ and a
difference between two candidates is a difference of parameters, not of luck.

The optimizer is SciPy's trust-region reflective least squares
(``scipy.optimize.least_squares``, method ``trf``; Branch, Coleman & Li 1999): it handles
the parameters' bounds, exploits the sum-of-squares structure (few evaluations per
parameter, which matters when one evaluation is a simulated year), and is part of SciPy,
already a dependency. It works in the box scaled to ``[0, 1]^d`` with forward differences
of ``step`` (a share of each range): large enough that the difference is the parameter's
effect, not the rounding of discrete choices. Derivative-free searches (CMA-ES, already
used by ``twosided optimize``) need one to two orders of magnitude more evaluations for a
handful of parameters.

At the estimate, the Jacobian ``G = ∂m̄/∂θ`` (forward differences, natural units) gives:

* the estimates' covariance ``(G' Ŵ G)⁻¹`` with ``Ŵ = diag(1 / (s_i² + v_i / R))``, where
  ``v_i`` is moment i's variance between the ``R`` seeds (the simulation's own noise in the
  mean) — the delta-method (sandwich) covariance of a just- or over-identified SMM
  estimator with the efficient diagonal weights;
* which moments identify which parameter: moment i's share of parameter j's Fisher
  information, ``G_ij² Ŵ_i / Σ_k G_kj² Ŵ_k``.

Every evaluation is kept (``evaluations``) and, given a cache file, written after each one
atomically, so an interrupted calibration resumes where it stopped: the optimizer replays
its path from the cache (it is deterministic given the same function values).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from twosided import atomic
from twosided.calibration.moments import Window, moment_values
from twosided.calibration.targets import MomentSpec, Problem
from twosided.statistics import CONFIDENCE, t_interval

Progress = Callable[[int, int, float], None]  # (evaluations, budget, best objective)
Simulate = Callable[[Problem, tuple[float, ...]], np.ndarray]  # θ -> moments [M, seeds]
CACHE_VERSION = 1
UNDEFINED_RESIDUAL = 1e3  # a moment undefined at a candidate (no orders): far off target
TOLERANCE = 1e-3  # the optimizer stops when a step moves θ by less than this (scaled box)


class BudgetSpent(Exception):
    """The evaluation budget ran out; the best point so far is the estimate."""


def simulated_moments(problem: Problem, values: tuple[float, ...]) -> np.ndarray:
    """Every target moment per seed ``[moments, seeds]`` of the scenario at ``values``."""
    from twosided.simulation import simulate

    run = problem.spec.run
    result = simulate(
        problem.at(values),
        days=run.days,
        seeds=list(range(run.first_seed, run.first_seed + run.seeds)),
    )
    window = Window.of(result.daily, run.warmup, problem.scenario.market.buyers)
    return np.asarray(
        [moment_values(window, m.name, m.platform) for m in problem.spec.moments], np.float64
    )


@dataclasses.dataclass
class Evaluation:
    """One simulated candidate: the parameters (natural units) and every moment per seed."""

    values: tuple[float, ...]
    moments: np.ndarray  # [M, seeds]
    probe: bool = False  # run only for the Jacobian at the estimate: not a candidate

    def means(self) -> np.ndarray:
        """Each moment's mean over seeds."""
        return self.moments.mean(axis=1)


@dataclasses.dataclass(frozen=True)
class Fit:
    """How one target is met at the estimate."""

    moment: MomentSpec
    mean: float
    low: float  # seed interval of the mean (Student-t, 95%)
    high: float
    residual: float  # (mean − target) / s, in target standard errors

    @property
    def within(self) -> bool:
        """Inside the target's band: ``|mean − target| ≤ tolerance`` (or ``1.96 s``)."""
        return bool(abs(self.mean - self.moment.target) <= self.moment.band)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """What a calibration found (see the module docstring for every quantity)."""

    problem: Problem
    estimate: tuple[float, ...]
    start: tuple[float, ...]
    se: tuple[float, ...]  # the estimates' standard errors (inf: not identified)
    objective: float  # Σ r_i² at the estimate
    start_objective: float
    fits: tuple[Fit, ...]
    jacobian: np.ndarray  # [M, d] ∂ moment mean / ∂ parameter, natural units
    information: np.ndarray  # [M, d] moment's share of the parameter's information
    evaluations: int
    converged: bool
    message: str

    def scenario(self) -> Any:
        """The calibrated scenario (the base with the estimates set)."""
        return self.problem.at(self.estimate)

    @property
    def quantile(self) -> float:
        """The multiple of a standard error that spans the 95% interval of an estimate:
        Student's t on ``seeds − 1`` degrees of freedom, since the seeds' noise in it is
        itself estimated from the seeds (1.96 for many seeds, 2.36 for 8, 3.18 for 4)."""
        return float(stats.t.ppf(0.5 + CONFIDENCE / 2, self.problem.spec.run.seeds - 1))

    def interval(self, j: int) -> tuple[float, float]:
        """Estimate ``j``'s 95% interval."""
        half = self.quantile * self.se[j]
        return self.estimate[j] - half, self.estimate[j] + half


class Evaluator:
    """Runs candidates (cached by their exact parameter values), scores them and keeps the
    best; writes its cache after every new evaluation when given a file."""

    def __init__(
        self,
        problem: Problem,
        simulate: Simulate = simulated_moments,
        cache: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.problem = problem
        self.simulate = simulate
        self.cache = cache
        self.progress = progress
        self.budget = problem.spec.optimizer.max_evaluations
        specs = problem.spec.moments
        self.targets = np.asarray([m.target for m in specs], np.float64)
        self.scales = np.asarray([m.scale for m in specs], np.float64)
        self.lower = np.asarray([p.lower for p in problem.spec.parameters], np.float64)
        self.upper = np.asarray([p.upper for p in problem.spec.parameters], np.float64)
        self.done: dict[tuple[float, ...], Evaluation] = {}
        self.new = 0  # evaluations simulated in this process (not read from the cache)
        self.best: Evaluation | None = None
        self.first: Evaluation | None = None  # the start, the first point evaluated
        if cache is not None:
            self._load(cache)

    # ----------------------------------------------------------------- coordinates
    def natural(self, z: np.ndarray) -> tuple[float, ...]:
        """Parameters in natural units from the scaled box ``[0, 1]^d``."""
        z = np.clip(np.asarray(z, np.float64), 0.0, 1.0)
        return tuple(float(v) for v in self.lower + z * (self.upper - self.lower))

    def scaled(self, values: Sequence[float]) -> np.ndarray:
        """The scaled box's coordinates of ``values``."""
        return (np.asarray(values, np.float64) - self.lower) / (self.upper - self.lower)

    # ----------------------------------------------------------------- evaluating
    def evaluate(self, values: tuple[float, ...], probe: bool = False) -> Evaluation:
        """The moments at ``values`` (from the cache, or simulated within the budget). A
        ``probe`` (a Jacobian point at the estimate) is kept but never becomes the best:
        the estimate stays the search's, where the Jacobian was taken."""
        if values in self.done:
            found = self.done[values]
            if found.probe and not probe:  # the search came here itself: a candidate now
                self._keep(dataclasses.replace(found, probe=False))
            return self.done[values]
        if len(self.done) >= self.budget:
            raise BudgetSpent
        moments = np.asarray(self.simulate(self.problem, values), np.float64)
        found = Evaluation(values, moments, probe)
        self._keep(found)
        self.new += 1
        if self.cache is not None:
            self._save(self.cache)
        if self.progress is not None:
            self.progress(len(self.done), self.budget, self.objective(self.best))
        return found

    def _keep(self, found: Evaluation) -> None:
        self.done[found.values] = found
        if found.probe:
            return
        if self.first is None:
            self.first = found
        if self.best is None or self.objective(found) < self.objective(self.best):
            self.best = found

    def residuals(self, found: Evaluation) -> np.ndarray:
        """``(m̄ − t) / s`` per moment; a moment undefined at this point (NaN: e.g. no
        orders) counts as far off, so the search leaves the region."""
        r = (found.means() - self.targets) / self.scales
        return np.where(np.isfinite(r), r, UNDEFINED_RESIDUAL)

    def objective(self, found: Evaluation) -> float:
        """``Σ r_i²``."""
        return float(np.sum(self.residuals(found) ** 2))

    # ----------------------------------------------------------------- the cache
    def fingerprint(self) -> str:
        """What the cached moments depend on: the resolved scenario, the runs, the moments
        (not their targets, which only score them) and the parameters' keys and bounds."""
        spec = self.problem.spec
        from twosided.store import engine_fingerprint

        payload = {
            "scenario": self.problem.scenario.model_dump(mode="json"),
            "run": spec.run.model_dump(mode="json", exclude={"settings", "scenario"}),
            "moments": [[m.name, m.platform] for m in spec.moments],
            "parameters": [p.key for p in spec.parameters],
            "engine": engine_fingerprint(),
            "version": CACHE_VERSION,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _save(self, path: Path) -> None:
        body = {
            "fingerprint": self.fingerprint(),
            "evaluations": [
                {"values": list(e.values), "moments": e.moments.tolist(), "probe": e.probe}
                for e in self.done.values()
            ],
        }
        atomic.write_text(path, json.dumps(body, allow_nan=True))

    def _load(self, path: Path) -> None:
        if not path.is_file():
            return
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # unreadable: start afresh (the file is rewritten after one evaluation)
        if body.get("fingerprint") != self.fingerprint():
            return
        for item in body.get("evaluations", []):
            values = tuple(float(v) for v in item["values"])
            moments = np.asarray(item["moments"], np.float64)
            self._keep(Evaluation(values, moments, bool(item.get("probe", False))))


def calibrate(
    problem: Problem,
    simulate: Simulate = simulated_moments,
    cache: Path | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Estimate the problem's parameters (see the module docstring)."""
    ev = Evaluator(problem, simulate, cache, progress)
    step = problem.spec.optimizer.step
    z0 = ev.scaled(problem.starts)
    start = ev.natural(z0)  # the start as the search evaluates it (rounded through the box)

    def fun(z: np.ndarray) -> np.ndarray:
        return ev.residuals(ev.evaluate(ev.natural(z)))

    converged, message = False, ""
    try:
        found = optimize.least_squares(
            fun,
            z0,
            bounds=(0.0, 1.0),
            method="trf",
            diff_step=step,
            x_scale=1.0,
            xtol=TOLERANCE,
            ftol=TOLERANCE,
            gtol=TOLERANCE,
        )
        converged, message = bool(found.success), str(found.message)
    except BudgetSpent:
        message = f"stopped at the evaluation budget ({ev.budget})"
    assert ev.best is not None
    return _summarise(ev, start, step, converged, message)


def _summarise(
    ev: Evaluator, start: tuple[float, ...], step: float, converged: bool, message: str
) -> Calibration:
    """The estimate's fit, Jacobian, covariance and identification (module docstring)."""
    best = ev.best
    assert best is not None
    first = ev.first
    jac, seeds_var = _jacobian(ev, best, step)
    scales = ev.scales
    weights = 1.0 / (scales**2 + seeds_var / best.moments.shape[1])
    info = jac**2 * weights[:, None]
    totals = info.sum(axis=0)
    share = np.divide(info, totals, out=np.zeros_like(info), where=totals > 0)
    se = _standard_errors(jac, weights)
    fits = []
    for i, spec in enumerate(ev.problem.spec.moments):
        mean, low, high = t_interval(best.moments[i])
        fits.append(Fit(spec, mean, low, high, float((mean - spec.target) / scales[i])))
    return Calibration(
        problem=ev.problem,
        estimate=best.values,
        start=start,
        se=se,
        objective=ev.objective(best),
        start_objective=ev.objective(first) if first is not None else math.nan,
        fits=tuple(fits),
        jacobian=jac,
        information=share,
        evaluations=len(ev.done),
        converged=converged,
        message=message,
    )


def _jacobian(ev: Evaluator, best: Evaluation, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences ``∂m̄/∂θ`` at the estimate (backward at an upper bound), natural
    units; and each moment's variance between seeds there. Evaluations past the budget are
    allowed: the Jacobian is part of the answer."""
    ev.budget = max(ev.budget, len(ev.done) + len(best.values))
    z = ev.scaled(best.values)
    cols = []
    for j in range(len(z)):
        h = step if z[j] + step <= 1.0 else -step
        moved = z.copy()
        moved[j] += h
        other = ev.evaluate(ev.natural(moved), probe=True)
        dtheta = other.values[j] - best.values[j]
        cols.append((other.means() - best.means()) / dtheta)
    var = best.moments.var(axis=1, ddof=1) if best.moments.shape[1] > 1 else np.zeros(len(cols[0]))
    return np.stack(cols, axis=1), np.nan_to_num(var)


def _standard_errors(jac: np.ndarray, weights: np.ndarray) -> tuple[float, ...]:
    """``sqrt(diag((G' W G)⁻¹))`` over the parameters some moment moves; inf for a
    parameter no moment moves, and for all of them when the moved ones are collinear
    (not identified)."""
    g = np.nan_to_num(jac)
    moved = np.flatnonzero(np.any(g != 0.0, axis=0))
    se = np.full(g.shape[1], math.inf)
    sub = g[:, moved]
    try:
        cov = np.linalg.inv(sub.T @ (weights[:, None] * sub))
    except np.linalg.LinAlgError:
        return tuple(float(v) for v in se)
    diag = np.diag(cov)
    se[moved] = np.where((diag > 0) & np.isfinite(diag), np.sqrt(np.abs(diag)), math.inf)
    return tuple(float(v) for v in se)
