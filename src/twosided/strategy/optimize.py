"""A platform's best policy against fixed rivals: CMA-ES over batched rollouts.

The policy is constant over the horizon (as a scenario's policy is) and searched over a
box: chosen action fields (``twosided.env.policy``), each within the schema's bounds or a
narrower range given. CMA-ES (pycma: ask/tell, bounds by its boundary handler, a
pickleable state) works in the box scaled to [0, 1]^d. Each generation's candidates run
together in one compiled program (``env.vector.rollout``: vmap over candidates × seeds),
every candidate on the same seeds (common random numbers), so differences between
candidates are differences of policy, not of luck. The state (optimizer, every evaluated
point) is written atomically after each generation; a search with the same settings
resumes from it.

The result reports the best policy, a paired comparison with the scenario's policy on
held-out seeds (per-seed differences, Student's t interval), and the Pareto frontier of
the platform's revenue against consumer surplus over every evaluated point.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from twosided.atomic import atomic_file
from twosided.env import functional as fenv
from twosided.env import policy as pol
from twosided.env import vector
from twosided.scenario import Scenario, ScenarioError
from twosided.strategy.frontier import pareto

DEFAULT_FIELDS: tuple[str, ...] = (
    "rank_quality",
    "rank_price",
    "rank_commission",
    "rank_ads",
    "commission_scale",
    "detection_rate",
)
Progress = Callable[[int, float], None]  # (generations done, best mean objective)
STATE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Space:
    """The searched box of one platform's policy (natural units)."""

    fields: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Natural units to [0, 1]."""
        return (np.asarray(x, np.float64) - self.low) / np.maximum(self.high - self.low, 1e-300)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """[0, 1] to natural units (clipped to the box)."""
        return self.low + np.clip(np.asarray(u, np.float64), 0.0, 1.0) * (self.high - self.low)


def search_space(
    scenario: Scenario,
    platform: int,
    fields: Sequence[str] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> Space:
    """The box for ``platform``: ``fields`` (default ``DEFAULT_FIELDS``) within the
    schema's bounds, or within ``bounds`` (which must lie inside them)."""
    names = tuple(fields) if fields else DEFAULT_FIELDS
    bounds = dict(bounds or {})
    low_all, high_all = pol.bounds(scenario)
    for name in [*names, *bounds]:
        if name not in pol.INDEX:
            raise ScenarioError(f"policy field {name!r}: one of {', '.join(pol.ACTION_NAMES)}")
    names = tuple(dict.fromkeys([*names, *bounds]))
    low, high = [], []
    for name in names:
        a = pol.INDEX[name]
        lo, hi = float(low_all[platform, a]), float(high_all[platform, a])
        if name in bounds:
            b_lo, b_hi = (float(v) for v in bounds[name])
            if not lo <= b_lo < b_hi <= hi:
                raise ScenarioError(
                    f"bound {name}={b_lo:g}:{b_hi:g}: must be increasing and within the "
                    f"schema's {lo:g}:{hi:g}"
                )
            lo, hi = b_lo, b_hi
        low.append(lo)
        high.append(hi)
    return Space(names, np.asarray(low), np.asarray(high))


@dataclasses.dataclass
class Evaluator:
    """Runs batches of one platform's candidate policies against fixed rivals."""

    env: fenv.MarketEnv
    params: fenv.EnvParams
    policies: np.ndarray  # [P, A] every platform's current policy (rivals stay fixed)
    platform: int
    space: Space
    batch: int  # candidates per compiled batch (fixed: one compiled shape)

    def actions(self, xs: np.ndarray) -> np.ndarray:
        """Full actions ``[K, P, A]`` with the platform's searched fields set from ``xs``."""
        xs = np.atleast_2d(xs)
        out = np.broadcast_to(self.policies, (len(xs), *self.policies.shape)).copy()
        for j, name in enumerate(self.space.fields):
            out[:, self.platform, pol.INDEX[name]] = xs[:, j]
        return out.astype(np.float32)

    def evaluate(self, xs: np.ndarray, seeds: Sequence[int]) -> dict[str, np.ndarray]:
        """Episode totals of candidates ``xs [K, d]`` (natural units) on ``seeds``, for
        this platform: ``objective``, ``revenue_cents``, ``consumer_surplus_cents``
        (``[K, S]`` each; consumer surplus on this platform)."""
        xs = np.atleast_2d(np.asarray(xs, np.float64))
        parts: list[dict[str, np.ndarray]] = []
        for start in range(0, len(xs), self.batch):
            chunk = xs[start : start + self.batch]
            pad = np.concatenate([chunk, np.repeat(chunk[-1:], self.batch - len(chunk), 0)])
            out = vector.rollout(self.env, np.asarray(seeds), self.actions(pad), self.params)
            parts.append(
                {
                    "objective": np.asarray(out["reward"], np.float64)[
                        : len(chunk), :, self.platform
                    ],
                    "revenue_cents": np.asarray(out["revenue_cents"])[
                        : len(chunk), :, self.platform
                    ],
                    "consumer_surplus_cents": np.asarray(out["consumer_surplus_cents"])[
                        : len(chunk), :, self.platform
                    ],
                }
            )
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclasses.dataclass
class Comparison:
    """A paired comparison of two policies on the same seeds (best minus baseline)."""

    metric: str
    best: float
    baseline: float
    difference: float
    low: float
    high: float
    seeds: int

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers (JSON)."""
        return dataclasses.asdict(self)


def paired(metric: str, best: np.ndarray, base: np.ndarray, level: float = 0.95) -> Comparison:
    """Mean difference of per-seed outcomes with Student's t interval (paired)."""
    d = np.asarray(best, np.float64) - np.asarray(base, np.float64)
    n, mean = len(d), float(d.mean())
    if n > 1 and d.std(ddof=1) > 0:
        lo, hi = stats.t.interval(level, n - 1, loc=mean, scale=stats.sem(d))
    else:
        lo = hi = mean if n > 1 else float("nan")
    return Comparison(
        metric, float(np.mean(best)), float(np.mean(base)), mean, float(lo), float(hi), n
    )


@dataclasses.dataclass
class Optimum:
    """What a search found."""

    platform: str
    fields: tuple[str, ...]
    best: dict[str, float]  # the platform's whole policy (searched fields set)
    best_objective: float
    generations: int
    history: list[dict[str, float]]  # per generation: best and mean objective
    points: np.ndarray  # [n, d] every evaluated policy (natural units)
    objective: np.ndarray  # [n] mean objective over the training seeds
    revenue: np.ndarray  # [n] mean revenue (yuan)
    surplus: np.ndarray  # [n] mean consumer surplus on the platform (yuan)
    frontier: np.ndarray  # indices into points: the revenue–surplus Pareto set
    comparison: list[Comparison]

    def frontier_table(self) -> list[dict[str, float]]:
        """The frontier's points, best revenue first."""
        return [
            {
                "revenue": float(self.revenue[i]),
                "consumer_surplus": float(self.surplus[i]),
                **{f: float(v) for f, v in zip(self.fields, self.points[i], strict=True)},
            }
            for i in self.frontier
        ]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "platform": self.platform,
            "fields": list(self.fields),
            "best": self.best,
            "best_objective": self.best_objective,
            "generations": self.generations,
            "evaluated": len(self.points),
            "history": self.history,
            "comparison": [c.as_dict() for c in self.comparison],
            "frontier": self.frontier_table(),
        }


def _import_cma() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not import matplotlib": not needed here
            import cma
    except ImportError as err:  # pragma: no cover - the extra is missing
        raise ImportError("the optimizer needs pycma: pip install 'twosided[strategy]'") from err
    return cma


def _fingerprint(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def best_policy(
    evaluator: Evaluator,
    seeds: Sequence[int],
    eval_seeds: Sequence[int],
    generations: int = 20,
    sigma0: float = 0.3,
    seed: int = 0,
    state_path: Path | None = None,
    progress: Progress | None = None,
    settings: dict[str, Any] | None = None,
) -> Optimum:
    """CMA-ES for ``evaluator.platform``'s best policy (mean objective over ``seeds``).

    Population = ``evaluator.batch``. With ``state_path``, the search state is written
    atomically after each generation and a search with the same settings resumes from it
    (other settings: ``ScenarioError``). The best policy and the current policy are then
    compared on ``eval_seeds`` (held out from the search)."""
    cma = _import_cma()
    space, i = evaluator.space, evaluator.platform
    x0 = np.clip(space.to_unit(evaluator.policies[i, [pol.INDEX[f] for f in space.fields]]), 0, 1)
    key = _fingerprint(
        {
            "version": STATE_VERSION,
            "settings": settings or {},
            "fields": space.fields,
            "low": space.low.tolist(),
            "high": space.high.tolist(),
            "seeds": list(seeds),
            "policies": evaluator.policies.tolist(),
            "platform": i,
            "sigma0": sigma0,
            "seed": seed,
            "batch": evaluator.batch,
        }
    )
    saved = _load(state_path, key)
    if saved is not None:
        es, history, pts, objs, revs, surs = saved
    else:
        opts = {"bounds": [0.0, 1.0], "popsize": evaluator.batch, "seed": seed + 1, "verbose": -9}
        # pycma needs two dimensions at least: a lone field gets an idle second coordinate
        start = x0.tolist() if len(x0) > 1 else [*x0.tolist(), 0.5]
        es = cma.CMAEvolutionStrategy(start, sigma0, opts)
        history, pts, objs, revs, surs = [], [], [], [], []
    while len(history) < generations:
        units = np.asarray(es.ask())
        xs = space.from_unit(units[:, : len(space.fields)])
        out = evaluator.evaluate(xs, seeds)
        mean = out["objective"].mean(axis=1)
        es.tell(list(units), list(-mean))  # pycma minimizes
        pts.extend(xs)
        objs.extend(mean)
        revs.extend(out["revenue_cents"].mean(axis=1) / fenv.YUAN)
        surs.extend(out["consumer_surplus_cents"].mean(axis=1) / fenv.YUAN)
        history.append(
            {
                "generation": len(history) + 1,
                "best": float(np.max(objs)),
                "mean": float(mean.mean()),
            }
        )
        if state_path is not None:
            _save(state_path, key, (es, history, pts, objs, revs, surs))
        if progress is not None:
            progress(len(history), float(np.max(objs)))
    pts_a, objs_a = np.asarray(pts), np.asarray(objs)
    best_x = pts_a[int(np.argmax(objs_a))]
    best_action = evaluator.actions(best_x[None])[0, i]
    final = evaluator.evaluate(np.stack([best_x, space.from_unit(x0)]), eval_seeds)
    comparison = [
        paired(name, final[name][0], final[name][1])
        for name in ("objective", "revenue_cents", "consumer_surplus_cents")
    ]
    rev_a, sur_a = np.asarray(revs), np.asarray(surs)
    return Optimum(
        platform=evaluator.env.names[i],
        fields=space.fields,
        best=pol.as_dict(best_action),
        best_objective=float(objs_a.max()),
        generations=len(history),
        history=history,
        points=pts_a,
        objective=objs_a,
        revenue=rev_a,
        surplus=sur_a,
        frontier=pareto(np.stack([rev_a, sur_a], axis=1)),
        comparison=comparison,
    )


def _save(path: Path, key: str, payload: tuple) -> None:
    with atomic_file(Path(path)) as tmp, open(tmp, "wb") as handle:
        pickle.dump({"key": key, "payload": payload}, handle)


def _load(path: Path | None, key: str) -> tuple | None:
    if path is None or not Path(path).exists():
        return None
    try:
        with open(path, "rb") as handle:
            saved = pickle.load(handle)  # the search's own state file (written by _save)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as err:
        raise ScenarioError(f"{path}: not a readable search state ({err})") from None
    if not isinstance(saved, dict) or saved.get("key") != key:
        raise ScenarioError(
            f"{path}: a saved search with other settings; remove it or pass another --state"
        )
    return saved["payload"]


def evaluator_for(
    scenario: Scenario,
    platform: int,
    space: Space | None = None,
    policies: np.ndarray | None = None,
    period_days: int = 7,
    periods: int | None = None,
    objective: fenv.Objective = "revenue",
    surplus_weight: float = 1.0,
    batch: int = 8,
) -> Evaluator:
    """An evaluator for ``platform`` in ``scenario`` (rivals: ``policies`` or the
    scenario's)."""
    env, params = fenv.make(scenario, period_days, periods, objective, surplus_weight)
    base = pol.scenario_action(scenario) if policies is None else np.asarray(policies, np.float32)
    return Evaluator(env, params, base, platform, space or search_space(scenario, platform), batch)
