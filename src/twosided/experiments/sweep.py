"""Parameter sweeps: every variant of a scenario over the same seeds, stored and resumable.

A sweep is planned first (every variant resolved and validated, nothing run), then its
variants run on an executor (see ``executors``), each with all its seeds in one vmapped
call. As each variant finishes, the driver writes it atomically to its own folder under
the sweep folder and registers it in the catalog (kind ``sweep``). A sweep's id is a hash
of its resolved inputs, so rerunning the same sweep finds the same folder and skips the
variants already there: a crash or an interruption loses only the variants in flight.
The one-call ``twosided.sweep`` (plan, run and, if asked, report) is in ``experiments.api``;
this module knows nothing of reports.

Layout under the results root (``out``)::

    catalog.duckdb
    sweeps/<name>-<sweep id>/sweep.json        the plan: keys, variants, seeds, days
                             scenario.toml     the base scenario
                             v0000/daily.parquet, scenario.toml, variant.json
                             report.html       the sweep report (when asked for)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from twosided import atomic, memory
from twosided.experiments.batches import Batch, BatchProgress, plan_batches, run_batch
from twosided.experiments.executors import Task, default_workers, executor_session, run_tasks
from twosided.experiments.grid import (
    MAX_SEEDS,
    SweepError,
    Variant,
    VarySpec,
    check_seed_count,
    check_variant_count,
    grid,
    normalize_tie,
    normalize_vary,
    resolve_variant,
    sweep_id,
)
from twosided.scenario import Scenario
from twosided.simulation import prepare, resolve_seeds
from twosided.store import (
    DEFAULT_ROOT,
    TMP_PREFIX,
    Catalog,
    atomic_folder,
    write_json,
    write_parquet,
)

# ``progress(done, total)``: ``done`` is an int when variants have been stored (a safe point to
# stop), a float between while a batch of variants runs (``run_sweep``)
SweepProgress = Callable[[float, int], None]
KIND = "sweep"
PLAN_FILE = "sweep.json"
DAILY_FILE = "daily.parquet"


@dataclasses.dataclass
class SweepPlan:
    """A validated sweep, before anything runs.

    Attributes:
        base: the scenario every variant starts from (base overrides and days applied).
        variants: the points of the sweep.
        scenarios: each variant's resolved scenario, in variant order.
        seeds: the seeds every variant runs.
        keys: the label columns the sweep table adds (one per varied or tied key).
        sweep_id: the hash that identifies the sweep (same inputs, same id).
        tied: the keys that move together as one axis (``--tie``), first key first; empty
            when nothing is tied.
    """

    base: Scenario
    variants: list[Variant]
    scenarios: list[Scenario]
    seeds: list[int]
    keys: list[str]
    sweep_id: str
    tied: list[str] = dataclasses.field(default_factory=list)

    @property
    def days(self) -> int:
        """Days every variant runs."""
        return self.base.days

    def folder(self, out: Path) -> Path:
        """The sweep's folder under the results root."""
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in self.base.name)[:40]
        return Path(out) / "sweeps" / f"{safe or 'sweep'}-{self.sweep_id}"

    def run_id(self, variant: Variant) -> str:
        """The catalog id of one variant (stable across reruns)."""
        return f"{self.sweep_id}-v{variant.index:04d}"


@dataclasses.dataclass
class SweepResult:
    """A finished sweep: its tidy table and where it lives.

    Attributes:
        plan: what ran.
        folder: the sweep folder.
        table: one row per variant, seed, day and platform: the daily table's columns plus
            ``variant`` and one column per varied key.
        ran: indices of the variants run by this call.
        skipped: indices of the variants found already done (resumed).
    """

    plan: SweepPlan
    folder: Path
    table: pd.DataFrame
    ran: list[int]
    skipped: list[int]


def plan_variants(
    scenario: str | Path | Scenario,
    variants: Sequence[Variant],
    seeds: int | Sequence[int] | None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    tied: Sequence[str] = (),
) -> SweepPlan:
    """Plan a sweep over explicit variants (each with its own labels and overrides);
    ``tied`` names the keys of a tied axis (``grid``'s ``tie``)."""
    base = prepare(scenario, overrides, days)
    if not variants:
        variants = [Variant(index=0, labels={}, overrides={})]
    check_variant_count(len(variants), "--vary")
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        check_seed_count(seeds, base.seed if seed is None else seed)
    elif seeds is not None and len(seeds) > MAX_SEEDS:
        raise SweepError(f"--seeds: {len(seeds):,} seeds; at most {MAX_SEEDS:,} per variant")
    try:
        seed_list = resolve_seeds(base, seeds, seed)
    except ValueError as err:
        raise SweepError(f"--seeds: {err}") from None
    keys = list(dict.fromkeys(k for v in variants for k in v.labels))
    plan = SweepPlan(
        base=base,
        variants=list(variants),
        scenarios=[resolve_variant(base, v, tied) for v in variants],
        seeds=seed_list,
        keys=keys,
        sweep_id=sweep_id(base, variants, seed_list, twosided_version(), tied),
        tied=list(tied),
    )
    check_memory(plan, plan.variants)
    return plan


def check_memory(plan: SweepPlan, variants: Sequence[Variant], processes: int = 1) -> None:
    """Refuse a sweep with a variant that would not fit in memory, before any runs: every
    variant's estimate (arithmetic, nothing compiled), largest first, with ``processes``
    variants at once (local worker processes). The error names the variant."""
    estimates = {
        v.index: memory.estimate_scenario(plan.scenarios[v.index], len(plan.seeds))
        for v in variants
    }
    for index in sorted(estimates, key=lambda i: -estimates[i].total):
        try:
            memory.check_scenario(plan.scenarios[index], len(plan.seeds), processes=processes)
        except memory.TooLargeError as err:
            labels = ", ".join(f"{k}={v}" for k, v in plan.variants[index].labels.items())
            raise memory.TooLargeError(
                f"variant {index} ({labels or 'the base scenario'}) of the sweep: {err}"
            ) from None


def plan_sweep(
    scenario: str | Path | Scenario,
    vary: VarySpec,
    seeds: int | Sequence[int] | None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    tie: VarySpec = None,
) -> SweepPlan:
    """Plan a grid sweep: every combination of the ``vary`` values, crossed with the tied
    axis of the ``tie`` keys (which move together; see ``grid.normalize_tie``)."""
    varied = normalize_vary(vary)
    tied = normalize_tie(tie, varied)
    variants = grid(varied, tied)
    return plan_variants(scenario, variants, seeds, days, seed, overrides, list(tied))


def twosided_version() -> str:
    """The installed twosided version (imported late: this module loads with the package)."""
    from twosided import __version__

    return __version__


# --------------------------------------------------------------------------- storage


def variant_folder(folder: Path, variant: Variant) -> Path:
    """The folder one variant's results live in."""
    return folder / f"v{variant.index:04d}"


LOCK_FILE = ".lock"  # held by the process running the sweep


@contextlib.contextmanager
def sweep_lock(plan: SweepPlan, out: Path) -> Iterator[None]:
    """Hold the sweep's lock: a second identical sweep waits for the first, then finds its
    variants done instead of computing them again."""
    folder = plan.folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic.lock(folder / LOCK_FILE):
        yield


def open_sweep_folder(plan: SweepPlan, out: Path) -> Path:
    """Create (or reopen) the sweep folder, write its plan, and clear leftovers of a run
    that was killed while writing."""
    folder = plan.folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f"{TMP_PREFIX}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    description = {
        "sweep_id": plan.sweep_id,
        "name": plan.base.name,
        "days": plan.days,
        "seeds": plan.seeds,
        "keys": plan.keys,
        "tied": plan.tied,
        "variants": [dataclasses.asdict(v) for v in plan.variants],
        "version": twosided_version(),
    }
    atomic.write_text(folder / PLAN_FILE, json.dumps(description, indent=2, sort_keys=True) + "\n")
    atomic.write_text(folder / "scenario.toml", plan.base.to_toml())
    return folder


def _register(catalog: Catalog, plan: SweepPlan, variant: Variant, path: Path) -> None:
    catalog.register(
        plan.run_id(variant),
        path,
        name=plan.base.name,
        days=plan.days,
        seeds=plan.seeds,
        kind=KIND,
        sweep_id=plan.sweep_id,
        variant=variant.labels,
        meta={
            "index": variant.index,
            "overrides": variant.overrides,
            "version": twosided_version(),
        },
    )


def completed_variants(plan: SweepPlan, folder: Path, out: Path) -> set[int]:
    """Indices of the variants already done, with the catalog made to agree with the disk:
    a complete folder without a catalog row (killed between the two) is registered, and a
    row whose folder is gone is dropped so that the variant runs again."""
    done = {v.index for v in plan.variants if (variant_folder(folder, v) / DAILY_FILE).is_file()}
    with Catalog(out) as catalog:
        rows = catalog.runs(kind=KIND)
        registered = set(rows.loc[rows["sweep_id"] == plan.sweep_id, "run_id"])
        for variant in plan.variants:
            run_id = plan.run_id(variant)
            if variant.index in done and run_id not in registered:
                _register(catalog, plan, variant, variant_folder(folder, variant))
            elif variant.index not in done and run_id in registered:
                catalog.con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
    return done


def save_variant(
    plan: SweepPlan, folder: Path, out: Path, variant: Variant, daily: pd.DataFrame
) -> None:
    """Write one variant's results atomically, then register it in the catalog."""
    final = variant_folder(folder, variant)
    with atomic_folder(final) as tmp:
        write_parquet(daily, tmp / DAILY_FILE)
        (tmp / "scenario.toml").write_text(
            plan.scenarios[variant.index].to_toml(), encoding="utf-8"
        )
        write_json(dataclasses.asdict(variant), tmp / "variant.json")
    with Catalog(out) as catalog:
        _register(catalog, plan, variant, final)


def load_table(plan: SweepPlan, folder: Path) -> pd.DataFrame:
    """The sweep's tidy table from its variant folders: the daily columns plus ``variant``
    and one column per varied key, ordered by variant, seed, day and platform."""
    frames = []
    for variant in plan.variants:
        daily = pd.read_parquet(variant_folder(folder, variant) / DAILY_FILE)
        labels = pd.DataFrame(
            {"variant": variant.index, **{k: variant.labels.get(k) for k in plan.keys}},
            index=daily.index,
        )
        frames.append(pd.concat([labels, daily], axis=1))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- running


def run_sweep(
    plan: SweepPlan,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out: str | Path = DEFAULT_ROOT,
    progress: SweepProgress | None = None,
    batch: bool = True,
) -> SweepResult:
    """Run the variants of a plan not yet done, store each as it finishes, and return the
    whole sweep's table. ``progress(done, total)`` is called once at the start (with the
    variants found done) and after each variant (or batch of variants) is stored; while a
    batch runs, after each compiled chunk with a fractional ``done`` (a float).

    ``batch`` (local executor only): variants of one shape run as one vmapped program in
    this process, as many at once as the memory check allows (``experiments.batches``);
    the others run on the executor as before. ``batch=False`` runs every variant alone."""
    out = Path(out)
    with executor_session(executor, workers, address):
        waiting = [
            v
            for v in plan.variants
            if not (variant_folder(plan.folder(out), v) / DAILY_FILE).is_file()
        ]
        batches, alone = _plan_batches(plan, waiting, executor == "local" and batch)
        singles = [v for v in waiting if v.index in set(alone)]
        if executor == "local" and len(singles) > 1 and workers != 1:
            at_once = min(len(singles), workers or default_workers(len(singles)))
            if at_once > 1:  # fresh worker processes, each needing its variant's memory
                check_memory(plan, singles, at_once)
        with sweep_lock(plan, out):  # after every check: a refused sweep writes nothing
            folder = open_sweep_folder(plan, out)
            done = completed_variants(plan, folder, out)
            total = len(plan.variants)
            if progress is not None:
                progress(len(done), total)
            ran: list[int] = []

            def store(results: list[tuple[int, pd.DataFrame]]) -> None:
                for index, daily in results:  # every result stored before progress
                    save_variant(plan, folder, out, plan.variants[index], daily)
                    ran.append(index)
                if progress is not None:
                    progress(len(done) + len(ran), total)

            for group in batches:
                todo_here = [i for i in group.indices if i not in done]
                if len(todo_here) < 2:
                    alone = sorted({*alone, *todo_here})
                    continue
                group = dataclasses.replace(group, indices=todo_here)
                step = _batch_progress(progress, len(done) + len(ran), len(todo_here), total)
                store(list(run_batch(group, _scenarios(plan, todo_here), plan.seeds, step)))
            tasks = [
                Task(i, plan.scenarios[i].model_dump(mode="json"), plan.seeds)
                for i in alone
                if i not in done
            ]
            if tasks:
                for result in run_tasks(tasks, executor, workers, address):
                    store([result])
            table = load_table(plan, folder)
    return SweepResult(
        plan=plan,
        folder=folder,
        table=table,
        ran=sorted(ran),
        skipped=sorted(done),
    )


def _scenarios(plan: SweepPlan, indices: Sequence[int]) -> dict[int, Scenario]:
    return {i: plan.scenarios[i] for i in indices}


def _plan_batches(
    plan: SweepPlan, waiting: Sequence[Variant], batched: bool
) -> tuple[list[Batch], list[int]]:
    """The batches of the variants waiting and the indices left to run alone (all of them
    when not ``batched``)."""
    if not batched or len(waiting) < 2:
        return [], [v.index for v in waiting]
    return plan_batches(_scenarios(plan, [v.index for v in waiting]), len(plan.seeds))


def _batch_progress(
    progress: SweepProgress | None, before: int, size: int, total: int
) -> BatchProgress | None:
    """Progress of a running batch as a fraction of its variants (a float ``done``)."""
    if progress is None:
        return None

    def step(fraction: float) -> None:
        if fraction < 1:  # the end is reported once the batch is stored
            progress(float(before + size * fraction), total)

    return step
