"""The whom-to-save study's computation: the policy axis, the measures per policy and seed,
and the paired comparisons that judge every difference against seed noise.

The incumbent (platform 0) moves along one policy axis ``t`` in [0, 1]:

    quality = price    = B · t / 2        (buyer value: the user-first end, t = 1)
    commission = ads   = B · (1 − t) / 2  (revenue: the revenue-first end, t = 0)

with ``B`` the schema's default total weight on buyer value (``Ranking().quality +
Ranking().price``), so t = 1 is the schema's default ranking and every point spends the same
total weight. For each policy the study measures the incumbent's first-quarter revenue (in
total, and from the streams the ranking can move: ads, commission and affiliate, without the
annual service fee sellers pay when they list), long-run and cumulative revenue, buyer share
(monthly active buyers over all buyers), seller count and its buyers' consumer surplus, each
with a 95% interval over seeds.

Every policy runs the same seeds, so the difference between two policies is taken seed by
seed, and its mean and 95% Student-t interval decide (``paired_gap``, ``leader``): an
interval that includes zero is "no clear difference". A claim that rests on several
comparisons at once (a best policy ahead of every other one, several outcomes in one
finding) judges them as one family with Holm's step-down correction (``holm_family``), so
that the chance of any false "clear" among them stays at 5%. The words are in ``findings``,
the charts and the page in ``page``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from twosided.experiments.grid import SweepError, Variant, check_variant_count, value_range
from twosided.experiments.page import CENTS_PER_YUAN
from twosided.experiments.stats import (
    DAYS_PER_YEAR,
    Window,
    interval,
    intervals,
    long_window,
    per_seed,
    short_window,
    whole_run,
)
from twosided.experiments.sweep import SweepResult
from twosided.scenario import MAX_DAYS, Ranking
from twosided.sim.streams import revenue_columns
from twosided.statistics import CONFIDENCE, holm, t_test_p

STUDY = "whom-to-save"
INCUMBENT = 0
POLICY = "policy"
SUMMARY_FILE = "summary.csv"


@dataclasses.dataclass(frozen=True)
class Measure:
    """An outcome of the study: its key, title, and unit."""

    key: str
    title: str
    unit: str


MEASURES = (
    Measure("revenue_first_quarter", "First-quarter revenue", "yuan"),
    Measure(
        "revenue_first_quarter_ranked",
        "First-quarter ads + commission + affiliate",
        "yuan",
    ),
    Measure("revenue_long_run", "Long-run revenue", "yuan"),
    Measure("revenue_cumulative", "Cumulative revenue", "yuan"),
    Measure("buyer_share", "Buyer share", "of all buyers"),
    Measure("session_share", "Sessions on the incumbent", "of all sessions"),
    Measure("offline_share", "Sessions that stayed offline", "of all sessions"),
    Measure("sellers", "Active sellers", "sellers"),
    Measure("consumer_surplus", "Consumer surplus", "yuan"),
)

# the revenue streams the ranking can move (the service fee, charged when sellers list, and
# forfeited deposits are left out)
RANKED_STREAMS = revenue_columns("per_use")  # ads, commission, affiliate (sim.streams)
RANKED = "revenue_ranked_cents"
TOTAL, MEAN = "total", "mean"

# every per-seed column of the study: (key, window, daily column, total or daily mean);
# columns in cents become yuan, buyer counts become shares of all buyers
COLUMNS = (
    ("revenue_first_quarter", "short", "revenue_cents", TOTAL),
    ("revenue_first_quarter_ranked", "short", RANKED, TOTAL),
    ("revenue_long_run", "long", "revenue_cents", TOTAL),
    ("revenue_cumulative", "whole", "revenue_cents", TOTAL),
    ("buyer_share", "long", "monthly_active_buyers", MEAN),
    ("sellers", "long", "active_sellers", MEAN),
    ("consumer_surplus", "long", "consumer_surplus_cents", TOTAL),
    # what explains the measures
    ("buyers", "long", "monthly_active_buyers", MEAN),
    ("buyer_share_first_quarter", "short", "monthly_active_buyers", MEAN),
    ("sellers_first_quarter", "short", "active_sellers", MEAN),
    ("revenue_ranked_long_run", "long", RANKED, TOTAL),
    ("revenue_ads_long_run", "long", "revenue_ads_cents", TOTAL),
    ("service_fee_day0", "day 0", "revenue_service_fee_cents", TOTAL),
    ("service_fee_first_quarter", "short", "revenue_service_fee_cents", TOTAL),
)
# long-run revenue per monthly active buyer: (key, revenue column of COLUMNS)
PER_BUYER = (
    ("revenue_ranked_per_buyer", "revenue_ranked_long_run"),
    ("revenue_ads_per_buyer", "revenue_ads_long_run"),
)
# shares of the sessions drawn in the long run (buyers × sessions a day × days): on the
# incumbent, and on no platform at all (the outside option: other channels, offline)
SESSION_SHARES = ("session_share", "offline_share")
STUDY_COLUMNS = (
    *(key for key, *_ in COLUMNS),
    *(key for key, _ in PER_BUYER),
    *SESSION_SHARES,
)

# --------------------------------------------------------------------------- the policy axis


def buyer_value_budget() -> float:
    """B: the schema's default total weight on buyer value (quality + price)."""
    default = Ranking()
    return default.quality + default.price


def policy_weights(t: float, platform: int = INCUMBENT) -> dict[str, float]:
    """The four ranking weights of policy ``t`` (0 revenue-first, 1 user-first)."""
    half = buyer_value_budget() / 2
    user, revenue = half * t, half * (1 - t)
    prefix = f"platforms.{platform}.ranking"
    return {
        f"{prefix}.quality": user,
        f"{prefix}.price": user,
        f"{prefix}.commission": revenue,
        f"{prefix}.ads": revenue,
    }


def policy_variants(points: int) -> list[Variant]:
    """``points`` policies evenly spaced from revenue-first (t = 0) to user-first (t = 1)."""
    if points < 2:
        raise SweepError(f"--points {points}: need at least 2 (both ends of the axis)")
    check_variant_count(points, f"--points {points}")
    axis = value_range(0.0, 1.0, points)
    return [
        Variant(index=i, labels={POLICY: t, **policy_weights(t)}, overrides=policy_weights(t))
        for i, t in enumerate(axis)
    ]


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class Regime:
    """The policy axis run in one world (with or without rivals).

    Attributes:
        name: ``with rivals`` or ``without rivals``.
        sweep: the sweep that ran it.
        windows: short run, long run and whole run.
        seeds: per policy and seed, the study's measures.
        summary: per policy, each measure's mean and 95% interval over seeds.
        cumulative: per policy and day, the mean over seeds of cumulative revenue (yuan).
    """

    name: str
    sweep: SweepResult
    windows: dict[str, Window]
    seeds: pd.DataFrame
    summary: pd.DataFrame
    cumulative: pd.DataFrame


@dataclasses.dataclass
class Study:
    """The finished study: both regimes, its findings, where the report is, and the
    sentence saying which scenario fields differ between the worlds."""

    regimes: list[Regime]
    findings: list[str]
    folder: Path
    report: Path
    differences: str = ""


def study_windows(days: int) -> dict[str, Window]:
    """The windows the study measures: short run, long run, whole run, and day 0."""
    return {
        "short": short_window(days),
        "long": long_window(days),
        "whole": whole_run(days),
        "day 0": Window("day 0", 0, 0),
    }


def measures_per_seed(result: SweepResult) -> tuple[pd.DataFrame, dict[str, Window]]:
    """The study's columns (``COLUMNS``) for the incumbent, per policy and seed."""
    windows = study_windows(result.plan.days)
    incumbent = result.table[result.table["platform_id"] == INCUMBENT]
    incumbent = incumbent.assign(**{RANKED: incumbent[list(RANKED_STREAMS)].sum(axis=1)})
    frame: pd.DataFrame | None = None
    for key, window, column, how in COLUMNS:
        part = per_seed(
            incumbent,
            [POLICY],
            windows[window],
            totals=[column] if how == TOTAL else [],
            means=[column] if how == MEAN else [],
        ).rename(columns={column: key})
        if column.endswith("_cents"):
            part[key] = part[key] / CENTS_PER_YUAN
        elif key.startswith("buyer_share"):
            part[key] = part[key] / result.plan.base.market.buyers
        frame = part if frame is None else frame.merge(part, on=[POLICY, "seed"])
    assert frame is not None
    buyers = frame["buyers"].where(frame["buyers"] > 0)
    for key, revenue in PER_BUYER:
        frame[key] = frame[revenue] / buyers
    frame = frame.merge(session_shares(result, windows["long"], incumbent), on=[POLICY, "seed"])
    return frame[[POLICY, "seed", *STUDY_COLUMNS]], windows


def session_shares(result: SweepResult, window: Window, incumbent: pd.DataFrame) -> pd.DataFrame:
    """Per policy and seed: the incumbent's share of the sessions drawn in ``window`` and
    the share that went to no platform (every session is drawn; the ``sessions`` columns
    count those that reached a platform)."""
    drawn = result.plan.base.sessions_per_day * window.days
    online = per_seed(result.table, [POLICY], window, totals=["sessions"])
    mine = per_seed(incumbent, [POLICY], window, totals=["sessions"])
    out = online[[POLICY, "seed"]].copy()
    out["session_share"] = mine["sessions"].to_numpy() / drawn
    out["offline_share"] = 1.0 - online["sessions"].to_numpy() / drawn
    return out


def cumulative_revenue(result: SweepResult) -> pd.DataFrame:
    """Per policy and day: the incumbent's cumulative revenue (yuan), mean over seeds."""
    incumbent = result.table[result.table["platform_id"] == INCUMBENT].sort_values(
        [POLICY, "seed", "day"]
    )
    cum = incumbent.groupby([POLICY, "seed"])["revenue_cents"].cumsum() / CENTS_PER_YUAN
    frame = incumbent[[POLICY, "seed", "day"]].assign(cumulative=cum)
    return frame.groupby([POLICY, "day"], as_index=False)["cumulative"].mean()


def regime(name: str, result: SweepResult) -> Regime:
    """Summarize one regime's sweep."""
    seeds, windows = measures_per_seed(result)
    summary = intervals(seeds, [POLICY], list(STUDY_COLUMNS))
    return Regime(name, result, windows, seeds, summary, cumulative_revenue(result))


def study_days(years: float) -> int:
    """The run length in days for ``--years``: a finite number from one day to the
    schema's longest run (``MAX_DAYS``)."""
    if isinstance(years, bool) or not isinstance(years, int | float) or not math.isfinite(years):
        raise SweepError(f"--years {years}: not a finite number of years")
    days = round(years * DAYS_PER_YEAR) if abs(years) <= MAX_DAYS else MAX_DAYS + 1
    if days < 1:
        raise SweepError(f"--years {years:g}: must be at least one day")
    if days > MAX_DAYS:
        raise SweepError(
            f"--years {years:g}: at most {MAX_DAYS / DAYS_PER_YEAR:.1f} years ({MAX_DAYS:,} days)"
        )
    return days


# --------------------------------------------------------------------------- comparisons
#
# Every claim of a winner or a difference is judged against seed noise with a paired
# comparison: every policy runs the same seeds, so the difference between two policies is
# taken seed by seed, and its mean and 95% Student-t interval decide. An interval that
# includes zero is "no clear difference". Equivalently, the paired t-test's two-sided
# p-value is below 5% exactly when the interval excludes zero; a claim resting on several
# comparisons at once adjusts their p-values with Holm's method (Holm 1979) and calls
# clear only those whose adjusted p-value stays below 5%.

REVENUE_FIRST, USER_FIRST = 0.0, 1.0
ALPHA = 1 - CONFIDENCE  # the family-wise error rate of a claim: 5%


def policy_row(reg: Regime, t: float) -> pd.Series:
    """One policy's row of a regime's summary."""
    return reg.summary.loc[reg.summary[POLICY] == t].iloc[0]


@dataclasses.dataclass(frozen=True)
class Gap:
    """Policy ``a`` minus policy ``b`` in one measure, seed by seed over the same seeds:
    the mean difference, its 95% interval (NaN bounds from a single seed), the paired
    t-test's two-sided p-value, and that p-value adjusted by Holm's method within the
    ``family`` of comparisons the gap is judged with (the p-value itself when alone)."""

    key: str
    a: float
    b: float
    mean: float
    lo: float
    hi: float
    p: float = math.nan
    p_adjusted: float = math.nan
    family: int = 1

    @property
    def clear(self) -> bool:
        """Whether the difference is larger than seed noise: the adjusted p-value is below
        5% (alone: exactly when the 95% interval excludes zero)."""
        return self.p_adjusted < ALPHA

    @property
    def interval_excludes_zero(self) -> bool:
        """Whether the 95% interval excludes zero (clear alone, before any correction)."""
        return not math.isnan(self.lo) and (self.lo > 0 or self.hi < 0)


def paired_gap(reg: Regime, key: str, a: float, b: float) -> Gap:
    """Mean and 95% interval of (policy a − policy b) over the seeds both ran, and the
    paired t-test's p-value, as a comparison alone (a family of one)."""
    frame = reg.seeds.pivot(index="seed", columns=POLICY, values=key)
    diffs = (frame[a] - frame[b]).to_numpy()
    p = t_test_p(diffs)
    return Gap(key, a, b, *interval(diffs), p=p, p_adjusted=p)


def holm_family(gaps: Sequence[Gap]) -> list[Gap]:
    """The gaps judged together as one family: each one's p-value adjusted by Holm's
    step-down method (``twosided.statistics.holm``) over all of them."""
    adjusted = holm([g.p for g in gaps])
    return [
        dataclasses.replace(g, p_adjusted=float(q), family=len(gaps))
        for g, q in zip(gaps, adjusted)
    ]


@dataclasses.dataclass(frozen=True)
class Leader:
    """The policy with the highest mean of a measure, and its paired gap over each other
    policy (closest mean first)."""

    key: str
    best: float
    gaps: list[Gap]

    @property
    def clear(self) -> bool:
        """Whether the leader is ahead of every other policy by more than seed noise, the
        gaps judged as one family (Holm)."""
        return all(g.clear and g.mean > 0 for g in self.gaps)

    @property
    def tied(self) -> list[Gap]:
        """The gaps to the policies that these seeds cannot tell apart from the leader."""
        return [g for g in self.gaps if not (g.clear and g.mean > 0)]


def leader(reg: Regime, key: str) -> Leader:
    """Which policy leads a measure, and by how much over each other policy: its gaps to
    all of them are one family, Holm-adjusted (naming a best among several policies is
    as many comparisons as there are other policies)."""
    order = reg.summary.sort_values(key, ascending=False, kind="stable")[POLICY].tolist()
    best = float(order[0])
    gaps = holm_family([paired_gap(reg, key, best, float(t)) for t in order[1:]])
    return Leader(key, best, gaps)


def overtaking_day(reg: Regime, leader: float, chaser: float) -> int | None:
    """The first day from which the chaser's mean cumulative revenue stays above the
    leader's to the end of the run; None if it is not ahead at the end."""
    cum = reg.cumulative.pivot(index="day", columns=POLICY, values="cumulative")
    ahead = (cum[chaser] > cum[leader]).to_numpy()
    if not ahead[-1]:
        return None
    behind = np.flatnonzero(~ahead)
    return int(cum.index[behind[-1] + 1]) if len(behind) else int(cum.index[0])
