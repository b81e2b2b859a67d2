"""Where the time of a one-run query over the ``daily`` view goes, at N runs.

    python benchmarks/probe_catalog_scan.py [--runs 10000] [--repeat 5]

Companion of ``bench_catalog.py`` (same synthetic run folders): it times, without opening
a ``Catalog``, the ways DuckDB could read one run's ``daily`` rows out of N run folders,
and the floor of any way that touches every run's file. The median of ``--repeat`` runs,
in milliseconds, and for the list of paths from the index the number of files the scan
opened (``Total Files Read`` of ``EXPLAIN ANALYZE``). Speed is measured here, never in a
timed test. Symbolic links are used for the hive-partitioned layout (POSIX only).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from bench_catalog import make_root  # noqa: E402


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``action()`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def quoted(paths: list[str]) -> str:
    """A DuckDB list literal of paths."""
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def probe(root: Path, ids: list[str], repeat: int) -> dict[str, float | str]:
    """Each way's median time (ms) for one run's sum of ``gmv_cents``."""
    one = ids[len(ids) // 2]
    files = [f"{root}/{run_id}/daily.parquet" for run_id in ids]
    mirror = root.parent / "hive" / "daily"
    for run_id, file in zip(ids, files, strict=True):
        (mirror / f"run_id={run_id}").mkdir(parents=True)
        os.symlink(file, mirror / f"run_id={run_id}" / "daily.parquet")
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE _run_files AS SELECT unnest(?) AS run_id, unnest(?) AS file", [ids, files]
    )
    join = "JOIN _run_files AS f ON t.filename = f.file"
    con.execute(
        f"CREATE VIEW by_glob AS SELECT f.run_id, t.* FROM read_parquet("
        f"'{root}/*/daily.parquet', filename = true) AS t {join}"
    )
    con.execute(
        f"CREATE VIEW by_list AS SELECT f.run_id, t.* FROM read_parquet("
        f"{quoted(files)}, filename = true) AS t {join}"
    )
    whole = root.parent / "daily_all.parquet"
    con.execute(
        f"COPY (SELECT f.run_id, t.* EXCLUDE filename FROM read_parquet("
        f"'{root}/*/daily.parquet', filename = true) AS t {join} ORDER BY run_id) "
        f"TO '{whole}' (ROW_GROUP_SIZE 8192)"
    )
    one_sql = f"SELECT sum(gmv_cents) FROM {{}} WHERE run_id = '{one}'"

    def run(sql: str) -> Callable[[], object]:
        return lambda: con.execute(sql).fetchall()

    analyze = con.execute("EXPLAIN ANALYZE " + one_sql.format("by_list")).fetchall()[0][1]
    read = re.search(r"Total Files Read:\s*(\d+)", analyze)
    return {
        "glob of the run folders, joined to the index (now)": timed(
            run(one_sql.format("by_glob")), repeat
        ),
        "list of the index's paths, joined (idea a)": timed(run(one_sql.format("by_list")), repeat),
        "  the same, binding and planning only (EXPLAIN)": timed(
            run("EXPLAIN " + one_sql.format("by_list")), repeat
        ),
        "  files the scan opened (EXPLAIN ANALYZE)": read.group(1) if read else "?",
        "hive-partitioned layout (run_id=ID/ links), glob": timed(
            run(
                f"SELECT sum(gmv_cents) FROM read_parquet('{mirror}/*/daily.parquet', "
                f"hive_partitioning = true) WHERE run_id = '{one}'"
            ),
            repeat,
        ),
        "the one run's file named directly": timed(
            run(f"SELECT sum(gmv_cents) FROM read_parquet('{root}/{one}/daily.parquet')"), repeat
        ),
        "one file of every run's rows (a run_id column)": timed(
            run(one_sql.format(f"read_parquet('{whole}')")), repeat
        ),
        "Python: os.stat of every run's file": timed(lambda: [os.stat(f) for f in files], repeat),
        "Python: os.listdir of the runs folder": timed(lambda: os.listdir(root), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"# duckdb {duckdb.__version__}, {os.cpu_count()} cores; {uptime.strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        ids = make_root(root, args.runs)
        for label, value in probe(root, ids, args.repeat).items():
            shown = f"{value:9.1f} ms" if isinstance(value, float) else f"{value:>9}"
            print(f"{label:<52} {shown}")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"# after: {uptime.strip()}")


if __name__ == "__main__":
    main()
