"""The Pareto frontier of evaluated policies (maximize every objective)."""

from __future__ import annotations

import numpy as np


def pareto(points: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (``points [n, k]``, larger better).

    A point is dominated when another is at least as good in every objective and better
    in one. Duplicates of a frontier point are all kept. Returned in order of the first
    objective, best first."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or len(pts) == 0:
        return np.zeros((0,), dtype=np.int64)
    ge = (pts[:, None, :] >= pts[None, :, :]).all(axis=2)  # ge[j, i]: j at least as good as i
    gt = (pts[:, None, :] > pts[None, :, :]).any(axis=2)
    dominated = (ge & gt).any(axis=0)
    keep = np.flatnonzero(~dominated)
    return keep[np.argsort(-pts[keep, 0], kind="stable")]


def dominated_by(points: np.ndarray, candidate: np.ndarray) -> bool:
    """Whether any of ``points`` dominates ``candidate``."""
    pts, c = np.asarray(points, np.float64), np.asarray(candidate, np.float64)
    return bool(((pts >= c).all(axis=1) & (pts > c).any(axis=1)).any())
