"""The Mesa baseline: sessions per second of ``mesa_model.ShoppingModel`` against the engine.

Usage (from the repository root)::

    python benchmarks/bench_mesa.py                    # Mesa at 1e4 and 1e5 buyers, engine too
    python benchmarks/bench_mesa.py --buyers 1e4 --engine-buyers 1e6

For each buyer count the Mesa model is built (its results pages are the engine's own, see
``mesa_model``), one warm-up day runs, then ``--repeats`` runs of ``--days`` days are timed
(best reported, median in brackets). The engine is measured at the same buyer counts (and at
``--engine-buyers``, default 1e6, the size of the speed target) with the same scenario and
sessions per buyer per day, by ``bench_engine.measure`` in a fresh process. The ratio
engine / Mesa compares drawn sessions per second, best against best, on this machine.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import bench_engine
from bench_engine import (
    THROUGHPUT_HEADER,
    BenchArgumentParser,
    human,
    isolated,
    markdown_table,
    positive_count,
    throughput_cells,
)

DEFAULT_BUYERS = (10_000, 100_000)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options of the Mesa benchmark."""
    parser = BenchArgumentParser(
        prog="bench_mesa.py", description="Mesa model sessions per second, and the engine's ratio."
    )
    parser.add_argument(
        "--buyers",
        type=positive_count,
        nargs="+",
        default=list(DEFAULT_BUYERS),
        help="buyer counts for both models (default 1e4 1e5)",
    )
    parser.add_argument(
        "--engine-buyers",
        type=positive_count,
        nargs="*",
        default=[1_000_000],
        help="further buyer counts for the engine alone (default 1e6; none to skip)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of both models")
    bench_engine.add_engine_options(parser)
    parser.set_defaults(days=3)
    return parser.parse_args(argv)


def measure_mesa(
    buyers: int,
    preset: str = "taobao",
    sessions_per_buyer: float | None = None,
    days: int = 3,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Build the Mesa model, then time ``repeats`` runs of ``days`` days."""
    import mesa_model
    from twosided.simulation import prepare

    sc = prepare(preset, bench_engine.scenario_overrides(buyers, sessions_per_buyer))
    mesa_model.engine_pages(sc, seed)  # JAX's first-call costs, outside the measurement
    gc.collect()
    base_rss = bench_engine._proc_status().get("VmRSS", 0)
    hwm_reset = bench_engine._reset_high_water()
    t = time.perf_counter()
    model = mesa_model.ShoppingModel(preset, buyers, seed, sessions_per_buyer)
    build_s = time.perf_counter() - t
    model.step()  # warm-up day
    times: list[float] = []
    reached: list[int] = []
    for _ in range(repeats):
        before = sum(model.sessions_reached)
        t = time.perf_counter()
        for _ in range(days):
            model.step()
        times.append(time.perf_counter() - t)
        reached.append(sum(model.sessions_reached) - before)
    hwm = bench_engine._proc_status().get("VmHWM", 0)
    peak = hwm - base_rss if hwm_reset else hwm
    best = min(range(repeats), key=lambda i: times[i])
    drawn = model.sessions_per_day * days
    return {
        "buyers": buyers,
        "sessions_per_day": model.sessions_per_day,
        "days": days,
        "build_s": build_s,
        "best_s": times[best],
        "drawn_per_s": drawn / times[best],
        "drawn_per_s_median": drawn / statistics.median(times),
        "reached_per_s": reached[best] / times[best],
        "reached_share": reached[best] / drawn,
        "peak_bytes_per_buyer": peak / buyers,
    }


def mesa_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of Mesa measurements."""
    header = ["buyers", "sessions/day", "build s", "best s/day", *THROUGHPUT_HEADER, "peak B/buyer"]
    return markdown_table(
        header,
        [
            [
                human(r["buyers"]),
                human(r["sessions_per_day"]),
                f"{r['build_s']:.1f}",
                f"{r['best_s'] / r['days']:.3f}",
                *throughput_cells(r),
                f"{r['peak_bytes_per_buyer']:.0f}",
            ]
            for r in rows
        ],
    )


def ratio_table(mesa: list[dict[str, Any]], engine: list[dict[str, Any]]) -> str:
    """Engine / Mesa drawn sessions per second, for every pair of measured sizes."""
    header = [
        "engine buyers",
        "Mesa buyers",
        "engine sessions/s",
        "Mesa sessions/s",
        "engine / Mesa",
    ]
    return markdown_table(
        header,
        [
            [
                human(e["buyers"]),
                human(m["buyers"]),
                human(e["drawn_per_s"]),
                human(m["drawn_per_s"]),
                f"{e['drawn_per_s'] / m['drawn_per_s']:.1f}x",
            ]
            for e in engine
            for m in mesa
            if e["buyers"] >= m["buyers"]
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the Mesa model and the engine; print both tables and their ratios."""
    args = parse_args(argv)
    sizes = sorted(set(args.buyers) | set(args.engine_buyers))
    problem = bench_engine.check_scenario(args.preset, sizes, args.sessions_per_buyer)
    if problem:
        print(f"bench_mesa.py: error: {problem}", file=sys.stderr)
        return 2
    common = {
        "preset": args.preset,
        "sessions_per_buyer": args.sessions_per_buyer,
        "repeats": args.repeats,
    }
    mesa_rows = []
    for n in args.buyers:
        print(f"Mesa: {n:,} buyers ...", file=sys.stderr, flush=True)
        mesa_rows.append(isolated(measure_mesa, n, days=args.days, seed=args.seed, **common))
    engine_rows = []
    for n in sizes:
        print(f"engine: {n:,} buyers on {args.device} ...", file=sys.stderr, flush=True)
        try:
            engine_rows.append(
                bench_engine.measure_isolated(
                    n, days=max(args.days, 10), device=args.device, **common
                )
            )
        except bench_engine.DeviceError as err:
            print(f"bench_mesa.py: error: {err}", file=sys.stderr)
            return 2
    print(bench_engine.machine_line(bench_engine.machine(), engine_rows[0]["device"]))
    print(
        f"preset {args.preset}; Mesa {args.days} timed days x {args.repeats} repeats, engine "
        f"{max(args.days, 10)} days x {args.repeats}; best reported, median in brackets"
    )
    print("\nMesa model (benchmarks/mesa_model.py)")
    print(mesa_table(mesa_rows))
    print("\nEngine (twosided.sim.run.run_chunk)")
    print(bench_engine.engine_table(engine_rows))
    print("\nRatio of drawn sessions per second")
    print(ratio_table(mesa_rows, engine_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
