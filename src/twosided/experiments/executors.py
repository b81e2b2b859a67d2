"""Where a sweep's variants run: in this process, in local worker processes, or on Ray.

A task is one variant: a fully resolved scenario (as a plain dict, so that it travels to
other processes and machines without files) and its seeds. A worker runs all the seeds of a
variant in one compiled, vmapped call (``twosided.simulate``) and returns the daily table;
it touches no files, so the driver alone writes results and the catalog (a Ray worker on
another machine could not reach the driver's disk anyway).

Local worker processes are started with the ``spawn`` method: JAX does not survive
``fork``. Each worker keeps its compiled programs between variants of the same shape, and
workers (local or Ray) share JAX's persistent compilation cache on their machine
(``$XDG_CACHE_HOME/twosided/jax``, as the ``twosided`` command uses; JAX's own
``JAX_COMPILATION_CACHE_DIR`` chooses another folder, an empty value turns it off), so a
shape is compiled once per machine rather than once per worker and sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from twosided.experiments.grid import SweepError

EXECUTORS = ("local", "ray")
CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"
# how long to wait for a Ray head's port to answer before giving up (an operational limit)
RAY_CONNECT_TIMEOUT_S = 10.0


@dataclasses.dataclass(frozen=True)
class Task:
    """One variant to run: its index, resolved scenario (model_dump) and seeds."""

    index: int
    scenario: dict[str, Any]
    seeds: list[int]


def run_task(task: Task) -> pd.DataFrame:
    """Run every seed of one variant together and return its daily table."""
    from twosided.scenario import Scenario
    from twosided.simulation import simulate

    scenario = Scenario.model_validate(task.scenario)
    return simulate(scenario, seeds=task.seeds).daily


def compile_cache_folder() -> str | None:
    """This machine's persistent compilation cache for workers; None where
    ``JAX_COMPILATION_CACHE_DIR`` is set (JAX then reads it itself)."""
    if CACHE_ENV in os.environ:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "twosided" / "jax")


def use_compile_cache(folder: str | None) -> None:
    """Point JAX's persistent compilation cache at ``folder`` (in a worker process)."""
    if folder is None:
        return
    import jax

    Path(folder).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", folder)


def start_worker(cache: str | None) -> None:
    """A local worker process: use the compile cache, and leave Ctrl-C to the driver (which
    stops between variants) instead of dying in the middle of one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_compile_cache(cache)


def _cached_task(task: Task) -> pd.DataFrame:
    """A Ray task: the cache folder is resolved on the worker's own machine."""
    use_compile_cache(compile_cache_folder())
    return run_task(task)


def default_workers(variants: int) -> int:
    """Local worker processes for a sweep: one per two cores (leaving room for the threads
    of each worker's XLA runtime), at least one, never more than there are variants."""
    return max(1, min(variants, (os.cpu_count() or 1) // 2))


def run_local(tasks: Sequence[Task], workers: int) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(index, daily)`` as variants finish. One worker runs in this process (no
    second compile); more run in spawned processes."""
    if workers <= 1:
        for task in tasks:
            yield task.index, run_task(task)
        return
    context = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=start_worker,
        initargs=(compile_cache_folder(),),
    )
    try:
        futures = {pool.submit(run_task, task): task.index for task in tasks}
        for future in cf.as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SweepError(
            "--executor ray: Ray is not installed (pip install 'twosided[ray]')"
        ) from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail fast on a head address that does not answer (Ray itself retries for minutes)."""
    if address == "auto":
        return
    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise SweepError(f"--address {address}: expected 'auto' or host:port")
    try:
        socket.create_connection((host, int(port)), timeout=RAY_CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise SweepError(
            f"--address {address}: cannot reach a Ray head there ({err.strerror or err})"
        ) from None


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[None]:
    """Be connected to Ray for the block: to the cluster this process is already connected
    to, the one at ``address`` (``auto``: the running local cluster), or a new local one
    (shut down again at the end)."""
    ray = _ray()
    if ray.is_initialized():
        yield
        return
    if address is not None:
        _check_reachable(address)
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    local = {"include_dashboard": False} if address is None else {}
    try:
        ray.init(address=address, **quiet, **local)
    except (ConnectionError, ValueError, RuntimeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SweepError(f"--address {address}: cannot connect to Ray: {first}") from None
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def executor_session(executor: str, workers: int | None, address: str | None) -> Iterator[None]:
    """Check the executor settings and, for Ray, connect, before anything is written."""
    check_executor(executor, workers, address)
    if executor == "ray":
        with ray_session(address):
            yield
    else:
        yield


def run_ray(tasks: Sequence[Task]) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(index, daily)`` as variants finish on the connected Ray cluster (one CPU
    per task)."""
    ray = _ray()
    remote = ray.remote(num_cpus=1)(_cached_task)
    pending = {remote.remote(task): task.index for task in tasks}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield pending.pop(ref), ray.get(ref)
    finally:
        for ref in pending:
            ray.cancel(ref)


def check_executor(executor: str, workers: int | None, address: str | None) -> None:
    """Refuse executor settings that cannot work, before anything is written or run."""
    if executor not in EXECUTORS:
        raise SweepError(f"--executor {executor}: expected one of {', '.join(EXECUTORS)}")
    if executor == "local" and address is not None:
        raise SweepError("--address: only used with --executor ray")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers {workers}: must be at least 1")
    if executor == "ray":
        _ray()


def run_tasks(
    tasks: Sequence[Task],
    executor: str,
    workers: int | None,
    address: str | None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Run tasks on the chosen executor, yielding results as they finish (for Ray: inside
    ``executor_session``)."""
    check_executor(executor, workers, address)
    if executor == "ray":
        return run_ray(tasks)
    return run_local(tasks, default_workers(len(tasks)) if workers is None else workers)
