"""Results store: run folders written atomically, indexed by an embedded DuckDB catalog.

A run folder appears only complete: it is written under a hidden temporary name in the
same parent and renamed into place at the end (a rename is atomic on one filesystem).
A catalog row is inserted only after that rename, in one transaction, so the catalog never
points at files that are not there. Interrupting a run removes its temporary folder.

The catalog (``<root>/catalog.duckdb``) has one table, ``runs``, and views ``daily`` and
``accounts`` over the Parquet files of every registered run, so that users can query
across runs with SQL (``twosided runs --sql "..."``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_ROOT = Path("twosided-runs")
CATALOG_NAME = "catalog.duckdb"
TMP_PREFIX = ".tmp-"

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


def new_run_id(name: str) -> str:
    """A sortable, unique run id: UTC time, scenario name, and a short random suffix."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:40] or "run"
    return f"{stamp}-{safe}-{uuid.uuid4().hex[:6]}"


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``final`` only if the block completes.

    On any exception (KeyboardInterrupt included) the temporary folder is removed and
    ``final`` is never created.
    """
    final = Path(final)
    if final.exists():
        raise StoreError(f"{final}: already exists")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f"{TMP_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as Parquet (zstd-compressed)."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")


def write_json(data: Any, path: Path) -> None:
    """Write JSON with a stable layout."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


class Catalog:
    """The DuckDB index of run folders under ``root``."""

    def __init__(self, root: Path | str = DEFAULT_ROOT, read_only: bool = False) -> None:
        self.root = Path(root)
        self.path = self.root / CATALOG_NAME
        if read_only and not self.path.exists():
            self.con = duckdb.connect(":memory:")
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path), read_only=read_only)
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
                    dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
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
        """A run folder from a run id, a unique id prefix, or a folder path."""
        path = Path(ref)
        if path.is_dir() and (path / "daily.parquet").exists():
            return path
        rows = self.con.execute(
            "SELECT run_id, path FROM runs WHERE run_id = ? OR run_id LIKE ? ORDER BY run_id",
            [ref, f"{ref}%"],
        ).fetchall()
        exact = [r for r in rows if r[0] == ref]
        if exact:
            rows = exact
        if not rows:
            raise StoreError(f"run '{ref}' not found in {self.path}")
        if len(rows) > 1:
            raise StoreError(f"run '{ref}' is ambiguous ({len(rows)} runs match)")
        return Path(rows[0][1])

    def _refresh_views(self) -> None:
        paths = [r[0] for r in self.con.execute("SELECT path FROM runs ORDER BY created").fetchall()]
        for table in ("daily", "accounts"):
            files = [str(Path(p) / f"{table}.parquet") for p in paths if (Path(p) / f"{table}.parquet").exists()]
            if files:
                listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM "
                    f"read_parquet([{listing}], union_by_name = true, filename = true)"
                )

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL against the catalog (tables ``runs``; views ``daily``, ``accounts``)."""
        self._refresh_views()
        try:
            return self.con.execute(sql).df()
        except duckdb.Error as err:
            message = str(err).strip().splitlines()[0]
            raise StoreError(f"--sql: {message}") from None
