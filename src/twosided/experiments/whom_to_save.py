"""The whom-to-save study: should the incumbent rank for its customers or for its users?

The incumbent (platform 0) moves along one policy axis ``t`` in [0, 1]:

    quality = price    = B · t / 2        (buyer value: the user-first end, t = 1)
    commission = ads   = B · (1 − t) / 2  (revenue: the revenue-first end, t = 0)

with ``B`` the schema's default total weight on buyer value (``Ranking().quality +
Ranking().price``), so t = 1 is the schema's default ranking and every point spends the same
total weight. Rivals keep their preset policies. The axis is run twice over the same seeds:
with rivals (the ``taobao`` preset) and without (``monopoly``), and for each policy the study
reports the incumbent's first-quarter, long-run and cumulative revenue, buyer share (monthly
active buyers over all buyers), seller count and its buyers' consumer surplus, each with a
95% interval over seeds. The report's findings are computed from those numbers: which policy
earns most at each horizon, whether the gap exceeds seed noise (a paired interval, since
every policy runs the same seeds), when a long-run winner overtakes a short-run winner, and
whether the answer differs with and without rivals.
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
from twosided.experiments.grid import SweepError, Variant, value_range
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
from twosided.scenario import Ranking, Scenario
from twosided.report.charts import PLATFORM_COLORS, figure_html
from twosided.report.page import page, section, table
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
    Measure("revenue_long_run", "Long-run revenue", "yuan"),
    Measure("revenue_cumulative", "Cumulative revenue", "yuan"),
    Measure("buyer_share", "Buyer share", "of all buyers"),
    Measure("sellers", "Active sellers", "sellers"),
    Measure("consumer_surplus", "Consumer surplus", "yuan"),
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


def measures_per_seed(result: SweepResult) -> tuple[pd.DataFrame, dict[str, Window]]:
    """The study's measures for the incumbent, per policy and seed."""
    days = result.plan.days
    windows = {"short": short_window(days), "long": long_window(days), "whole": whole_run(days)}
    incumbent = result.table[result.table["platform_id"] == INCUMBENT]
    by = [POLICY]
    revenue = "revenue_cents"
    parts = [
        per_seed(incumbent, by, windows["short"], totals=[revenue]).rename(
            columns={revenue: "revenue_first_quarter"}
        ),
        per_seed(
            incumbent,
            by,
            windows["long"],
            totals=[revenue, "consumer_surplus_cents"],
            means=["monthly_active_buyers", "active_sellers"],
        ).rename(
            columns={
                revenue: "revenue_long_run",
                "consumer_surplus_cents": "consumer_surplus",
                "active_sellers": "sellers",
            }
        ),
        per_seed(incumbent, by, windows["whole"], totals=[revenue]).rename(
            columns={revenue: "revenue_cumulative"}
        ),
    ]
    frame = parts[0].merge(parts[1], on=[*by, "seed"]).merge(parts[2], on=[*by, "seed"])
    for money in (
        "revenue_first_quarter",
        "revenue_long_run",
        "revenue_cumulative",
        "consumer_surplus",
    ):
        frame[money] = frame[money] / CENTS_PER_YUAN
    frame["buyer_share"] = frame.pop("monthly_active_buyers") / result.plan.base.market.buyers
    return frame[[*by, "seed", *(m.key for m in MEASURES)]], windows


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
    summary = intervals(seeds, [POLICY], [m.key for m in MEASURES])
    return Regime(name, result, windows, seeds, summary, cumulative_revenue(result))


def _offset(progress: SweepProgress | None, before: int, total: int) -> SweepProgress | None:
    if progress is None:
        return None
    return lambda done, _: progress(before + done, total)


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
    days = round(years * DAYS_PER_YEAR)
    if days < 1:
        raise SweepError(f"--years {years:g}: must be at least one day")
    variants = policy_variants(points)
    plans = [
        ("with rivals", plan_variants(preset, variants, seeds, days, None, overrides)),
        ("without rivals", plan_variants(monopoly, variants, seeds, days, None, overrides)),
    ]
    rivals, alone = (plan.base for _, plan in plans)
    if len(rivals.platforms) < 2:
        raise SweepError(f"--preset {rivals.name}: has one platform; the study needs rivals")
    if len(alone.platforms) != 1:
        raise SweepError(
            f"--monopoly {alone.name}: has {len(alone.platforms)} platforms; expected one"
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


def _row(reg: Regime, t: float) -> pd.Series:
    return reg.summary.loc[reg.summary[POLICY] == t].iloc[0]


def best_policy(reg: Regime, key: str) -> float:
    """The policy with the highest mean of a measure."""
    return float(reg.summary.loc[reg.summary[key].idxmax(), POLICY])


def runner_up(reg: Regime, key: str, best: float) -> float:
    """The policy with the second-highest mean of a measure."""
    others = reg.summary[reg.summary[POLICY] != best]
    return float(others.loc[others[key].idxmax(), POLICY])


def paired_gap(reg: Regime, key: str, a: float, b: float) -> tuple[float, float, float]:
    """Mean and 95% interval of (policy a − policy b) over the seeds both ran."""
    frame = reg.seeds.pivot(index="seed", columns=POLICY, values=key)
    return interval((frame[a] - frame[b]).to_numpy())


def overtaking_day(reg: Regime, leader: float, chaser: float) -> int | None:
    """The first day from which the chaser's mean cumulative revenue stays above the
    leader's to the end of the run; None if it is not ahead at the end."""
    cum = reg.cumulative.pivot(index="day", columns=POLICY, values="cumulative")
    ahead = (cum[chaser] > cum[leader]).to_numpy()
    if not ahead[-1]:
        return None
    behind = np.flatnonzero(~ahead)
    return int(cum.index[behind[-1] + 1]) if len(behind) else int(cum.index[0])


def _gap_words(reg: Regime, key: str, a: float, b: float) -> str:
    mean, lo, hi = paired_gap(reg, key, a, b)
    if math.isnan(lo):
        return f"a gap of {number(mean)} yuan from a single seed, which cannot be told from noise"
    if lo > 0 or hi < 0:
        return (
            f"a gap of {number(mean)} yuan (95% interval {number(lo)} to {number(hi)}, "
            "larger than seed noise)"
        )
    return (
        f"a gap of {number(mean)} yuan whose 95% interval ({number(lo)} to {number(hi)}) "
        "includes zero, so these seeds cannot tell the two apart"
    )


def horizon_finding(reg: Regime) -> str:
    """Which policy earns most in the short run, the long run and in total, and whether
    the answer changes with the horizon."""
    short, long_ = reg.windows["short"], reg.windows["long"]
    q, l_, c = (
        best_policy(reg, k)
        for k in ("revenue_first_quarter", "revenue_long_run", "revenue_cumulative")
    )
    text = (
        f"{reg.name.capitalize()} ({reg.sweep.plan.base.name}): the incumbent's revenue in the "
        f"{short.name} (days {short.first}-{short.last}) is highest under {policy_name(q)} "
        f"({number(_row(reg, q)['revenue_first_quarter'])} yuan); in the {long_.name} (days "
        f"{long_.first}-{long_.last}) under {policy_name(l_)} "
        f"({number(_row(reg, l_)['revenue_long_run'])} "
        f"yuan); over the whole run under {policy_name(c)}."
    )
    if q == l_:
        second = runner_up(reg, "revenue_long_run", l_)
        return text + (
            f" The same policy leads at both horizons; over the {long_.name} it beats the "
            f"next best, {policy_name(second)}, by "
            + _gap_words(reg, "revenue_long_run", l_, second)
            + "."
        )
    text += (
        f" The answer changes with the horizon: over the {long_.name}, {policy_name(l_)} beats "
        f"{policy_name(q)} by " + _gap_words(reg, "revenue_long_run", l_, q) + "."
    )
    day = overtaking_day(reg, q, l_)
    if day is None:
        return (
            text + " In cumulative revenue it has not caught up by the end of the run "
            f"(day {reg.sweep.plan.days - 1})."
        )
    return text + f" Its cumulative revenue overtakes for good on day {day}."


def users_finding(reg: Regime) -> str:
    """What the policy does to buyers and sellers: the two ends of the axis compared."""
    a, b = _row(reg, 0.0), _row(reg, 1.0)
    long_ = reg.windows["long"]

    def move(key: str, unit: str, fmt: Callable[[float], str] = number) -> str:
        return f"{fmt(a[key])} → {fmt(b[key])}{unit}"

    return (
        f"{reg.name.capitalize()}, moving from revenue-first to user-first over the {long_.name}: "
        f"buyer share {move('buyer_share', '', lambda v: f'{v:.1%}')}, active sellers "
        f"{move('sellers', '')}, consumer surplus of the incumbent's buyers "
        f"{move('consumer_surplus', ' yuan')}."
    )


def competition_finding(regimes: Sequence[Regime]) -> str:
    """Whether rivals change which policy earns most in the long run and in total."""
    with_, without = regimes
    parts = []
    for key, words in (
        ("revenue_long_run", "long-run revenue"),
        ("revenue_cumulative", "cumulative revenue"),
    ):
        a, b = best_policy(with_, key), best_policy(without, key)
        if a == b:
            parts.append(f"for {words} both worlds favour {policy_name(a)}")
            continue
        clear = [
            r.name
            for r, (x, y) in ((with_, (a, b)), (without, (b, a)))
            if _beyond_noise(r, key, x, y)
        ]
        noise = (
            "in both worlds the gap between the two is larger than seed noise"
            if len(clear) == 2
            else f"only {clear[0]} is the gap larger than seed noise"
            if clear
            else "in neither world is the gap larger than seed noise, so more seeds are needed"
        )
        parts.append(
            f"for {words} the answer depends on competition: {policy_name(a)} {with_.name}, "
            f"{policy_name(b)} {without.name} ({noise})"
        )
    return "Where the answer changes: " + "; ".join(parts) + "."


def _beyond_noise(reg: Regime, key: str, a: float, b: float) -> bool:
    """Whether policy a's lead over b in this world exceeds seed noise (paired 95% interval)."""
    _, lo, _ = paired_gap(reg, key, a, b)
    return not math.isnan(lo) and lo > 0


def study_findings(regimes: Sequence[Regime]) -> list[str]:
    """The report's plain-words findings, computed from the numbers (plain text: escape
    before putting them in HTML)."""
    out = [horizon_finding(r) for r in regimes]
    out += [users_finding(r) for r in regimes]
    out.append(competition_finding(regimes))
    return out


# --------------------------------------------------------------------------- report


def measures_figure(regimes: Sequence[Regime]) -> go.Figure:
    """Each measure against the policy axis, one line per world, with 95% intervals."""
    fig = make_subplots(rows=2, cols=3, subplot_titles=[m.title for m in MEASURES])
    for k, measure in enumerate(MEASURES):
        row, col = divmod(k, 3)
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
    fig.update_layout(height=720, margin={"t": 40})
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
        "are totals over their window. Intervals are 95% over seeds.",
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
