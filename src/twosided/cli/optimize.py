"""``twosided optimize``: a platform's best policy against fixed rivals, or best responses
between platforms (``--equilibrium``). See docs/strategic.md."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from twosided.cli.common import (
    DEFAULT_ROOT,
    Out,
    ScenarioRef,
    Sets,
    app,
    print_grid,
    progress_bar,
    say,
    scenario_from,
)
from twosided.scenario import Scenario, ScenarioError


class ObjectiveName(StrEnum):
    """The rewards of docs/strategic.md."""

    revenue = "revenue"
    profit = "profit"
    welfare = "welfare"
    share = "share"


def parse_bounds(items: list[str] | None) -> dict[str, tuple[float, float]]:
    """``FIELD=LOW:HIGH`` pairs; a malformed one is a ``ScenarioError`` naming it."""
    out: dict[str, tuple[float, float]] = {}
    for item in items or []:
        name, _, span = item.partition("=")
        low, sep, high = span.partition(":")
        try:
            if not name or not sep:
                raise ValueError
            out[name.strip()] = (float(low), float(high))
        except ValueError:
            raise ScenarioError(
                f"--bound {item}: expected FIELD=LOW:HIGH, e.g. rank_ads=0:5"
            ) from None
    return out


def platform_of(sc: Scenario, ref: str | None) -> int:
    """A platform's index from its name or index (default: the first)."""
    names = [p.name for p in sc.platforms]
    if ref is None:
        return 0
    if ref in names:
        return names.index(ref)
    if ref.isdigit() and int(ref) < len(names):
        return int(ref)
    raise ScenarioError(f"--platform {ref}: not one of {', '.join(names)}")


def _fmt(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def _show_optimum(found: Any, baseline: dict[str, float], fields: tuple[str, ...]) -> None:
    print_grid(
        ["field", "scenario", "best"],
        [[f, _fmt(baseline[f]), _fmt(found.best[f])] for f in fields],
        title=f"Best policy for {found.platform} ({len(found.points):,} evaluated)",
    )
    rows = []
    for c in found.comparison:
        scale = 1.0 if c.metric == "objective" else 100.0  # cents to yuan
        rows.append(
            [
                c.metric.removesuffix("_cents"),
                _fmt(c.baseline / scale),
                _fmt(c.best / scale),
                _fmt(c.difference / scale),
                f"{_fmt(c.low / scale)} .. {_fmt(c.high / scale)}",
            ]
        )
    seeds = found.comparison[0].seeds
    print_grid(
        ["per episode", "scenario", "best", "difference", "95% interval"],
        rows,
        title=f"Best vs the scenario's policy ({seeds} held-out seeds, paired; yuan)",
    )
    frontier = found.frontier_table()[:12]
    print_grid(
        ["revenue", "consumer surplus", *fields],
        [
            [_fmt(p["revenue"]), _fmt(p["consumer_surplus"]), *(_fmt(p[f]) for f in fields)]
            for p in frontier
        ],
        left=0,
        title=f"Frontier: revenue vs consumer surplus ({len(found.frontier)} points)",
    )


def _show_equilibrium(eq: Any) -> None:
    fields = list(eq.fields)
    print_grid(
        ["round", "platform", "objective", "move", *fields],
        [
            [
                s["round"],
                s["platform"],
                _fmt(s["objective"]),
                f"{s['move']:.3f}",
                *(_fmt(s["policy"][f]) for f in fields),
            ]
            for s in eq.path
        ],
        title="Best responses",
        left=2,
    )
    rows = [
        [
            name,
            _fmt(eq.start["revenue"][i]),
            _fmt(eq.end["revenue"][i]),
            _fmt(eq.start["consumer_surplus"][i]),
            _fmt(eq.end["consumer_surplus"][i]),
        ]
        for i, name in enumerate(eq.platforms)
    ]
    print_grid(
        ["platform", "revenue: scenario", "end", "surplus: scenario", "end"],
        rows,
        title="Outcomes per episode (held-out seeds, yuan)",
    )
    state = (
        f"converged after {eq.rounds} rounds"
        if eq.converged
        else f"stopped at the round limit ({eq.rounds}) without converging"
    )
    say(f"best responses {state}")


def _space(
    sc: Scenario, i: int, fields: list[str] | None, bounds: dict[str, tuple[float, float]]
) -> Any:
    from twosided.strategy.optimize import search_space

    try:
        return search_space(sc, i, fields, bounds)
    except ScenarioError as err:
        message = str(err)
        flag = "--" if message.startswith("bound ") else "--field: "
        raise ScenarioError(f"{flag}{message}") from None


def _settings(sc: Scenario, *args: Any) -> dict[str, Any]:
    """What identifies a search: the resolved scenario and the command's settings (not the
    number of generations: a longer search of the same question replaces a shorter one)."""
    return {"scenario": sc.model_dump(mode="json"), "options": json.loads(json.dumps(args))}


def _announce(sc: Scenario, periods: int, period_days: int, seeds: int, population: int) -> None:
    say(
        f"{sc.name}: {periods} periods of {period_days} days, {seeds} seeds per candidate, "
        f"{population} candidates per generation"
    )


@app.command()
def optimize(
    scenario: ScenarioRef = "taobao",
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            "-p",
            help="The platform that optimizes (name or index; default the "
            "first). Ignored with --equilibrium (every platform).",
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-f",
            metavar="FIELD",
            help="A policy field to search (repeatable; "
            "default the ranking weights, commission_scale, detection_rate).",
        ),
    ] = None,
    bound: Annotated[
        list[str] | None,
        typer.Option(
            "--bound",
            "-b",
            metavar="FIELD=LOW:HIGH",
            help="Search a field within a narrower range than the schema's (repeatable).",
        ),
    ] = None,
    objective: Annotated[
        ObjectiveName, typer.Option(help="What the platform maximizes over the horizon.")
    ] = ObjectiveName.revenue,
    surplus_weight: Annotated[
        float, typer.Option(help="λ of the welfare objective: revenue + λ × consumer surplus.")
    ] = 1.0,
    days: Annotated[
        int | None, typer.Option(help="Horizon in days (default: the scenario's).", min=1)
    ] = None,
    period_days: Annotated[int, typer.Option(help="Days per decision period.", min=1)] = 7,
    seeds: Annotated[
        int,
        typer.Option(help="Seeds every candidate runs on (common random numbers).", min=1, max=256),
    ] = 4,
    eval_seeds: Annotated[
        int, typer.Option(help="Held-out seeds of the final comparison.", min=1, max=256)
    ] = 4,
    generations: Annotated[int, typer.Option(help="CMA-ES generations.", min=1)] = 20,
    population: Annotated[
        int, typer.Option(help="Candidates per generation (one batch).", min=2, max=512)
    ] = 8,
    seed: Annotated[
        int | None,
        typer.Option(help="First engine seed (default: the scenario's); also seeds CMA-ES.", min=0),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="Save the search state here after each generation; resume from it."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.")
    ] = None,
    equilibrium: Annotated[
        bool, typer.Option("--equilibrium", help="Iterate best responses between all platforms.")
    ] = False,
    rounds: Annotated[int, typer.Option(help="Most rounds of best responses.", min=1)] = 5,
    tol: Annotated[
        float,
        typer.Option(help="Stop when no policy moves more than this share of its range.", min=0.0),
    ] = 0.02,
    sets: Sets = None,
    out: Out = DEFAULT_ROOT,
) -> None:
    """Find a platform's best policy against fixed rivals (CMA-ES over batched runs with
    common random numbers), or iterate best responses between platforms."""
    from twosided.env import policy as pol
    from twosided.simulation import check_seed_count
    from twosided.strategy import equilibrium as eqm
    from twosided.strategy import optimize as opt

    sc = scenario_from(scenario, sets, days)
    if sc.days < period_days:
        raise ScenarioError(
            f"--days {sc.days}: shorter than one period (--period-days {period_days})"
        )
    first = sc.seed if seed is None else seed
    check_seed_count(seeds + eval_seeds, first, "--seeds")
    train = list(range(first, first + seeds))
    held_out = list(range(first + seeds, first + seeds + eval_seeds))
    bounds = parse_bounds(bound)
    periods = sc.days // period_days
    if equilibrium:
        spaces = [_space(sc, i, field, bounds) for i in range(len(sc.platforms))]
        _announce(sc, periods, period_days, seeds, population)
        progress = progress_bar("responses")
        task = progress.add_task("compiling", total=rounds * len(spaces))

        def report(step: dict[str, Any]) -> None:
            progress.update(task, advance=1, description=f"round {step['round']}")

        with progress:
            eq = eqm.best_responses(
                sc,
                spaces,
                train,
                held_out,
                rounds,
                tol,
                generations,
                population,
                first,
                period_days,
                periods,
                objective.value,
                surplus_weight,
                report,
            )
        _show_equilibrium(eq)
        result = {"equilibrium": eq.as_dict()}
    else:
        i = platform_of(sc, platform)
        space = _space(sc, i, field, bounds)
        _announce(sc, periods, period_days, seeds, population)
        ev = opt.evaluator_for(
            sc, i, space, None, period_days, periods, objective.value, surplus_weight, population
        )
        progress = progress_bar("generations")
        task = progress.add_task("compiling", total=generations)

        def advance(done: int, best: float) -> None:
            progress.update(task, completed=done, description="searching")

        settings = {
            "scenario": sc.model_dump(mode="json"),
            "objective": objective.value,
            "surplus_weight": surplus_weight,
            "period_days": period_days,
            "periods": periods,
        }
        with progress:
            found = opt.best_policy(
                ev,
                train,
                held_out,
                generations,
                seed=first,
                state_path=state,
                progress=advance,
                settings=settings,
            )
        _show_optimum(found, pol.as_dict(ev.policies[i]), space.fields)
        result = {"optimum": found.as_dict()}
    from twosided.strategy import saved

    kept = saved.save(
        out,
        sc.name,
        _settings(
            sc,
            platform,
            field,
            bound,
            objective.value,
            surplus_weight,
            period_days,
            seeds,
            eval_seeds,
            population,
            first,
            equilibrium,
        ),
        result,
    )
    say(f"kept in {kept} (the whom-to-save study of this scenario links it)")
    if json_out is not None:
        from twosided.atomic import write_text

        write_text(json_out, json.dumps(result, indent=2))
        say(f"wrote {json_out}")
