"""Engine throughput and memory: shopping sessions per second and bytes per buyer.

Usage (from the repository root)::

    python benchmarks/bench_engine.py                       # 1e5 and 1e6 buyers on the CPU
    python benchmarks/bench_engine.py --buyers 1e7 1e8 --device gpu

For each buyer count, in a fresh process (so that memory figures do not mix sizes):

1. the scenario (default preset ``taobao``) is built with ``market.buyers`` overridden;
   sessions per buyer per day stay the scenario's unless ``--sessions-per-buyer`` is given;
2. ``init_states`` and ``run_chunk`` are compiled ahead of time (the compile time is
   reported on its own);
3. the process's resident-memory baseline is read and its high-water mark reset
   (``/proc/self/clear_refs``), then the state is created, one warm-up chunk runs, and
   ``--repeats`` chunks of ``--days`` days are timed, each until its metrics are ready;
4. throughput is reported for the best repeat (and the median), counting both the
   sessions drawn (``dims.sessions`` per day) and the sessions that reached a platform
   (the sum of the daily ``sessions`` metric over platforms; the rest stayed offline).

Memory: the state's exact size (``nbytes`` of its leaves) per buyer, for the ``Buyers``
pytree alone and for the whole state; and the peak memory per buyer: on the CPU the rise
of the process's resident-memory high-water mark (VmHWM) over the baseline taken after
compilation, on a GPU the rise of the device's ``peak_bytes_in_use`` over the bytes in use
before the state was created. Both include the day's temporaries (session arrays), which
grow with the number of sessions and so with the number of buyers.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import gc
import multiprocessing
import os
import platform as host
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_BUYERS = (100_000, 1_000_000)
DEVICES = {"cpu": "cpu", "gpu": "cuda"}


class DeviceError(Exception):
    """The requested JAX backend is not available on this machine."""


class BenchArgumentParser(argparse.ArgumentParser):
    """Argument errors as one line naming the flag, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def positive_count(text: str) -> int:
    """A count written as an integer or in exponent form (``1e6``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(value)


def positive_float(text: str) -> float:
    """A strictly positive real number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by the engine and Mesa benchmarks."""
    parser.add_argument(
        "--preset", default="taobao", help="preset or scenario TOML (default taobao)"
    )
    parser.add_argument(
        "--sessions-per-buyer",
        type=positive_float,
        default=None,
        help="override market.sessions_per_buyer_per_day (default: the scenario's)",
    )
    parser.add_argument("--days", type=positive_count, default=10, help="timed days per repeat")
    parser.add_argument(
        "--repeats", type=positive_count, default=3, help="timed repeats (best is reported)"
    )
    parser.add_argument("--device", choices=sorted(DEVICES), default="cpu", help="JAX backend")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options of the engine benchmark."""
    parser = BenchArgumentParser(
        prog="bench_engine.py", description="Engine sessions per second and memory per buyer."
    )
    parser.add_argument(
        "--buyers",
        type=positive_count,
        nargs="+",
        default=list(DEFAULT_BUYERS),
        help="buyer counts to measure (default 1e5 1e6)",
    )
    parser.add_argument("--seeds", type=positive_count, default=1, help="seeds run together (vmap)")
    add_engine_options(parser)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------- the machine


def _proc_status() -> dict[str, int]:
    """The kB fields of /proc/self/status (VmRSS, VmHWM, ...), in bytes."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0]) * 1024
    return out


def _reset_high_water() -> bool:
    """Reset the process's resident-memory high-water mark (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def machine() -> dict[str, str]:
    """CPU model, cores and RAM of this machine, and the JAX version."""
    model = host.processor() or "unknown"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    ram = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        ram = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import jax

    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": host.python_version(),
        "jax": jax.__version__,
        "date": datetime.date.today().isoformat(),
    }


def use_device(device: str) -> Any:
    """Point JAX at the CPU or a GPU before any array exists; the device used."""
    import jax

    jax.config.update("jax_platforms", DEVICES[device])
    try:
        return jax.devices()[0]
    except Exception as err:  # JAX raises RuntimeError or AssertionError, by version
        raise DeviceError(
            f"--device {device}: no {DEVICES[device]} backend on this machine"
        ) from err


# ----------------------------------------------------------------------- measurement


def scenario_overrides(buyers: int, sessions_per_buyer: float | None) -> dict[str, Any]:
    """The overrides that size the benchmark scenario."""
    out: dict[str, Any] = {"market.buyers": buyers}
    if sessions_per_buyer is not None:
        out["market.sessions_per_buyer_per_day"] = sessions_per_buyer
    return out


def tree_bytes(tree: Any) -> int:
    """Exact bytes of a pytree's array leaves."""
    import jax

    return sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(tree))


def measure(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """``_measure`` in the engine's 64-bit mode (``twosided.sim.precision``)."""
    from twosided.sim.precision import x64

    with x64():
        return _measure(*args, **kwargs)


def _measure(
    buyers: int,
    preset: str = "taobao",
    sessions_per_buyer: float | None = None,
    days: int = 10,
    repeats: int = 3,
    seeds: int = 1,
    device: str = "cpu",
) -> dict[str, Any]:
    """Compile, then time ``repeats`` chunks of ``days`` days; figures as a dict."""
    dev = use_device(device)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from twosided.sim import run
    from twosided.sim.params import build
    from twosided.simulation import prepare

    sc = prepare(preset, scenario_overrides(buyers, sessions_per_buyer))
    dims, params = build(sc)
    seed_arr = jnp.arange(seeds, dtype=jnp.uint32)

    t0 = time.perf_counter()
    init = run.init_states.lower(seed_arr, dims, params).compile()
    shapes = jax.eval_shape(lambda: run.init_states(seed_arr, dims, params))
    chunk = run.run_chunk.lower(shapes, params, seed_arr, run.START_DAY, days, dims).compile()
    compile_s = time.perf_counter() - t0

    gc.collect()
    on_cpu = dev.platform == "cpu"
    base_rss = _proc_status().get("VmRSS", 0)
    hwm_reset = _reset_high_water() if on_cpu else False
    base_dev = (dev.memory_stats() or {}).get("bytes_in_use", 0) if not on_cpu else 0

    states = init(seed_arr, params)
    jax.block_until_ready(states)
    state_bytes = tree_bytes(states)
    buyer_bytes = tree_bytes(states.buyers)

    states, metrics = chunk(states, params, seed_arr, np.int32(0))  # warm-up, untimed
    jax.block_until_ready(metrics)
    times: list[float] = []
    reached: list[int] = []
    for r in range(repeats):
        t = time.perf_counter()
        states, metrics = chunk(states, params, seed_arr, np.int32((r + 1) * days))
        jax.block_until_ready(metrics)
        times.append(time.perf_counter() - t)
        reached.append(int(np.asarray(metrics["sessions"]).sum()))

    if on_cpu:
        status = _proc_status()
        peak = status.get("VmHWM", 0) - base_rss if hwm_reset else status.get("VmHWM", 0)
        peak_note = "VmHWM rise over baseline" if hwm_reset else "process VmHWM (no reset)"
    else:
        stats = dev.memory_stats() or {}
        peak = stats.get("peak_bytes_in_use", 0) - base_dev
        peak_note = "device peak_bytes_in_use rise"
    best = min(range(repeats), key=lambda i: times[i])
    n = buyers * seeds
    drawn = dims.sessions * days * seeds
    return {
        "buyers": buyers,
        "seeds": seeds,
        "device": f"{dev.platform}:{dev.device_kind}",
        "sessions_per_day": dims.sessions,
        "days": days,
        "repeats": repeats,
        "compile_s": compile_s,
        "best_s": times[best],
        "median_s": statistics.median(times),
        "drawn_per_s": drawn / times[best],
        "drawn_per_s_median": drawn / statistics.median(times),
        "reached_per_s": reached[best] / times[best],
        "reached_share": reached[best] / drawn,
        "buyer_bytes_per_buyer": buyer_bytes / n,
        "state_bytes_per_buyer": state_bytes / n,
        "peak_bytes_per_buyer": peak / n,
        "peak_bytes": peak,
        "peak_note": peak_note,
        "baseline_rss_bytes": base_rss,
    }


def check_scenario(
    preset: str, buyers: Sequence[int], sessions_per_buyer: float | None
) -> str | None:
    """The scenario's one-line error for any requested size, or None if all are valid."""
    from twosided.scenario import ScenarioError
    from twosided.simulation import prepare

    for n in buyers:
        try:
            prepare(preset, scenario_overrides(n, sessions_per_buyer))
        except ScenarioError as err:
            return str(err)
    return None


def isolated(fn: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """``fn(*args, **kwargs)`` in a fresh process, so that its memory and compile are its own."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def measure_isolated(buyers: int, **kwargs: Any) -> dict[str, Any]:
    """``measure`` in a fresh process."""
    return isolated(measure, buyers, **kwargs)


# ----------------------------------------------------------------------- reporting


def human(x: float) -> str:
    """A count in exponent form with three significant digits (1.23e+06)."""
    return f"{x:.3g}" if x < 1000 else f"{x:.2e}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def throughput_cells(r: dict[str, Any]) -> list[str]:
    """Sessions per second, drawn (best and median) and reached, as table cells."""
    return [
        f"{human(r['drawn_per_s'])} ({human(r['drawn_per_s_median'])})",
        f"{human(r['reached_per_s'])} ({r['reached_share']:.0%} of drawn)",
    ]


THROUGHPUT_HEADER = ["drawn sessions/s best (median)", "reached a platform /s"]


def engine_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of engine measurements."""
    header = [
        "buyers",
        "sessions/day",
        "compile s",
        "best s/day",
        *THROUGHPUT_HEADER,
        "Buyers B/buyer",
        "state B/buyer",
        "peak B/buyer",
    ]
    return markdown_table(
        header,
        [
            [
                human(r["buyers"]),
                human(r["sessions_per_day"]),
                f"{r['compile_s']:.1f}",
                f"{r['best_s'] / r['days']:.4f}",
                *throughput_cells(r),
                f"{r['buyer_bytes_per_buyer']:.1f}",
                f"{r['state_bytes_per_buyer']:.1f}",
                f"{r['peak_bytes_per_buyer']:.0f}",
            ]
            for r in rows
        ],
    )


def machine_line(info: dict[str, str], device: str) -> str:
    """One line describing where the figures were measured."""
    return (
        f"{info['date']}: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, "
        f"Python {info['python']}, JAX {info['jax']}, device {device}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every requested buyer count and print a table."""
    args = parse_args(argv)
    problem = check_scenario(args.preset, args.buyers, args.sessions_per_buyer)
    if problem:
        print(f"bench_engine.py: error: {problem}", file=sys.stderr)
        return 2
    rows = []
    for n in args.buyers:
        print(f"measuring {n:,} buyers on {args.device} ...", file=sys.stderr, flush=True)
        try:
            rows.append(
                measure_isolated(
                    n,
                    preset=args.preset,
                    sessions_per_buyer=args.sessions_per_buyer,
                    days=args.days,
                    repeats=args.repeats,
                    seeds=args.seeds,
                    device=args.device,
                )
            )
        except DeviceError as err:
            print(f"bench_engine.py: error: {err}", file=sys.stderr)
            return 2
    print(machine_line(machine(), rows[0]["device"]))
    print(
        f"preset {args.preset}, {args.seeds} seed(s), {args.days} timed days "
        f"x {args.repeats} repeats "
        f"(best reported, median in brackets); peak = {rows[0]['peak_note']}"
    )
    print(engine_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
