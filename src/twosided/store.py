"""Results store: run folders written atomically, indexed by an embedded DuckDB catalog.

A run folder appears only complete: it is written under a hidden temporary name in the
same parent and renamed into place at the end (a rename is atomic on one filesystem).
A catalog row is inserted only after that rename, in one transaction, so the catalog never
points at files that are not there. Interrupting a run removes its temporary folder. A
process killed outright (SIGKILL, power loss) cannot clean up: it may leave a hidden
``.tmp-*`` folder, which nothing reads and the next ``save_run`` under the same root
removes (a writer holds a lock on its temporary folder, so only abandoned ones go), or a
complete run folder killed before its catalog row was committed, which the next
``save_run`` registers.

The catalog (``<root>/catalog.duckdb``) has one table, ``runs``, and views ``daily``,
``accounts``, ``flows`` and ``switches`` over the Parquet files of every registered run, so
that users can query across runs with SQL (``twosided runs --sql "..."``). So that a query
costs about the same over 10,000 runs as over 10 (DuckDB spends about 0.3 s on a scan of
10,000 files before reading any), the tables of every ``PACK_RUNS`` runs indexed are also
gathered into one *pack* file per table (``<root>/.packs/<table>/<pack>.parquet``, with a
``run_id`` column), and packs are merged ``MERGE_PACKS`` at a time as they accumulate: a
copy kept as a cache, which the views read for the runs it holds whose folders are still
there; the run folders stay the record (``rebuild_index`` packs them again).

A run folder holds ``scenario.toml`` (the resolved scenario, every field), ``daily.parquet``,
``accounts.parquet``, ``flows.parquet``, ``switches.parquet``, ``summary.json`` (per-platform
totals computed from ``daily.parquet``), ``meta.json`` (versions, device, seeds, command
line) and ``report.html``. ``save_run`` writes one; ``load_run`` reads one back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import platform as host
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twosided import atomic
from twosided.atomic import (  # noqa: F401  (re-exported: the store's writers)
    ABANDONED_AFTER_S,
    TMP_PREFIX,
    atomic_file,
    remove_abandoned,
)
from twosided.metrics import KEY_OUTCOMES, summarize
from twosided.outcomes import MULTIHOMING, NOT_ADDITIVE
from twosided.scenario import load_scenario, one_line
from twosided.sim.precision import ENGINE_X64
from twosided.simulation import MAX_SEED, MAX_SEEDS, Result

DEFAULT_ROOT = Path("twosided-runs")
CATALOG_NAME = "catalog.duckdb"
TABLES = ("daily", "accounts", "flows", "switches")
# what every reader of daily.parquet needs: the keys and the key outcomes
RUN_KEY_COLUMNS = ("seed", "day", "platform", "platform_id", *KEY_OUTCOMES)
# the statements `twosided runs --sql` runs: queries only
QUERY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
QUERY_POLL_S = 0.1  # how often the waiting thread looks up for a Ctrl-C
STREAM_ROWS = 100_000  # rows of a --sql result fetched at a time beyond --limit
SCENARIO_FILE = "scenario.toml"
SUMMARY_FILE = "summary.json"
META_FILE = "meta.json"
REPORT_FILE = "report.html"
RUN_FILES = (SCENARIO_FILE, *(f"{t}.parquet" for t in TABLES))  # what load_run reads
LATEST = "latest"
LOCK_WAIT_S = 30.0  # how long to wait for another process's hold on the catalog
LOCK_POLL_S = 0.2
PACKS_FOLDER = ".packs"  # under the root: one folder per run table, a file per pack
PACK_RUNS = 64  # runs indexed and not yet packed that make a new pack
MERGE_PACKS = 8  # packs of one size tier that are merged into one of the next tier

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id     VARCHAR PRIMARY KEY,
    kind       VARCHAR NOT NULL,      -- 'run' or 'sweep'
    name       VARCHAR NOT NULL,      -- the scenario's name
    created    TIMESTAMP NOT NULL,
    days       INTEGER NOT NULL,
    seeds      VARCHAR NOT NULL,      -- JSON list
    path       VARCHAR NOT NULL,      -- the run folder, relative to the catalog's folder
    sweep_id   VARCHAR,               -- the sweep a variant belongs to
    variant    VARCHAR,               -- JSON of the varied values of a sweep variant
    meta       VARCHAR                -- JSON: versions, device, headline figures
);
CREATE TABLE IF NOT EXISTS packs (
    pack_id    VARCHAR NOT NULL,      -- the files .packs/<table>/<pack_id>.parquet
    run_id     VARCHAR NOT NULL,      -- a run whose tables' rows the pack holds
    created    TIMESTAMP NOT NULL     -- the run's row when packed (a row made again is not)
);
"""


class StoreError(ValueError):
    """A run reference or catalog request that cannot be served; one clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def safe_name(text: str) -> str:
    """``text`` as one file name: characters other than letters, digits, ``-``, ``_`` and
    ``.`` become ``-``, and it never starts with a dot (``..`` names no folder above)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", text)[:200].lstrip(".")
    return cleaned or "run"


def new_run_id(name: str) -> str:
    """A sortable, unique run id: UTC time, scenario name, and a short random suffix."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:40] or "run"
    return f"{stamp}-{safe}-{uuid.uuid4().hex[:6]}"


def atomic_folder(final: Path) -> contextlib.AbstractContextManager[Path]:
    """``atomic.atomic_folder``: a temporary folder that becomes ``final`` only if the block
    completes; an existing ``final`` is a ``StoreError``."""
    return atomic.atomic_folder(final, exists_error=StoreError)


def probe_writable(folder: Path | str) -> None:
    """Raise ``OSError`` unless a file can be written in ``folder`` (created if needed):
    creates the folder, writes and removes a probe file, then removes the folders it
    created, so that nothing is left behind."""
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{TMP_PREFIX}probe-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    finally:
        for path in created:  # deepest first
            with contextlib.suppress(OSError):
                path.rmdir()


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet (zstd-compressed)."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")


def write_json(data: Any, path: Path) -> None:
    """Write JSON with a stable layout (plainly: callers write into temporary places)."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    path.write_text(text + "\n", encoding="utf-8")


class Catalog:
    """The DuckDB index of run folders under ``root``.

    Folders are recorded relative to ``root`` (``path``), so a runs folder that is copied
    or moved keeps a working catalog. A read-only catalog takes a copy of the index and
    closes the file at once: a reader, however long it runs a query, never keeps a run
    that is finishing from indexing itself.
    """

    def __init__(
        self, root: Path | str = DEFAULT_ROOT, read_only: bool = False, wait_s: float | None = None
    ) -> None:
        self.root = Path(root)
        self.path = self.root / CATALOG_NAME
        self.read_only = read_only
        self.skipped: list[str] = []  # damaged run files the last query left out
        if read_only:
            self.con = duckdb.connect(":memory:")
            self.con.execute(_SCHEMA)
            if self.path.exists():
                _copy_index(self.path, self.con)
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            self.con = _connect(self.path, read_only, wait_s)
            self.con.execute(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self.con.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def relative(self, folder: Path) -> str:
        """How the catalog records a folder: relative to the root where it lies under it."""
        folder = Path(folder).resolve()
        try:
            return folder.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(folder)

    def folder(self, recorded: str) -> Path:
        """The folder a catalog row points at (relative paths are under the root)."""
        path = Path(recorded)
        return path if path.is_absolute() else self.root / path

    def register(
        self,
        run_id: str,
        folder: Path,
        *,
        name: str,
        days: int,
        seeds: list[int],
        kind: str = "run",
        sweep_id: str | None = None,
        variant: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Index a complete run folder, in one transaction. An id already indexed for
        another folder (a copy of a run folder) is a ``DuplicateRun``."""
        folder = Path(folder)
        if not folder.is_dir():
            raise StoreError(f"{folder}: not a run folder")
        recorded = self.relative(folder)
        known = self.con.execute("SELECT path FROM runs WHERE run_id = ?", [run_id]).fetchall()
        if known and known[0][0] == recorded:
            return  # indexed already (by another process adopting it)
        if known:
            raise DuplicateRun(run_id, folder, self.folder(known[0][0]))
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    kind,
                    name,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    days,
                    json.dumps(seeds),
                    recorded,
                    sweep_id,
                    json.dumps(variant, sort_keys=True) if variant is not None else None,
                    json.dumps(meta or {}, sort_keys=True, default=str),
                ],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        with contextlib.suppress(OSError, duckdb.Error, StoreError):  # a cache: never fails it
            self.pack()

    def pack(self, min_runs: int | None = None) -> int:
        """Gather the tables of the runs indexed but not packed into one new pack file per
        table, once there are at least ``min_runs`` of them (``PACK_RUNS``); runs with a
        damaged table stay out (their own files are read, and named, by a query). Each file
        appears complete (``atomic_file``) before the pack's rows are committed, so a pack
        that a query can see is whole. Returns how many runs were packed."""
        min_runs = PACK_RUNS if min_runs is None else min_runs
        rows = self.con.execute(
            "SELECT r.run_id, r.path, r.created FROM runs AS r ANTI JOIN packs AS p "
            "ON r.run_id = p.run_id AND r.created = p.created ORDER BY r.run_id"
        ).fetchall()
        if not rows or len(rows) < min_runs:
            return 0
        files = {
            run_id: {t: self.folder(path) / f"{t}.parquet" for t in TABLES}
            for run_id, path, _ in rows
        }
        whole = [r for r in rows if all(_readable(f) for f in files[r[0]].values())]
        if not whole:
            return 0
        pack_id = _new_pack_id()
        for table in TABLES:
            present = [(r[0], str(files[r[0]][table])) for r in whole]
            present = [(run_id, f) for run_id, f in present if Path(f).is_file()]
            if present:
                _write_pack(present, self.root / PACKS_FOLDER / table / f"{pack_id}.parquet")
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.executemany(
                "INSERT INTO packs VALUES (?, ?, ?)", [(pack_id, r[0], r[2]) for r in whole]
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self._merge_packs()
        return len(whole)

    def _merge_packs(self) -> None:
        """Keep the packs few: once ``MERGE_PACKS`` packs of one size tier exist (tier 0:
        fewer than ``PACK_RUNS · MERGE_PACKS`` runs, tier 1: fewer than that times
        ``MERGE_PACKS``, ...), they are merged into one pack of the next tier, as a
        log-structured merge tree does (O'Neil et al. 1996), so that a catalog of N runs has
        at most ``MERGE_PACKS - 1`` packs per tier, about ``log(N)`` tiers, and each run's
        rows are rewritten once per tier. The merged files appear complete before the index
        names them; the old files are removed after (a query that listed them meanwhile
        finds them gone, and reads those runs from their folders)."""
        while True:
            sizes = self.con.execute(
                "SELECT pack_id, count(*) FROM packs GROUP BY pack_id ORDER BY pack_id"
            ).fetchall()
            tiers: dict[int, list[str]] = {}
            for pack_id, runs in sizes:
                tiers.setdefault(_pack_tier(runs), []).append(pack_id)
            full = [ids for _, ids in sorted(tiers.items()) if len(ids) >= MERGE_PACKS]
            if not full:
                return
            merged, merged_id = full[0][:MERGE_PACKS], _new_pack_id()
            for table in TABLES:
                sources = [self.root / PACKS_FOLDER / table / f"{p}.parquet" for p in merged]
                sources = [f for f in sources if f.is_file()]
                if sources:
                    _write_merged(
                        sources, self.root / PACKS_FOLDER / table / f"{merged_id}.parquet"
                    )
            self.con.execute("BEGIN TRANSACTION")
            try:
                marks = ", ".join("?" * len(merged))
                self.con.execute(
                    f"UPDATE packs SET pack_id = ? WHERE pack_id IN ({marks})", [merged_id, *merged]
                )
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            for table in TABLES:
                for pack_id in merged:
                    (self.root / PACKS_FOLDER / table / f"{pack_id}.parquet").unlink(
                        missing_ok=True
                    )

    def runs(self, kind: str | None = None) -> pd.DataFrame:
        """Registered runs, newest first (``path``: the folder, absolute)."""
        sql = "SELECT run_id, kind, name, created, days, seeds, path, sweep_id, variant FROM runs"
        params: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            params.append(kind)
        frame = self.con.execute(sql + " ORDER BY created DESC, run_id DESC", params).df()
        frame["path"] = [str(self.folder(p).resolve()) for p in frame["path"]]
        return frame

    def resolve(self, ref: str) -> Path:
        """A run folder from a run id, a unique id prefix, ``latest``, or a folder path."""
        path = Path(ref)
        if path.is_dir() and any((path / name).exists() for name in (*RUN_FILES, META_FILE)):
            return path  # a run folder (load_run says what it lacks)
        if ref == LATEST:
            newest = self.runs(kind="run")
            if newest.empty:
                raise StoreError(f"run '{ref}': no runs in {self.path}")
            return Path(newest["path"].iloc[0])
        rows = self.con.execute(
            "SELECT run_id, path FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' "
            "ORDER BY run_id",
            [ref, like_prefix(ref)],
        ).fetchall()
        exact = [r for r in rows if r[0] == ref]
        if exact:
            rows = exact
        if not rows and path.is_dir():
            missing = ", ".join(RUN_FILES)
            raise StoreError(f"{ref}: not a run folder (missing {missing}) nor a run id")
        if not rows:
            raise StoreError(f"run '{ref}' not found in {self.path}")
        if len(rows) > 1:
            raise StoreError(f"run '{ref}' is ambiguous ({len(rows)} runs match)")
        return self.folder(rows[0][1])

    # ----------------------------------------------------------------- --sql
    def _query_connection(self, sql: str) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory connection for a user's query: the index as table ``runs``, a
        view per run table the query names (over the packs and the files of the runs not
        packed: ``_create_view``), and then no access to files outside the runs folder, no
        extensions and a locked configuration."""
        con = duckdb.connect(
            ":memory:",
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
        try:
            con.execute(_SCHEMA)
            con.register("_index", self.con.sql("SELECT * FROM runs").to_arrow_table())
            con.execute("INSERT INTO runs SELECT * FROM _index")
            con.unregister("_index")
            root = str(self.root.resolve())
            named = {t for t in TABLES if re.search(rf"\b{t}\b", sql, re.IGNORECASE)}
            sources = self._sources() if named else ({}, [])
            for table in sorted(named):
                self._create_view(con, table, *sources)
            con.execute(f"SET allowed_directories = [{_sql_text(root + '/')}]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except BaseException:
            con.close()
            raise
        return con

    def _sources(self) -> tuple[dict[str, list[str]], list[tuple[str, Path]]]:
        """Where the rows of the indexed runs whose folders exist are read from: the packs
        (pack id -> its runs, for the runs it holds in their current catalog row) and the
        runs not packed (run id, folder). Folders are checked by listing the runs folder
        and its sweeps (a few directory reads, not a check per run)."""
        rows = self.con.execute(
            "SELECT r.run_id, r.path, p.pack_id FROM runs AS r LEFT JOIN packs AS p "
            "ON r.run_id = p.run_id AND r.created = p.created "
            "QUALIFY row_number() OVER (PARTITION BY r.run_id ORDER BY p.pack_id) = 1"
        ).fetchall()  # one pack per run, should two ever hold it
        existing = _existing_folders(self.root)
        damaged = {Path(f).stem for f in self.skipped if PACKS_FOLDER in Path(f).parts}
        packs: dict[str, list[str]] = {}
        loose: list[tuple[str, Path]] = []
        for run_id, path, pack_id in rows:  # plain strings: 10,000 Paths cost ~0.1 s
            if path not in existing and not self.folder(path).is_dir():
                continue  # a folder removed by hand: its rows are gone too
            if pack_id is not None and pack_id not in damaged:
                packs.setdefault(pack_id, []).append(run_id)
            else:
                loose.append((run_id, self.folder(path)))
        return packs, loose

    def _create_view(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        packs: dict[str, list[str]],
        loose: list[tuple[str, Path]],
    ) -> None:
        """View ``table`` over the indexed runs: the pack files holding the runs packed
        (only those runs' rows: a run indexed again since, or whose folder is gone, is
        left out) and the files of the runs not packed, by name (never a glob of folders
        the index does not know, so copies are left out). Files of several layouts (runs
        of other versions) are matched by column name; files found damaged are left out,
        and the runs of a damaged pack are read from their folders."""
        skipped = set(self.skipped)
        pack_files = {
            pack_id: self.root / PACKS_FOLDER / table / f"{pack_id}.parquet" for pack_id in packs
        }
        pack_files = {k: f for k, f in pack_files.items() if f.is_file()}
        files = [(run_id, folder / f"{table}.parquet") for run_id, folder in loose]
        files = [(run_id, f) for run_id, f in files if f.is_file() and str(f) not in skipped]
        parts = []
        if pack_files:
            # one table of packed runs per view: a pack lacks the file of a table none of
            # its runs has (no switches at all), so the runs read from packs vary by table
            _temp_table(con, f"_{table}_packed", run_id=[r for k in pack_files for r in packs[k]])
            listing = ", ".join(_sql_text(str(f)) for f in pack_files.values())
            parts.append(
                f"SELECT * FROM read_parquet([{listing}], union_by_name = true) "
                f"WHERE run_id IN (SELECT run_id FROM _{table}_packed)"
            )
        if files:
            names = [str(f) for _, f in files]
            _temp_table(con, f"_{table}_files", run_id=[r for r, _ in files], file=names)
            listing = ", ".join(_sql_text(f) for f in names)
            parts.append(
                f"SELECT f.run_id, t.* EXCLUDE (filename) FROM read_parquet([{listing}], "
                f"filename = true, union_by_name = true) AS t "
                f"JOIN _{table}_files AS f ON t.filename = f.file"
            )
        if not parts:  # no run has this table (or every one is damaged): no rows
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT NULL::VARCHAR AS run_id WHERE false"
            )
            return
        body = " UNION ALL BY NAME ".join(f"({part})" for part in parts)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {body}")

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL queries against the catalog (table ``runs``; views ``daily``,
        ``accounts``, ``flows``, ``switches`` over every registered run, with a ``run_id``
        column) and return the last one's whole result (``query_head`` for a part)."""
        frame, _ = self.query_head(sql, None)
        return frame

    def query_head(
        self,
        sql: str,
        limit: int | None,
        sink: Callable[[pd.DataFrame, bool], None] | None = None,
    ) -> tuple[pd.DataFrame, int]:
        """The first ``limit`` rows of the last query's result (all for None) and how many
        rows it has: the rest is counted as it streams, never held in memory. With
        ``sink``, every row is handed to it instead, ``STREAM_ROWS`` at a time (a frame and
        whether it is the first), and the frame returned is empty (``--csv``).

        Only plain queries are run (``SELECT``, ``WITH``, ``DESCRIBE``, ``EXPLAIN`` of a
        query): a statement that would write (``COPY``, ``EXPORT``, ``EXPLAIN ANALYZE COPY``)
        or change the session (``SET``, ``INSTALL``) is refused before anything runs, and the
        query's connection cannot read or write files outside the runs folder nor load
        extensions. A damaged run file is left out of the views, and named in
        ``self.skipped``. The query runs in a worker thread so that Ctrl-C reaches Python
        and interrupts DuckDB (``KeyboardInterrupt``) instead of waiting for it to finish."""
        statements = _plain_queries(self.con, sql)
        self.skipped = []
        handed = [False]  # whether the sink has had rows (then a retry would repeat them)

        def counted(frame: pd.DataFrame, first: bool) -> None:
            assert sink is not None
            sink(frame, first)
            handed[0] = True

        while True:
            try:
                return self._run_head(sql, statements, limit, counted if sink else None)
            except StoreError as err:
                damaged = _damaged_file(str(err), self.root)
                if damaged is None or damaged in self.skipped or handed[0]:
                    raise
                self.skipped.append(damaged)

    def _run_head(
        self,
        sql: str,
        statements: list[Any],
        limit: int | None,
        sink: Callable[[pd.DataFrame, bool], None] | None,
    ) -> tuple[pd.DataFrame, int]:
        try:
            con = self._query_connection(sql)
        except duckdb.Error as err:
            raise StoreError(f"--sql: {_first_line(err)}") from None

        def work() -> tuple[pd.DataFrame, int]:
            for statement in statements[:-1]:  # run (errors are reported), result dropped
                con.execute(statement)
                con.abort()
            result = con.sql(statements[-1].query)
            if result is None:  # pragma: no cover - every plain query has a result
                return pd.DataFrame(), 0
            if sink is not None:
                reader, total = result.to_arrow_reader(STREAM_ROWS), 0
                for batch in reader:
                    if batch.num_rows or total == 0:
                        sink(pa.Table.from_batches([batch]).to_pandas(), total == 0)
                    total += batch.num_rows
                if total == 0:  # no batch at all: the header alone
                    sink(reader.schema.empty_table().to_pandas(), True)
                return pd.DataFrame(), total
            if limit is None:
                frame = result.df()
                return frame, len(frame)
            reader = result.to_arrow_reader(max(1, min(limit, STREAM_ROWS)) or STREAM_ROWS)
            head, total = [], 0
            for batch in reader:
                if total < limit:
                    head.append(batch.slice(0, limit - total))
                total += batch.num_rows
            schema = reader.schema
            table = pa.Table.from_batches(head, schema=schema)
            return table.to_pandas(), total

        try:
            return _in_worker(work, con)
        finally:
            con.close()


def _existing_folders(root: Path) -> set[str]:
    """The folders directly under ``root`` and the sweep variants' folders
    (``sweeps/SWEEP/VARIANT``), as the catalog records them (relative, POSIX)."""

    def names(folder: Path) -> list[str]:
        try:
            return [e.name for e in os.scandir(folder) if e.is_dir()]
        except OSError:
            return []

    found = set(names(root))
    for sweep in names(root / "sweeps"):
        found.update(f"sweeps/{sweep}/{v}" for v in names(root / "sweeps" / sweep))
    return found


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, **columns: list[str]) -> None:
    """A temporary table of text columns (through Arrow: one insert, not one per row)."""
    con.register("_rows", pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def _readable(path: Path) -> bool:
    """Whether a run table's file is absent or a Parquet file whose footer reads."""
    if not path.exists():
        return True
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError):
        return False
    return True


def _new_pack_id() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


def _pack_tier(runs: int) -> int:
    """The size tier of a pack of ``runs`` runs (0 below ``PACK_RUNS · MERGE_PACKS``)."""
    tier, bound = 0, PACK_RUNS * MERGE_PACKS
    while runs >= bound:
        tier, bound = tier + 1, bound * MERGE_PACKS
    return tier


def _write_merged(sources: list[Path], final: Path) -> None:
    """One Parquet file of the rows of several pack files, sorted by run."""
    con = duckdb.connect(":memory:")
    try:
        listing = ", ".join(_sql_text(str(f)) for f in sources)
        with atomic.atomic_file(final) as tmp:
            con.execute(
                f"COPY (SELECT * FROM read_parquet([{listing}], union_by_name = true) "
                f"ORDER BY run_id) TO {_sql_text(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
            )
    finally:
        con.close()


def _write_pack(files: list[tuple[str, str]], final: Path) -> None:
    """One Parquet file of the rows of the given (run id, file) tables, with a ``run_id``
    column first, sorted by run (so that a filter on ``run_id`` skips row groups)."""
    con = duckdb.connect(":memory:")
    try:
        _temp_table(con, "_files", run_id=[r for r, _ in files], file=[f for _, f in files])
        listing = ", ".join(_sql_text(f) for _, f in files)
        with atomic.atomic_file(final) as tmp:
            con.execute(
                f"COPY (SELECT f.run_id, t.* EXCLUDE (filename) FROM read_parquet([{listing}], "
                "filename = true, union_by_name = true) AS t JOIN _files AS f "
                f"ON t.filename = f.file ORDER BY f.run_id) TO {_sql_text(str(tmp))} "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
    finally:
        con.close()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plain_queries(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """The statements of ``sql`` if every one is a plain query; a ``StoreError`` naming
    the first that is not. ``EXPLAIN`` is looked into: ``EXPLAIN ANALYZE`` runs what it
    explains, so what it wraps must be a query too."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as err:
        raise StoreError(f"--sql: {_first_line(err)}") from None
    if not statements:
        raise StoreError("--sql: empty query (nothing but blanks, comments or ';')")
    for statement in statements:
        kind = _inner_type(con, statement)
        if kind not in QUERY_STATEMENTS - {duckdb.StatementType.EXPLAIN}:
            name = kind.name.replace("_", " ") if kind is not None else "unreadable"
            raise StoreError(
                f"--sql: only queries are run (SELECT, WITH, DESCRIBE, "
                f"EXPLAIN of a query), not {name}"
            )
    return statements


_EXPLAIN = re.compile(
    r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*EXPLAIN(?:\s+ANALYZE)?\b", re.IGNORECASE | re.DOTALL
)


def _inner_type(con: duckdb.DuckDBPyConnection, statement: Any) -> Any:
    """A statement's type, or for ``EXPLAIN [ANALYZE] X`` the type of ``X``."""
    depth = 0
    while statement.type == duckdb.StatementType.EXPLAIN and depth < 8:
        text = getattr(statement, "query", "")
        match = _EXPLAIN.match(text)
        if match is None:
            return None
        try:
            inner = con.extract_statements(text[match.end() :])
        except duckdb.Error:
            return None
        if len(inner) != 1:
            return None
        statement, depth = inner[0], depth + 1
    return statement.type


def _damaged_file(message: str, root: Path) -> str | None:
    """The run file under ``root`` a DuckDB error is about, if it names one."""
    found = re.search(r"""["']?(/[^"'\s]+\.parquet)["']?""", message)
    if found is None:
        return None
    path = Path(found.group(1))
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return str(path)


def _in_worker(work: Callable[[], Any], con: duckdb.DuckDBPyConnection) -> Any:
    """Run ``work`` in a thread so that Ctrl-C interrupts DuckDB (``con.interrupt()``)
    and is raised here as ``KeyboardInterrupt``; DuckDB errors become ``StoreError``."""
    outcome: dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:  # keeps no DuckDB object past its end (they hold the connection)
        try:
            outcome["value"] = work()
        except duckdb.InterruptException:
            outcome["interrupted"] = True
        except duckdb.Error as err:
            outcome["message"] = _first_line(err)
        except BaseException as err:  # noqa: BLE001 - handed to the calling thread
            outcome["error"] = err
        finally:
            finished.set()

    # Waiting on an Event, not Thread.join: a join interrupted by Ctrl-C marks a thread
    # that is still running as stopped (Python 3.11, bpo-45274).
    threading.Thread(target=target, name="twosided-sql", daemon=True).start()
    try:
        while not finished.wait(QUERY_POLL_S):
            pass
    except KeyboardInterrupt:
        con.interrupt()
        while not finished.wait(QUERY_POLL_S):  # again, should it land between statements
            con.interrupt()
        raise
    if outcome.get("interrupted"):
        raise KeyboardInterrupt
    if "message" in outcome:
        raise StoreError(f"--sql: {outcome['message']}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class DuplicateRun(StoreError):
    """A run folder whose id is already indexed for another folder (a copy)."""

    def __init__(self, run_id: str, folder: Path, indexed: Path) -> None:
        super().__init__(
            f"{folder}: holds run {run_id}, already indexed for {indexed} (a copy?): not indexed"
        )
        self.run_id, self.folder, self.indexed = run_id, folder, indexed


def _copy_index(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """Copy the ``runs`` table of the catalog file into ``con`` and let go of the file."""
    source = _connect(path, read_only=True)
    try:
        rows = source.sql("SELECT * FROM runs").to_arrow_table()
        packed = None
        with contextlib.suppress(duckdb.CatalogException):  # a catalog made before packs
            packed = source.sql("SELECT * FROM packs").to_arrow_table()
    except duckdb.Error as err:
        raise StoreError(f"{path}: cannot read the catalog: {_first_line(err)}") from None
    finally:
        source.close()
    for table, data in (("runs", rows), ("packs", packed)):
        if data is not None:
            con.register("_index", data)
            con.execute(f"INSERT INTO {table} SELECT * FROM _index")
            con.unregister("_index")


def like_prefix(text: str) -> str:
    """A SQL ``LIKE`` pattern (escape character ``\\``) matching what starts with ``text``:
    its ``%``, ``_`` and ``\\`` stand for themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _connect(path: Path, read_only: bool, wait_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the catalog, waiting (``LOCK_WAIT_S`` unless ``wait_s``) while another process
    holds its lock."""
    deadline = time.monotonic() + (LOCK_WAIT_S if wait_s is None else wait_s)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as err:
            locked = isinstance(err, duckdb.IOException) and "lock" in str(err).lower()
            if not locked or time.monotonic() > deadline:
                message = str(err).strip().splitlines()[0]
                raise StoreError(f"{path}: cannot open the catalog: {message}") from None
            time.sleep(LOCK_POLL_S)


# --------------------------------------------------------------------------- run folders


@dataclasses.dataclass
class RunData(Result):
    """A run folder read back: a ``Result`` (same tables, same ``summary()``) with the
    folder it came from and its records."""

    folder: Path = Path(".")
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    summary_record: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The run's id, as ``meta.json`` records it (else its folder's name): to show,
        escaped; never to build a path from (``file_id``)."""
        return str(self.meta.get("run_id", self.folder.name))

    @property
    def file_id(self) -> str:
        """The run's id where it names a file: ``run_id`` if it is a well-formed id (letters,
        digits, ``-``, ``_``, ``.``), else the folder's name, made safe (``safe_name``); a
        tampered ``meta.json`` never names a path outside the folder meant."""
        if SAFE_ID.fullmatch(self.run_id):
            return self.run_id
        return safe_name(self.folder.resolve().name)


ENGINE_FOLDERS = ("sim", "scenario")  # every *.py in them
ENGINE_FILES = ("simulation.py", "metrics.py")  # besides the folders
# the records of meta.json a run's tables depend on, besides its scenario and seeds
REPRODUCIBLE = ("twosided", "engine", "jax", "jaxlib", "device", "x64", "xla_flags")


def engine_fingerprint() -> str:
    """A hash (SHA-256, hex) of the code that turns a scenario into tables (the engine, the
    simulation API, the metrics tables and the scenario schema): two runs with the same
    fingerprint, scenario, seeds, versions and device give the same tables, and results
    stored by other code are never taken for this code's (sweep ids, checkpoints)."""
    root = Path(__file__).resolve().parent
    files = [path for folder in ENGINE_FOLDERS for path in sorted((root / folder).glob("*.py"))]
    files += [root / f for f in ENGINE_FILES]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


def environment() -> dict[str, Any]:
    """What a run's numbers depend on besides its scenario and seeds, for ``meta.json``:
    versions (twosided, its engine code, JAX, jaxlib, NumPy, Python), the compute device
    and XLA's flags."""
    import jax
    import jaxlib
    import numpy

    import twosided

    device = jax.devices()[0]
    return {
        "twosided": twosided.__version__,
        "engine": engine_fingerprint(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": numpy.__version__,
        "python": host.python_version(),
        "platform": host.platform(),
        "device": device_name(device),
        "device_count": jax.device_count(),
        "x64": ENGINE_X64,  # the engine's own mode (sim.precision), not the process flag
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def device_name(device: Any) -> str:
    """``cpu``, ``gpu:NVIDIA H100 80GB HBM3``, ...: the platform and kind of a JAX device."""
    return f"{device.platform}:{getattr(device, 'device_kind', '')}".rstrip(":")


def _plain(value: Any) -> Any:
    """A JSON-safe scalar: NumPy numbers to Python, NaN to null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_record(run: Result) -> dict[str, Any]:
    """``summary.json``: per-platform totals over the run (means over seeds) and market totals.

    Flows (sessions, orders, money) are summed over days; levels (sellers, monthly active
    buyers, trust) are taken on the last day; shares and the take rate are ratios of the
    seed-averaged totals. Computed from ``daily`` alone, so it agrees with ``daily.parquet``.
    """
    table = summarize(run.daily)
    platforms = [
        {str(k): _plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")
    ]
    money = [c for c in table.columns if c.endswith("_cents")]
    counts = [
        "sessions",
        "orders",
        "active_sellers",
        "monthly_active_buyers",
        "claims",
        "sellers_entered",
        "sellers_exited",
    ]
    market = {c: _plain(table[c].sum()) for c in [*counts, *money] if c in table.columns}
    for column, own in NOT_ADDITIVE.items():  # distinct buyers and sellers, not sums
        if column in market or own in table.columns:
            market[column] = _plain(table[own].iloc[0]) if own in table.columns else None
    if MULTIHOMING[1] in table.columns:
        market[MULTIHOMING[1]] = _plain(table[MULTIHOMING[1]].iloc[0])
    gmv = market.get("gmv_cents") or 0
    market["take_rate"] = market["revenue_cents"] / gmv if gmv else None
    return {
        "scenario": run.scenario.name,
        "description": run.scenario.description,
        "days": int(run.daily["day"].nunique()),
        "seeds": [int(s) for s in run.seeds],
        "platforms": platforms,
        "market": market,
    }


def write_run(run: Result, folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write a run's files into ``folder`` (not the report); returns the summary record."""
    folder = Path(folder)
    (folder / SCENARIO_FILE).write_text(run.scenario.to_toml(), encoding="utf-8")
    for table in TABLES:
        write_parquet(getattr(run, table), folder / f"{table}.parquet")
    record = summary_record(run)
    write_json(record, folder / SUMMARY_FILE)
    write_json(meta, folder / META_FILE)
    return record


def save_run(
    run: Result,
    root: Path | str = DEFAULT_ROOT,
    *,
    meta: dict[str, Any] | None = None,
    extra: Callable[[Path], None] | None = None,
    kind: str = "run",
    sweep_id: str | None = None,
    variant: dict[str, Any] | None = None,
    run_id: str | None = None,
    note: Callable[[str], None] | None = None,
) -> tuple[str, Path]:
    """Write a complete run folder under ``root`` and then index it in the catalog.

    ``extra(folder)`` writes further files (the report) into the temporary folder before it
    is renamed into place. A finished run keeps its folder whatever happens to the index:
    if the catalog cannot be opened (another process holds it past ``LOCK_WAIT_S``) or
    refuses the row, ``note`` (default: one line on stderr) says so, and the folder is
    indexed later (``adopt_orphans``: by the next run, by ``twosided runs``, or by
    ``rebuild_index``). Returns the run id and folder.
    """
    root = Path(root)
    note = note or _note_on_stderr
    remove_abandoned(root)
    with contextlib.suppress(StoreError, duckdb.Error):  # never costs this run its result
        adopt_orphans(root)
    run_id = run_id or new_run_id(run.scenario.name)
    if not SAFE_ID.fullmatch(run_id):  # it names the folder: never a path elsewhere
        raise StoreError(
            f"run id {json.dumps(run_id)[:60]}: not a well-formed id (letters, "
            "digits, '-', '_', '.')"
        )
    final = root / run_id
    meta = {
        **environment(),
        **(meta or {}),
        "run_id": run_id,
        "seeds": list(run.seeds),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with atomic_folder(final) as tmp:
        record = write_run(run, tmp, meta)
        if extra is not None:
            extra(tmp)
    try:
        with Catalog(root) as catalog:
            catalog.register(
                run_id,
                final,
                name=run.scenario.name,
                days=record["days"],
                seeds=record["seeds"],
                kind=kind,
                sweep_id=sweep_id,
                variant=variant,
                meta={**meta, "market": record["market"]},
            )
    except (StoreError, duckdb.Error) as err:
        note(
            f"note: run {run_id} is saved in {final} but not yet indexed ({_first_line(err)}); "
            f"'twosided runs --out {root}' indexes it later"
        )
    return run_id, final


def _note_on_stderr(line: str) -> None:
    sys.stderr.write(one_line(line) + "\n")


def run_folders(root: Path | str) -> list[Path]:
    """The run folders directly under ``root`` (visible, with ``meta.json`` and
    ``summary.json``), in name order."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and (p / META_FILE).is_file()
        and (p / SUMMARY_FILE).is_file()
    )


def _register_folder(catalog: Catalog, folder: Path) -> str:
    meta, record = _read_json(folder / META_FILE), _read_json(folder / SUMMARY_FILE)
    run_id = str(meta.get("run_id", folder.name))
    try:
        catalog.register(
            run_id,
            folder,
            name=str(record["scenario"]),
            days=int(record["days"]),
            seeds=list(record["seeds"]),
            meta={**meta, "market": record.get("market")},
        )
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, StoreError):
            raise
        raise StoreError(f"{folder / SUMMARY_FILE}: damaged run file (no {err})") from None
    return run_id


def adopt_orphans(
    root: Path | str, min_age_s: float = ABANDONED_AFTER_S, problems: list[str] | None = None
) -> list[str]:
    """Register complete run folders under ``root`` that have no catalog row (a process
    killed between renaming the folder into place and committing its row, or one that could
    not open the catalog). Folders younger than ``min_age_s`` are left to the process that
    is registering them. A copy of a run folder (its id indexed for another folder) or a
    damaged one is not indexed: its line goes to ``problems``. Returns the ids registered."""
    now = time.time()
    candidates = [p for p in run_folders(root) if now - p.stat().st_mtime >= min_age_s]
    if not candidates:
        return []
    adopted = []
    with Catalog(root) as catalog:
        known = {catalog.relative(Path(p)) for p in catalog.runs()["path"]}
        for folder in candidates:
            if catalog.relative(folder) in known:
                continue
            try:
                adopted.append(_register_folder(catalog, folder))
            except StoreError as err:
                if problems is not None:
                    problems.append(str(err))
    return adopted


def index_pending(root: Path | str, wait_s: float = 1.0) -> tuple[list[Path], list[str]]:
    """Index the run folders under ``root`` the catalog does not know yet (runs that could
    not index themselves), if the catalog can be had within ``wait_s``. Returns the
    folders still not indexed and a line for each folder that cannot be (copies, damage)."""
    waiting = unindexed(root)
    if not waiting:
        return [], []
    problems: dict[Path, str] = {}
    with contextlib.suppress(StoreError, duckdb.Error):
        with Catalog(root, wait_s=wait_s) as catalog:
            known = {catalog.relative(Path(p)) for p in catalog.runs()["path"]}
            for folder in waiting:
                if catalog.relative(folder) in known:
                    continue
                try:
                    _register_folder(catalog, folder)
                except StoreError as err:
                    problems[folder] = str(err)
    return [f for f in unindexed(root) if f not in problems], list(problems.values())


def unindexed(root: Path | str) -> list[Path]:
    """Run folders under ``root`` the catalog does not know (yet), read without writing."""
    folders = run_folders(root)
    if not folders:
        return []
    with Catalog(root, read_only=True) as catalog:
        known = {catalog.relative(Path(p)) for p in catalog.runs()["path"]}
        return [f for f in folders if catalog.relative(f) not in known]


def rebuild_index(root: Path | str) -> tuple[int, list[str]]:
    """Build the catalog again from the folders under ``root`` (run folders and sweep
    variants), for a catalog that is lost, damaged or points elsewhere (a moved or copied
    runs folder). Where two folders hold one run id, the folder named after it is indexed
    and the other reported. The new catalog replaces the old one in one rename. While it is
    built, the old catalog (if it opens) is held for writing, so that a run finishing
    meanwhile waits for it (or, past ``LOCK_WAIT_S``, leaves its folder to be indexed
    later) instead of writing a row the rename would drop. Returns how many runs are
    indexed and a line per folder left out."""
    root = Path(root)
    problems: list[str] = []
    tmp = root / f"{TMP_PREFIX}{CATALOG_NAME}-{uuid.uuid4().hex[:8]}"
    count = 0
    holder = None
    if (root / CATALOG_NAME).is_file():
        with contextlib.suppress(StoreError):  # a damaged catalog: nothing to hold
            holder = _connect(root / CATALOG_NAME, read_only=False)
    try:
        catalog = Catalog.__new__(Catalog)
        catalog.root, catalog.path, catalog.read_only, catalog.skipped = root, tmp, False, []
        catalog.con = duckdb.connect(str(tmp))
        try:
            catalog.con.execute(_SCHEMA)
            folders = sorted(
                run_folders(root),
                key=lambda f: (_read_json(f / META_FILE).get("run_id", f.name) != f.name, f.name),
            )
            for folder in folders:
                try:
                    _register_folder(catalog, folder)
                    count += 1
                except StoreError as err:
                    problems.append(str(err))
            count += _index_sweeps(catalog, root, problems)
            catalog.con.execute("CHECKPOINT")
        finally:
            catalog.close()
        if holder is not None:
            holder.close()
            holder = None
        with atomic.lock(root / f"{TMP_PREFIX}rebuild.lock"):
            os.replace(tmp, root / CATALOG_NAME)
            Path(str(root / CATALOG_NAME) + ".wal").unlink(missing_ok=True)
        _remove_unused_packs(root)
    finally:
        if holder is not None:
            holder.close()
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        (root / f"{TMP_PREFIX}rebuild.lock").unlink(missing_ok=True)
    return count, problems


def _remove_unused_packs(root: Path) -> None:
    """Remove the pack files the catalog does not name (packs of a catalog rebuilt)."""
    with Catalog(root, read_only=True) as catalog:
        used = {p for (p,) in catalog.con.execute("SELECT DISTINCT pack_id FROM packs").fetchall()}
    for path in (root / PACKS_FOLDER).glob("*/*.parquet"):
        if path.stem not in used:
            with contextlib.suppress(OSError):
                path.unlink()


def _index_sweeps(catalog: Catalog, root: Path, problems: list[str]) -> int:
    """Register the variants of every sweep folder under ``root/sweeps`` from its plan."""
    count = 0
    for plan_file in sorted((root / "sweeps").glob("*/sweep.json")):
        plan = _read_json(plan_file)
        try:
            for variant in plan["variants"]:
                folder = plan_file.parent / f"v{int(variant['index']):04d}"
                if not (folder / "daily.parquet").is_file():
                    continue
                catalog.register(
                    f"{plan['sweep_id']}-v{int(variant['index']):04d}",
                    folder,
                    name=str(plan["name"]),
                    days=int(plan["days"]),
                    seeds=list(plan["seeds"]),
                    kind="sweep",
                    sweep_id=str(plan["sweep_id"]),
                    variant=variant["labels"],
                    meta={
                        "index": variant["index"],
                        "overrides": variant.get("overrides"),
                        "version": plan.get("version"),
                    },
                )
                count += 1
        except (KeyError, TypeError, ValueError) as err:
            problems.append(f"{plan_file}: damaged sweep plan ({_first_line(err)})")
    return count


def load_run(folder: Path | str) -> RunData:
    """Read a run folder back."""
    folder = Path(folder)
    missing = [name for name in RUN_FILES if not (folder / name).exists()]
    if missing:
        raise StoreError(f"{folder}: not a run folder (missing {', '.join(missing)})")
    tables = {t: _read_table(folder / f"{t}.parquet") for t in TABLES}
    missing_columns = [c for c in RUN_KEY_COLUMNS if c not in tables["daily"].columns]
    if missing_columns:
        more = f" and {len(missing_columns) - 3} more" if len(missing_columns) > 3 else ""
        raise StoreError(
            f"{folder / 'daily.parquet'}: damaged run file (no column "
            f"{', '.join(missing_columns[:3])}{more})"
        )
    meta = _read_json(folder / META_FILE)
    seeds = meta.get("seeds") or sorted(int(s) for s in tables["daily"]["seed"].unique())
    if not isinstance(seeds, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED for s in seeds
    ):
        raise StoreError(
            f"{folder / META_FILE}: damaged run file (seeds must be a list of "
            f"whole numbers from 0 to {MAX_SEED:,}, not {json.dumps(seeds)[:40]})"
        )
    if len(set(seeds)) != len(seeds) or len(seeds) > MAX_SEEDS:
        raise StoreError(
            f"{folder / META_FILE}: damaged run file (seeds must be distinct, at "
            f"most {MAX_SEEDS:,}, not {json.dumps(seeds)[:40]})"
        )
    return RunData(
        folder=folder,
        scenario=load_scenario(folder / SCENARIO_FILE),
        seeds=[int(s) for s in seeds],
        meta=meta,
        summary_record=_read_json(folder / SUMMARY_FILE),
        **tables,
    )


def _read_table(path: Path) -> pd.DataFrame:
    """A Parquet table of a run folder (empty where the file is absent); a damaged or
    unreadable file is a ``StoreError`` naming it."""
    if not path.exists():
        return pd.DataFrame()
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        reason = _first_line(err).replace(f"Could not open Parquet input source '{path}': ", "")
        raise StoreError(f"{path}: damaged run file: {reason}") from None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StoreError(f"{path}: cannot read: {_first_line(err)}") from None
    if not isinstance(data, dict):
        raise StoreError(f"{path}: damaged run file: expected a JSON object")
    return data


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
