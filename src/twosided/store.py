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
that users can query across runs with SQL (``twosided runs --sql "..."``).

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
import shutil
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
from twosided.scenario import load_scenario, one_line
from twosided.simulation import Result

DEFAULT_ROOT = Path("twosided-runs")
CATALOG_NAME = "catalog.duckdb"
TABLES = ("daily", "accounts", "flows", "switches")
# what every reader of daily.parquet needs: the keys and the key outcomes
RUN_KEY_COLUMNS = ("seed", "day", "platform", "platform_id", *KEY_OUTCOMES)
# the statements `twosided runs --sql` runs: queries only
QUERY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
QUERY_POLL_S = 0.1  # how often the waiting thread looks up for a Ctrl-C
SCENARIO_FILE = "scenario.toml"
SUMMARY_FILE = "summary.json"
META_FILE = "meta.json"
REPORT_FILE = "report.html"
RUN_FILES = (SCENARIO_FILE, *(f"{t}.parquet" for t in TABLES))  # what load_run reads
LATEST = "latest"
LOCK_WAIT_S = 30.0  # how long to wait for another process's hold on the catalog
LOCK_POLL_S = 0.2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id     VARCHAR PRIMARY KEY,
    kind       VARCHAR NOT NULL,      -- 'run' or 'sweep'
    name       VARCHAR NOT NULL,      -- the scenario's name
    created    TIMESTAMP NOT NULL,
    days       INTEGER NOT NULL,
    seeds      VARCHAR NOT NULL,      -- JSON list
    path       VARCHAR NOT NULL,      -- absolute path of the run folder
    sweep_id   VARCHAR,               -- the sweep a variant belongs to
    variant    VARCHAR,               -- JSON of the varied values of a sweep variant
    meta       VARCHAR                -- JSON: versions, device, headline figures
)
"""


class StoreError(ValueError):
    """A run reference or catalog request that cannot be served; one clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


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
    """The DuckDB index of run folders under ``root``."""

    def __init__(self, root: Path | str = DEFAULT_ROOT, read_only: bool = False) -> None:
        self.root = Path(root)
        self.path = self.root / CATALOG_NAME
        if read_only and not self.path.exists():
            self.con = duckdb.connect(":memory:")
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            self.con = _connect(self.path, read_only)
        if not read_only or not self.path.exists():
            self.con.execute(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        self.con.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        """Index a complete run folder, in one transaction."""
        folder = Path(folder).resolve()
        if not folder.is_dir():
            raise StoreError(f"{folder}: not a run folder")
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
                    str(folder),
                    sweep_id,
                    json.dumps(variant, sort_keys=True) if variant is not None else None,
                    json.dumps(meta or {}, sort_keys=True, default=str),
                ],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def runs(self, kind: str | None = None) -> pd.DataFrame:
        """Registered runs, newest first."""
        sql = "SELECT run_id, kind, name, created, days, seeds, path, sweep_id, variant FROM runs"
        params: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            params.append(kind)
        return self.con.execute(sql + " ORDER BY created DESC, run_id DESC", params).df()

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
        return Path(rows[0][1])

    def _refresh_views(self) -> None:
        """(Re)create one view per table over the Parquet files of every registered run,
        with the run's id in a ``run_id`` column."""
        rows = self.con.execute("SELECT path FROM runs ORDER BY created").fetchall()
        paths = [r[0] for r in rows]
        for table in TABLES:
            files = [str(Path(p) / f"{table}.parquet") for p in paths]
            files = [f for f in files if Path(f).exists()]
            if files:
                listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT r.run_id, t.* FROM "
                    f"read_parquet([{listing}], union_by_name = true, filename = true) AS t "
                    f"JOIN runs AS r ON t.filename = r.path || '/{table}.parquet'"
                )

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL queries against the catalog (table ``runs``; views ``daily``,
        ``accounts``, ``flows``, ``switches`` over every registered run, with a ``run_id``
        column) and return the last one's result.

        Only queries (``SELECT``, ``WITH``, ``DESCRIBE``, ``EXPLAIN`` ...) are run: the
        catalog is open read-only, and a statement that would write elsewhere (``COPY``,
        ``EXPORT``) or change the session (``SET``) is refused before anything runs. The
        query runs in a worker thread so that Ctrl-C reaches Python and interrupts DuckDB
        (``KeyboardInterrupt``) instead of waiting for the query to finish."""
        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as err:
            raise StoreError(f"--sql: {_first_line(err)}") from None
        if not statements:
            raise StoreError("--sql: empty query (nothing but blanks, comments or ';')")
        for statement in statements:
            if statement.type not in QUERY_STATEMENTS:
                kind = statement.type.name.replace("_", " ")
                raise StoreError(f"--sql: only queries are run (SELECT, WITH, DESCRIBE, "
                                 f"EXPLAIN), not {kind}")
        self._refresh_views()
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def work() -> None:  # keeps no DuckDB object past its end (they hold the connection)
            try:
                for statement in statements[:-1]:
                    self.con.execute(statement)
                outcome["frame"] = self.con.execute(statements[-1]).df()
            except duckdb.InterruptException:
                outcome["interrupted"] = True
            except duckdb.Error as err:
                outcome["message"] = _first_line(err)
            except BaseException as err:  # handed to the calling thread
                outcome["error"] = err
            finally:
                finished.set()

        # Waiting on an Event, not Thread.join: a join interrupted by Ctrl-C marks a thread
        # that is still running as stopped (Python 3.11, bpo-45274).
        threading.Thread(target=work, name="twosided-sql", daemon=True).start()
        try:
            while not finished.wait(QUERY_POLL_S):
                pass
        except KeyboardInterrupt:
            self.con.interrupt()
            while not finished.wait(QUERY_POLL_S):  # again, should it land between statements
                self.con.interrupt()
            raise
        if outcome.get("interrupted"):
            raise KeyboardInterrupt
        if "message" in outcome:
            raise StoreError(f"--sql: {outcome['message']}")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["frame"]


def like_prefix(text: str) -> str:
    """A SQL ``LIKE`` pattern (escape character ``\\``) matching what starts with ``text``:
    its ``%``, ``_`` and ``\\`` stand for themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the catalog, waiting while another process holds its lock."""
    deadline = time.monotonic() + LOCK_WAIT_S
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
        """The run's id (its folder name)."""
        return str(self.meta.get("run_id", self.folder.name))


ENGINE_FILES = ("simulation.py", "metrics.py", "scenario.py")  # besides sim/*.py
# the records of meta.json a run's tables depend on, besides its scenario and seeds
REPRODUCIBLE = ("twosided", "engine", "jax", "jaxlib", "device", "x64", "xla_flags")


def engine_fingerprint() -> str:
    """A hash (SHA-256, hex) of the code that turns a scenario into tables (the engine, the
    simulation API, the metrics tables and the scenario schema): two runs with the same
    fingerprint, scenario, seeds, versions and device give the same tables, and results
    stored by other code are never taken for this code's (sweep ids, checkpoints)."""
    root = Path(__file__).resolve().parent
    files = sorted((root / "sim").glob("*.py")) + [root / f for f in ENGINE_FILES]
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
        "x64": bool(jax.config.jax_enable_x64),
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
    counts = ["sessions", "orders", "active_sellers", "monthly_active_buyers", "claims",
              "sellers_entered", "sellers_exited"]
    market = {c: _plain(table[c].sum()) for c in [*counts, *money] if c in table.columns}
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
) -> tuple[str, Path]:
    """Write a complete run folder under ``root`` and then index it in the catalog.

    ``extra(folder)`` writes further files (the report) into the temporary folder before it
    is renamed into place. If registering fails the folder is removed again, so a folder
    under ``root`` is always complete and catalogued. Returns the run id and folder.
    """
    root = Path(root)
    remove_abandoned(root)
    adopt_orphans(root)
    run_id = run_id or new_run_id(run.scenario.name)
    final = root / run_id
    meta = {**environment(), **(meta or {}), "run_id": run_id, "seeds": list(run.seeds),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with atomic_folder(final) as tmp:
        record = write_run(run, tmp, meta)
        if extra is not None:
            extra(tmp)
    try:
        with Catalog(root) as catalog:
            catalog.register(
                run_id, final, name=run.scenario.name, days=record["days"], seeds=record["seeds"],
                kind=kind, sweep_id=sweep_id, variant=variant,
                meta={**meta, "market": record["market"]},
            )
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    return run_id, final


def adopt_orphans(root: Path | str) -> list[str]:
    """Register complete run folders under ``root`` that have no catalog row (a process
    killed between renaming the folder into place and committing its row). Folders younger
    than ``ABANDONED_AFTER_S`` are left to the process that is registering them. Returns
    the ids registered."""
    root = Path(root)
    if not root.is_dir():
        return []
    now = time.time()
    candidates = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and (p / META_FILE).is_file() and (p / SUMMARY_FILE).is_file()
                  and now - p.stat().st_mtime >= ABANDONED_AFTER_S]
    if not candidates:
        return []
    adopted = []
    with Catalog(root) as catalog:
        known = set(catalog.runs()["path"])
        for folder in candidates:
            if str(folder.resolve()) in known:
                continue
            meta, record = _read_json(folder / META_FILE), _read_json(folder / SUMMARY_FILE)
            run_id = str(meta.get("run_id", folder.name))
            catalog.register(run_id, folder, name=record["scenario"], days=record["days"],
                             seeds=record["seeds"], meta={**meta, "market": record["market"]})
            adopted.append(run_id)
    return adopted


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
        raise StoreError(f"{folder / 'daily.parquet'}: damaged run file (no column "
                         f"{', '.join(missing_columns[:3])}{more})")
    meta = _read_json(folder / META_FILE)
    seeds = meta.get("seeds") or sorted(int(s) for s in tables["daily"]["seed"].unique())
    if not isinstance(seeds, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds
    ):
        raise StoreError(f"{folder / META_FILE}: damaged run file (seeds must be a list of "
                         f"whole numbers, not {json.dumps(seeds)[:40]})")
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
