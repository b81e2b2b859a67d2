"""Statistics over seeds, from ``scipy.stats``: the mean's Student-t interval, the paired
t-test's p-value, and Holm's step-down adjustment for several comparisons at once.

Seeds are independent replications of the same world, so a figure's mean over seeds gets a
Student-t interval on ``seeds − 1`` degrees of freedom (``t_interval``), and a difference
measured seed by seed (two policies run on the same seeds) gets the same interval of the
differences, with the paired t-test's two-sided p-value (``t_test_p``). The two agree: the
``confidence`` interval excludes zero exactly when ``p < 1 − confidence``.

One rule for a single seed (or none): the spread between seeds is unknown, so the interval
is unknown, NaN at both ends, and so is the p-value. Callers show the mean alone (or "-"),
never an interval. Values that do not vary between seeds (zero spread) have the interval
``[mean, mean]``: p = 0 when that mean is not zero, p = 1 when it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as scipy_stats

CONFIDENCE = 0.95

Values = Sequence[float] | np.ndarray


def _sample(values: Values) -> tuple[np.ndarray, float, float]:
    """The values as floats, their mean and the standard error of the mean (NaN for fewer
    than two values)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    mean = float(x.mean()) if x.size else math.nan
    sem = float(scipy_stats.sem(x)) if x.size >= 2 else math.nan  # ddof = 1
    return x, mean, sem


def t_interval(values: Values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of independent replications and its ``confidence`` Student-t interval:
    ``(mean, low, high)``. The bounds are NaN for fewer than two values (the single-seed
    rule, see the module docstring) and NaN wherever a value is NaN."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence {confidence}: must lie strictly between 0 and 1")
    x, mean, sem = _sample(values)
    if not math.isfinite(sem):
        return mean, math.nan, math.nan
    if sem == 0.0:
        return mean, mean, mean
    low, high = scipy_stats.t.interval(confidence, x.size - 1, loc=mean, scale=sem)
    return mean, float(low), float(high)


def half_width(values: Values, confidence: float = CONFIDENCE) -> float:
    """Half the width of ``t_interval`` (NaN where the interval is unknown): the ``±`` of
    ``mean ± half-width``."""
    _, low, high = t_interval(values, confidence)
    return (high - low) / 2


def t_test_p(values: Values) -> float:
    """Two-sided p-value of the one-sample t-test that the mean of ``values`` is zero: on
    seed-by-seed differences, the paired t-test (``scipy.stats.ttest_rel``). NaN for fewer
    than two values; 0 or 1 for values that do not vary (see the module docstring)."""
    x, mean, sem = _sample(values)
    if not math.isfinite(sem) or not math.isfinite(mean):
        return math.nan
    if sem == 0.0:
        return 0.0 if mean != 0.0 else 1.0
    return float(2.0 * scipy_stats.t.sf(abs(mean / sem), x.size - 1))


def holm(pvalues: Values) -> np.ndarray:
    """Holm's step-down adjustment (Holm 1979) of a family of p-values, in their order.

    Sorted ascending, the i-th smallest of m p-values (i from 1) becomes
    ``max over j <= i of min(1, (m − j + 1) · p_(j))``; rejecting where the adjusted
    p-value is below alpha keeps the chance of any false claim in the family at most alpha,
    whatever the dependence between the tests. A NaN p-value (a comparison from a single
    seed) stays NaN and still counts in m: an untestable comparison is still one of those
    made.

    scipy has no Holm (``scipy.stats.false_discovery_control`` is Benjamini-Hochberg and
    Benjamini-Yekutieli, which control the false discovery rate, not the family-wise
    error); statsmodels' ``multipletests`` has it but would be a large new dependency for
    these few lines.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    unknown = np.isnan(p)
    if np.any((p[~unknown] < 0) | (p[~unknown] > 1)):
        raise ValueError("holm: p-values must lie in [0, 1]")
    m = p.size
    known = np.where(unknown, 1.0, p)
    order = np.argsort(known, kind="stable")
    stepped = np.maximum.accumulate(known[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    adjusted[unknown] = math.nan
    return adjusted
