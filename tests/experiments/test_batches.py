"""Batched variants in sweeps (``twosided.experiments.batches``): variants are grouped by
shape, the memory check splits a group into batches, and a batched sweep writes what an
unbatched one writes (same folders, catalog rows and tables within float32 rounding)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twosided import cli, memory
from twosided.experiments import batches
from twosided.experiments.sweep import plan_sweep, run_sweep
from twosided.scenario import apply_overrides, load_scenario
from twosided.sim.params import build
from twosided.sim.run import chunk_size
from twosided.store import Catalog

sweep = importlib.import_module("twosided.experiments.sweep")  # the package's `sweep` is the API

TINY = {
    "market.buyers": 300,
    "market.seller_capacity": 8,
    "market.initial_sellers": 4,
    "chunk_days": 3,
}
DAYS = 6
ADS = "platforms.0.ranking.ads"
FEE = "platforms.0.fees.commission"
GRID = {FEE: [0.02, 0.05, 0.1]}  # moves revenue within a few days (ads do not, this small)


def _scenarios(*overrides: dict) -> dict[int, object]:
    base = apply_overrides(load_scenario("taobao"), {**TINY, "days": DAYS})
    return {i: apply_overrides(base, o) for i, o in enumerate(overrides)}


def test_variants_group_by_shape_and_static_fields():
    scenarios = _scenarios(
        {ADS: 0.0},
        {"market.page_length": 10},  # another shape of params and dims
        {ADS: 2.0, "platforms.0.fees.commission": 0.1},  # values only: with variant 0
        {"days": DAYS + 1},  # another run length
        {"market.page_length": 10, ADS: 1.0},  # with variant 1
        {"chunk_days": 2},  # another chunk
    )
    assert batches.group_variants(scenarios) == [[0, 2], [1, 4], [3], [5]]


def test_the_memory_check_splits_a_group_into_batches(monkeypatch: pytest.MonkeyPatch):
    scenarios = _scenarios(*({ADS: float(a)} for a in range(5)))
    dims, params = build(scenarios[0])
    chunk = chunk_size(DAYS, TINY["chunk_days"])
    two = memory.with_margin(memory.estimate(dims, params, 2, DAYS, chunk, variants=2).total)
    monkeypatch.delenv(memory.CHECK_ENV, raising=False)
    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: None)
    monkeypatch.setattr(memory, "resident_bytes", lambda: 0)
    monkeypatch.setattr(memory, "available_host_bytes", lambda: two)  # two variants fit
    planned, alone = batches.plan_batches(scenarios, seeds=2)
    assert [b.indices for b in planned] == [[0, 1], [2, 3]]
    assert alone == [4]  # the remainder runs alone, as an unbatched variant
    monkeypatch.setattr(memory, "available_host_bytes", lambda: 10 * two)
    planned, alone = batches.plan_batches(scenarios, seeds=2)
    assert [b.indices for b in planned] == [[0, 1, 2, 3, 4]] and alone == []
    assert batches.split([5, 6, 7], 0) == [[5], [6], [7]]


def _plan():
    return plan_sweep("taobao", GRID, seeds=2, days=DAYS, overrides=TINY)


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("this path must not run")


def assert_same_tables(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Integer columns (money, counts) equal exactly, floats within float32 rounding."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for name in a.columns:
        x, y = a[name].to_numpy(), b[name].to_numpy()
        if np.issubdtype(x.dtype, np.floating):
            np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(y, x, err_msg=name)


def test_a_batched_sweep_writes_what_an_unbatched_one_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    plan = _plan()
    calls: list[tuple[float, int]] = []
    with monkeypatch.context() as m:  # batched: no variant runs alone
        m.setattr(sweep, "run_tasks", _fail)
        on = run_sweep(plan, "local", 1, out=tmp_path / "on", progress=lambda *a: calls.append(a))
    with monkeypatch.context() as m:  # unbatched: no batch runs
        m.setattr(sweep, "run_batch", _fail)
        off = run_sweep(plan, "local", 1, out=tmp_path / "off", batch=False)
    assert on.ran == off.ran == [0, 1, 2]
    # start, half the batch's days (a float: not a point to stop), the batch stored
    assert calls == [(0, 3), (1.5, 3), (3, 3)]
    assert [type(done) for done, _ in calls] == [int, float, int]
    assert on.folder.name == off.folder.name
    for v in plan.variants:  # the same files in each variant's folder
        names = sorted(p.name for p in sweep.variant_folder(on.folder, v).iterdir())
        assert names == sorted(p.name for p in sweep.variant_folder(off.folder, v).iterdir())
    assert_same_tables(off.table, on.table)
    assert not on.table[on.table["variant"] == 0]["revenue_cents"].equals(
        on.table[on.table["variant"] == 2]["revenue_cents"].reset_index(drop=True)
    )
    with Catalog(tmp_path / "on") as a, Catalog(tmp_path / "off") as b:
        rows_a, rows_b = a.runs(kind="sweep"), b.runs(kind="sweep")
        assert sorted(rows_a["run_id"]) == sorted(rows_b["run_id"])
        assert len(rows_a) == 3


def test_a_batched_sweep_resumes_and_reruns_only_what_is_missing(tmp_path: Path):
    import shutil

    plan = _plan()
    first = run_sweep(plan, "local", 1, out=tmp_path)
    shutil.rmtree(sweep.variant_folder(first.folder, plan.variants[1]))
    again = run_sweep(plan, "local", 1, out=tmp_path)  # one variant missing: it runs alone
    assert again.ran == [1] and again.skipped == [0, 2]
    assert_same_tables(first.table, again.table)
    assert run_sweep(plan, "local", 1, out=tmp_path).ran == []


def test_the_sweep_command_batches_by_default_and_not_with_no_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = [
        "sweep",
        "taobao",
        "--vary",
        f"{FEE}=0.02,0.05,0.1",
        "--days",
        str(DAYS),
        "--seeds",
        "2",
    ]
    for key, value in TINY.items():
        args += ["--set", f"{key}={value}"]
    tables = {}
    for flag in ("--batch", "--no-batch"):
        out = tmp_path / flag.strip("-")
        assert cli.run_app([*args, "--workers", "1", flag, "--out", str(out)]) == 0
        assert "ran 3 variants, 0 already done" in capsys.readouterr().out
        tables[flag] = sweep.load_table(_plan(), _plan().folder(out))
    assert_same_tables(tables["--no-batch"], tables["--batch"])
