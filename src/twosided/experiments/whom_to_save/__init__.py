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
interval includes zero, or, for a claim resting on several comparisons at once, when Holm's
correction leaves it above 5%): which policy earns most at each horizon; whether the answer changes
with the horizon (only when both horizons have a clear winner); what the service fee is of
first-quarter revenue; what the policy does to buyers, sellers and consumer surplus; why the
long-run answer comes out as it does (buyers kept against revenue per buyer); and whether
the answer differs with and without rivals.

The package: ``study`` computes (the policy axis, the measures per policy and seed, the
paired comparisons), ``findings`` says it in words, ``page`` draws the charts and the HTML
report; this module runs the study end to end (``whom_to_save``) and re-exports their names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from twosided.experiments.executors import executor_session
from twosided.experiments.grid import SweepError
from twosided.experiments.page import write_page
from twosided.experiments.sweep import SweepProgress, plan_variants, run_sweep
from twosided.experiments.whom_to_save.findings import (
    answer_line,
    competition_finding,
    fee_finding,
    horizon_finding,
    interval_words,
    leader_words,
    percent,
    points,
    policy_name,
    signed,
    study_findings,
    users_finding,
    why_conclusion,
    why_finding,
)
from twosided.experiments.whom_to_save.page import (
    CHART_IDS,
    axis_rows,
    changes_figure,
    cumulative_figure,
    measure_text,
    measures_figure,
    regime_table,
    study_html,
)
from twosided.experiments.whom_to_save.study import (
    COLUMNS,
    INCUMBENT,
    MEASURES,
    PER_BUYER,
    POLICY,
    RANKED,
    RANKED_STREAMS,
    REVENUE_FIRST,
    STUDY,
    STUDY_COLUMNS,
    SUMMARY_FILE,
    USER_FIRST,
    Gap,
    Leader,
    Measure,
    Regime,
    Study,
    buyer_value_budget,
    cumulative_revenue,
    holm_family,
    leader,
    measures_per_seed,
    overtaking_day,
    paired_gap,
    policy_row,
    policy_variants,
    policy_weights,
    regime,
    study_days,
    study_windows,
)
from twosided.scenario import Scenario, ScenarioError
from twosided.store import DEFAULT_ROOT, REPORT_FILE, atomic_file
from twosided.strategy import saved

__all__ = [
    "CHART_IDS",
    "COLUMNS",
    "INCUMBENT",
    "MEASURES",
    "PER_BUYER",
    "POLICY",
    "RANKED",
    "RANKED_STREAMS",
    "REVENUE_FIRST",
    "STUDY",
    "STUDY_COLUMNS",
    "SUMMARY_FILE",
    "USER_FIRST",
    "Gap",
    "Leader",
    "Measure",
    "Regime",
    "Study",
    "answer_line",
    "axis_rows",
    "buyer_value_budget",
    "changes_figure",
    "competition_finding",
    "cumulative_figure",
    "cumulative_revenue",
    "fee_finding",
    "holm_family",
    "horizon_finding",
    "interval_words",
    "leader",
    "leader_words",
    "measure_text",
    "measures_figure",
    "measures_per_seed",
    "overtaking_day",
    "paired_gap",
    "percent",
    "points",
    "policy_name",
    "policy_row",
    "policy_variants",
    "policy_weights",
    "regime",
    "regime_table",
    "signed",
    "study_days",
    "study_findings",
    "study_html",
    "study_windows",
    "users_finding",
    "whom_to_save",
    "why_conclusion",
    "why_finding",
    "write_summary",
]


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
    for name, flag, world in (
        ("with rivals", "--preset", preset),
        ("without rivals", "--monopoly", monopoly),
    ):
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
    optimized = saved.find(Path(out), {rivals.name, alone.name})
    write_page(report, study_html(regimes, findings, optimized, folder))
    write_summary(regimes, folder / SUMMARY_FILE)
    return Study(regimes, findings, folder, report)


def write_summary(regimes: Sequence[Regime], path: Path) -> None:
    """The study's numbers as CSV: per world and policy, each measure with its interval."""
    frame = pd.concat([r.summary.assign(world=r.name) for r in regimes], ignore_index=True)
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)
