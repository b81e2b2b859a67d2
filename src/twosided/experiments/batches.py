"""Batched variants: a sweep's variants of one shape run as one vmapped program.

Variants whose static sizes (``Dims``), days and chunk length are equal, and whose
``Params`` have the same structure and leaf shapes, differ only in parameter values: they
form a group, and a group runs as one compiled program over variants x seeds
(``sim.batch``) in this process, instead of one run per variant. The memory check decides
how many variants of a group fit in one batch (``memory.variants_that_fit``); a group that
does not fit whole is split into batches of that many. A variant alone in its shape (or
left alone by the split) runs as before, on the sweep's executor.

Each variant of a batch gets the keys its own run gets, and its daily table is built as a
single run builds it, so the batch writes the same files and catalog rows; its numbers are
the single run's within float32 rounding (see ``sim.batch`` for what holds exactly).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import pandas as pd

from twosided import memory
from twosided import metrics as tables
from twosided.scenario import Scenario
from twosided.sim.batch import shape_key, simulate_batch
from twosided.sim.params import Dims, Params, build
from twosided.sim.run import chunk_size

# called with the fraction of a batch's days done, after each compiled chunk
BatchProgress = Callable[[float], None]


@dataclasses.dataclass(frozen=True)
class Batch:
    """Variants that run together: their indices (in sweep order) and shared shape."""

    indices: list[int]
    dims: Dims
    days: int
    chunk_days: int


def group_key(scenario: Scenario, dims: Dims, params: Params) -> tuple:
    """What variants must share to run as one program: every static input of the compiled
    chunk (sizes, days, chunk length) and the parameters' structure and shapes."""
    return (dims, scenario.days, scenario.chunk_days, shape_key(params))


def group_variants(scenarios: dict[int, Scenario]) -> list[list[int]]:
    """The variants (by index) grouped by ``group_key``, groups and members in index
    order (of their first member)."""
    groups: dict[tuple, list[int]] = {}
    for index in sorted(scenarios):
        sc = scenarios[index]
        groups.setdefault(group_key(sc, *build(sc)), []).append(index)
    return list(groups.values())


def split(indices: Sequence[int], size: int) -> list[list[int]]:
    """``indices`` in consecutive batches of at most ``size``."""
    size = max(1, size)
    return [list(indices[i : i + size]) for i in range(0, len(indices), size)]


def plan_batches(scenarios: dict[int, Scenario], seeds: int) -> tuple[list[Batch], list[int]]:
    """Which variants run batched and which alone: the batches of two or more variants
    (each as many as the memory check lets one batch hold), and the indices left to run
    alone (the only variant of their shape, or the remainder of a split)."""
    batches: list[Batch] = []
    alone: list[int] = []
    for group in group_variants(scenarios):
        if len(group) < 2:
            alone.extend(group)
            continue
        sc = scenarios[group[0]]
        dims, params = build(sc)
        chunk = chunk_size(sc.days, sc.chunk_days)
        fit = memory.variants_that_fit(dims, params, seeds, sc.days, chunk, len(group))
        for part in split(group, fit):
            if len(part) < 2:
                alone.extend(part)
            else:
                batches.append(Batch(part, dims, sc.days, sc.chunk_days))
    return batches, sorted(alone)


def run_batch(
    batch: Batch,
    scenarios: dict[int, Scenario],
    seeds: Sequence[int],
    progress: BatchProgress | None = None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Run a batch in this process and yield ``(index, daily)`` for each of its variants,
    the daily table built as ``twosided.simulate`` builds it."""
    params = [build(scenarios[i])[1] for i in batch.indices]

    def days_done(done: int) -> None:
        if progress is not None:
            progress(done / batch.days)

    _, raws = simulate_batch(
        batch.dims, params, list(seeds), batch.days, batch.chunk_days, progress=days_done
    )
    for index, raw in zip(batch.indices, raws):
        names = [p.name for p in scenarios[index].platforms]
        yield index, tables.daily_table(raw, names, list(seeds))
