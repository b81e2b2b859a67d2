"""A sweep killed while writing a variant (SIGKILL: no clean-up runs) leaves no visible
partial Parquet file and no catalog row without its files; rerunning the sweep clears the
leftovers and registers a variant whose folder was complete."""

from __future__ import annotations

import importlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from twosided import store
from twosided.experiments.sweep import (
    DAILY_FILE,
    completed_variants,
    open_sweep_folder,
    plan_sweep,
    variant_folder,
)
from twosided.store import Catalog

from ..test_store import kill_when_marked
from .conftest import ADS, DAYS, SEEDS, SMALL

DRIVER = """
import importlib, sys, time
import importlib
from pathlib import Path
import pandas as pd
from twosided import store

sweep = importlib.import_module("twosided.experiments.sweep")  # the module, not the function

out, point, marker = sys.argv[1:4]
plan = sweep.plan_sweep("taobao", {{{ads!r}: [0.0, 1.0]}}, seeds={seeds}, days={days},
                        overrides={small!r})
folder = sweep.open_sweep_folder(plan, Path(out))
daily = pd.DataFrame({{"seed": list(range(1000)), "gmv_cents": list(range(1000))}})


def pause(*args, **kwargs):
    Path(marker).write_text(point)
    time.sleep(600)


if point == "parquet":  # halfway through the variant's Parquet file
    def half(frame, path):
        store.write_parquet(frame, path)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
        pause()

    sweep.write_parquet = half
else:  # the variant's folder is in place, its catalog row not yet written
    sweep._register = pause
sweep.save_variant(plan, folder, Path(out), plan.variants[0], daily)
"""


def kill_while_saving(out: Path, point: str) -> None:
    script = DRIVER.format(ads=ADS, seeds=SEEDS, days=DAYS, small=SMALL)
    kill_when_marked(script, [str(out), point], out.parent / f"{point}.marker")


@pytest.mark.parametrize("point", ["parquet", "register"])
def test_a_sweep_killed_while_writing_a_variant(tmp_path, point):
    out = tmp_path / "runs"
    kill_while_saving(out, point)
    plan = plan_sweep("taobao", {ADS: [0.0, 1.0]}, seeds=SEEDS, days=DAYS, overrides=SMALL)
    folder = plan.folder(out)
    first = variant_folder(folder, plan.variants[0])
    with Catalog(out, read_only=True) as catalog:
        assert catalog.runs().empty  # no row, whatever the disk holds
    leftovers = list(folder.glob(f"{store.TMP_PREFIX}*"))
    if point == "parquet":
        assert not first.exists() and leftovers  # the partial file is hidden, never read
    else:
        assert first.exists() and not leftovers
        pq.read_table(first / DAILY_FILE)  # complete
    # rerunning the sweep clears the leftovers and agrees with the disk
    open_sweep_folder(plan, out)
    done = completed_variants(plan, folder, out)
    assert not list(folder.glob(f"{store.TMP_PREFIX}*"))
    with Catalog(out, read_only=True) as catalog:
        rows = catalog.runs(kind="sweep")
    if point == "parquet":
        assert done == set() and rows.empty
    else:
        assert done == {0} and rows["run_id"].tolist() == [plan.run_id(plan.variants[0])]


def test_two_identical_sweeps_at_once_compute_each_variant_once(tmp_path, monkeypatch):
    import threading

    import pandas as pd

    sweep = importlib.import_module("twosided.experiments.sweep")
    computed: list[int] = []
    started = threading.Event()

    # the simulation itself is not what is tested here (unbatched: one task per variant)
    def fake_tasks(tasks, *args):
        started.set()
        for task in tasks:
            computed.append(task.index)
            started.wait()
            yield task.index, pd.DataFrame({"seed": [0], "day": [0], "gmv_cents": [1]})

    monkeypatch.setattr(sweep, "run_tasks", fake_tasks)
    plan = plan_sweep("taobao", {ADS: [0.0, 1.0]}, seeds=SEEDS, days=DAYS, overrides=SMALL)
    results, errors = [], []

    def one() -> None:
        try:
            results.append(sweep.run_sweep(plan, workers=1, out=tmp_path, batch=False))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(computed) == [0, 1]  # each variant once, not twice
    assert sorted(len(r.ran) for r in results) == [0, 2]
    assert all(len(r.table) == 2 for r in results)
