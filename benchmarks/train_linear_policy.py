"""Train a linear policy for Taobao by evolution strategies on the Gymnasium environment.

    python benchmarks/train_linear_policy.py            # a few minutes on a laptop CPU

The policy maps the platform's observation (docs/strategic.md, scaled by its value under
the scenario's policy) to four ranking weights and a commission multiplier through a
sigmoid into a box (weights 0..5, multiplier 0..3; the other fields stay the scenario's).
Evolution strategies (antithetic Gaussian perturbations of the parameters, rank-normalized
returns, plain gradient ascent) improve it; every episode of an iteration uses the same
seed (common random numbers). Writes the learning curve to docs/strategic_learning_curve.svg
and .csv. The market is small (1,000 buyers, 8 weekly periods) so that it runs quickly.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import gymnasium
import numpy as np

import twosided.env
from twosided.env.policy import INDEX

SMALL = {"market.buyers": 1000, "market.seller_capacity": 16, "market.initial_sellers": 8}
FIELDS = ("rank_quality", "rank_price", "rank_commission", "rank_ads", "commission_scale")
LOW = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
HIGH = np.array([5.0, 5.0, 5.0, 5.0, 3.0])
ITERATIONS, PAIRS, SIGMA, LEARNING_RATE = 20, 4, 0.3, 0.15
OUT = Path(__file__).resolve().parents[1] / "docs" / "strategic_learning_curve"


def act(theta: np.ndarray, obs: np.ndarray, scale: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The linear policy: a sigmoid of ``b + W · obs/scale`` into the box, other fields
    at the scenario's."""
    z = np.concatenate([[1.0], obs / scale])
    u = 1.0 / (1.0 + np.exp(-(theta.reshape(len(FIELDS), -1) @ z)))
    action = base.copy()
    action[[INDEX[f] for f in FIELDS]] = LOW + u * (HIGH - LOW)
    return action


def episode(env: gymnasium.Env, policy, seed: int) -> float:
    """Total reward (revenue, yuan) of one episode."""
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += reward
        done = terminated or truncated
    return total


def svg_chart(xs: list[int], ys: list[float], baseline: float, path: Path) -> None:
    """A line chart of the learning curve (no plotting library needed)."""
    w, h, m = 640, 360, 50
    lo, hi = min([*ys, baseline]), max([*ys, baseline])
    pad = (hi - lo) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad

    def px(x: float, y: float) -> str:
        return (
            f"{m + (x - xs[0]) / max(xs[-1] - xs[0], 1) * (w - 2 * m):.1f},"
            f"{h - m - (y - lo) / (hi - lo) * (h - 2 * m):.1f}"
        )

    line = " ".join(px(x, y) for x, y in zip(xs, ys, strict=True))
    base = f"{px(xs[0], baseline)} {px(xs[-1], baseline)}"
    ticks = "".join(
        f'<text x="{m - 6}" y="{px(xs[0], v).split(",")[1]}" text-anchor="end" '
        f'font-size="11">{v:,.0f}</text>'
        for v in np.linspace(lo, hi, 5)
    )
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">Linear policy by '
        f"evolution strategies: Taobao revenue per 8-week episode (yuan)</text>\n"
        f'<line x1="{m}" y1="{h - m}" x2="{w - m}" y2="{h - m}" stroke="black"/>\n'
        f'<line x1="{m}" y1="{m}" x2="{m}" y2="{h - m}" stroke="black"/>\n{ticks}\n'
        f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle" font-size="12">iteration</text>\n'
        f'<polyline points="{base}" fill="none" stroke="gray" stroke-dasharray="6,4"/>\n'
        f'<text x="{w - m}" y="{px(xs[-1], baseline).split(",")[1]}" dy="-6" '
        f'text-anchor="end" font-size="11" fill="gray">scenario policy</text>\n'
        f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>\n</svg>\n'
    )


def main() -> None:
    """Train, print the curve, save the chart."""
    env = gymnasium.make(
        twosided.env.ENV_ID, scenario="taobao", platform="Taobao", periods=8, overrides=SMALL
    ).unwrapped
    base = env.default_action
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    # observation scale: the observation under the scenario's policy, after one period
    env.reset(seed=0)
    scale = np.maximum(np.abs(env.step(base)[0]), 1e-3)
    baseline = float(np.mean([episode(env, lambda o: base, s) for s in (100, 101)]))
    theta = np.zeros(len(FIELDS) * (1 + env.observation_space.shape[0]))
    curve: list[float] = []
    for it in range(ITERATIONS):
        seed = 1000 + it  # one seed for the whole iteration: common random numbers
        eps = rng.normal(size=(PAIRS, theta.size))
        returns = np.array(
            [
                [
                    episode(env, lambda o, t=theta + s * SIGMA * e: act(t, o, scale, base), seed)
                    for s in (1.0, -1.0)
                ]
                for e in eps
            ]
        )
        ranks = returns.ravel().argsort().argsort().reshape(returns.shape)
        weights = ranks / (returns.size - 1) - 0.5
        theta += LEARNING_RATE / (PAIRS * SIGMA) * ((weights[:, 0] - weights[:, 1]) @ eps)
        current = theta.copy()
        score = np.mean(
            [episode(env, lambda o, t=current: act(t, o, scale, base), s) for s in (100, 101)]
        )
        curve.append(float(score))
        print(
            f"iteration {it + 1:2d}: {score:12,.0f} yuan (scenario policy {baseline:,.0f}); "
            f"{time.perf_counter() - started:5.0f} s"
        )
    iterations = list(range(1, ITERATIONS + 1))
    with open(OUT.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["iteration", "revenue_yuan", "scenario_policy_yuan"])
        writer.writerows([i, round(v, 2), round(baseline, 2)] for i, v in zip(iterations, curve))
    svg_chart(iterations, curve, baseline, OUT.with_suffix(".svg"))
    final = act(theta, env.reset(seed=100)[0], scale, base)
    print(
        "final policy at the start of an episode:",
        {f: round(float(final[INDEX[f]]), 2) for f in FIELDS},
    )
    print(f"wrote {OUT.with_suffix('.svg')} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
