"""One atomic, durable write and one portable lock for every module: files are flushed to
disk before they replace the old ones, a write error names the file, temporaries of killed
writers do not stay for good, and locks hold on platforms without ``fcntl``."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from twosided import atomic, checkpoint, report, store
from twosided.experiments import page

sweep = importlib.import_module("twosided.experiments.sweep")  # the module, not the function


def test_every_module_writes_through_the_one_helper():
    assert store.atomic_file is atomic.atomic_file
    assert report.atomic_file is atomic.atomic_file and page.atomic_file is atomic.atomic_file
    assert not hasattr(sweep, "_write_text_atomic")
    assert not hasattr(store, "fcntl") and not hasattr(checkpoint, "fcntl")


def test_a_file_is_flushed_to_disk_before_it_replaces_the_old_one(tmp_path, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    with store.atomic_file(tmp_path / "a.txt") as tmp:
        tmp.write_text("new")
    assert (tmp_path / "a.txt").read_text() == "new" and synced


def test_plan_files_of_a_sweep_are_written_durably(tmp_path, monkeypatch):
    written: list[str] = []
    real = atomic.write_text
    monkeypatch.setattr(
        atomic, "write_text", lambda p, t: (written.append(Path(p).name), real(p, t))[1]
    )
    plan = sweep.plan_sweep(
        "taobao",
        {"platforms.0.ranking.ads": [0.0, 1.0]},
        seeds=1,
        days=3,
        overrides={"market.buyers": 2000},
    )
    sweep.open_sweep_folder(plan, tmp_path)
    assert sorted(written) == ["scenario.toml", sweep.PLAN_FILE]


def test_a_write_error_names_the_file(tmp_path):
    target = tmp_path / "report.html"
    with pytest.raises(OSError) as caught, store.atomic_file(target) as tmp:
        tmp.write_text("half")
        raise OSError(28, "No space left on device")  # as Arrow or fsync raise it: no file
    assert caught.value.errno == 28 and caught.value.filename == str(target)
    assert str(target) in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_a_folder_write_error_names_the_folder(tmp_path):
    final = tmp_path / "run"
    with pytest.raises(OSError) as caught, store.atomic_folder(final):
        raise OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left")
    assert caught.value.filename == str(final) and "No space left" in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_a_temporary_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    stale = tmp_path / f"{atomic.TMP_PREFIX}report.html-0123abcd"
    stale.write_text("<html>half")
    old = time.time() - 2 * atomic.ABANDONED_AFTER_S
    os.utime(stale, (old, old))
    fresh = tmp_path / f"{atomic.TMP_PREFIX}report.html-4567cdef"  # perhaps a live writer's
    fresh.write_text("<html>")
    with store.atomic_file(tmp_path / "report.html") as tmp:
        tmp.write_text("<html></html>")
    assert not stale.exists() and fresh.exists()


def test_a_folder_being_written_is_not_taken_for_abandoned(tmp_path):
    with store.atomic_folder(tmp_path / "run") as tmp:
        old = time.time() - 2 * atomic.ABANDONED_AFTER_S
        os.utime(tmp, (old, old))
        assert atomic.remove_abandoned(tmp_path) == [] and tmp.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no lock file left


LOCK_WITHOUT_FCNTL = """
import sys
sys.modules["fcntl"] = None  # a platform without POSIX locks (import fails)
from pathlib import Path
from twosided import checkpoint
from twosided.simulation import prepare
partial = checkpoint.Partial.create(Path(sys.argv[1]), prepare("taobao", days=4), [0], every=2)
with partial.locked():
    try:
        with checkpoint.Partial.read(partial.folder).locked():
            print("not locked")
    except checkpoint.CheckpointError as err:
        print("refused:", err)
"""


def test_locks_hold_where_there_is_no_fcntl(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOCK_WITHOUT_FCNTL), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:") and "another process" in done.stdout
