"""Checkpoints: a run killed (SIGKILL) or interrupted after a checkpoint continues with
`twosided run --resume` to exactly the tables of an uninterrupted run; checkpoints fall
every N days, are written atomically, and an unfinished run never shows as a run folder or
a catalog row. A partial run is refused when another process holds it or another engine
wrote it.

The runs share one compiled program with tests/test_cli.py (2,000 buyers, 2 seeds,
10-day chunks), so this file adds little compile time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

import twosided
from twosided import checkpoint, store
from twosided.sim.params import build
from twosided.sim.run import init_states
from twosided.simulation import prepare
from twosided.store import Catalog

from .test_cli import (  # noqa: F401 (cli_env is a fixture)
    assert_one_line_error,
    cli_env,
    command,
    in_process,
)

DAYS = 800  # long enough to be killed midway, short enough to rerun
EVERY = 50
SETS = ["--set", "market.buyers=2000", "--set", "chunk_days=10"]
ARGS = [*SETS, "--days", str(DAYS), "--seeds", "2"]
OVERRIDES = {"market.buyers": 2000, "chunk_days": 10}


def run_folders(out: Path) -> list[Path]:
    """Visible run folders (hidden partial and temporary folders are not runs)."""
    if not out.exists():
        return []
    return [
        p
        for p in out.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != twosided.cli.COMPARISONS
    ]


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {t: pd.read_parquet(folder / f"{t}.parquet") for t in store.TABLES}


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in store.TABLES:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)
    assert json.loads((a / "summary.json").read_text()) == json.loads(
        (b / "summary.json").read_text()
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The same run, never interrupted and without checkpoints."""
    out = tmp_path_factory.mktemp("plain")
    status = twosided.cli.run_app(["run", *ARGS, "--out", str(out)])
    assert status == 0
    return run_folders(out)[0]


def partial_in(out: Path) -> checkpoint.Partial:
    folders = checkpoint.partial_folders(out)
    assert len(folders) == 1, folders
    return checkpoint.Partial.read(folders[0])


def start_and_wait(env: dict, out: Path, cwd: Path, past_day: int) -> tuple[subprocess.Popen, Path]:
    """Start a checkpointed run of the console script; return once a checkpoint past
    ``past_day`` is on disk."""
    proc = subprocess.Popen(
        [*command(), "run", *ARGS, "--checkpoint-every", str(EVERY), "--out", str(out)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        folders = checkpoint.partial_folders(out)
        if folders and (folders[0] / checkpoint.STATE_FILE).exists():
            if checkpoint.Partial.read(folders[0]).days_done() >= past_day:
                return proc, folders[0]
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no checkpoint within 300 s")


def test_a_killed_run_resumes_to_exactly_the_uninterrupted_tables(
    tmp_path, cli_env, uninterrupted, capsys
):
    out = tmp_path / "runs"
    proc, folder = start_and_wait(cli_env, out, tmp_path, past_day=4 * EVERY)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    partial = partial_in(out)
    killed_at = partial.days_done()
    assert EVERY * 4 <= killed_at < DAYS, killed_at
    # nothing of it shows as a run: no run folder, no catalog row
    assert run_folders(out) == []
    with Catalog(out, read_only=True) as catalog:
        assert catalog.runs().empty
    # it is listed as unfinished, with the command that continues it
    status, stdout, _ = in_process(capsys, "runs", "--out", str(out))
    assert status == 0 and f"--resume {partial.run_id} --out {out}" in stdout
    assert f"(day {killed_at} of {DAYS})" in stdout

    status, _, err = in_process(capsys, "run", "--resume", partial.run_id[:20], "--out", str(out))
    assert status == 0, err
    (resumed,) = run_folders(out)
    assert resumed.name == partial.run_id
    assert not folder.exists() and checkpoint.partial_folders(out) == []
    assert_same_tables(resumed, uninterrupted)
    meta = json.loads((resumed / "meta.json").read_text())
    assert meta["checkpoint_every"] == EVERY
    assert meta["resumed"][0]["command"][:3] == ["twosided", "run", "--resume"]
    with Catalog(out, read_only=True) as catalog:
        assert catalog.runs()["run_id"].tolist() == [partial.run_id]


def test_ctrl_c_keeps_the_checkpoints_and_says_how_to_resume(
    tmp_path, cli_env, uninterrupted, capsys
):
    out = tmp_path / "runs"
    proc, _ = start_and_wait(cli_env, out, tmp_path, past_day=EVERY)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate()
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    partial = partial_in(out)
    assert f"twosided run --resume {partial.run_id} --out {out}" in stderr
    status, _, err = in_process(capsys, "run", "--resume", "latest", "--out", str(out))
    assert status == 0, err
    assert_same_tables(run_folders(out)[0], uninterrupted)


def test_a_crash_midway_resumes_in_process_and_checkpoints_fall_every_n_days(tmp_path):
    sc = prepare("taobao", OVERRIDES, days=120)
    partial = checkpoint.Partial.create(tmp_path, sc, [5, 6], every=EVERY)

    def crash(day: int) -> None:
        if day >= 110:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        checkpoint.complete(partial, progress=crash)
    reopened = checkpoint.Partial.open(partial.folder)
    assert reopened.days_done() == 100
    names = sorted(p.name for p in partial.folder.glob("metrics-*"))
    assert names == [checkpoint.metrics_name(0, 50), checkpoint.metrics_name(50, 100)]
    resumed = checkpoint.complete(reopened)
    plain = twosided.simulate(sc, seeds=[5, 6])
    for name in store.TABLES:
        pd.testing.assert_frame_equal(
            getattr(resumed, name), getattr(plain, name), check_exact=True
        )
    # the last day is always a checkpoint
    assert checkpoint.Partial.open(partial.folder).days_done() == 120


def test_metrics_written_after_the_last_saved_state_are_discarded(tmp_path):
    sc = prepare("taobao", OVERRIDES, days=60)
    partial = checkpoint.Partial.create(tmp_path, sc, [0, 1], every=20)
    # a kill after a stretch's metrics were written but before its state was
    state_after_40 = {}

    def stop(day: int) -> None:
        if day == 40:
            state_after_40.update(checkpoint.read_arrays(partial.folder / checkpoint.STATE_FILE))
        if day == 60:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        checkpoint.complete(partial, progress=stop)
    with (partial.folder / checkpoint.STATE_FILE).open("wb") as handle:
        np.savez(handle, **state_after_40)
    assert (partial.folder / checkpoint.metrics_name(40, 60)).exists()
    dims, params = build(sc)
    days, _, parts = partial.load(dims, params)
    assert days == 40 and sum(p["sessions"].shape[1] for p in parts) == 40
    assert not (partial.folder / checkpoint.metrics_name(40, 60)).exists()


def test_the_state_round_trips_bit_for_bit_and_a_foreign_state_is_refused():
    dims, params = build(prepare("taobao", OVERRIDES))
    states = init_states(jax.numpy.asarray([1, 2], jax.numpy.uint32), dims, params)
    arrays = checkpoint.state_arrays(states)
    assert "buyers.trust" in arrays and "sellers.markup" in arrays and "balances" in arrays
    template = checkpoint.state_template(dims, params, [1, 2])
    back = checkpoint.state_from_arrays(arrays, template)
    for a, b in zip(jax.tree_util.tree_leaves(states), jax.tree_util.tree_leaves(back)):
        assert a.dtype == b.dtype and np.array_equal(np.asarray(a), np.asarray(b))
    wrong = {**arrays, "buyers.trust": arrays["buyers.trust"][:, :-1]}
    with pytest.raises(checkpoint.CheckpointError, match="buyers.trust"):
        checkpoint.state_from_arrays(wrong, template)
    missing = {k: v for k, v in arrays.items() if k != "orders"}
    with pytest.raises(checkpoint.CheckpointError, match="orders"):
        checkpoint.state_from_arrays(missing, template)


def test_checkpoints_divide_the_run_and_the_cadence():
    assert checkpoint.checkpoint_chunk(2000, 10, 50) == 10
    assert checkpoint.checkpoint_chunk(2000, 30, 50) == 25
    assert checkpoint.checkpoint_chunk(365, 30, 30) == 5
    assert checkpoint.checkpoint_chunk(7, 30, 100) == 1


# --------------------------------------------------------------------------- refusals


def small_partial(out: Path) -> checkpoint.Partial:
    """A 20-day partial run with no checkpoint yet."""
    return checkpoint.Partial.create(out, prepare("taobao", OVERRIDES, days=20), [0, 1], every=10)


def test_a_run_held_by_another_process_is_refused(tmp_path, capsys):
    partial = small_partial(tmp_path)
    with partial.locked():
        status, stdout, stderr = in_process(
            capsys, "run", "--resume", partial.run_id, "--out", str(tmp_path)
        )
    assert_one_line_error(status, stdout, stderr, "being run by another process")


def test_a_run_started_by_another_engine_is_refused(tmp_path, capsys):
    partial = small_partial(tmp_path)
    record = json.loads((partial.folder / checkpoint.RUN_FILE).read_text())
    (partial.folder / checkpoint.RUN_FILE).write_text(json.dumps({**record, "engine": "0" * 64}))
    status, stdout, stderr = in_process(capsys, "run", "--resume", "latest", "--out", str(tmp_path))
    assert_one_line_error(status, stdout, stderr, "another version of the engine")


def test_a_damaged_checkpoint_is_one_line_not_a_traceback(tmp_path, capsys):
    partial = small_partial(tmp_path)
    (partial.folder / checkpoint.STATE_FILE).write_bytes(b"PK\x03\x04 not a zip")
    status, stdout, stderr = in_process(capsys, "run", "--resume", "latest", "--out", str(tmp_path))
    assert_one_line_error(status, stdout, stderr, "damaged checkpoint file")


def test_a_finished_run_killed_before_cleaning_up_is_not_run_again(tmp_path, capsys):
    partial = small_partial(tmp_path)
    store.save_run(checkpoint.complete(partial), tmp_path, run_id=partial.run_id)
    status, stdout, _ = in_process(capsys, "run", "--resume", "latest", "--out", str(tmp_path))
    assert status == 0 and "was already complete" in stdout
    assert checkpoint.partial_folders(tmp_path) == []
    assert [p.name for p in run_folders(tmp_path)] == [partial.run_id]


def test_a_tampered_run_id_in_run_json_is_refused(tmp_path, capsys):
    partial = small_partial(tmp_path)
    record = json.loads((partial.folder / checkpoint.RUN_FILE).read_text())
    (partial.folder / checkpoint.RUN_FILE).write_text(json.dumps({**record, "run_id": "../x"}))
    status, stdout, stderr = in_process(capsys, "run", "--resume", "latest", "--out", str(tmp_path))
    assert_one_line_error(status, stdout, stderr, "not a well-formed id")


def test_an_edited_scenario_is_refused_on_resume(tmp_path, capsys):
    partial = small_partial(tmp_path)
    toml = partial.folder / checkpoint.SCENARIO_FILE
    text = toml.read_text()
    edited = text.replace("commission = 0.05", "commission = 0.04", 1)
    assert edited != text  # same shapes, another model
    toml.write_text(edited)
    status, stdout, stderr = in_process(capsys, "run", "--resume", "latest", "--out", str(tmp_path))
    assert_one_line_error(status, stdout, stderr, "not the scenario it started from")
    toml.write_text("# a comment changes nothing\n" + text)  # the same model again
    assert checkpoint.Partial.open(partial.folder).run_id == partial.run_id


def test_runs_suggests_what_will_work_for_an_unfinished_run(tmp_path, capsys):
    resumable = small_partial(tmp_path)
    status, stdout, _ = in_process(capsys, "runs", "--out", str(tmp_path))
    assert status == 0 and f"twosided run --resume {resumable.run_id}" in stdout
    record = json.loads((resumable.folder / checkpoint.RUN_FILE).read_text())
    (resumable.folder / checkpoint.RUN_FILE).write_text(json.dumps({**record, "engine": "0" * 64}))
    status, stdout, _ = in_process(capsys, "runs", "--out", str(tmp_path))
    assert status == 0 and "--resume" not in stdout
    assert "cannot be resumed" in stdout and "another version of the engine" in stdout
    assert f"twosided run {resumable.folder / checkpoint.SCENARIO_FILE}" in " ".join(stdout.split())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--resume", "latest", "--days", "5"], "'--resume': cannot be combined with --days"),
        (["--resume", "latest", "--seeds", "3"], "'--resume': cannot be combined with --seeds"),
        (["--resume", "latest", "monopoly"], "'--resume': cannot be combined with a SCENARIO"),
        (["--resume", "latest", "--from", "x"], "'--resume': cannot be combined with --from"),
        (["--resume", "latest"], "--resume: no unfinished runs in"),
        (["--resume", "nosuch"], "--resume: no unfinished run 'nosuch'"),
        (["--checkpoint-every", "0"], "'--checkpoint-every'"),
    ],
)
def test_bad_resume_and_checkpoint_flags(tmp_path, capsys, args, expected):
    status, stdout, stderr = in_process(capsys, "run", *args, "--out", str(tmp_path / "runs"))
    assert_one_line_error(status, stdout, stderr, expected)
    assert not (tmp_path / "runs").exists() or run_folders(tmp_path / "runs") == []


def test_a_checkpoint_file_holding_pickles_is_refused_without_suggesting_to_load_it(tmp_path):
    path = tmp_path / "state.npz"
    np.savez(path, junk=np.array([{"a": 1}], dtype=object))  # object arrays are pickled
    with pytest.raises(checkpoint.CheckpointError) as err:
        checkpoint.read_arrays(path)
    message = str(err.value)
    assert (
        message == f"{path}: damaged checkpoint file: holds pickled objects, which "
        "checkpoints never do"
    )
    assert "allow_pickle" not in message and "unsafe" not in message
