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

from twosided import atomic
from twosided.experiments.executors import executor_session
from twosided.experiments.grid import SweepError
from twosided.experiments.page import write_page
from twosided.experiments.sweep import SweepPlan, SweepProgress, plan_variants, run_sweep
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
    world_differences,
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
from twosided.experiments.whom_to_save.spec import (
    MONOPOLY,
    RIVALS,
    RIVALS_REMOVED,
    STUDY_FILE,
    TITLES,
    WORLDS,
    Labels,
    StudySpec,
    World,
    WorldSpec,
    read_study,
    resolve_study,
    rivals_removed,
    scenario_file,
    study_from_arguments,
    study_toml,
    world_name,
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
    "MONOPOLY",
    "RIVALS",
    "RIVALS_REMOVED",
    "STUDY_FILE",
    "TITLES",
    "WORLDS",
    "Labels",
    "StudySpec",
    "World",
    "WorldSpec",
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
    "read_study",
    "regime_table",
    "resolve_study",
    "rivals_removed",
    "run_study",
    "scenario_file",
    "signed",
    "study_days",
    "study_findings",
    "study_from_arguments",
    "study_from_file",
    "study_toml",
    "study_html",
    "study_windows",
    "users_finding",
    "whom_to_save",
    "why_conclusion",
    "why_finding",
    "world_differences",
    "world_name",
    "write_summary",
    "write_worlds",
]


def _offset(progress: SweepProgress | None, before: int, total: int) -> SweepProgress | None:
    if progress is None:
        return None
    return lambda done, _: progress(before + done, total)


def whom_to_save(
    preset: str | Path | Scenario = "taobao",
    monopoly: str | Path | Scenario = RIVALS_REMOVED,
    seeds: int = 4,
    years: float = 3.0,
    points: int = 5,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: SweepProgress | None = None,
    world_overrides: Sequence[str] | dict[str, Sequence[str] | dict[str, Any]] | None = None,
    seed: int | None = None,
    batch: bool = True,
) -> Study:
    """Run the study (two resumable sweeps) and write its report.

    Args:
        preset: the world with rivals (a preset or TOML file; platform 0 is the incumbent).
        monopoly: the world without rivals (one platform): by default ``"rivals-removed"``,
            the world with rivals with its rivals removed and every other field held; or a
            preset or TOML file.
        seeds: seeds per policy (the same seeds for every policy and both worlds).
        years: run length in years of 365 days.
        points: policies along the axis, both ends included.
        overrides: fixed overrides for both worlds (``{"market.buyers": 5000}``).
        executor, workers, address, out: as for ``twosided.sweep``.
        progress: ``progress(done, total)`` over the variants of both sweeps.
        world_overrides: overrides for one world, applied after ``overrides``: per world
            name (``rivals``, ``monopoly``) a dict or ``key=value`` list, or
            ``NAME:key=value`` items as ``--set-world`` takes them.
        seed: the first seed (default: each world's scenario seed).
        batch: as for ``twosided.sweep``: the policies of a world run as one vmapped
            program (local executor); ``False`` runs each alone.
    """
    spec, scenarios, labels = study_from_arguments(
        preset, monopoly, seeds, years, points, seed, executor, workers, address, batch=batch
    )
    resolved, worlds = resolve_study(spec, overrides, world_overrides, labels, scenarios)
    return run_study(resolved, worlds, out, progress, inline=set(scenarios))


def study_from_file(
    path: str | Path,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    world_overrides: Sequence[str] | dict[str, Sequence[str] | dict[str, Any]] | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: SweepProgress | None = None,
) -> Study:
    """Run the study a study file describes (``spec``), with ``overrides`` for both worlds
    and ``world_overrides`` for one, as ``whom_to_save`` takes them."""
    spec, _ = read_study(path)
    labels = {w.name: Labels.of_file(str(path), i, w) for i, w in enumerate(spec.worlds)}
    resolved, worlds = resolve_study(spec, overrides, world_overrides, labels)
    return run_study(resolved, worlds, out, progress)


def run_study(
    spec: StudySpec,
    worlds: Sequence[World],
    out: str | Path = DEFAULT_ROOT,
    progress: SweepProgress | None = None,
    inline: set[str] | frozenset[str] = frozenset(),
) -> Study:
    """Run a resolved study (``spec.resolve_study``) and write its report, its summary,
    every world's resolved scenario (``scenario-NAME.toml``) and the study itself
    (``study.toml``, which reruns it) into the study folder. ``inline``: the worlds given
    as scenarios, which the written study reads from their written scenario files."""
    days = study_days(spec.years)
    variants = policy_variants(spec.axis.points)
    plans = []
    for world in worlds:
        try:  # an error names the world it is in
            plan = plan_variants(world.scenario, variants, spec.seeds.count, days, spec.seeds.first)
        except SweepError:
            raise  # seeds, years, points: the same in both worlds
        except ScenarioError as err:
            raise SweepError(f"{world.label}: {err}") from None
        plans.append((TITLES[world.name], plan))
    (rivals_world, alone_world), (rivals, alone) = worlds, (plan.base for _, plan in plans)
    if len(rivals.platforms) < 2:
        raise SweepError(f"{rivals_world.label}: has one platform; the study needs rivals")
    if len(alone.platforms) != 1:
        raise SweepError(f"{alone_world.label}: has {len(alone.platforms)} platforms; expected one")
    ex = spec.executor
    total = sum(len(p.variants) for _, p in plans)
    regimes = []
    with executor_session(ex.kind, ex.workers, ex.address):  # one Ray session for both sweeps
        for i, (name, plan) in enumerate(plans):
            step = _offset(progress, i * len(variants), total)
            result = run_sweep(plan, ex.kind, ex.workers, ex.address, out, step, ex.batch)
            regimes.append(regime(name, result))
    study_id = hashlib.sha256("".join(p.sweep_id for _, p in plans).encode()).hexdigest()[:16]
    folder = Path(out) / "studies" / f"{STUDY}-{study_id}"
    write_worlds(spec, worlds, [plan for _, plan in plans], folder, inline)
    findings = study_findings(regimes)
    report = folder / REPORT_FILE
    optimized = saved.find(Path(out), {rivals.name, alone.name})
    differences = world_differences(regimes)
    write_page(report, study_html(regimes, findings, optimized, folder, differences))
    write_summary(regimes, folder / SUMMARY_FILE)
    return Study(regimes, findings, folder, report, differences)


def write_worlds(
    spec: StudySpec,
    worlds: Sequence[World],
    plans: Sequence[SweepPlan],
    folder: Path,
    inline: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Every world's full resolved scenario (``scenario-NAME.toml``: its settings, days and
    seed applied) and the resolved study (``study.toml``) into the study folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for world, plan in zip(worlds, plans):
        atomic.write_text(folder / scenario_file(world.name), plan.base.to_toml())
    written = spec.model_copy(
        update={
            "worlds": [
                w.model_copy(update={"preset": None, "scenario": scenario_file(w.name)})
                if w.name in inline
                else w
                for w in spec.worlds
            ]
        }
    )
    atomic.write_text(folder / STUDY_FILE, study_toml(written, [p.seeds for p in plans]))


def write_summary(regimes: Sequence[Regime], path: Path) -> None:
    """The study's numbers as CSV: per world and policy, each measure with its interval."""
    frame = pd.concat([r.summary.assign(world=r.name) for r in regimes], ignore_index=True)
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False)
