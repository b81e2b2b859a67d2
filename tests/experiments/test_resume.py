"""Resume: a sweep killed halfway completes on rerun without redoing finished variants and
without duplicate rows; the catalog is made to agree with the disk."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from twosided.experiments.sweep import plan_sweep, run_sweep
from twosided.store import Catalog

from .conftest import ADS, DAYS, SEEDS, SMALL

VARY = {ADS: [0.0, 1.0, 2.0, 3.0]}
KILL_AFTER = 2

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from twosided.experiments.executors import compile_cache_folder, use_compile_cache
    from twosided.experiments.sweep import plan_sweep, run_sweep

    use_compile_cache(compile_cache_folder())

    def progress(done, total):
        if done == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)  # as a crash or `kill -9` would

    plan = plan_sweep("taobao", {vary!r}, seeds={seeds}, days={days}, overrides={small!r})
    run_sweep(plan, workers=1, out=sys.argv[1], progress=progress, batch=False)
    """
)


def _plan():
    return plan_sweep("taobao", VARY, seeds=SEEDS, days=DAYS, overrides=SMALL)


def _sweep_rows(out: Path, sweep_id: str):
    with Catalog(out) as catalog:
        rows = catalog.runs(kind="sweep")
    return rows[rows["sweep_id"] == sweep_id]


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.glob("v*/daily.parquet")
    }


@pytest.mark.slow
def test_killed_sweep_resumes_without_redoing_or_duplicating(tmp_path: Path) -> None:
    script = CHILD.format(kill_after=KILL_AFTER, vary=VARY, seeds=SEEDS, days=DAYS, small=SMALL)
    child = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]

    plan = _plan()
    folder = plan.folder(tmp_path)
    before = _stamps(folder)
    assert sorted(before) == ["v0000", "v0001"]
    assert len(_sweep_rows(tmp_path, plan.sweep_id)) == KILL_AFTER

    calls: list[tuple[int, int]] = []
    # one variant at a time (a batch stores its variants together: test_batches resumes one)
    result = run_sweep(
        plan, workers=1, out=tmp_path, progress=lambda d, t: calls.append((d, t)), batch=False
    )
    assert result.skipped == [0, 1] and result.ran == [2, 3]
    assert calls == [(2, 4), (3, 4), (4, 4)]
    after = _stamps(folder)
    assert {k: after[k] for k in before} == before  # finished variants were not rewritten
    rows = _sweep_rows(tmp_path, plan.sweep_id)
    assert len(rows) == 4 and rows["run_id"].is_unique
    platforms = len(plan.base.platforms)
    assert len(result.table) == 4 * SEEDS * DAYS * platforms
    assert not result.table.duplicated(["variant", "seed", "day", "platform_id"]).any()


def test_catalog_is_repaired_from_the_disk(tmp_path: Path) -> None:
    plan = _plan()
    first = run_sweep(plan, workers=1, out=tmp_path)
    folder = first.folder
    # killed between the folder's rename and its catalog row; a stale temporary folder;
    # and a variant folder lost after it was registered
    with Catalog(tmp_path) as catalog:
        catalog.con.execute("DELETE FROM runs WHERE run_id = ?", [plan.run_id(plan.variants[0])])
    (folder / ".tmp-v0002-deadbeef").mkdir()
    lost = folder / "v0003"
    for f in lost.iterdir():
        f.unlink()
    lost.rmdir()

    again = run_sweep(plan, workers=1, out=tmp_path)
    assert again.skipped == [0, 1, 2] and again.ran == [3]
    assert not list(folder.glob(".tmp-*"))
    rows = _sweep_rows(tmp_path, plan.sweep_id)
    assert sorted(rows["run_id"]) == sorted(plan.run_id(v) for v in plan.variants)
    assert again.table.equals(first.table)


@pytest.mark.slow
def test_spawned_worker_processes_give_the_in_process_results(tmp_path: Path) -> None:
    plan = plan_sweep("taobao", {ADS: [0.0, 3.0]}, seeds=SEEDS, days=DAYS, overrides=SMALL)
    inline = run_sweep(plan, workers=1, out=tmp_path / "inline")
    spawned = run_sweep(plan, workers=2, out=tmp_path / "spawned")
    assert spawned.ran == [0, 1]
    assert spawned.table.equals(inline.table)
