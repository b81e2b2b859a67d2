"""Reproducibility: a run folder records everything its tables depend on (the resolved
scenario, the seeds, the versions, the engine's code and the device), `twosided run --from
RUN` gives the same tables bit for bit on the same device, and, where a GPU is present, the
CPU and the GPU agree statistically (docs/reproducibility.md).

The CLI runs share one compiled program with tests/test_cli.py (its SMALL run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

import twosided
from twosided import store
from twosided.scenario import apply_overrides, load_scenario

from .test_checkpoint import assert_same_tables, run_folders
from .test_cli import SMALL, assert_one_line_error, in_process


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("repro")
    assert twosided.cli.run_app(["run", *SMALL, "--seed", "7", "--out", str(out)]) == 0
    (folder,) = run_folders(out)
    return folder


def test_a_run_folder_records_what_its_tables_depend_on(source):
    meta = json.loads((source / "meta.json").read_text())
    assert meta["seeds"] == [7, 8]
    assert meta["twosided"] == twosided.__version__
    assert meta["engine"] == store.engine_fingerprint() and len(meta["engine"]) == 64
    assert meta["jax"] == jax.__version__ and meta["jaxlib"]
    assert meta["numpy"] == np.__version__
    assert meta["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["device"] == store.device_name(jax.devices()[0])
    assert meta["x64"] is True and "xla_flags" in meta
    assert set(store.REPRODUCIBLE) <= set(meta)
    scenario = load_scenario(source / "scenario.toml")
    assert scenario == apply_overrides(load_scenario("taobao"), {"market.buyers": 2000, "days": 10})


def test_from_reproduces_a_run_bit_for_bit(source, capsys):
    out = source.parent
    status, _, err = in_process(capsys, "run", "--from", source.name, "--out", str(out))
    assert status == 0, err
    assert "note:" not in err  # same versions, same device
    (again,) = [p for p in run_folders(out) if p.name != source.name]
    assert_same_tables(again, source)
    assert (again / "scenario.toml").read_text() == (source / "scenario.toml").read_text()
    meta = json.loads((again / "meta.json").read_text())
    assert meta["reproduces"] == source.name and meta["seeds"] == [7, 8]


def test_from_notes_when_versions_or_device_differ(source, tmp_path, capsys):
    copy = tmp_path / source.name
    copy.mkdir()
    for file in source.iterdir():
        copy.joinpath(file.name).write_bytes(file.read_bytes())
    meta = json.loads((copy / "meta.json").read_text())
    meta.update(jax="0.0.1", device="gpu:Imaginary GPU")
    (copy / "meta.json").write_text(json.dumps(meta))
    out = tmp_path / "runs"
    status, _, err = in_process(capsys, "run", "--from", str(copy), "--out", str(out))
    assert status == 0, err
    note = next(line for line in err.splitlines() if line.startswith("note:"))
    assert "jax 0.0.1 -> " in note and "device gpu:Imaginary GPU -> " in note
    assert_same_tables(run_folders(out)[0], source)  # same device after all: same tables


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "market.buyers=10"], "'--from': cannot be combined with --set"),
        (["--days", "3"], "'--from': cannot be combined with --days"),
        (["--seeds", "3"], "'--from': cannot be combined with --seeds"),
        (["--seed", "3"], "'--from': cannot be combined with --seed"),
        (["monopoly"], "'--from': cannot be combined with a SCENARIO"),
    ],
)
def test_from_refuses_what_would_change_the_run(source, capsys, args, expected):
    status, stdout, stderr = in_process(
        capsys, "run", "--from", source.name, *args, "--out", str(source.parent)
    )
    assert_one_line_error(status, stdout, stderr, expected)


def test_from_an_unknown_run_is_one_line(tmp_path, capsys):
    status, stdout, stderr = in_process(capsys, "run", "--from", "nosuch", "--out", str(tmp_path))
    assert_one_line_error(status, stdout, stderr, "--from: run 'nosuch' not found")


# --------------------------------------------------------------------------- CPU vs GPU


def gpus() -> list:
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


GPU_SEEDS = 12
GPU_OUTCOMES = ("sessions", "orders", "gmv_cents", "revenue_cents", "consumer_surplus_cents")


def per_seed_totals(result: twosided.Result) -> pd.DataFrame:
    return result.daily.groupby(["platform", "seed"])[list(GPU_OUTCOMES)].sum()


@pytest.mark.skipif(not gpus(), reason="no GPU here: CPU-GPU agreement is checked where one is")
def test_cpu_and_gpu_agree_statistically():
    """Same scenario and seeds on both devices. Float32 arithmetic in another order and
    other transcendental functions make the runs drift apart, so no bit-for-bit equality
    is expected; per-platform means over seeds must agree within four standard errors,
    and money must be conserved exactly on both."""
    overrides = {"market.buyers": 20_000}
    with jax.default_device(jax.devices("cpu")[0]):
        cpu = twosided.simulate("taobao", days=90, seeds=GPU_SEEDS, overrides=overrides)
    with jax.default_device(gpus()[0]):
        gpu = twosided.simulate("taobao", days=90, seeds=GPU_SEEDS, overrides=overrides)
    for run in (cpu, gpu):
        assert (run.accounts.groupby(["seed", "day"])["balance_cents"].sum() == 0).all()
    a, b = per_seed_totals(cpu), per_seed_totals(gpu)
    for platform in cpu.platforms:
        for outcome in GPU_OUTCOMES:
            x = a.loc[platform, outcome].astype(float)
            y = b.loc[platform, outcome].astype(float)
            se = np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
            gap = abs(x.mean() - y.mean())
            assert gap <= 4 * se + 1e-9 * abs(x.mean()), (platform, outcome, gap, se)
