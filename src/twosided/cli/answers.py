"""``twosided experiment flip`` and ``twosided experiment sensitivity``: where the
whom-to-save answer changes along one world parameter, and which parameters move it
(docs/experiments.md)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from twosided.cli.common import (
    DEFAULT_PRESET,
    DEFAULT_ROOT,
    Out,
    ScenarioRef,
    Sets,
    print_grid,
    progress_bar,
    say,
    scenario_from,
)
from twosided.cli.experiment import Batch, experiment
from twosided.scenario import Scenario, ScenarioError, apply_overrides

if TYPE_CHECKING:
    from twosided.experiments.policy_gap import PolicyGap

Years = Annotated[
    float, typer.Option("--years", "-y", help="Years of 365 days per run (fractions allowed).")
]


def parse_range(text: str, flag: str) -> tuple[float, float]:
    """``LOW:HIGH`` as two floats, the lower first; a ScenarioError naming the flag."""
    low, sep, high = text.partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(low), float(high)
    except ValueError:
        raise ScenarioError(f"{flag} {text}: expected LOW:HIGH, e.g. -1:5") from None
    if not lo < hi:
        raise ScenarioError(f"{flag} {text}: the lower end must be below the upper")
    return lo, hi


def check_field(scenario: Scenario, key: str, bounds: tuple[float, float], flag: str) -> None:
    """Both ends of a range must be valid values of ``key`` in the scenario."""
    for value in bounds:
        try:
            apply_overrides(scenario, {key: value})
        except ScenarioError as err:
            raise ScenarioError(f"{flag} {key}={value:g}: {err}") from None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80] or "study"


def _gap(scenario: Scenario, years: float, seeds: int, batch: bool) -> tuple[PolicyGap, int]:
    """The paired gap of ``seeds`` seeds from the scenario's own, and the run's days."""
    from twosided.experiments.policy_gap import PolicyGap
    from twosided.experiments.whom_to_save.study import study_days

    days = study_days(years)
    seed_list = list(range(scenario.seed, scenario.seed + seeds))
    return PolicyGap(scenario, days, seed_list, batch), days


@experiment.command("flip")
def flip_command(
    scenario: ScenarioRef = DEFAULT_PRESET,
    parameter: Annotated[
        str,
        typer.Option(
            "--parameter", "-p", metavar="KEY.PATH", help="The world parameter to search."
        ),
    ] = "buyers.offline_utility",
    span: Annotated[
        str, typer.Option("--range", "-r", metavar="LOW:HIGH", help="Where to search.")
    ] = "-1:5",
    steps: Annotated[
        int, typer.Option("--steps", min=0, max=20, help="Bisection steps after both ends.")
    ] = 4,
    seeds: Annotated[int, typer.Option("--seeds", "-n", min=2, help="Paired seeds a point.")] = 4,
    years: Years = 1.0,
    batch: Batch = True,
    out: Out = DEFAULT_ROOT,
    sets: Sets = None,
) -> None:
    """Find where the better long-run policy (user-first or revenue-first) flips along one
    world parameter: bisection on paired seeds, with the crossing's interval.

    Writes flip.csv and flip.html under <out>/flips/<scenario>-<parameter>/."""
    from twosided.experiments.answer_pages import FLIP_HEADER, flip_rows, write_flip
    from twosided.experiments.flip import find_flip

    world = scenario_from(scenario, sets)
    bounds = parse_range(span, "--range")
    check_field(world, parameter, bounds, "--parameter")
    gap, days = _gap(world, years, seeds, batch)
    say(
        f"{world.name}: {parameter} in [{bounds[0]:g}, {bounds[1]:g}], {steps} bisection "
        f"steps; each point runs both policies on {seeds} seeds × {days} days"
    )
    bar = progress_bar("points")
    with bar:
        task = bar.add_task("compiling", total=2 + steps)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description="searching")

        flip = find_flip(gap, parameter, *bounds, steps=steps, progress=advance)
    print_grid(FLIP_HEADER, flip_rows(flip), title=f"Revenue gap along {parameter}")
    say(flip.sentence())
    folder = out / "flips" / _slug(f"{world.name}-{parameter}")
    footer = [f"{world.name}; {seeds} seeds from {world.seed}, {days} days a run"]
    say(f"report: {write_flip(flip, folder, world.name, footer)}")


@experiment.command("sensitivity")
def sensitivity_command(
    scenario: ScenarioRef = DEFAULT_PRESET,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            "-v",
            metavar="KEY.PATH=LOW:HIGH",
            help="A parameter and its range (repeatable; at least one).",
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="morris (screening) or sobol (variance shares).")
    ] = "morris",
    trajectories: Annotated[
        int, typer.Option("--trajectories", min=2, help="Morris trajectories.")
    ] = 8,
    samples: Annotated[
        int, typer.Option("--samples", min=2, help="Sobol' base samples (a power of two).")
    ] = 64,
    seeds: Annotated[int, typer.Option("--seeds", "-n", min=1, help="Paired seeds a point.")] = 2,
    years: Years = 1.0,
    batch: Batch = True,
    out: Out = DEFAULT_ROOT,
    sets: Sets = None,
) -> None:
    """Which parameters move the long-run revenue gap (user-first minus revenue-first) and
    which can flip it: Morris elementary effects or Sobol' indices (SALib).

    Writes indices.csv, points.csv and sensitivity.html under <out>/sensitivity/<name>/."""
    from twosided.experiments.answer_pages import (
        sensitivity_rows,
        sensitivity_sentence,
        write_sensitivity,
    )
    from twosided.experiments.sensitivity import Factor, analyse, design

    if method not in ("morris", "sobol"):
        raise ScenarioError(f"--method {method}: expected morris or sobol")
    if not vary:
        raise ScenarioError("--vary: give at least one KEY.PATH=LOW:HIGH")
    world = scenario_from(scenario, sets)
    factors = []
    for item in vary:
        key, eq, span = item.partition("=")
        if not eq or not key.strip():
            raise ScenarioError(f"--vary {item}: expected KEY.PATH=LOW:HIGH")
        bounds = parse_range(span, f"--vary {key.strip()}=")
        check_field(world, key.strip(), bounds, "--vary")
        factors.append(Factor(key.strip(), *bounds))
    gap, days = _gap(world, years, seeds, batch)
    n = len(design(factors, method, trajectories, samples=samples))  # type: ignore[arg-type]
    say(
        f"{world.name}: {len(factors)} parameters, {method}, {n} points; each runs both "
        f"policies on {seeds} seeds × {days} days"
    )
    bar = progress_bar("points")
    with bar:
        task = bar.add_task("compiling", total=n)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description="sampling")

        found = analyse(
            gap,
            factors,
            method,
            trajectories,
            samples=samples,
            progress=advance,  # type: ignore[arg-type]
        )
    header, rows = sensitivity_rows(found)
    print_grid(header, rows, title="Sensitivity of the long-run revenue gap")
    say(sensitivity_sentence(found))
    folder = out / "sensitivity" / _slug(f"{world.name}-{method}")
    footer = [f"{world.name}; {seeds} seeds from {world.seed}, {days} days a run"]
    say(f"report: {write_sensitivity(found, folder, world.name, footer)}")
