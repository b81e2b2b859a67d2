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
import dataclasses
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from twosided.experiments.grid import SweepError

EXECUTORS = ("local", "ray")
CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"


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
        max_workers=workers, mp_context=context, initializer=use_compile_cache,
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


def run_ray(tasks: Sequence[Task], address: str | None) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(index, daily)`` as variants finish on a Ray cluster: the one this process
    is already connected to, the one at ``address`` (``auto``: the running local cluster),
    or a new local one."""
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise SweepError(f"--address {address}: cannot connect to Ray: {first}") from None
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
        if started:
            ray.shutdown()


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
    """Run tasks on the chosen executor, yielding results as they finish."""
    check_executor(executor, workers, address)
    if executor == "ray":
        return run_ray(tasks, address)
    return run_local(tasks, default_workers(len(tasks)) if workers is None else workers)
