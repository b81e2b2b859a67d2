"""Catalog query time against the number of runs it indexes.

    python benchmarks/bench_catalog.py [--sizes 10,1000,10000] [--repeat 5]

For each size N, a results root with N run folders is made in a temporary folder (small
synthetic ``daily.parquet`` files: 30 days × 3 platforms, the key columns; the catalog rows
inserted directly, since nothing here depends on how the runs were simulated, and packed
every ``store.PACK_RUNS`` runs as indexing does). Then each
query below is timed through ``Catalog(root, read_only=True).query(sql)``, as
``twosided runs --sql`` runs it (opening the catalog included); the median of ``--repeat``
runs is printed, in milliseconds:

* ``SELECT 1``                                  touches no run;
* ``SELECT count(*) FROM runs``                 the index only;
* ``... FROM daily WHERE run_id = <one run>``   one run's rows through the ``daily`` view;
* ``... FROM daily GROUP BY run_id``            every run's rows (grows with N by nature).

For comparison, ``listed`` times the view the catalog used to build before every query
(one ``read_parquet`` over a list of every run's file, checked for existence one by one)
for the one-run query. Speed is measured here, never in a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from twosided import store
from twosided.store import CATALOG_NAME, Catalog

DAYS, PLATFORMS = 30, 3


def make_root(root: Path, runs: int) -> list[str]:
    """A results root with ``runs`` synthetic run folders, indexed; returns their ids."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = [f"20260101-000000-bench-{i:06x}" for i in range(runs)]
    day = np.repeat(np.arange(DAYS), PLATFORMS)
    platform_id = np.tile(np.arange(PLATFORMS), DAYS)
    rows = []
    for run_id in ids:
        folder = root / run_id
        folder.mkdir()
        table = pa.table(
            {
                "seed": np.zeros(DAYS * PLATFORMS, np.int64),
                "day": day,
                "platform_id": platform_id,
                "gmv_cents": rng.integers(0, 10**9, DAYS * PLATFORMS),
            }
        )
        pq.write_table(table, folder / "daily.parquet")
        rows.append(
            (run_id, "run", "bench", dt.datetime(2026, 1, 1), DAYS, "[0]", run_id, None, None, "{}")
        )
    con = duckdb.connect(str(root / CATALOG_NAME))
    con.execute(store._SCHEMA)
    con.close()
    with Catalog(root) as catalog:  # as indexing does: a pack per PACK_RUNS runs indexed
        for start in range(0, runs, store.PACK_RUNS):
            chunk = rows[start : start + store.PACK_RUNS]
            catalog.con.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunk)
            catalog.pack()
    return ids


def timed(action, repeat: int) -> float:
    """Median wall time of ``action()`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def listed_query(root: Path, run_id: str) -> None:
    """The old way: a view over a list of every registered run's file, then one run's sum."""
    con = duckdb.connect(":memory:")
    source = duckdb.connect(str(root / CATALOG_NAME), read_only=True)
    paths = [str(root / p) for (p,) in source.execute("SELECT path FROM runs").fetchall()]
    source.close()
    files = [f for f in (f"{p}/daily.parquet" for p in paths) if Path(f).exists()]
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(
        f"CREATE TEMP VIEW daily AS SELECT * FROM read_parquet([{listing}], "
        "union_by_name = true, filename = true)"
    )
    con.execute(
        "SELECT sum(gmv_cents) FROM daily WHERE filename = ?", [f"{root / run_id}/daily.parquet"]
    ).fetchall()
    con.close()


def measure(root: Path, size: int, repeat: int) -> list[float]:
    """The figures of one row: a root of ``size`` runs, each query's median time (ms)."""
    ids = make_root(root, size)
    one = ids[len(ids) // 2]
    one_sql = f"SELECT sum(gmv_cents) FROM daily WHERE run_id = '{one}'"

    def query(sql: str) -> None:
        with Catalog(root, read_only=True) as catalog:
            catalog.query(sql)

    return [
        timed(lambda: query("SELECT 1"), repeat),
        timed(lambda: query("SELECT count(*) FROM runs"), repeat),
        timed(lambda: query(one_sql), repeat),
        timed(lambda: query("SELECT run_id, sum(gmv_cents) FROM daily GROUP BY run_id"), repeat),
        timed(lambda: listed_query(root, one), repeat),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"duckdb {duckdb.__version__}; load: {load.strip()}"
    )
    print(
        f"{'runs':>6} {'SELECT 1':>9} {'runs':>9} {'one run':>9} {'every run':>10} "
        f"{'listed':>9}  (ms, median of {args.repeat})"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            figures = measure(Path(tmp) / "runs", size, args.repeat)
        print(
            f"{size:>6} "
            + " ".join(f"{f:>9.1f}" for f in figures[:3])
            + f" {figures[3]:>10.1f} {figures[4]:>9.1f}"
        )
    print(
        json.dumps(
            {
                "load_after": subprocess.run(
                    ["uptime"], capture_output=True, text=True, check=False
                ).stdout.strip()
            }
        )
    )


if __name__ == "__main__":
    main()
