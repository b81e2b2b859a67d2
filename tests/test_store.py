"""The results store: a run folder appears only complete, the catalog indexes a run only
after its folder is in place, a failed or interrupted write leaves nothing behind, a run
folder reads back as it was written, and ``summary.json`` is what ``daily.parquet`` says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from twosided import store
from twosided.store import Catalog, StoreError

from .conftest import cached_run

SMALL = {"market.buyers": 2000}
DAYS = 10
SEEDS = 2


@pytest.fixture(scope="module")
def result():
    return cached_run("taobao", DAYS, seeds=SEEDS, overrides=SMALL)


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_atomic_folder_appears_only_when_complete(tmp_path):
    final = tmp_path / "run"
    with store.atomic_folder(final) as tmp:
        (tmp / "a.txt").write_text("x")
        assert not final.exists()
        assert tmp.name.startswith(store.TMP_PREFIX)
    assert (final / "a.txt").read_text() == "x"
    assert entries(tmp_path) == ["run"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_folder_leaves_nothing_on_failure_or_interrupt(tmp_path, error):
    with pytest.raises(error):
        with store.atomic_folder(tmp_path / "run") as tmp:
            (tmp / "half.parquet").write_text("half")
            raise error()
    assert entries(tmp_path) == []


def test_atomic_folder_refuses_an_existing_folder(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(StoreError, match="already exists"):
        with store.atomic_folder(tmp_path / "run"):
            pass


def test_atomic_file_replaces_only_when_complete(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with store.atomic_file(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert entries(tmp_path) == ["report.html"]
    with store.atomic_file(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_save_run_writes_every_file_and_catalogs_it_only_after_the_folder_is_complete(
    tmp_path, result
):
    root = tmp_path / "runs"
    seen: dict[str, object] = {}

    def extra(folder: Path) -> None:
        # while the run is being written: its files are in a temporary folder, no final
        # folder exists and the catalog does not list it
        seen["files"] = entries(folder)
        seen["final"] = [p for p in entries(root) if not p.startswith(store.TMP_PREFIX)]
        with Catalog(root, read_only=True) as catalog:
            seen["listed"] = len(catalog.runs())
        (folder / "report.html").write_text("<html></html>")

    run_id, folder = store.save_run(result, root, meta={"command": ["test"]}, extra=extra)
    assert seen["final"] in ([], ["catalog.duckdb"])
    assert seen["listed"] == 0
    assert "daily.parquet" in seen["files"]
    assert entries(folder) == sorted(
        [
            "scenario.toml",
            "daily.parquet",
            "accounts.parquet",
            "flows.parquet",
            "switches.parquet",
            "summary.json",
            "meta.json",
            "report.html",
        ]
    )
    assert [p for p in entries(root) if p.startswith(store.TMP_PREFIX)] == []
    with Catalog(root, read_only=True) as catalog:
        listed = catalog.runs()
    assert listed["run_id"].tolist() == [run_id]
    assert Path(listed["path"].iloc[0]) == folder.resolve()
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["seeds"] == result.seeds and meta["command"] == ["test"]
    assert {"twosided", "jax", "python", "device"} <= set(meta)


def test_a_failed_write_leaves_no_folder_and_no_catalog_row(tmp_path, result):
    root = tmp_path / "runs"

    def broken(folder: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.save_run(result, root, extra=broken)
    assert [p for p in entries(root) if p != "catalog.duckdb"] == []
    with Catalog(root, read_only=True) as catalog:
        assert catalog.runs().empty


def test_a_failed_registration_keeps_the_finished_run(tmp_path, result):
    root = tmp_path / "runs"
    run_id, _ = store.save_run(result, root)
    # the same id again: the folder name is taken, so nothing is written at all
    with pytest.raises(StoreError, match="already exists"):
        store.save_run(result, root, run_id=run_id)
    # a catalog row that already exists for a new folder: registering fails, and the finished
    # run keeps its folder, with a note saying it is not indexed yet
    with Catalog(root) as catalog:
        catalog.con.execute("UPDATE runs SET run_id = 'taken'")
    notes: list[str] = []
    _, folder = store.save_run(result, root, run_id="taken", note=notes.append)
    assert folder == root / "taken" and store.load_run(folder).seeds == result.seeds
    assert len(notes) == 1 and "not yet indexed" in notes[0] and "taken" in notes[0]


def test_load_run_reads_back_what_was_written(tmp_path, result):
    _, folder = store.save_run(result, tmp_path)
    back = store.load_run(folder)
    assert back.scenario == result.scenario
    assert back.seeds == result.seeds
    for table in store.TABLES:
        pd.testing.assert_frame_equal(
            getattr(back, table).reset_index(drop=True),
            getattr(result, table).reset_index(drop=True),
            check_dtype=False,
        )
    pd.testing.assert_frame_equal(back.summary(), result.summary())


def test_load_run_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(StoreError, match="not a run folder"):
        store.load_run(tmp_path)


@pytest.mark.parametrize("table", store.TABLES)
def test_a_damaged_or_missing_table_is_one_error_naming_the_file(tmp_path, result, table):
    _, folder = store.save_run(result, tmp_path)
    path = folder / f"{table}.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    with pytest.raises(StoreError, match=f"{path}: damaged run file") as err:
        store.load_run(folder)
    assert "\n" not in str(err.value) and str(err.value).count(str(path)) == 1
    path.unlink()
    with pytest.raises(StoreError, match=f"missing {table}.parquet"):
        store.load_run(folder)


def test_a_daily_table_without_its_key_columns_or_a_damaged_meta_is_refused(tmp_path, result):
    _, folder = store.save_run(result, tmp_path)
    daily = pd.read_parquet(folder / "daily.parquet")
    store.write_parquet(daily.drop(columns=["day"]), folder / "daily.parquet")
    with pytest.raises(StoreError, match="daily.parquet: damaged run file .no column day"):
        store.load_run(folder)
    store.write_parquet(daily, folder / "daily.parquet")
    (folder / "meta.json").write_text("[1, 2]")
    with pytest.raises(StoreError, match="meta.json: damaged run file"):
        store.load_run(folder)


def test_a_daily_table_of_another_kind_or_seeds_that_are_not_numbers_are_refused(tmp_path, result):
    _, folder = store.save_run(result, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    for seeds in ("abc", ["0"], [True], [-1]):
        (folder / "meta.json").write_text(json.dumps({**meta, "seeds": seeds}))
        with pytest.raises(StoreError, match="meta.json: damaged run file .seeds must be"):
            store.load_run(folder)
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "daily.parquet").write_bytes((folder / "flows.parquet").read_bytes())
    with pytest.raises(
        StoreError,
        match=r"daily.parquet: damaged run file \(no column "
        r"platform_id, sessions, active_buyers and \d+ more",
    ):
        store.load_run(folder)


def test_summary_json_agrees_with_daily_parquet(tmp_path, result):
    _, folder = store.save_run(result, tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    daily = pd.read_parquet(folder / "daily.parquet")
    check_summary_against_daily(summary, daily)


def check_summary_against_daily(summary: dict, daily: pd.DataFrame) -> None:
    """Recompute the summary from the daily table by hand and compare every figure."""
    assert summary["days"] == daily["day"].nunique()
    assert summary["seeds"] == sorted(daily["seed"].unique().tolist())
    last = daily[daily["day"] == daily["day"].max()]
    market_sessions = daily["sessions"].sum() / daily["seed"].nunique()
    assert [p["platform"] for p in summary["platforms"]] == (
        daily.sort_values("platform_id")["platform"].unique().tolist()
    )
    for row in summary["platforms"]:
        mine = daily[daily["platform"] == row["platform"]]
        n_seeds = mine["seed"].nunique()
        for column in (
            "sessions",
            "orders",
            "gmv_cents",
            "revenue_cents",
            "revenue_ads_cents",
            "revenue_commission_cents",
            "consumer_surplus_cents",
            "sellers_exited",
        ):
            assert row[column] == pytest.approx(mine[column].sum() / n_seeds, rel=1e-9), column
        assert row["active_sellers"] == pytest.approx(
            last[last["platform"] == row["platform"]]["active_sellers"].mean()
        )
        assert row["share_sessions"] == pytest.approx(
            mine["sessions"].sum() / n_seeds / market_sessions
        )
        take_rate = mine["revenue_cents"].sum() / mine["gmv_cents"].sum()
        assert row["take_rate"] == pytest.approx(take_rate)
    per_seed_gmv = daily.groupby("seed")["gmv_cents"].sum().mean()
    assert summary["market"]["gmv_cents"] == pytest.approx(per_seed_gmv)
    assert summary["market"]["revenue_cents"] == pytest.approx(
        sum(p["revenue_cents"] for p in summary["platforms"])
    )


def test_catalog_sql_spans_runs_and_names_them(tmp_path, result):
    first, _ = store.save_run(result, tmp_path)
    second, _ = store.save_run(result, tmp_path)
    with Catalog(tmp_path, read_only=True) as catalog:
        frame = catalog.query(
            "SELECT run_id, sum(gmv_cents) AS gmv FROM daily GROUP BY run_id ORDER BY run_id"
        )
        streams = catalog.query("SELECT DISTINCT stream FROM flows")
        with pytest.raises(StoreError, match="^--sql: "):
            catalog.query("SELECT * FROM no_such_table")
        described = catalog.query("DESCRIBE daily; SELECT count(*) AS n FROM runs")
    assert described["n"].tolist() == [2]  # several queries: the last one's result
    assert frame["run_id"].tolist() == sorted([first, second])
    assert frame["gmv"].tolist() == [result.daily["gmv_cents"].sum()] * 2
    assert "commission" in set(streams["stream"])


def test_resolve_by_id_prefix_latest_and_folder(tmp_path, result):
    first, folder = store.save_run(result, tmp_path, run_id="20990101-000000-a-111111")
    second, _ = store.save_run(result, tmp_path, run_id="20990101-000001-b-222222")
    with Catalog(tmp_path, read_only=True) as catalog:
        assert catalog.resolve(first) == folder.resolve()
        assert catalog.resolve("20990101-000000").name == first
        assert catalog.resolve(store.LATEST).name == second
        assert catalog.resolve(str(folder)) == folder
        with pytest.raises(StoreError, match="ambiguous"):
            catalog.resolve("20990101")
        with pytest.raises(StoreError, match="not found"):
            catalog.resolve("nope")
        # a folder that is neither a run folder nor a run id says so, naming what it lacks
        empty = tmp_path / "not_a_run"
        empty.mkdir()
        with pytest.raises(
            StoreError, match=r"not_a_run: not a run folder \(missing scenario.toml, daily.parquet"
        ):
            catalog.resolve(str(empty))


def test_percent_and_underscore_in_a_run_reference_are_not_wildcards(tmp_path, result):
    under, _ = store.save_run(result, tmp_path, run_id="20990101-000000-a_b-111111")
    plain, _ = store.save_run(result, tmp_path, run_id="20990101-000000-axb-222222")
    with Catalog(tmp_path, read_only=True) as catalog:
        assert catalog.resolve("20990101-000000-a_").name == under  # not also axb
        assert catalog.resolve("20990101-000000-ax").name == plain
        for wildcard in ("%", "2099%", "20990101-000000-_xb", "_", "20990101\\"):
            with pytest.raises(StoreError, match="not found"):
                catalog.resolve(wildcard)


def test_a_missing_catalog_reads_as_empty_and_creates_nothing(tmp_path):
    root = tmp_path / "none"
    with Catalog(root, read_only=True) as catalog:
        assert catalog.runs().empty
        with pytest.raises(StoreError, match="no runs"):
            catalog.resolve(store.LATEST)
    assert not root.exists()


# --------------------------------------------------------------------------- killed writers

KILL_DRIVER = """
import sys, time
from pathlib import Path
from twosided import store

source, root, point, marker = sys.argv[1:5]
run = store.load_run(source)


def pause(*args, **kwargs):
    Path(marker).write_text(point)
    time.sleep(600)


if point == "parquet":  # halfway through the second Parquet file
    write = store.write_parquet
    written = []

    def half(frame, path):
        written.append(path)
        write(frame, path)
        if len(written) == 2:
            data = Path(path).read_bytes()
            Path(path).write_bytes(data[: len(data) // 2])
            pause()

    store.write_parquet = half
elif point == "register":  # the folder is in place, its catalog row not yet written
    store.Catalog.register = pause
elif point == "commit":  # the row is inserted, its transaction not committed
    class Paused:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            if sql == "COMMIT":
                pause()
            return self.con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.con, name)

    init = store.Catalog.__init__

    def paused_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.con = Paused(self.con)

    store.Catalog.__init__ = paused_init
store.save_run(run, root, extra=pause if point == "report" else None)
"""
RUN_FILES = {
    "scenario.toml",
    "daily.parquet",
    "accounts.parquet",
    "flows.parquet",
    "switches.parquet",
    "summary.json",
    "meta.json",
}


@pytest.fixture(scope="module")
def source_folder(tmp_path_factory, result) -> Path:
    _, folder = store.save_run(result, tmp_path_factory.mktemp("source"))
    return folder


def kill_when_marked(script: str, args: list[str], marker: Path) -> None:
    """Run ``python -c script args`` and SIGKILL it once it has written ``marker`` (the
    point where it pauses), as a crash or ``kill -9`` would."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args, str(marker)], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the writer never reached the point"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def kill_while_saving(source: Path, root: Path, point: str) -> None:
    """Run save_run in another process and SIGKILL it at ``point``."""
    kill_when_marked(KILL_DRIVER, [str(source), str(root), point], root.parent / f"{point}.marker")


def visible_runs(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]


def assert_only_complete_runs(root: Path) -> pd.DataFrame:
    """Every visible run folder is complete and readable; every catalog row has its files."""
    for folder in visible_runs(root):
        assert {p.name for p in folder.iterdir()} >= RUN_FILES, folder
        for table in store.TABLES:
            pq.read_table(folder / f"{table}.parquet")
    with Catalog(root, read_only=True) as catalog:
        rows = catalog.runs()
    for path in rows["path"]:
        assert {p.name for p in Path(path).iterdir()} >= RUN_FILES
    return rows


def age(root: Path) -> None:
    """Make every leftover look older than the store's abandonment delay."""
    past = time.time() - 2 * store.ABANDONED_AFTER_S
    for path in root.iterdir():
        os.utime(path, (past, past))


@pytest.mark.parametrize("point", ["parquet", "report", "register", "commit"])
def test_a_writer_killed_at_any_point_leaves_only_complete_runs(
    tmp_path, source_folder, result, point
):
    root = tmp_path / "runs"
    kill_while_saving(source_folder, root, point)
    rows = assert_only_complete_runs(root)
    assert rows.empty  # no row was committed
    orphans = visible_runs(root)
    if point in ("parquet", "report"):
        assert orphans == []  # the half-written folder is hidden and unread
        assert [p.name for p in root.iterdir() if p.name.startswith(store.TMP_PREFIX)]
    else:
        assert len(orphans) == 1  # complete, but killed before its row was committed
    # the next run under the same root clears what the killed one left
    age(root)
    run_id, _ = store.save_run(result, root)
    rows = assert_only_complete_runs(root)
    assert not [p for p in root.iterdir() if p.name.startswith(store.TMP_PREFIX)]
    assert sorted(rows["run_id"]) == sorted([run_id, *(p.name for p in orphans)])


def test_a_live_writers_temporary_folder_is_not_removed(tmp_path):
    root = tmp_path / "runs"
    with store.atomic_folder(root / "run") as tmp:
        age(root)
        assert store.remove_abandoned(root) == []
        assert tmp.exists()
    assert (root / "run").exists()
    stale = root / f"{store.TMP_PREFIX}run2-deadbeef"
    stale.mkdir()
    assert store.remove_abandoned(root) == []  # too recent: perhaps being created
    age(root)
    assert store.remove_abandoned(root) == [stale] and not stale.exists()


@pytest.mark.parametrize("sql", [" ", ";", "-- nothing", "/* nothing */"])
def test_an_empty_query_is_one_line(tmp_path, result, sql):
    store.save_run(result, tmp_path)
    with Catalog(tmp_path, read_only=True) as catalog:
        with pytest.raises(StoreError, match="^--sql: empty query"):
            catalog.query(sql)


@pytest.mark.parametrize(
    "sql, kind",
    [
        ("COPY (SELECT 1) TO '{out}/leak.csv'", "COPY"),
        ("EXPORT DATABASE '{out}/exported'", "EXPORT"),
        ("SET threads = 1", "SET"),
        ("SELECT 1; COPY (SELECT 1) TO '{out}/leak.csv'", "COPY"),
    ],
)
def test_sql_runs_queries_only_and_writes_nothing(tmp_path, result, sql, kind):
    """`--sql` is for reading results: a statement that writes files or changes the
    session is refused before any statement runs."""
    store.save_run(result, tmp_path / "runs")
    out = tmp_path / "elsewhere"
    out.mkdir()
    with Catalog(tmp_path / "runs", read_only=True) as catalog:
        with pytest.raises(StoreError, match=f"^--sql: only queries are run .*not {kind}$"):
            catalog.query(sql.format(out=out))
    assert list(out.iterdir()) == []


SLOW_QUERY = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(10000000) b"  # hours


def test_ctrl_c_interrupts_a_long_query(tmp_path, result):
    """A SIGINT reaches a query that DuckDB is still running: it stops at once with
    KeyboardInterrupt instead of running to its end."""
    store.save_run(result, tmp_path)
    with Catalog(tmp_path, read_only=True) as catalog:
        started = time.monotonic()
        timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                catalog.query(SLOW_QUERY)
        finally:
            timer.cancel()  # never a stray Ctrl-C for the rest of the test session
        assert time.monotonic() - started < 60  # the whole query takes many minutes
        assert catalog.query("SELECT count(*) AS n FROM runs")["n"].tolist() == [1]


# --------------------------------------------------------------------------- adversarial


@pytest.mark.parametrize(
    "sql, kind",
    [
        (
            "EXPLAIN ANALYZE COPY (SELECT 'echo pwned') TO '{out}/evil.sh' "
            "(HEADER false, QUOTE '')",
            "COPY",
        ),
        ("EXPLAIN ANALYZE COPY (SELECT 1 AS seed) TO '{daily}' (FORMAT parquet)", "COPY"),
        ("EXPLAIN COPY (SELECT 1) TO '{out}/evil.csv'", "COPY"),
        ("EXPLAIN ANALYZE SET threads = 1", "SET"),
        ("EXPLAIN ANALYZE INSTALL httpfs", "LOAD"),  # DuckDB types INSTALL as LOAD
        ("/* hidden */ -- a comment\n explain\n analyze COPY (SELECT 1) TO '{out}/x.csv'", "COPY"),
    ],
)
def test_explain_analyze_cannot_smuggle_a_statement(tmp_path, result, sql, kind):
    _, folder = store.save_run(result, tmp_path / "runs")
    daily = folder / "daily.parquet"
    before = daily.read_bytes()
    out = tmp_path / "elsewhere"
    out.mkdir()
    with Catalog(tmp_path / "runs", read_only=True) as catalog:
        with pytest.raises(StoreError, match=f"^--sql: only queries are run .*not {kind}$"):
            catalog.query(sql.format(out=out, daily=daily))
    assert list(out.iterdir()) == [] and daily.read_bytes() == before


def test_a_query_reads_no_file_outside_the_runs_folder(tmp_path, result):
    store.save_run(result, tmp_path / "runs")
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    with Catalog(tmp_path / "runs", read_only=True) as catalog:
        with pytest.raises(StoreError, match="^--sql: .*(Permission|access)"):
            catalog.query(f"SELECT * FROM read_csv('{secret}')")


def test_a_damaged_run_file_is_left_out_and_named(tmp_path, result):
    root = tmp_path / "runs"
    _, good = store.save_run(result, root)
    _, bad = store.save_run(result, root)
    (bad / "daily.parquet").write_bytes(b"PAR1 not parquet at all PAR1")
    with Catalog(root, read_only=True) as catalog:
        assert catalog.query("SELECT 1 AS one")["one"].tolist() == [1]
        counted = catalog.query("SELECT run_id, count(*) AS n FROM daily GROUP BY run_id")
        assert counted["run_id"].tolist() == [good.name]
        assert counted["n"].tolist() == [len(result.daily)]
        assert catalog.skipped == [str((bad / "daily.parquet").resolve())] or catalog.skipped == [
            str(bad / "daily.parquet")
        ]


def test_a_large_result_streams_past_the_limit(tmp_path, result):
    store.save_run(result, tmp_path)
    with Catalog(tmp_path, read_only=True) as catalog:
        head, total = catalog.query_head("SELECT range AS n FROM range(3000000)", 5)
    assert head["n"].tolist() == [0, 1, 2, 3, 4] and total == 3_000_000


def test_every_row_streams_to_a_sink_in_batches_under_one_header(tmp_path, result, monkeypatch):
    monkeypatch.setattr(store, "STREAM_ROWS", 1000)
    store.save_run(result, tmp_path)
    got: list[tuple[pd.DataFrame, bool]] = []
    with Catalog(tmp_path, read_only=True) as catalog:
        sql = "SELECT range AS n, 2 * range AS twice FROM range(2500)"
        frame, total = catalog.query_head(sql, None, sink=lambda f, first: got.append((f, first)))
        assert frame.empty and total == 2500  # nothing held: every row went to the sink
        assert len(got) >= 3 and max(len(f) for f, _ in got) <= 1000
        assert [first for _, first in got] == [True] + [False] * (len(got) - 1)
        rows = pd.concat([f for f, _ in got], ignore_index=True)
        assert rows["n"].tolist() == list(range(2500)) and (rows["twice"] == 2 * rows["n"]).all()
        got.clear()
        _, total = catalog.query_head(
            "SELECT 1 AS n WHERE false", None, sink=lambda f, first: got.append((f, first))
        )
    assert total == 0 and [(list(f.columns), first) for f, first in got] == [(["n"], True)]


def age_folder(folder: Path) -> None:
    old = time.time() - 2 * store.ABANDONED_AFTER_S
    os.utime(folder, (old, old))


def test_a_copied_run_folder_never_costs_a_later_run_its_result(tmp_path, result):
    import shutil

    root = tmp_path / "runs"
    run_id, folder = store.save_run(result, root)
    shutil.copytree(folder, root / f"{run_id}-backup")  # cp -r RUN RUN-backup
    age_folder(root / f"{run_id}-backup")
    notes: list[str] = []
    second, _ = store.save_run(result, root, note=notes.append)  # no ConstraintException
    assert notes == []
    with Catalog(root, read_only=True) as catalog:
        assert sorted(catalog.runs()["run_id"]) == sorted([run_id, second])
    waiting, problems = store.index_pending(root)
    assert waiting == [] and len(problems) == 1
    assert f"{run_id}-backup" in problems[0] and "already indexed" in problems[0]


def test_a_moved_runs_folder_points_at_its_own_runs(tmp_path, result):
    root = tmp_path / "runs"
    run_id, _ = store.save_run(result, root)
    moved = tmp_path / "moved"
    root.rename(moved)
    with Catalog(moved, read_only=True) as catalog:
        assert catalog.resolve(run_id) == moved / run_id
        assert catalog.resolve("latest").resolve() == (moved / run_id).resolve()
        assert catalog.query("SELECT count(*) AS n FROM daily")["n"].tolist() == [len(result.daily)]


def test_the_index_is_rebuilt_from_the_folders(tmp_path, result):
    import shutil

    root = tmp_path / "runs"
    first, folder = store.save_run(result, root)
    second, _ = store.save_run(result, root)
    shutil.copytree(folder, root / "a-copy")
    (root / store.CATALOG_NAME).write_bytes(b"not a database")
    count, problems = store.rebuild_index(root)
    assert count == 2 and len(problems) == 1 and "a-copy" in problems[0]
    with Catalog(root, read_only=True) as catalog:
        rows = catalog.runs()
    assert sorted(rows["run_id"]) == sorted([first, second])
    assert {Path(p).name for p in rows["path"]} == {first, second}


def test_a_reader_holding_the_catalog_never_makes_a_finished_run_delete_itself(
    tmp_path, result, monkeypatch
):
    root = tmp_path / "runs"
    store.save_run(result, root)
    monkeypatch.setattr(store, "LOCK_WAIT_S", 0.5)
    notebook = duckdb.connect(str(root / store.CATALOG_NAME), read_only=True)  # held open
    try:
        notes: list[str] = []
        run_id, folder = store.save_run(result, root, note=notes.append)
        assert folder.is_dir() and store.load_run(folder).seeds == result.seeds
        assert len(notes) == 1 and "not yet indexed" in notes[0]
        assert store.index_pending(root, wait_s=0.2)[0] == [folder]  # still busy
    finally:
        notebook.close()
    waiting, problems = store.index_pending(root)
    assert waiting == [] and problems == []
    with Catalog(root, read_only=True) as catalog:
        assert run_id in set(catalog.runs()["run_id"])


def test_a_long_query_does_not_hold_the_catalog(tmp_path, result):
    root = tmp_path / "runs"
    store.save_run(result, root)
    with Catalog(root, read_only=True) as reader:
        with Catalog(root, wait_s=0) as writer:  # a finishing run gets in at once
            assert len(writer.runs()) == 1
        assert len(reader.runs()) == 1


def test_a_tampered_run_id_never_names_a_path(tmp_path, result):
    _, folder = store.save_run(result, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "run_id": "../../x"}))
    assert store.load_run(folder).file_id == folder.name
    assert store.safe_name("../../x") == "-..-x" and "/" not in store.safe_name("a/../b")


@pytest.mark.parametrize("seeds", [[4294967296], [3, 3], [-1], [True]])
def test_seeds_out_of_range_in_meta_json_are_one_line(tmp_path, result, seeds):
    _, folder = store.save_run(result, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "seeds": seeds}))
    with pytest.raises(StoreError, match="meta.json: damaged run file .*seeds"):
        store.load_run(folder)


def test_a_run_id_that_is_a_path_is_refused(tmp_path, result):
    with pytest.raises(StoreError, match="not a well-formed id"):
        store.save_run(result, tmp_path / "runs", run_id="../../outside")
    assert not (tmp_path / "outside").exists()


# ------------------------------------------------------------------------------ packs


def counts_by_run(root: Path, table: str = "daily") -> dict[str, int]:
    with Catalog(root, read_only=True) as catalog:
        frame = catalog.query(f"SELECT run_id, count(*) AS n FROM {table} GROUP BY run_id")
    return dict(zip(frame["run_id"], frame["n"]))


def packed_runs(root: Path) -> list[str]:
    with Catalog(root, read_only=True) as catalog:
        rows = catalog.con.execute("SELECT run_id FROM packs ORDER BY run_id").fetchall()
    return [r for (r,) in rows]


def test_packed_runs_answer_queries_as_their_own_files_do(tmp_path, result, monkeypatch):
    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    ids = [store.save_run(result, root)[0] for _ in range(3)]
    assert packed_runs(root) == sorted(ids[:2])  # packed at the second; the third is loose
    for table in store.TABLES:
        assert (root / store.PACKS_FOLDER / table).is_dir()
        expected = len(getattr(result, table))
        assert counts_by_run(root, table) == {run_id: expected for run_id in ids}
    with Catalog(root, read_only=True) as catalog:
        frame = catalog.query("SELECT * FROM daily ORDER BY run_id, seed, day, platform_id")
    assert list(frame.columns) == ["run_id", *result.daily.columns]
    for run_id in ids:  # the same values from a pack as from the run's own file
        rows = frame[frame["run_id"] == run_id].drop(columns="run_id").reset_index(drop=True)
        own = store.load_run(root / run_id).daily
        own = own.sort_values(["seed", "day", "platform_id"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, own, check_dtype=False)


def test_a_packed_run_whose_folder_is_removed_leaves_the_views(tmp_path, result, monkeypatch):
    import shutil

    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    first, folder = store.save_run(result, root)
    second, _ = store.save_run(result, root)
    assert packed_runs(root) == sorted([first, second])
    shutil.rmtree(folder)
    assert set(counts_by_run(root)) == {second}


def test_a_run_indexed_again_is_read_from_its_folder_not_an_old_pack(tmp_path, result, monkeypatch):
    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    first, folder = store.save_run(result, root)
    store.save_run(result, root)
    with Catalog(root) as catalog:  # as a sweep does with a variant it runs again
        catalog.con.execute("DELETE FROM runs WHERE run_id = ?", [first])
        store.write_parquet(result.daily.head(1), folder / "daily.parquet")
        catalog.register(first, folder, name="again", days=1, seeds=[0])
    assert counts_by_run(root)[first] == 1


def test_a_damaged_pack_is_named_and_its_runs_read_from_their_folders(
    tmp_path, result, monkeypatch
):
    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    ids = [store.save_run(result, root)[0] for _ in range(2)]
    (pack,) = (root / store.PACKS_FOLDER / "daily").glob("*.parquet")
    pack.write_bytes(b"PAR1 not parquet at all PAR1")
    with Catalog(root, read_only=True) as catalog:
        frame = catalog.query("SELECT run_id, count(*) AS n FROM daily GROUP BY run_id")
        assert catalog.skipped == [str(pack)]
    assert dict(zip(frame["run_id"], frame["n"])) == {i: len(result.daily) for i in ids}


def test_a_run_with_a_damaged_table_is_not_packed(tmp_path, result, monkeypatch):
    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    first, folder = store.save_run(result, root)
    (folder / "flows.parquet").write_bytes(b"PAR1 not parquet at all PAR1")
    second, _ = store.save_run(result, root)
    with Catalog(root) as catalog:
        assert catalog.pack(min_runs=1) == 0  # the second run alone was packed already
    assert packed_runs(root) == [second]
    assert counts_by_run(root) == {first: len(result.daily), second: len(result.daily)}


def test_packs_move_with_the_runs_folder_and_are_made_again_by_a_rebuild(
    tmp_path, result, monkeypatch
):
    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    ids = [store.save_run(result, root)[0] for _ in range(2)]
    moved = tmp_path / "moved"
    root.rename(moved)
    assert counts_by_run(moved) == {i: len(result.daily) for i in ids}
    (old,) = (moved / store.PACKS_FOLDER / "daily").glob("*.parquet")
    count, problems = store.rebuild_index(moved)
    assert (count, problems) == (2, [])
    (new,) = (moved / store.PACKS_FOLDER / "daily").glob("*.parquet")
    assert new != old and not old.exists()  # the old catalog's pack is removed
    assert packed_runs(moved) == sorted(ids)
    assert counts_by_run(moved) == {i: len(result.daily) for i in ids}


def test_a_rebuild_holds_the_old_catalog_so_no_finishing_run_writes_into_it(
    tmp_path, result, monkeypatch
):
    root = tmp_path / "runs"
    store.save_run(result, root)
    scanning, finish = threading.Event(), threading.Event()
    index_sweeps = store._index_sweeps

    def paused(*args):
        scanning.set()
        finish.wait(60)
        return index_sweeps(*args)

    monkeypatch.setattr(store, "_index_sweeps", paused)
    rebuild = threading.Thread(target=store.rebuild_index, args=(root,))
    rebuild.start()
    try:
        assert scanning.wait(60)
        probe = (  # another process, as a run finishing would open the catalog to index itself
            "import sys; from twosided import store\n"
            "try:\n    store.Catalog(sys.argv[1], wait_s=0).close()\n"
            "except store.StoreError as err:\n    print(err)\n"
        )
        opened = subprocess.run(
            [sys.executable, "-c", probe, str(root)], capture_output=True, text=True, timeout=120
        )
        assert "cannot open the catalog" in opened.stdout and "lock" in opened.stdout.lower()
    finally:
        finish.set()
        rebuild.join(60)
    with Catalog(root, wait_s=0) as catalog:  # free again once the new catalog is in place
        assert len(catalog.runs()) == 1


def test_packs_of_one_tier_are_merged_so_that_few_files_hold_many_runs(
    tmp_path, result, monkeypatch
):
    monkeypatch.setattr(store, "PACK_RUNS", 1)
    monkeypatch.setattr(store, "MERGE_PACKS", 2)
    root = tmp_path / "runs"
    ids = [store.save_run(result, root)[0] for _ in range(5)]
    with Catalog(root, read_only=True) as catalog:
        sizes = catalog.con.execute(
            "SELECT count(*) AS n FROM packs GROUP BY pack_id ORDER BY n DESC"
        ).fetchall()
    assert [n for (n,) in sizes] == [4, 1]  # 1+1 -> 2, 1+1 -> 2, 2+2 -> 4; the fifth alone
    for table in store.TABLES:  # the merged packs' files are gone: one file per pack
        assert len(list((root / store.PACKS_FOLDER / table).glob("*.parquet"))) == 2
        assert counts_by_run(root, table) == {i: len(getattr(result, table)) for i in ids}


def test_a_query_of_several_tables_reads_each_from_the_packs_that_hold_it(
    tmp_path, result, monkeypatch
):
    monkeypatch.setattr(store, "PACK_RUNS", 2)
    root = tmp_path / "runs"
    without = []
    for _ in range(2):  # a pack of runs that have no switches table at all
        without.append(store.save_run(result, root)[0])
    with Catalog(root) as catalog:
        catalog.con.execute("DELETE FROM packs")
    for run_id in without:
        (root / run_id / "switches.parquet").unlink()
    with Catalog(root) as catalog:
        assert catalog.pack() == 2
    with_switches = [store.save_run(result, root)[0] for _ in range(2)]
    assert len(packed_runs(root)) == 4
    with Catalog(root, read_only=True) as catalog:
        frame = catalog.query(
            "SELECT (SELECT count(DISTINCT run_id) FROM daily) AS daily, "
            "(SELECT count(DISTINCT run_id) FROM switches) AS switches"
        )
    assert frame.iloc[0].tolist() == [4, 2]
    assert set(counts_by_run(root, "switches")) == set(with_switches)
