"""The flip point: the value of one world parameter at which the better long-run ranking
policy changes, found by bisection on paired seeds.

The response is the paired revenue gap (``policy_gap``: user-first minus revenue-first,
per seed on common seeds). The search evaluates both ends of the range; if the mean gaps
have the same sign there is no flip in the range, and it says so. Otherwise it halves the
bracket ``steps`` times, keeping the half whose ends differ in sign (bisection: the bracket
shrinks to ``range / 2^steps``).

What is reported:

* the **crossing**: where the mean gap, interpolated linearly between the final bracket's
  ends, is zero;
* its **interval**: the parameter values around the crossing at which the gap's paired 95%
  interval (Student's t over seeds) still contains zero, interpolated linearly between
  evaluated points — the values at which the data cannot tell which policy is better
  (a confidence set by inverting the paired t-test). When an end of the range is reached
  with zero still inside the interval, that side of the interval is open (the flip could
  lie beyond what was evaluated) and is reported as such.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from twosided.experiments.policy_gap import GapFunction
from twosided.statistics import t_interval

DEFAULT_STEPS = 4
Progress = Callable[[int, int], None]  # (points evaluated, points the search will evaluate)


@dataclasses.dataclass(frozen=True)
class FlipPoint:
    """The gap at one parameter value: per seed, its mean and paired 95% interval."""

    value: float
    gaps: np.ndarray
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, value: float, gaps: np.ndarray) -> FlipPoint:
        """The point from its per-seed gaps."""
        gaps = np.asarray(gaps, np.float64)
        mean, low, high = t_interval(gaps)
        return cls(float(value), gaps, mean, low, high)

    @property
    def sign(self) -> int:
        """+1 where user-first earns more, -1 where revenue-first does, 0 on a tie."""
        return int(np.sign(self.mean))

    @property
    def undecided(self) -> bool:
        """The paired interval contains zero (or is unknown)."""
        return not (self.low > 0 or self.high < 0)


@dataclasses.dataclass(frozen=True)
class Flip:
    """The search's result (module docstring)."""

    parameter: str
    lower: float
    upper: float
    points: tuple[FlipPoint, ...]  # sorted by value
    bracket: tuple[float, float] | None  # the final bracket; None: no sign change
    crossing: float  # NaN without a bracket
    interval: tuple[float, float]  # NaN without a bracket
    open_low: bool  # the interval reaches the range's lower end with zero inside
    open_high: bool

    @property
    def found(self) -> bool:
        """A sign change was bracketed."""
        return self.bracket is not None

    def sentence(self) -> str:
        """The finding in one sentence."""
        ends = (self.points[0], self.points[-1])
        if not self.found:
            winner = "user-first" if ends[0].sign > 0 else "revenue-first"
            clear = sum(not p.undecided for p in ends)
            noise = {0: "neither end clear of", 1: "one end clear of", 2: "both ends clear of"}
            return (
                f"No flip for {self.parameter} in [{_n(self.lower)}, {_n(self.upper)}]: "
                f"the mean gap favours {winner} at both ends ({_n(ends[0].mean)} and "
                f"{_n(ends[1].mean)} yuan; {noise[clear]} seed noise)."
            )
        low, high = self.interval
        left = "below " if self.open_low else ""
        right = " or beyond" if self.open_high else ""
        first = "user-first" if ends[0].sign > 0 else "revenue-first"
        second = "revenue-first" if first == "user-first" else "user-first"
        return (
            f"The better long-run policy flips from {first} to {second} as {self.parameter} "
            f"rises, at about {_n(self.crossing)} (95% interval {left}{_n(low)} to "
            f"{_n(high)}{right}; {len(self.points)} points, {self.points[0].gaps.size} "
            "paired seeds each)."
        )


def _n(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def find_flip(
    gap: GapFunction,
    parameter: str,
    lower: float,
    upper: float,
    steps: int = DEFAULT_STEPS,
    progress: Progress | None = None,
) -> Flip:
    """Bisect ``[lower, upper]`` of ``parameter`` for the sign change of ``gap``."""
    if not lower < upper:
        raise ValueError(f"range {lower}:{upper}: the lower end must be below the upper")
    total = 2 + steps
    done: list[FlipPoint] = []

    def keep(value: float, gaps: np.ndarray) -> FlipPoint:
        point = FlipPoint.of(value, gaps)
        done.append(point)
        if progress is not None:
            progress(len(done), total)
        return point

    def at(value: float) -> FlipPoint:
        return keep(value, gap({parameter: value}))

    many = getattr(gap, "many", None)  # both ends at once where the gap batches them
    if many is not None:
        low_gaps, high_gaps = many([{parameter: lower}, {parameter: upper}])
        a, b = keep(lower, low_gaps), keep(upper, high_gaps)
    else:
        a, b = at(lower), at(upper)
    if a.sign * b.sign > 0 or (a.sign == 0 and b.sign == 0):
        return _result(parameter, lower, upper, done, None)
    for _ in range(steps):
        if a.sign == 0 or b.sign == 0:
            break
        mid = at((a.value + b.value) / 2)
        if mid.sign == a.sign:
            a = mid
        else:
            b = mid
    return _result(parameter, lower, upper, done, (a, b))


def _result(
    parameter: str,
    lower: float,
    upper: float,
    done: Sequence[FlipPoint],
    bracket: tuple[FlipPoint, FlipPoint] | None,
) -> Flip:
    points = tuple(sorted(done, key=lambda p: p.value))
    if bracket is None:
        nan = (math.nan, math.nan)
        return Flip(parameter, lower, upper, points, None, math.nan, nan, False, False)
    a, b = sorted(bracket, key=lambda p: p.value)
    crossing = _zero(a.value, a.mean, b.value, b.mean)
    # the interval's half-width at the crossing, interpolated between the bracket's ends
    share = 0.0 if b.value == a.value else (crossing - a.value) / (b.value - a.value)
    half = (1 - share) * (a.high - a.mean) + share * (b.high - b.mean)
    low, open_low = _edge(points, crossing, half, -1)
    high, open_high = _edge(points, crossing, half, +1)
    return Flip(
        parameter, lower, upper, points, (a.value, b.value), crossing, (low, high),
        open_low, open_high,
    )  # fmt: skip


def _zero(x0: float, y0: float, x1: float, y1: float) -> float:
    """Where the line through ``(x0, y0)`` and ``(x1, y1)`` is zero (``x0`` if flat)."""
    if y0 == y1:
        return x0
    return x0 + (x1 - x0) * y0 / (y0 - y1)


def _edge(
    points: Sequence[FlipPoint], crossing: float, half: float, direction: int
) -> tuple[float, bool]:
    """Walking from the crossing (mean 0, interval ±``half``) toward lower (-1) or higher
    (+1) values: where the gap's interval stops containing zero, interpolating the bound
    that crosses it between neighbouring points; and whether the range ended first (or the
    intervals are unknown, as with one seed)."""
    side = [p for p in points if (p.value - crossing) * direction > 0]
    side.sort(key=lambda p: abs(p.value - crossing))
    x, low, high = crossing, -half, half
    if not math.isfinite(half):
        return (side[-1].value if side else crossing), True
    for p in side:
        if not (math.isfinite(p.low) and math.isfinite(p.high)):
            break
        if p.low > 0:  # user-first better for sure: the lower bound crossed zero
            return _zero(x, low, p.value, p.low), False
        if p.high < 0:  # revenue-first better for sure: the upper bound crossed zero
            return _zero(x, high, p.value, p.high), False
        x, low, high = p.value, p.low, p.high
    return (side[-1].value if side else crossing), True
