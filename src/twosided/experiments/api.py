"""``twosided.sweep``: plan a sweep, run it and (if asked) write its report, in one call.

It sits above ``sweep`` (planning and running) and ``report`` (the sweep report), which
know nothing of each other's callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from twosided.experiments.grid import VarySpec
from twosided.experiments.report import write_sweep_report
from twosided.experiments.sweep import SweepProgress, plan_sweep, run_sweep
from twosided.scenario import Scenario
from twosided.store import DEFAULT_ROOT


def sweep(
    scenario: str | Path | Scenario = "taobao",
    vary: VarySpec = None,
    seeds: int | Sequence[int] | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: SweepProgress | None = None,
    report: bool = False,
    tie: VarySpec = None,
    batch: bool = True,
) -> pd.DataFrame:
    """Run a parameter sweep and return its tidy table.

    Args:
        scenario: a preset name, a TOML file, or a ``Scenario``.
        vary: ``{"platforms.0.ranking.ads": [0, 1, 2]}``, ``{"key": "START:STOP:STEPS"}``,
            or spec strings ``["key.path=START:STOP:STEPS", "key=V1,V2"]``; every
            combination of the values is one variant.
        tie: keys that move together as ONE axis, in the same forms as ``vary``
            (``{"platforms.0.ranking.ads": "0:2:5", "platforms.0.ranking.relevance":
            "1:0:5"}`` is 5 points, the i-th taking the i-th value of each); every tied key
            needs the same number of values, and the axis is crossed with the ``vary`` keys.
        seeds: seeds per variant (a count from ``seed``, or a list); all of a variant's
            seeds run together in one vmapped call.
        days: days per run (default: the scenario's).
        seed: the first seed (default: the scenario's).
        overrides: fixed overrides applied to every variant (``{"market.buyers": 5000}``).
        executor: ``"local"`` (this process, or spawned worker processes) or ``"ray"``.
        workers: local worker processes (default: one per two cores; 1 runs in-process).
        address: Ray cluster address (``"auto"`` or ``host:port``); default: the cluster
            this process is connected to, or a new local one.
        out: results root; the sweep is stored under ``out/sweeps/`` and in its catalog,
            and a rerun of the same sweep skips the variants already stored.
        progress: ``progress(done, total)`` over variants.
        report: also write the sweep report (``report.html`` in the sweep folder).
        batch: with the local executor, run the variants of one shape (differing only in
            parameter values) as one vmapped program over variants x seeds, as many at once
            as the memory check allows; ``False`` runs each variant alone (``executor``,
            ``workers``). The numbers agree within float32 rounding (docs/experiments.md).

    Returns:
        One row per variant, seed, day and platform: ``variant``, one column per tied
        and varied key, then the daily table's columns. ``table.attrs`` holds ``sweep_id`` and
        ``folder``.
    """
    plan = plan_sweep(scenario, vary, seeds, days, seed, overrides, tie)
    result = run_sweep(plan, executor, workers, address, out, progress, batch)
    if report:
        write_sweep_report(result)
    result.table.attrs.update(sweep_id=plan.sweep_id, folder=str(result.folder))
    return result.table
