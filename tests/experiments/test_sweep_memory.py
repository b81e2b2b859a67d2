"""A sweep's memory check comes first: every variant's estimate is checked before any
variant runs (the largest is named), for a sweep and for the whom-to-save study, and local
workers running at once each count; a refused sweep writes nothing."""

from __future__ import annotations

import pytest

import twosided
from twosided import memory
from twosided.experiments.sweep import check_memory, plan_sweep, run_sweep
from twosided.scenario import apply_overrides, load_scenario

from ..test_cli import assert_one_line_error, in_process

HUGE = 2_000_000_000


@pytest.fixture
def nothing_runs(monkeypatch):
    """Any simulation fails the test: a refused sweep must not start one."""

    def simulate(*args, **kwargs):
        raise AssertionError("a variant ran before the sweep's memory check")

    monkeypatch.setattr(twosided.simulation, "simulate", simulate)
    monkeypatch.setattr(twosided, "simulate", simulate)


def test_a_variant_too_large_refuses_the_sweep_before_any_variant_runs(
    tmp_path, capsys, nothing_runs
):
    out = tmp_path / "runs"
    status, stdout, stderr = in_process(
        capsys,
        "sweep",
        "--days",
        "2",
        "--seeds",
        "1",
        "-w",
        "1",
        "--out",
        str(out),
        "--vary",
        f"market.buyers=2000,3000,{HUGE},{HUGE // 2}",
    )
    assert_one_line_error(
        status, stdout, stderr, f"variant 2 (market.buyers={HUGE}) of the sweep: too large for"
    )
    assert "GiB of memory" in stderr
    assert not out.exists()


def test_the_whom_to_save_study_checks_both_worlds_before_running(tmp_path, capsys, nothing_runs):
    huge = apply_overrides(load_scenario("monopoly"), {"market.buyers": HUGE})
    world = tmp_path / "huge_monopoly.toml"
    world.write_text(huge.to_toml())
    out = tmp_path / "runs"
    status, stdout, stderr = in_process(
        capsys,
        "experiment",
        "whom-to-save",
        "--monopoly",
        str(world),
        "--years",
        "0.01",
        "--seeds",
        "1",
        "--points",
        "2",
        "-w",
        "1",
        "--out",
        str(out),
    )
    assert_one_line_error(status, stdout, stderr, "of the sweep: too large for this machine")
    assert f"{HUGE:,} buyers" in stderr
    assert not out.exists()


def test_local_workers_at_once_each_need_a_variants_memory(tmp_path, monkeypatch, nothing_runs):
    plan = plan_sweep("taobao", {"market.buyers": [2000, 2500]}, seeds=1, days=2)
    one = memory.with_margin(memory.estimate_scenario(plan.scenarios[1], 1).total)
    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: None)
    monkeypatch.setattr(memory, "resident_bytes", lambda: 0)
    monkeypatch.setattr(memory, "available_host_bytes", lambda: one + one // 2)
    check_memory(plan, plan.variants)  # one at a time: fits
    with pytest.raises(memory.TooLargeError, match="^variant 1 .* 2 workers at once"):
        run_sweep(plan, workers=2, out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_the_check_can_still_be_turned_off(monkeypatch):
    with pytest.raises(memory.TooLargeError):
        plan_sweep("taobao", {"market.buyers": [2000, HUGE]}, seeds=1, days=2)
    monkeypatch.setenv(memory.CHECK_ENV, "off")
    plan = plan_sweep("taobao", {"market.buyers": [2000, HUGE]}, seeds=1, days=2)
    assert [s.market.buyers for s in plan.scenarios] == [2000, HUGE]
