"""Checkpoints: a long run saves its engine state every N simulated days, and a run killed
or crashed midway continues from its last checkpoint to exactly the tables an
uninterrupted run gives.

Why exactly: the key of day ``d`` depends only on the seed and ``d`` (``twosided.sim.run``),
the state is saved bit for bit, and a compiled chunk of days gives the same numbers however
the days are chunked. So "run to day 60, save, load, run to day 365" and "run to day 365"
compute the same thing.

An unfinished run lives in a hidden folder beside the run folders, ``<out>/.partial-<run
id>/``, never in a run folder (which appears only complete, see ``twosided.store``)::

    run.json                    run id, seeds, cadence, the engine's fingerprint, the
                                scenario's hash, meta
    scenario.toml               the resolved scenario
    state.npz                   the engine state after ``days_done`` days (the commit point)
    metrics-000000-000060.npz   the daily metrics of days [0, 60), one file per checkpoint
    lock                        held (``flock``) by the process running it

Every file is written under a temporary name, flushed to disk and renamed into place. The
metrics of a stretch of days are written before the state that ends it, so a kill at any
moment leaves the last complete checkpoint readable; metrics beyond the saved state are
discarded when the run is resumed. When the run completes, its run folder is written and
catalogued (``store.save_run`` under the same run id) and only then is the partial folder
removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import re
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from twosided import atomic, memory
from twosided.scenario import Scenario, load_scenario
from twosided.sim.params import Dims, Params, build
from twosided.sim.precision import with_x64
from twosided.sim.run import chunk_size, init_states, iterate
from twosided.sim.state import State
from twosided.simulation import Result, result_from_arrays
from twosided.store import (
    SAFE_ID,
    TMP_PREFIX,
    StoreError,
    atomic_file,
    engine_fingerprint,
    new_run_id,
    write_json,
)

PARTIAL_PREFIX = ".partial-"
RUN_FILE = "run.json"
SCENARIO_FILE = "scenario.toml"
STATE_FILE = "state.npz"
LOCK_FILE = "lock"
DAYS_KEY = "__days_done__"
SEEDS_KEY = "__seeds__"
METRICS_FILE = re.compile(r"^metrics-(\d+)-(\d+)\.npz$")
LATEST = "latest"

Progress = Callable[[int], None]


class CheckpointError(StoreError):
    """A partial run that cannot be found, locked or continued; one clear line."""


# --------------------------------------------------------------------------- files


@contextlib.contextmanager
def durable_file(final: Path) -> Iterator[Any]:
    """An open binary file that replaces ``final`` only once written and flushed to disk
    (``atomic.atomic_file``)."""
    with atomic_file(final) as tmp, open(tmp, "wb") as handle:  # closed, then synced
        yield handle


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file; a damaged file is a ``CheckpointError``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except ValueError as err:
        # NumPy's words for a pickle inside suggest loading it unsafely: never for a checkpoint
        reason = (
            "holds pickled objects, which checkpoints never do"
            if "pickle" in str(err)
            else str(err)
        )
        raise CheckpointError(f"{path}: damaged checkpoint file: {reason}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path}: damaged checkpoint file: {err}") from None


def _leaf_name(path: tuple[Any, ...]) -> str:
    return jax.tree_util.keystr(path).lstrip(".")


def state_arrays(states: State) -> dict[str, np.ndarray]:
    """The state's leaves as NumPy arrays named by their place in the pytree
    (``buyers.trust``, ``sellers.markup``, ...)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(jax.device_get(states))
    return {_leaf_name(path): np.asarray(leaf) for path, leaf in flat}


@with_x64
def state_from_arrays(arrays: dict[str, np.ndarray], template: State) -> State:
    """Rebuild a state from named arrays, checking each against the engine's own shapes
    (``template``: from ``jax.eval_shape``), so that a checkpoint of another engine or
    scenario is refused instead of misread."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(template)
    leaves = []
    for path, want in flat:
        name = _leaf_name(path)
        if name not in arrays:
            raise CheckpointError(f"checkpoint has no '{name}': written by another engine")
        got = arrays[name]
        if got.shape != tuple(want.shape) or got.dtype != want.dtype:
            raise CheckpointError(
                f"checkpoint's '{name}' is {got.dtype}{list(got.shape)}, the engine expects "
                f"{want.dtype}{list(want.shape)}: written by another engine or scenario"
            )
        leaves.append(jnp.asarray(got))
    return jax.tree_util.tree_unflatten(treedef, leaves)


@with_x64
def state_template(dims: Dims, params: Params, seeds: list[int]) -> State:
    """Shapes and dtypes of a batch of states (nothing is computed)."""
    seed_arr = jnp.asarray(seeds, dtype=jnp.uint32)
    return jax.eval_shape(lambda s: init_states(s, dims, params), seed_arr)


def checkpoint_chunk(days: int, chunk_days: int, every: int) -> int:
    """Chunk length of a checkpointed run: the longest chunk of at most ``chunk_days`` days
    that divides both ``days`` and ``every``, so that checkpoints fall exactly every
    ``every`` days and resuming at any of them reuses the same compiled chunk."""
    return chunk_size(math.gcd(days, every), chunk_days)


# --------------------------------------------------------------------------- partial runs


@dataclasses.dataclass
class Partial:
    """An unfinished run: its folder and what it was started with."""

    folder: Path
    run_id: str
    scenario: Scenario
    seeds: list[int]
    every: int
    meta: dict[str, Any]
    engine: str
    started_from: str | None = None  # SHA-256 of the resolved scenario it started from

    @classmethod
    def create(
        cls,
        out: Path | str,
        scenario: Scenario,
        seeds: list[int],
        every: int,
        meta: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> Partial:
        """Start a partial run folder under ``out`` (no state yet: day 0)."""
        if every < 1:
            raise CheckpointError("--checkpoint-every: must be at least 1 day")
        run_id = run_id or new_run_id(scenario.name)
        folder = Path(out) / f"{PARTIAL_PREFIX}{run_id}"
        folder.mkdir(parents=True)
        (folder / SCENARIO_FILE).write_text(scenario.to_toml(), encoding="utf-8")
        engine = engine_fingerprint()
        record = {
            "run_id": run_id,
            "seeds": list(seeds),
            "every": every,
            "engine": engine,
            "scenario_sha256": scenario_hash(scenario),
            "meta": meta or {},
        }
        with atomic_file(folder / RUN_FILE) as tmp:
            write_json(record, tmp)
        return cls(
            folder,
            run_id,
            scenario,
            list(seeds),
            every,
            meta or {},
            engine,
            record["scenario_sha256"],
        )

    @classmethod
    def read(cls, folder: Path) -> Partial:
        """Read a partial run folder's records (for listing)."""
        folder = Path(folder)
        try:
            record = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
            scenario = load_scenario(folder / SCENARIO_FILE)
            partial = cls(
                folder,
                str(record["run_id"]),
                scenario,
                [int(s) for s in record["seeds"]],
                int(record["every"]),
                dict(record.get("meta") or {}),
                str(record.get("engine")),
                record.get("scenario_sha256"),
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"{folder}: not a resumable run: {err}") from None
        if not SAFE_ID.fullmatch(partial.run_id):  # it names the run folder to be written
            raise CheckpointError(
                f"{folder / RUN_FILE}: not a resumable run: its run id "
                f"{json.dumps(partial.run_id)[:60]} is not a well-formed id"
            )
        return partial

    def problem(self) -> str | None:
        """Why this engine cannot continue the run exactly, or None if it can."""
        if self.engine != engine_fingerprint():
            return "it was started by another version of the engine"
        if self.started_from != scenario_hash(self.scenario):
            return (
                f"its {SCENARIO_FILE} is not the scenario it started from (edited "
                "since?), so its checkpoints are of another model"
            )
        return None

    @classmethod
    def open(cls, folder: Path) -> Partial:
        """Read a partial run folder to continue it with this engine."""
        partial = cls.read(folder)
        problem = partial.problem()
        if problem is not None:
            raise CheckpointError(
                f"run {partial.run_id} cannot be resumed: {problem}; "
                f"start it again (twosided run {folder / SCENARIO_FILE})"
            )
        return partial

    # ----------------------------------------------------------------- state
    def days_done(self) -> int:
        """Days of the last complete checkpoint (0 before the first)."""
        path = self.folder / STATE_FILE
        if not path.exists():
            return 0
        arrays = read_arrays(path)
        if DAYS_KEY not in arrays:
            raise CheckpointError(f"{path}: not a checkpoint")
        return int(arrays[DAYS_KEY])

    def save(
        self, days_done: int, states: State, metrics: list[dict[str, np.ndarray]], first_day: int
    ) -> None:
        """Save the metrics of days ``[first_day, days_done)`` and then the state after
        ``days_done`` days (the commit point), each atomically and durably."""
        if metrics:
            stacked = {k: np.concatenate([m[k] for m in metrics], axis=1) for k in metrics[0]}
            with durable_file(self.folder / metrics_name(first_day, days_done)) as handle:
                np.savez(handle, **stacked)
        arrays = state_arrays(states)
        arrays[DAYS_KEY] = np.asarray(days_done)
        arrays[SEEDS_KEY] = np.asarray(self.seeds)
        with durable_file(self.folder / STATE_FILE) as handle:
            np.savez(handle, **arrays)

    def load(
        self, dims: Dims, params: Params
    ) -> tuple[int, State | None, list[dict[str, np.ndarray]]]:
        """The last checkpoint: days done, the state then (None before the first) and the
        metrics of every day before it, in order. Metrics written after it are removed."""
        path = self.folder / STATE_FILE
        if not path.exists():
            self._drop_metrics_after(0)
            return 0, None, []
        arrays = read_arrays(path)
        if DAYS_KEY not in arrays or SEEDS_KEY not in arrays:
            raise CheckpointError(f"{path}: not a checkpoint")
        days = int(arrays.pop(DAYS_KEY))
        if [int(s) for s in arrays.pop(SEEDS_KEY)] != self.seeds:
            raise CheckpointError(f"{path}: its seeds are not the run's")
        states = state_from_arrays(arrays, state_template(dims, params, self.seeds))
        self._drop_metrics_after(days)
        parts, expected = [], 0
        for start, end, file in self._metric_files():
            if start != expected:
                raise CheckpointError(f"{self.folder}: metrics of days {expected}-{start} missing")
            parts.append(read_arrays(file))
            expected = end
        if expected != days:
            raise CheckpointError(f"{self.folder}: metrics of days {expected}-{days} missing")
        return days, states, parts

    def _metric_files(self) -> list[tuple[int, int, Path]]:
        found = []
        for file in self.folder.iterdir():
            match = METRICS_FILE.match(file.name)
            if match:
                found.append((int(match[1]), int(match[2]), file))
        return sorted(found)

    def _drop_metrics_after(self, days: int) -> None:
        for _, end, file in self._metric_files():
            if end > days:
                file.unlink()

    # ----------------------------------------------------------------- lock, removal
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the partial run's lock: one process at a time runs it. The lock goes with
        the process, so a killed run's folder can be resumed at once."""
        try:
            with atomic.lock(self.folder / LOCK_FILE, wait=False):
                yield
        except atomic.Busy:
            raise CheckpointError(f"run {self.run_id} is being run by another process") from None

    def remove(self) -> None:
        """Delete the partial folder (after the run folder is written)."""
        # one atomic step out of sight, then delete; a kill in between leaves a temporary
        # folder that the store removes as abandoned
        trash = self.folder.with_name(f"{TMP_PREFIX}{self.folder.name}-{uuid.uuid4().hex[:8]}")
        with contextlib.suppress(OSError):
            self.folder.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of a resolved scenario, every field written out: the same model gives
    the same hash, whatever the comments or layout of the file it came from."""
    return hashlib.sha256(scenario.to_toml().encode("utf-8")).hexdigest()


def describe(folder: Path, resume_command: Callable[[str], str]) -> str:
    """One line about an unfinished run for ``twosided runs``: how far it got and what
    will work (``--resume`` only where this engine can continue it)."""
    try:
        partial = Partial.read(folder)
        done = partial.days_done()
    except (StoreError, OSError, ValueError) as err:
        return f"Unfinished and unreadable: {folder} ({err})"
    where = f"Unfinished: {partial.run_id} (day {done} of {partial.scenario.days})"
    problem = partial.problem()
    if problem is not None:
        return (
            f"{where}: cannot be resumed ({problem}); start it again with "
            f"'twosided run {folder / SCENARIO_FILE}', or delete {folder}"
        )
    return f"{where}: continue it with '{resume_command(partial.run_id)}'"


def metrics_name(start: int, end: int) -> str:
    """File name of the metrics of days ``[start, end)``."""
    return f"metrics-{start:06d}-{end:06d}.npz"


def partial_folders(out: Path | str) -> list[Path]:
    """Partial run folders under ``out``, oldest first."""
    root = Path(out)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PARTIAL_PREFIX)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def find_partial(out: Path | str, ref: str) -> Path:
    """A partial run from its id, a unique id prefix, ``latest`` or its folder."""
    path = Path(ref)
    if path.is_dir() and (path / RUN_FILE).exists():
        return path
    folders = partial_folders(out)
    if ref == LATEST:
        if not folders:
            raise CheckpointError(f"--resume: no unfinished runs in {out}")
        return folders[-1]
    ids = {p.name[len(PARTIAL_PREFIX) :]: p for p in folders}
    if ref in ids:
        return ids[ref]
    matches = [p for run_id, p in ids.items() if run_id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CheckpointError(f"--resume: '{ref}' is ambiguous ({len(matches)} unfinished runs)")
    if (Path(out) / ref).is_dir():
        raise CheckpointError(f"--resume: run {ref} is already complete ({Path(out) / ref})")
    raise CheckpointError(f"--resume: no unfinished run '{ref}' in {out}")


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class Resumption:
    """Where a partial run continues from: its engine sizes and parameters, the chunk
    length, the day of its last checkpoint, the state then and the metrics before it."""

    dims: Dims
    params: Params
    chunk: int
    day: int
    states: State | None
    parts: list[dict[str, np.ndarray]]


def begin(partial: Partial) -> Resumption:
    """Prepare to run a partial run: build its engine inputs, check that it fits in memory
    and read its last checkpoint (errors here come before anything is compiled)."""
    sc = partial.scenario
    dims, params = build(sc)
    chunk = checkpoint_chunk(sc.days, sc.chunk_days, partial.every)
    memory.check(dims, params, len(partial.seeds), sc.days, chunk)
    day, states, parts = partial.load(dims, params)
    return Resumption(dims, params, chunk, day, states, parts)


def complete(
    partial: Partial, progress: Progress | None = None, start: Resumption | None = None
) -> Result:
    """Run (or continue) a partial run to its last day, checkpointing every
    ``partial.every`` days and at the end; returns the whole run's tables."""
    sc, seeds = partial.scenario, partial.seeds
    start = start or begin(partial)
    dims, params, parts = start.dims, start.params, list(start.parts)
    if progress is not None:
        progress(start.day)
    pending: list[dict[str, np.ndarray]] = []
    saved = start.day
    steps = iterate(
        dims,
        params,
        seeds,
        sc.days - start.day,
        start.chunk,
        states=start.states,
        start_day=start.day,
    )
    for done, states, metrics in steps:
        day = start.day + done
        pending.append(metrics)
        if day // partial.every > saved // partial.every or day == sc.days:
            partial.save(day, states, pending, saved)
            parts += pending
            pending, saved = [], day
        if progress is not None:
            progress(day)
    raw = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
    return result_from_arrays(sc, seeds, raw)
