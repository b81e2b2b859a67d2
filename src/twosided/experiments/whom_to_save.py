"""The whom-to-save study: should the incumbent rank for its customers or for its users?

The incumbent (platform 0) moves along one policy axis ``t`` in [0, 1]:

    quality = price    = B · t / 2        (buyer value: the user-first end, t = 1)
    commission = ads   = B · (1 − t) / 2  (revenue: the revenue-first end, t = 0)

with ``B`` the schema's default total weight on buyer value (``Ranking().quality +
Ranking().price``), so t = 1 is the schema's default ranking and every point spends the same
total weight. Rivals keep their preset policies. The axis is run twice over the same seeds:
with rivals (the ``taobao`` preset) and without (``monopoly``), and for each policy the study
reports the incumbent's first-quarter revenue (in total, and from the streams the ranking can
move: ads, commission and affiliate, without the annual service fee sellers pay when they
list), long-run and cumulative revenue, buyer share (monthly active buyers over all buyers),
seller count and its buyers' consumer surplus, each with a 95% interval over seeds.

The report's findings are computed from those numbers, and every claim of a winner or a
difference is judged against seed noise with a paired comparison (every policy runs the same
seeds: the difference is taken seed by seed, and "no clear difference" is said when its 95%
interval includes zero): which policy earns most at each horizon; whether the answer changes
with the horizon (only when both horizons have a clear winner); what the service fee is of
first-quarter revenue; what the policy does to buyers, sellers and consumer surplus; why the
long-run answer comes out as it does (buyers kept against revenue per buyer); and whether
the answer differs with and without rivals.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twosided.experiments.executors import executor_session
from twosided.experiments.grid import SweepError, Variant, check_variant_count, value_range
from twosided.experiments.page import CENTS_PER_YUAN, number, with_interval, write_page
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
from twosided.experiments.sweep import SweepResult, SweepProgress, plan_variants, run_sweep
from twosided.scenario import MAX_DAYS, Ranking, Scenario, ScenarioError
from twosided.report.charts import PLATFORM_COLORS, figure_html
from twosided.report.page import page, section, table
from twosided.sim.streams import revenue_columns
from twosided.store import DEFAULT_ROOT, REPORT_FILE, atomic_file

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
STUDY_COLUMNS = (*(key for key, *_ in COLUMNS), *(key for key, _ in PER_BUYER))


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


def policy_name(t: float) -> str:
    """A policy's name in sentences."""
    if t == 0:
        return "revenue-first ranking (t = 0)"
    if t == 1:
        return "user-first ranking (t = 1)"
    return f"the blend t = {t:g}"


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
    """The finished study: both regimes, its findings, and where the report is."""

    regimes: list[Regime]
    findings: list[str]
    folder: Path
    report: Path


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
    return frame[[POLICY, "seed", *STUDY_COLUMNS]], windows


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


def _offset(progress: SweepProgress | None, before: int, total: int) -> SweepProgress | None:
    if progress is None:
        return None
    return lambda done, _: progress(before + done, total)


def _label(world: str | Path | Scenario) -> str:
    """How an error names a world: the preset or file as given, or a scenario's name."""
    return world.name if isinstance(world, Scenario) else str(world)


def whom_to_save(
    preset: str | Path | Scenario = "taobao",
    monopoly: str | Path | Scenario = "monopoly",
    seeds: int = 4,
    years: float = 3.0,
    points: int = 5,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: SweepProgress | None = None,
) -> Study:
    """Run the study (two resumable sweeps) and write its report.

    Args:
        preset: the world with rivals (a preset or TOML file; platform 0 is the incumbent).
        monopoly: the world without rivals (one platform).
        seeds: seeds per policy (the same seeds for every policy and both worlds).
        years: run length in years of 365 days.
        points: policies along the axis, both ends included.
        overrides: fixed overrides for both worlds (``{"market.buyers": 5000}``).
        executor, workers, address, out: as for ``twosided.sweep``.
        progress: ``progress(done, total)`` over the variants of both sweeps.
    """
    days = study_days(years)
    variants = policy_variants(points)
    plans = []
    for name, flag, world in (("with rivals", "--preset", preset),
                              ("without rivals", "--monopoly", monopoly)):
        try:  # an error names the world it is in: --set applies to both
            plans.append((name, plan_variants(world, variants, seeds, days, None, overrides)))
        except SweepError:
            raise  # seeds, years, points: the same in both worlds
        except ScenarioError as err:
            raise SweepError(f"{flag} {_label(world)}: {err}") from None
    rivals, alone = (plan.base for _, plan in plans)
    if len(rivals.platforms) < 2:
        raise SweepError(f"--preset {_label(preset)}: has one platform; the study needs rivals")
    if len(alone.platforms) != 1:
        raise SweepError(
            f"--monopoly {_label(monopoly)}: has {len(alone.platforms)} platforms; expected one"
        )
    total = sum(len(p.variants) for _, p in plans)
    regimes = []
    with executor_session(executor, workers, address):  # one Ray session for both sweeps
        for i, (name, plan) in enumerate(plans):
            step = _offset(progress, i * len(variants), total)
            regimes.append(regime(name, run_sweep(plan, executor, workers, address, out, step)))
    study_id = hashlib.sha256("".join(p.sweep_id for _, p in plans).encode()).hexdigest()[:16]
    folder = Path(out) / "studies" / f"{STUDY}-{study_id}"
    findings = study_findings(regimes)
    report = folder / REPORT_FILE
    write_page(report, study_html(regimes, findings))
    write_summary(regimes, folder / SUMMARY_FILE)
    return Study(regimes, findings, folder, report)


def write_summary(regimes: Sequence[Regime], path: Path) -> None:
    """The study's numbers as CSV: per world and policy, each measure with its interval."""
    frame = pd.concat([r.summary.assign(world=r.name) for r in regimes], ignore_index=True)
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)


# --------------------------------------------------------------------------- findings
#
# Every claim of a winner or a difference is judged against seed noise with a paired
# comparison: every policy runs the same seeds, so the difference between two policies is
# taken seed by seed, and its mean and 95% Student-t interval decide. An interval that
# includes zero is "no clear difference".

REVENUE_FIRST, USER_FIRST = 0.0, 1.0


def _row(reg: Regime, t: float) -> pd.Series:
    return reg.summary.loc[reg.summary[POLICY] == t].iloc[0]


@dataclasses.dataclass(frozen=True)
class Gap:
    """Policy ``a`` minus policy ``b`` in one measure, seed by seed over the same seeds:
    the mean difference and its 95% interval (NaN bounds from a single seed)."""

    key: str
    a: float
    b: float
    mean: float
    lo: float
    hi: float

    @property
    def clear(self) -> bool:
        """Whether the interval excludes zero: a difference larger than seed noise."""
        return not math.isnan(self.lo) and (self.lo > 0 or self.hi < 0)


def paired_gap(reg: Regime, key: str, a: float, b: float) -> Gap:
    """Mean and 95% interval of (policy a − policy b) over the seeds both ran."""
    frame = reg.seeds.pivot(index="seed", columns=POLICY, values=key)
    return Gap(key, a, b, *interval((frame[a] - frame[b]).to_numpy()))


@dataclasses.dataclass(frozen=True)
class Leader:
    """The policy with the highest mean of a measure, and its paired gap over each other
    policy (closest mean first)."""

    key: str
    best: float
    gaps: list[Gap]

    @property
    def clear(self) -> bool:
        """Whether the leader is ahead of every other policy by more than seed noise."""
        return all(g.clear and g.lo > 0 for g in self.gaps)

    @property
    def tied(self) -> list[Gap]:
        """The gaps to the policies that these seeds cannot tell apart from the leader."""
        return [g for g in self.gaps if not (g.clear and g.lo > 0)]


def leader(reg: Regime, key: str) -> Leader:
    """Which policy leads a measure, and by how much over each other policy."""
    order = reg.summary.sort_values(key, ascending=False, kind="stable")[POLICY].tolist()
    best = float(order[0])
    return Leader(key, best, [paired_gap(reg, key, best, float(t)) for t in order[1:]])


def best_policy(reg: Regime, key: str) -> float:
    """The policy with the highest mean of a measure."""
    return leader(reg, key).best


def signed(value: float) -> str:
    """A difference with its sign: ``+962`` or ``-901``."""
    return ("+" if value > 0 else "") + number(value)


def percent(value: float) -> str:
    """A share as a percentage (a dash when unknown)."""
    return "–" if math.isnan(value) else f"{value:.1%}"


def points(value: float) -> str:
    """A difference of shares in percentage points (the unit is said once, after it)."""
    pts = value * 100
    return f"{pts:+.1f}" if abs(pts) >= 0.1 or pts == 0 else f"{pts:+.2g}"


def interval_words(gap: Gap, fmt: Callable[[float], str] = signed, unit: str = " yuan") -> str:
    """``+962 yuan (95% interval -150 to +2,074)``, or a warning from a single seed."""
    if math.isnan(gap.lo):
        return f"{fmt(gap.mean)}{unit} from a single seed, which cannot be told from noise"
    return f"{fmt(gap.mean)}{unit} (95% interval {fmt(gap.lo)} to {fmt(gap.hi)})"


def leader_words(reg: Regime, lead: Leader) -> str:
    """Which policy leads a yuan measure, and whether by more than seed noise."""
    value = f"{number(_row(reg, lead.best)[lead.key])} yuan"
    if lead.clear:
        nearest = lead.gaps[0]
        return (
            f"is highest under {policy_name(lead.best)} ({value}), ahead of the next best, "
            f"{policy_name(nearest.b)}, by {interval_words(nearest)}"
        )
    tied = lead.tied[0]
    others = " or ".join(policy_name(g.b) for g in lead.tied)
    return (
        f"shows no clear difference: its highest mean is under {policy_name(lead.best)} "
        f"({value}), but these seeds cannot tell that apart from {others} (against "
        f"{policy_name(tied.b)}: {interval_words(tied)}, an interval that includes zero)"
    )


def overtaking_day(reg: Regime, leader: float, chaser: float) -> int | None:
    """The first day from which the chaser's mean cumulative revenue stays above the
    leader's to the end of the run; None if it is not ahead at the end."""
    cum = reg.cumulative.pivot(index="day", columns=POLICY, values="cumulative")
    ahead = (cum[chaser] > cum[leader]).to_numpy()
    if not ahead[-1]:
        return None
    behind = np.flatnonzero(~ahead)
    return int(cum.index[behind[-1] + 1]) if len(behind) else int(cum.index[0])


def horizon_finding(reg: Regime) -> str:
    """Which policy earns most in the short run, the long run and in total, each judged
    against seed noise; the answer "changes with the horizon" only when both horizons have
    a clear winner and the two differ."""
    short, long_ = reg.windows["short"], reg.windows["long"]
    q, l_, c = (
        leader(reg, k) for k in ("revenue_first_quarter", "revenue_long_run", "revenue_cumulative")
    )
    text = (
        f"{reg.name.capitalize()} ({reg.sweep.plan.base.name}): the incumbent's revenue in the "
        f"{short.label} {leader_words(reg, q)}; in the {long_.label} it "
        f"{leader_words(reg, l_)}; over the whole run it {leader_words(reg, c)}."
    )
    unclear = [w.name for w, lead in ((short, q), (long_, l_)) if not lead.clear]
    if q.best == l_.best:
        if not unclear:
            return text + " The same policy leads clearly at both horizons."
        return text + (
            f" The same policy has the highest mean at both horizons, but not clearly in the "
            f"{' and the '.join(unclear)}."
        )
    if unclear:
        return text + (
            f" The policies with the highest means differ ({policy_name(q.best)} in the "
            f"{short.name}, {policy_name(l_.best)} in the {long_.name}), but the lead in the "
            f"{' and the '.join(unclear)} is within seed noise, so these seeds do not show "
            "that the answer changes with the horizon."
        )
    gap = paired_gap(reg, "revenue_long_run", l_.best, q.best)
    text += (
        f" The answer changes with the horizon: over the {long_.name}, {policy_name(l_.best)} "
        f"beats {policy_name(q.best)} by {interval_words(gap)}."
    )
    day = overtaking_day(reg, q.best, l_.best)
    if day is None:
        return (
            text + " In cumulative revenue it has not caught up by the end of the run "
            f"(day {reg.sweep.plan.days - 1})."
        )
    return text + f" Its cumulative revenue overtakes for good on day {day}."


def fee_finding(reg: Regime) -> str:
    """How much of first-quarter revenue is the annual service fee (a lump sum sellers pay
    when they list, so on day 0 for every seller there), whether the ranking moves it, and
    which policy earns most from the streams the ranking can move."""
    short = reg.windows["short"]
    low, high = (f(reg.summary["service_fee_day0"]) for f in (np.min, np.max))
    day0 = (
        f"{number(low)} yuan under every policy"
        if number(low) == number(high)
        else f"{number(low)} to {number(high)} yuan, depending on the policy"
    )
    ends = [_row(reg, t) for t in (REVENUE_FIRST, USER_FIRST)]
    shares = [
        r["service_fee_first_quarter"] / r["revenue_first_quarter"]
        if r["revenue_first_quarter"]
        else math.nan
        for r in ends
    ]
    fee = paired_gap(reg, "service_fee_first_quarter", REVENUE_FIRST, USER_FIRST)
    moved = (
        f"the ranking moves it by {interval_words(fee)} (revenue-first minus user-first)"
        if fee.clear
        else "the ranking does not clearly move it (revenue-first minus user-first: "
        f"{interval_words(fee)})"
    )
    return (
        f"{reg.name.capitalize()}: the annual service fee is a lump sum that sellers pay when "
        f"they list, so it falls on day 0 for every seller present ({day0}) and again when new "
        f"sellers join or a fee year starts. It is {percent(shares[0])} of the incumbent's "
        f"revenue in the {short.name} under revenue-first ranking and {percent(shares[1])} under "
        f"user-first, and {moved}. Leaving it out, revenue in the {short.name} from the streams "
        f"the ranking can move (ads, commission and affiliate) "
        f"{leader_words(reg, leader(reg, 'revenue_first_quarter_ranked'))}."
    )


def _change(
    reg: Regime,
    key: str,
    fmt: Callable[[float], str],
    diff: Callable[[float], str],
    unit: str = "",
) -> str:
    """``a → b (difference, 95% interval)`` from revenue-first to user-first."""
    a, b = _row(reg, REVENUE_FIRST)[key], _row(reg, USER_FIRST)[key]
    gap = paired_gap(reg, key, USER_FIRST, REVENUE_FIRST)
    words = interval_words(gap, diff, unit)
    end = "" if unit == " points" else unit
    if gap.clear:
        return f"{fmt(a)} → {fmt(b)}{end} ({words})"
    return f"{fmt(a)} → {fmt(b)}{end} (no clear difference: {words})"


def users_finding(reg: Regime) -> str:
    """What the policy does to buyers, sellers and consumer surplus: the two ends of the
    axis compared seed by seed."""
    long_ = reg.windows["long"]
    return (
        f"{reg.name.capitalize()}, moving from revenue-first to user-first over the {long_.name}: "
        f"buyer share {_change(reg, 'buyer_share', percent, points, ' points')}; active sellers "
        f"{_change(reg, 'sellers', number, signed)}; consumer surplus of the incumbent's "
        f"buyers {_change(reg, 'consumer_surplus', number, signed, ' yuan')}."
    )


def why_finding(reg: Regime) -> str:
    """Why the long-run answer comes out as it does: what each end of the axis does to the
    incumbent's buyers and sellers over time, what it earns per buyer, and which of the two
    weighs more in its long-run revenue."""
    short, long_ = reg.windows["short"], reg.windows["long"]
    ends = {t: _row(reg, t) for t in (REVENUE_FIRST, USER_FIRST)}

    def path(r: pd.Series) -> str:
        return (
            f"buyer share {percent(r['buyer_share_first_quarter'])} in the {short.name} → "
            f"{percent(r['buyer_share'])} in the {long_.name}, active sellers "
            f"{number(r['sellers_first_quarter'])} → {number(r['sellers'])}"
        )

    def earns(r: pd.Series) -> str:
        return (
            f"{number(r['revenue_ranked_per_buyer'])} yuan "
            f"({number(r['revenue_ads_per_buyer'])} from ads)"
        )

    text = (
        f"Why, {reg.name}: under revenue-first ranking the incumbent's {path(ends[REVENUE_FIRST])}; "
        f"under user-first ranking {path(ends[USER_FIRST])}. Per monthly active buyer over the "
        f"{long_.name}, ads, commission and affiliate bring {earns(ends[REVENUE_FIRST])} under "
        f"revenue-first against {earns(ends[USER_FIRST])} under user-first."
    )
    return text + " " + why_conclusion(reg)


def _revenue_words(revenue: Gap, window: str) -> str:
    if not revenue.clear:
        return f"no clear difference in {window} revenue ({interval_words(revenue)})"
    direction = "higher" if revenue.mean > 0 else "lower"
    return (
        f"its {window} revenue is {number(abs(revenue.mean))} yuan {direction} (difference "
        f"{interval_words(revenue)})"
    )


def _sign(gap: Gap) -> int:
    """+1 or -1 for a clear difference, 0 for none."""
    return 0 if not gap.clear else (1 if gap.mean > 0 else -1)


def _buyers_words(share: Gap, sellers: Gap) -> str:
    share_words = interval_words(share, points, " points")
    if _sign(share) == 0:
        return f"keeps as many buyers (no clear difference in buyer share: {share_words})"
    words = f"{'keeps more' if share.mean > 0 else 'loses'} buyers ({share_words} of buyer share)"
    if _sign(sellers) == _sign(share):
        words += f" and sellers ({interval_words(sellers, signed, '')})"
    return words


def _per_buyer_words(per_buyer: Gap) -> str:
    gap = interval_words(per_buyer)
    if _sign(per_buyer) == 0:
        return f"earns no clearly different amount per buyer ({gap})"
    return f"earns {'more' if per_buyer.mean > 0 else 'less'} per buyer ({gap})"


def why_conclusion(reg: Regime) -> str:
    """The sentence that weighs buyers kept against revenue per buyer, revenue-first minus
    user-first, each difference judged against seed noise."""
    long_ = reg.windows["long"].name

    def gap(key: str) -> Gap:
        return paired_gap(reg, key, REVENUE_FIRST, USER_FIRST)

    share, sellers, per_buyer, revenue = (
        gap(k) for k in ("buyer_share", "sellers", "revenue_ranked_per_buyer", "revenue_long_run")
    )
    buyers, earns, outcome = (
        _buyers_words(share, sellers),
        _per_buyer_words(per_buyer),
        _revenue_words(revenue, long_),
    )
    head = f"Revenue-first {buyers} and {earns}"
    signs = (_sign(share), _sign(per_buyer), _sign(revenue))
    connector = {
        (-1, 1, -1): "; the extra it earns per buyer does not make up for the buyers it loses",
        (-1, 1, 1): "; the extra it earns per buyer more than makes up for the buyers it loses",
        (-1, 1, 0): "; the two about offset",
        (0, 1, 1): "; so it keeps its buyers and its extra ad and commission revenue",
    }.get(signs, "")
    return f"{head}{connector}: {outcome}."


def ends_words(regimes: Sequence[Regime], key: str, words: str) -> str:
    """The study's question at the two ends of the axis: does user-first or revenue-first
    earn more, in each world? A reversal is claimed only when both paired gaps are clear."""
    gaps = [paired_gap(reg, key, USER_FIRST, REVENUE_FIRST) for reg in regimes]
    said = [
        f"{reg.name} {'user-first' if g.mean > 0 else 'revenue-first'} ranking earns more "
        f"({interval_words(g)}, user-first minus revenue-first)"
        if g.clear
        else f"{reg.name} neither end clearly earns more ({interval_words(g)})"
        for reg, g in zip(regimes, gaps)
    ]
    signs = {_sign(g) for g in gaps}
    if 0 in signs:
        verdict = "these seeds do not show whether competition reverses it"
    elif len(signs) == 2:
        verdict = "competition reverses the answer"
    else:
        verdict = "competition does not reverse it"
    return f"between revenue-first and user-first, for {words} {'; '.join(said)}: {verdict}"


def competition_finding(regimes: Sequence[Regime]) -> str:
    """Whether rivals change which policy earns most in the long run and in total: first
    between the two ends of the policy axis, then over the whole axis; a change is claimed
    only where the paired differences are clear."""
    with_, without = regimes
    parts = []
    for key, words in (
        ("revenue_long_run", "long-run revenue"),
        ("revenue_cumulative", "cumulative revenue"),
    ):
        parts.append(ends_words(regimes, key, words))
        a, b = leader(with_, key), leader(without, key)
        unclear = [r.name for r, lead in ((with_, a), (without, b)) if not lead.clear]
        noise = f"not clearly ahead {' or '.join(unclear)}" if unclear else ""
        if a.best == b.best:
            parts.append(
                f"for {words} both worlds clearly favour {policy_name(a.best)}"
                if not unclear
                else f"for {words} {policy_name(a.best)} has the highest mean in both worlds "
                f"({noise})"
            )
        elif not unclear:
            parts.append(
                f"for {words} the answer depends on competition: {policy_name(a.best)} "
                f"{with_.name}, {policy_name(b.best)} {without.name} (each clearly ahead of "
                "every other policy in its world)"
            )
        else:
            parts.append(
                f"for {words} the highest means differ ({policy_name(a.best)} {with_.name}, "
                f"{policy_name(b.best)} {without.name}), but the leader is {noise}, so these "
                "seeds do not show that competition changes which point of the axis is best"
            )
    return "Where the answer changes: " + "; ".join(parts) + "."


def study_findings(regimes: Sequence[Regime]) -> list[str]:
    """The report's plain-words findings, computed from the numbers (plain text: escape
    before putting them in HTML)."""
    out = []
    for reg in regimes:
        out += [horizon_finding(reg), fee_finding(reg), users_finding(reg), why_finding(reg)]
    out.append(competition_finding(regimes))
    return out


# --------------------------------------------------------------------------- report


def measures_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Each measure against the policy axis, one line per world, with 95% intervals."""
    cols = 3
    rows = math.ceil(len(MEASURES) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[m.title for m in MEASURES])
    for k, measure in enumerate(MEASURES):
        row, col = divmod(k, cols)
        for r, reg in enumerate(regimes):
            s = reg.summary.sort_values(POLICY)
            m, lo, hi = (s[measure.key + x] for x in ("", "_lo", "_hi"))
            fig.add_trace(
                go.Scatter(
                    x=s[POLICY],
                    y=m,
                    mode="lines+markers",
                    name=reg.name,
                    legendgroup=reg.name,
                    showlegend=k == 0,
                    line={"color": PLATFORM_COLORS[r % len(PLATFORM_COLORS)]},
                    error_y={"type": "data", "array": hi - m, "arrayminus": m - lo},
                ),
                row=row + 1,
                col=col + 1,
            )
        fig.update_xaxes(
            title_text="policy t (0 revenue-first, 1 user-first)", row=row + 1, col=col + 1
        )
        fig.update_yaxes(title_text=measure.unit, row=row + 1, col=col + 1)
    fig.update_layout(height=360 * rows, margin={"t": 40})
    return fig


def cumulative_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Cumulative revenue over the run for each policy, one panel per world."""
    fig = make_subplots(rows=1, cols=len(regimes), subplot_titles=[r.name for r in regimes])
    for col, reg in enumerate(regimes, start=1):
        for i, (t, line) in enumerate(reg.cumulative.groupby(POLICY)):
            fig.add_trace(
                go.Scatter(
                    x=line["day"],
                    y=line["cumulative"],
                    mode="lines",
                    name=f"t = {t:g}",
                    legendgroup=f"{t:g}",
                    showlegend=col == 1,
                    line={"color": PLATFORM_COLORS[i % len(PLATFORM_COLORS)]},
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="day", row=1, col=col)
    fig.update_yaxes(title_text="cumulative revenue (yuan, mean over seeds)", row=1, col=1)
    fig.update_layout(height=420, margin={"t": 40})
    return fig


def regime_table(reg: Regime) -> str:
    """Per policy: every measure with its 95% interval."""
    header = ["policy t", *(f"{m.title} ({m.unit})" for m in MEASURES)]
    rows = [
        [
            f"{r[POLICY]:g}",
            *(with_interval(r[m.key], r[m.key + "_lo"], r[m.key + "_hi"]) for m in MEASURES),
        ]
        for _, r in reg.summary.sort_values(POLICY).iterrows()
    ]
    return table(header, rows)


def axis_rows() -> list[list[str]]:
    """The four ranking weights at each end and the middle of the axis."""
    return [[f"{t:g}", *(number(v) for v in policy_weights(t).values())] for t in (0.0, 0.5, 1.0)]


def _world(reg: Regime) -> str:
    base = reg.sweep.plan.base
    count = len(base.platforms)
    return f"{reg.name} ({base.name}, {count} platform{'s' if count > 1 else ''})"


CHART_IDS = ("study-measures", "study-cumulative")


def study_html(regimes: Sequence[Regime], findings: Sequence[str]) -> str:
    """The study report as one self-contained HTML page: the findings first (plain text,
    escaped by the page), then the experiment, the charts and the numbers."""
    plan = regimes[0].sweep.plan
    w = regimes[0].windows
    design = section(
        "The experiment",
        table(["t", "quality", "price", "commission", "ads"], axis_rows()),
        "The incumbent (platform 0) ranks its organic results by a weighted blend of quality, "
        "low price, expected commission and ad spend. Policy t moves the weight from revenue "
        "(commission and ads, t = 0) to buyer value (quality and price, t = 1), with the same "
        f"total weight {number(buyer_value_budget())} at every point. {len(plan.variants)} "
        f"policies × {len(plan.seeds)} seeds (the same seeds everywhere) × {plan.days} days, "
        f"{', '.join(_world(r) for r in regimes)}. Windows: {w['short'].label}, {w['long'].label}. "
        "Buyer share is the incumbent's monthly active buyers over all buyers and sellers its "
        "active sellers, both averaged over the long-run window; revenue and consumer surplus "
        "are totals over their window. First-quarter revenue includes the annual service "
        "fee, a lump sum sellers pay when they list (on day 0 for every seller present); the "
        "column 'ads + commission + affiliate' leaves it and its refunds out, to show the "
        "revenue the ranking can move. Intervals are 95% over seeds; a finding calls a "
        "difference clear only when the 95% interval of the seed-by-seed difference between "
        "two policies (every policy runs the same seeds) excludes zero.",
    )
    sections = [
        section(
            "Outcomes along the policy axis",
            figure_html(measures_figure(regimes), CHART_IDS[0]),
            "the incumbent's outcomes, one line per world, with 95% intervals over seeds",
        ),
        section(
            "Cumulative revenue",
            figure_html(cumulative_figure(regimes), CHART_IDS[1]),
            "the incumbent's cumulative revenue (yuan), mean over seeds, one line per policy",
        ),
    ]
    sections += [section(f"{_world(reg)}: numbers", regime_table(reg)) for reg in regimes]
    footer = [f"{reg.name}: sweep {reg.sweep.plan.sweep_id}" for reg in regimes]
    return page(
        "Whom to save: the incumbent's ranking policy, with and without rivals",
        findings,
        design,
        sections,
        footer,
    )
