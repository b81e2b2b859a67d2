"""Sweep speed: market-years per hour, and what vmapping seeds together buys.

    python benchmarks/bench_sweep.py [--preset taobao] [--buyers N] [--days 30] [--seeds 4]
                                     [--variants 3] [--workers W]

1. A sweep of the preset over ``--variants`` values of the incumbent's ad weight, each with
   ``--seeds`` seeds for ``--days`` days, through ``twosided.experiments.run_sweep`` (local
   executor, stored in a temporary results root). Market-years = variants × seeds × days /
   365. Printed twice: over the whole sweep (first compile included) and in steady state
   (after the first variant, which pays the compile).
2. The same seeds run together in one vmapped call against one run per seed, both shapes
   compiled beforehand; the speedup is (time of the separate runs) / (time together).

Speed is measured here, never in a timed test. Keep runs modest on shared machines.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time

import jax

import twosided
from twosided.experiments.stats import DAYS_PER_YEAR
from twosided.experiments.sweep import plan_sweep, run_sweep

SECONDS_PER_HOUR = 3600
AD_WEIGHT = "platforms.0.ranking.ads"


def sweep_speed(args: argparse.Namespace) -> None:
    """Market-years per hour of a sweep, with and without the first compile."""
    overrides = {"market.buyers": args.buyers} if args.buyers else None
    vary = {AD_WEIGHT: f"0:1:{args.variants}"}
    plan = plan_sweep(args.preset, vary, seeds=args.seeds, days=args.days, overrides=overrides)
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run_sweep(
            plan,
            workers=args.workers,
            out=out,
            progress=lambda d, t: stamps.append(time.perf_counter()),
        )
        total = time.perf_counter() - start
    years_per_variant = args.seeds * args.days / DAYS_PER_YEAR
    print(
        f"sweep: {args.preset}, {plan.base.market.buyers:,} buyers, {args.variants} variants x "
        f"{args.seeds} seeds x {args.days} days = "
        f"{years_per_variant * args.variants:.2f} market-years"
    )
    print(
        f"  whole sweep (first compile included): {total:.1f} s -> "
        f"{years_per_variant * args.variants / total * SECONDS_PER_HOUR:.1f} market-years/hour"
    )
    if args.variants > 1:
        steady = stamps[-1] - stamps[1]
        print(
            f"  steady state (variants 2..{args.variants}): {steady:.1f} s -> "
            f"{years_per_variant * (args.variants - 1) / steady * SECONDS_PER_HOUR:.1f} "
            "market-years/hour"
        )


def _timed(fn: callable) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def vmap_speedup(args: argparse.Namespace) -> None:
    """Seeds together in one vmapped call against one call per seed (both compiled first)."""
    overrides = {"market.buyers": args.buyers} if args.buyers else None
    seeds = list(range(args.seeds))

    def together() -> None:
        twosided.simulate(args.preset, days=args.days, seeds=seeds, overrides=overrides)

    def separately() -> None:
        for seed in seeds:
            twosided.simulate(args.preset, days=args.days, seeds=[seed], overrides=overrides)

    together()
    twosided.simulate(args.preset, days=args.days, seeds=[0], overrides=overrides)
    t_together, t_separate = _timed(together), _timed(separately)
    print(
        f"vmap: {args.seeds} seeds x {args.days} days: together {t_together:.2f} s, "
        f"separately {t_separate:.2f} s -> speedup {t_separate / t_together:.2f}x"
    )


def main() -> None:
    """Parse flags, print the machine, run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="taobao")
    parser.add_argument("--buyers", type=int, default=None, help="override market.buyers")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, JAX {jax.__version__} on "
        f"{jax.devices()[0].platform}, {jax.device_count()} device(s)"
    )
    sweep_speed(args)
    vmap_speedup(args)


if __name__ == "__main__":
    main()
