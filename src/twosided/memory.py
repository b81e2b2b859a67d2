"""Will a run fit in memory? An estimate made before anything is compiled or allocated.

A scenario too large for the machine should be refused at once with the figures, not
crash after minutes of compiling or halfway through a year. The estimate has four parts:

* **engine state**, exact: the bytes of every array of the state pytree (buyers, sellers,
  order book, ledger), counted twice because a compiled chunk may hold its input and its
  output state at once;
* **a day's temporaries**, calibrated: XLA's own ``memory_analysis()`` of the compiled day
  (JAX 0.10 on a CPU; taobao-like scenarios with 1e4-1e6 buyers, 1-5 platforms, 12 and 24
  listings a page, 128 and 10,000 seller slots per category) is covered by about twice the
  buyers' state, four times the sellers' state, and per session 45 bytes per page position
  plus 80 per platform: the estimate came out 1.0-1.3 times the measured temporaries
  (``tests/test_memory.py`` checks one case). ``benchmarks/RESULTS.md`` measured the
  process's peak at about 1.1 kB per session;
* **metrics and tables**, exact per day: the engine's daily metrics (one chunk of them on
  the device; every day of them on the host), and the host tables built from them
  (``daily``, ``accounts``, ``flows``), with one more copy of the largest table while it
  is written as Parquet;
* **the process**, measured: the loaded command (Python, JAX's runtime, NumPy, pandas,
  Plotly, DuckDB) and compiling the program (XLA's working space, which the allocator
  keeps, the compiled program, and the report's figures). Measured with ``/usr/bin/time``
  on a 2-core CPU machine (JAX 0.10): the loaded command peaks at 0.35 GiB and a tiny run
  (2,000 buyers, 3 days), compiled from scratch, at 1.02 GiB; see
  ``docs/reproducibility.md`` ("Memory") for every figure.

The exact parts are read off the shapes of the run's own programs, ``init_states`` and
``run_chunk`` for these seeds and this chunk length, traced from shapes alone
(``twosided.sim.run.program_shapes``: nothing compiled or allocated). JAX keeps the trace,
so the run that follows (``twosided.simulate``, ``twosided run``) neither traces the day
again nor compiles anything the check did not need; a sweep's planner traces each distinct
variant shape once.

Every part but the host tables and the process scales with the seeds, which run together
(``vmap``), and with the variants of a batch (``variants``: a sweep's variants of one shape
run as one program, ``sim.batch``), which multiply the seeds; the process is counted once.
The check adds a safety margin (``SAFETY_MARGIN``) for what the estimate does not model
(allocator fragmentation, short-lived copies). On a CPU the whole estimate is set against
the memory available (``psutil``; ``MemAvailable`` on Linux) plus what this process already
holds (it is part of the estimate); on a GPU the engine part against the device's free memory
(``memory_stats``) and the rest against the host's. ``processes`` simulations at once (a
sweep's local workers, each a fresh process) each need the whole estimate from
the memory available. Where free memory cannot be read the check passes. Set
``TWOSIDED_MEMORY_CHECK=off`` to skip it.
"""

from __future__ import annotations

import dataclasses
import os

import jax
import psutil

from twosided.scenario import Scenario, ScenarioError
from twosided.sim.params import Dims, Params, build

BUYER_TEMP_FACTOR = 2.0  # a day's temporaries per byte of buyer state (measured 1.7)
SELLER_TEMP_FACTOR = 4.0  # per byte of seller state (measured 3.2)
SESSION_BYTES_PER_POSITION = 45  # a session's temporaries per listing on the page
SESSION_BYTES_PER_PLATFORM = 80  # and per platform (page length 12: 620-940 B a session)
# the loaded command: Python, JAX's runtime, NumPy, pandas, Plotly, DuckDB (measured 0.35 GiB)
PROCESS_BYTES = 384 * 2**20
# compiling the program (XLA's working space, kept by the allocator), the compiled program
# and the report's figures (measured 0.55-0.8 GiB above the loaded command, compiled cold;
# the default preset's year of daily figures is the most)
PROGRAM_BYTES = 896 * 2**20
SAFETY_MARGIN = 0.2  # added to every estimate checked: fragmentation, copies not modelled
TABLE_CELL_BYTES = 8  # a pandas cell: int64, float64 or an object reference
ACCOUNT_COLUMNS = 4  # seed, day, account, balance_cents
FLOW_COLUMNS = 7  # seed, day, platform, stream, source, destination, cents
DAILY_DERIVED_COLUMNS = 20  # id columns and the ratios metrics.daily_table adds
CHECK_ENV = "TWOSIDED_MEMORY_CHECK"
GIB = 2**30


class TooLargeError(ScenarioError):
    """A run that would not fit in memory on the chosen device; one line with the figures."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """Bytes a run needs (the peak, without the safety margin): on the compute device (the
    engine) and on the host (tables and the process itself)."""

    state: int  # engine state of all seeds, twice (input and output of a chunk)
    temporaries: int  # one day's temporaries of all seeds
    metrics_chunk: int  # one compiled chunk's metrics of all seeds
    host: int  # metrics of every day plus the tables built from them
    process: int = PROCESS_BYTES + PROGRAM_BYTES  # the loaded command and compiling

    @property
    def device(self) -> int:
        """Bytes on the compute device (the engine)."""
        return self.state + self.temporaries + self.metrics_chunk

    @property
    def host_total(self) -> int:
        """Bytes on the host besides the engine: the tables and the process."""
        return self.host + self.process

    @property
    def total(self) -> int:
        """Bytes in all (device and host: one pool on a CPU)."""
        return self.device + self.host_total


def with_margin(n: int) -> int:
    """Bytes to ask for, the estimate ``n`` plus the safety margin."""
    return int(n * (1 + SAFETY_MARGIN))


def _nbytes(tree: object) -> int:
    return sum(int(x.size) * x.dtype.itemsize for x in jax.tree_util.tree_leaves(tree))


def day_metric_bytes(chunk_metrics: object, chunk: int, seeds: int) -> int:
    """Bytes of one seed's metrics of one day (the session log included when it is kept),
    from the shapes of a chunk's metrics (``[seeds, chunk, ...]`` every one)."""
    return _nbytes(chunk_metrics) // (chunk * seeds)


def host_table_bytes(dims: Dims, day_metrics: int) -> int:
    """Bytes of the tables built from one seed's day (daily, accounts, flows), plus the
    day's metrics kept on the host until the run ends."""
    from twosided.sim import ledger

    P = dims.platforms
    daily = P * (day_metrics // (8 * P) + DAILY_DERIVED_COLUMNS) * TABLE_CELL_BYTES
    accounts = ledger.n_accounts(P) * ACCOUNT_COLUMNS * TABLE_CELL_BYTES
    flows = len(ledger.STREAMS) * P * FLOW_COLUMNS * TABLE_CELL_BYTES
    return day_metrics + daily + accounts + flows + max(daily, accounts, flows)


def estimate(
    dims: Dims,
    params: Params,
    seeds: int,
    days: int,
    chunk: int,
    log_sessions: bool = False,
    variants: int = 1,
) -> Estimate:
    """Bytes a run of ``seeds`` seeds over ``days`` days in chunks of ``chunk`` days needs;
    ``variants`` such runs batched in one program (``sim.batch``) need ``variants`` times
    the seeds' share (every part but the process).

    The state and metric shapes are the run's own (``run.program_shapes``: the programs
    traced, nothing compiled or allocated); a run of the same shape reuses that trace."""
    from twosided.sim.run import program_shapes
    from twosided.sim.state import State

    shapes: State
    shapes, metrics = program_shapes(dims, params, seeds, chunk, log_sessions)
    # one seed's: every leaf is batched over the seeds (metrics: [seeds, chunk, ...])
    buyers, sellers = _nbytes(shapes.buyers) // seeds, _nbytes(shapes.sellers) // seeds
    per_session = SESSION_BYTES_PER_POSITION * dims.page_length + (
        SESSION_BYTES_PER_PLATFORM * dims.platforms
    )
    temporaries = (
        BUYER_TEMP_FACTOR * buyers + SELLER_TEMP_FACTOR * sellers + per_session * dims.sessions
    )
    per_day = day_metric_bytes(metrics, chunk, seeds)
    state = 2 * _nbytes(shapes) * variants  # the traced state holds every seed already
    seeds *= variants  # a batch is variants x seeds runs in one program
    return Estimate(
        state=state,
        temporaries=int(temporaries) * seeds,
        metrics_chunk=per_day * chunk * seeds,
        host=host_table_bytes(dims, per_day) * days * seeds,
    )


def available_host_bytes() -> int | None:
    """Memory available to a new process (``psutil``: ``MemAvailable`` on Linux, free plus
    inactive on macOS, available physical memory on Windows); None where it is unknown."""
    try:
        return int(psutil.virtual_memory().available)
    except (OSError, RuntimeError, AttributeError):  # pragma: no cover - unsupported host
        return None


def resident_bytes() -> int:
    """This process's resident memory (0 where it cannot be read)."""
    try:
        return int(psutil.Process().memory_info().rss)
    except (OSError, psutil.Error):  # pragma: no cover - unsupported host
        return 0


def available_device_bytes(device: jax.Device | None = None) -> int | None:
    """Free memory of an accelerator (limit minus in use); None on a CPU or when unknown."""
    device = device or jax.devices()[0]
    if device.platform == "cpu":
        return None
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - a backend without statistics: nothing to check
        return None
    limit = stats.get("bytes_limit")
    return None if limit is None else int(limit) - int(stats.get("bytes_in_use", 0))


def _gib(n: int) -> str:
    return f"{n / GIB:,.1f} GiB"


def check(
    dims: Dims,
    params: Params,
    seeds: int,
    days: int,
    chunk: int,
    log_sessions: bool = False,
    processes: int = 1,
    variants: int = 1,
) -> Estimate:
    """Refuse (``TooLargeError``) a run that would not fit; return the estimate otherwise.

    ``processes``: how many such runs go at once, each in a fresh process (a sweep's local
    workers); 1 means this process runs it, so what it already holds counts as available.
    ``variants``: variants batched in the run (``sim.batch``), each with ``seeds`` seeds.
    """
    need = estimate(dims, params, seeds, days, chunk, log_sessions, variants)
    if os.environ.get(CHECK_ENV, "").lower() in ("off", "0", "no", "false"):
        return need
    device = jax.devices()[0]
    host_free = available_host_bytes()
    if host_free is not None and processes == 1:
        host_free += resident_bytes()
    device_free = available_device_bytes(device)
    what = (
        f"{dims.buyers:,} buyers, {dims.sessions:,} sessions a day, "
        f"{dims.sellers:,} seller slots, {seeds} seed(s), {days} days"
    )
    if variants > 1:
        what = f"{variants} variants batched, each {what},"
    if processes > 1:
        what = f"{processes} workers at once, each {what},"
    hint = f"use fewer buyers, seller slots, seeds or days, or set {CHECK_ENV}=off"
    device_need = with_margin(need.device) * processes
    if device_free is not None and device_need > device_free:
        raise TooLargeError(
            f"too large for {device.platform}:{device.device_kind}: {what} need about "
            f"{_gib(device_need)} of device memory with a {SAFETY_MARGIN:.0%} margin, "
            f"{_gib(device_free)} free ({hint})"
        )
    host_need = with_margin(need.host_total if device_free is not None else need.total)
    if host_free is not None and host_need * processes > host_free:
        raise TooLargeError(
            f"too large for this machine: {what} need about {_gib(host_need * processes)} of "
            f"memory (engine {_gib(need.device)}, tables {_gib(need.host)}, process "
            f"{_gib(need.process)}, plus a {SAFETY_MARGIN:.0%} margin), "
            f"{_gib(host_free)} available ({hint})"
        )
    return need


def variants_that_fit(
    dims: Dims,
    params: Params,
    seeds: int,
    days: int,
    chunk: int,
    variants: int,
    log_sessions: bool = False,
) -> int:
    """How many of ``variants`` variants of this shape one batch may hold (``check`` with
    ``variants``; the need grows with them, so the largest that passes is found by
    bisection). At least 1: a single variant that does not fit is refused by its own run."""

    def fits(n: int) -> bool:
        try:
            check(dims, params, seeds, days, chunk, log_sessions, variants=n)
        except TooLargeError:
            return False
        return True

    lo, hi = 1, max(1, variants)
    if fits(hi):
        return hi
    while hi - lo > 1:  # fits(lo) or lo == 1; not fits(hi)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def estimate_scenario(scenario: Scenario, seeds: int, chunk_days: int | None = None) -> Estimate:
    """``estimate`` for a resolved scenario run with ``seeds`` seeds (chunks as the run's)."""
    return estimate(*build(scenario), seeds, scenario.days, _chunk(scenario, chunk_days))


def check_scenario(
    scenario: Scenario, seeds: int, chunk_days: int | None = None, processes: int = 1
) -> Estimate:
    """``check`` for a resolved scenario run with ``seeds`` seeds (chunks as the run's)."""
    return check(
        *build(scenario), seeds, scenario.days, _chunk(scenario, chunk_days), processes=processes
    )


def _chunk(scenario: Scenario, chunk_days: int | None) -> int:
    from twosided.sim.run import chunk_size

    return chunk_size(scenario.days, chunk_days or scenario.chunk_days)
