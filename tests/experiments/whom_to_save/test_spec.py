"""The whom-to-save study as data (``experiments/whom_to_save/spec.py``): per-world
settings, the study file, the resolved study written back, and the sentence saying what
differs between the worlds; bad input is one line and status 2."""

from __future__ import annotations

import html
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from twosided import cli
from twosided.experiments.grid import SweepError
from twosided.experiments.sweep import plan_variants
from twosided.experiments.whom_to_save import (
    STUDY_FILE,
    WORLDS,
    StudySpec,
    policy_variants,
    read_study,
    resolve_study,
    rivals_removed,
    scenario_file,
    study_days,
    study_from_arguments,
    study_toml,
    world_name,
    write_worlds,
)
from twosided.experiments.whom_to_save.findings import differences_sentence, world_differences
from twosided.scenario import ScenarioError, load_scenario
from twosided.scenario.compare import scenario_differences

EXAMPLE = resources.files("twosided") / "studies" / "whom_to_save.toml"
SMALL = ["market.buyers=1000"]


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.run_app(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def default_worlds(sets=SMALL, set_world=None):  # type: ignore[no-untyped-def]
    spec, scenarios, labels = study_from_arguments("taobao", "monopoly", 2, 0.05, 2)
    return resolve_study(spec, sets, set_world, labels, scenarios)


def changed_fields(a, b) -> set[str]:  # type: ignore[no-untyped-def]
    return {d.key for d in scenario_differences(a, b)}


# --------------------------------------------------------------------------- --set-world


@pytest.mark.parametrize("name", ["monopoly", "without rivals", "Without  Rivals"])
def test_set_world_changes_only_the_named_world(name: str) -> None:
    _, default = default_worlds()
    spec, worlds = default_worlds(set_world=[f"{name}:buyers.switching_cost=1.5"])
    rivals, alone = worlds
    assert changed_fields(default[0].scenario, rivals.scenario) == set()
    assert changed_fields(default[1].scenario, alone.scenario) == {"buyers.switching_cost"}
    assert alone.scenario.buyers.switching_cost == 1.5
    # the resolved study keeps it, after --set, in that world's settings only
    assert spec.world("monopoly").settings == {"market.buyers": 1000, "buyers.switching_cost": 1.5}
    assert spec.world("rivals").settings == {"market.buyers": 1000}


def test_set_world_comes_after_set_and_the_last_one_wins() -> None:
    _, worlds = default_worlds(set_world=["rivals:market.buyers=2000", "rivals:market.buyers=3000"])
    assert worlds[0].scenario.market.buyers == 3000
    assert worlds[1].scenario.market.buyers == 1000


def test_the_python_api_takes_per_world_overrides_as_a_dict() -> None:
    spec, scenarios, labels = study_from_arguments("taobao", "monopoly", 2, 0.05, 2)
    _, worlds = resolve_study(spec, None, {"rivals": {"platforms.0.brand": 2.0}}, labels)
    assert worlds[0].scenario.platforms[0].brand == 2.0
    assert worlds[1].scenario == load_scenario("monopoly")


def test_world_names_are_the_studys_and_the_reports() -> None:
    assert [world_name(n) for n in ("rivals", "With rivals", "monopoly", "without rivals")] == [
        "rivals",
        "rivals",
        "monopoly",
        "monopoly",
    ]
    with pytest.raises(ValueError, match="unknown world 'rival' \\(did you mean 'rivals'\\?\\)"):
        world_name("rival")


@pytest.mark.parametrize(
    "item, words",
    [
        ("nope:market.buyers=1", "--set-world 'nope:market.buyers=1': unknown world 'nope'"),
        ("market.buyers=1", "--set-world 'market.buyers=1': expected NAME:key.path=value"),
        ("rivals:market.buyers", "--set-world 'rivals:market.buyers': expected NAME:key.path"),
        ("rivals: =1", "--set-world 'rivals: =1': empty key"),
        (
            "rivals:market.buyerz=1",
            "--set-world 'rivals:market.buyerz=1': market.buyerz: unknown key "
            "(did you mean 'market.buyers'?)",
        ),
        (
            "monopoly:platforms.1.brand=2",
            "--set-world 'monopoly:platforms.1.brand=2': platforms.1: index out of range",
        ),
        ("monopoly:market.buyers=-5", "--set-world 'monopoly:market.buyers=-5': market.buyers:"),
    ],
)
def test_bad_set_world_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, item: str, words: str
) -> None:
    status, out, err = in_process(
        capsys, "experiment", "whom-to-save", "--set-world", item, "--out", str(tmp_path)
    )
    lines = err.strip().splitlines()
    assert status == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith(f"twosided: error: {words}"), err
    assert not tmp_path.joinpath("sweeps").exists() and not tmp_path.joinpath("studies").exists()


# --------------------------------------------------------------------------- controlled worlds


def test_the_default_world_without_rivals_differs_from_the_other_only_by_its_rivals() -> None:
    spec, scenarios, labels = study_from_arguments()
    assert spec.world("monopoly").preset == "rivals-removed"
    _, (rivals, alone) = resolve_study(spec, SMALL, None, labels, scenarios)
    # field by field: the world without rivals is the world with rivals, platform 0 alone
    mine, theirs = alone.scenario.model_dump(), rivals.scenario.model_dump()
    assert len(mine["platforms"]) == 1 and len(theirs["platforms"]) == 3
    assert mine["platforms"] == theirs["platforms"][:1]
    for field in set(mine) - {"platforms", "name"}:
        assert mine[field] == theirs[field], field
    assert mine["name"] == "taobao-alone"
    assert changed_fields(rivals.scenario, alone.scenario) == {
        "name", "platforms.Pinduoduo", "platforms.JD",
    }  # fmt: skip
    assert alone.scenario.market.buyers == 1000  # --set reached both


def test_set_world_of_the_world_with_rivals_does_not_reach_the_derived_world() -> None:
    spec, scenarios, labels = study_from_arguments()
    items = ["rivals:buyers.switching_cost=2.5", "monopoly:buyers.offline_utility=3"]
    _, (rivals, alone) = resolve_study(spec, SMALL, items, labels, scenarios)
    assert rivals.scenario.buyers.switching_cost == 2.5
    assert alone.scenario.buyers.switching_cost == load_scenario("taobao").buyers.switching_cost
    assert alone.scenario.buyers.offline_utility == 3.0
    assert rivals.scenario.buyers.offline_utility == load_scenario("taobao").buyers.offline_utility
    assert changed_fields(rivals.scenario, alone.scenario) == {
        "name", "platforms.Pinduoduo", "platforms.JD", "buyers.switching_cost",
        "buyers.offline_utility",
    }  # fmt: skip


def test_only_the_world_without_rivals_can_be_derived(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(STUDY.replace('preset = "taobao"', 'preset = "rivals-removed"'))
    with pytest.raises(ScenarioError, match="only the world without rivals can be"):
        read_study(path)


# --------------------------------------------------------------------------- the study file

STUDY = """
years = 0.05
[axis]
points = 2
[seeds]
count = 2
[[worlds]]
name = "rivals"
preset = "taobao"
[worlds.settings]
"market.buyers" = 1000
[[worlds]]
name = "monopoly"
preset = "monopoly"
[worlds.settings]
market.buyers = 1000
"""


def test_the_shipped_study_file_is_the_default_study() -> None:
    spec, _ = read_study(Path(str(EXAMPLE)))
    flags, scenarios, labels = study_from_arguments("taobao", "rivals-removed", 4, 3.0, 5)
    assert spec == StudySpec() == flags
    assert (spec.axis.points, spec.years, spec.seeds.count, spec.seeds.first) == (5, 3.0, 4, None)
    _, from_file = resolve_study(spec)
    _, from_flags = resolve_study(flags, None, None, labels, scenarios)
    for a, b in zip(from_file, from_flags):
        assert a.name == b.name and a.scenario == b.scenario
    days, variants = study_days(spec.years), policy_variants(spec.axis.points)
    plans = [plan_variants(w.scenario, variants, spec.seeds.count, days) for w in from_file]
    taobao = load_scenario("taobao")
    defaults = [
        plan_variants(p, variants, 4, study_days(3.0)) for p in (taobao, rivals_removed(taobao))
    ]
    assert [p.sweep_id for p in plans] == [p.sweep_id for p in defaults]  # the same study
    assert [p.seeds for p in plans] == [[0, 1, 2, 3]] * 2


def test_a_study_file_reads_its_settings_as_dotted_keys_or_tables(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    spec, _ = read_study(path)
    assert [w.name for w in spec.worlds] == list(WORLDS)
    assert spec.world("monopoly").settings == {"market.buyers": 1000}  # a table, flattened
    _, worlds = resolve_study(spec)
    assert [w.scenario.market.buyers for w in worlds] == [1000, 1000]


def test_a_scenario_file_in_a_study_is_relative_to_the_study(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "alone.toml").write_text(load_scenario("monopoly").to_toml())
    path = tmp_path / "sub" / "study.toml"
    path.write_text(STUDY.replace('preset = "monopoly"', 'scenario = "alone.toml"'))
    spec, _ = read_study(path)
    assert spec.world("monopoly").scenario == str(tmp_path / "sub" / "alone.toml")
    _, worlds = resolve_study(spec)
    assert worlds[1].scenario.name == "monopoly"


@pytest.mark.parametrize(
    "change, words",
    [
        (('"market.buyers" = 1000', '"market.buyerz" = 1000'), "worlds.0.settings: market.buyerz:"),
        (("market.buyers = 1000", "market.buyers = -3"), "worlds.1.settings: market.buyers:"),
        (('name = "monopoly"', 'name = "monopol"'), "worlds.1.name: unknown world 'monopol'"),
        (('name = "monopoly"', 'name = "rivals"'), "worlds: expected two worlds"),
        (('preset = "taobao"', 'preset = "taobao"\nscenario = "x.toml"'), "worlds.0: give exactly"),
        (('preset = "monopoly"', 'preset = "nonesuch"'), "worlds.1.preset: preset 'nonesuch'"),
        (('preset = "monopoly"', 'preset = "taobao"'), "worlds.1.preset: has 3 platforms"),
        (("points = 2", "points = 1"), "axis.points: Input should be greater than or equal to 2"),
        (("points = 2", "points = 100000000"), "axis.points: 100,000,000 variants"),
        (("points = 2", 'points = "2"'), "axis.points: Input should be a valid integer"),
        (("count = 2", "count = 0"), "seeds.count: Input should be greater than or equal to 1"),
        (("years = 0.05", "years = 90"), "years: at most 89.8 years (32,767 days)"),
        (("years = 0.05", "yeers = 0.05"), "yeers: unknown key (did you mean 'years'?)"),
        (("[axis]", "[axis]\nstep = 3"), "axis.step: unknown key"),
        (("[axis]", "[axis"), "invalid TOML"),
    ],
)
def test_bad_study_file_fields_are_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: tuple[str, str], words: str
) -> None:
    assert change[0] in STUDY
    path = tmp_path / "study.toml"
    path.write_text(STUDY.replace(*change, 1), encoding="utf-8")
    status, out, err = in_process(
        capsys, "experiment", "whom-to-save", "--study", str(path), "--out", str(tmp_path)
    )
    lines = err.strip().splitlines()
    assert status == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith(f"twosided: error: {path}: {words}"), err
    assert not tmp_path.joinpath("sweeps").exists() and not tmp_path.joinpath("studies").exists()


def test_a_missing_study_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    status, _, err = in_process(
        capsys, "experiment", "whom-to-save", "--study", str(tmp_path / "no.toml")
    )
    missing = f"twosided: error: study file '{tmp_path}/no.toml' not found"
    assert status == 2 and err.strip() == missing


def test_flags_given_override_the_study_file(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    base, _ = read_study(path)
    spec, _, labels = study_from_arguments(seeds=3, monopoly="monopoly", base=base)
    assert (spec.seeds.count, spec.axis.points, spec.years) == (3, 2, 0.05)  # the rest: the file
    assert spec.world("monopoly").settings == {"market.buyers": 1000}  # kept with the preset
    assert set(labels) == {"monopoly"}


def test_batching_is_on_by_default_and_off_from_the_flag_or_the_file(tmp_path: Path) -> None:
    assert StudySpec().executor.batch is True
    spec, _, _ = study_from_arguments(batch=False)
    assert spec.executor.batch is False and spec.executor.kind == "local"
    path = tmp_path / "study.toml"
    path.write_text(STUDY + "\n[executor]\nbatch = false\n", encoding="utf-8")
    from_file, _ = read_study(path)
    assert from_file.executor.batch is False
    assert study_from_arguments(batch=True, base=from_file)[0].executor.batch is True
    assert "batch = false" in study_toml(spec, [[0, 1]])  # written back, so a rerun keeps it


# --------------------------------------------------------------------------- written back


def test_the_written_study_reruns_the_same_worlds(tmp_path: Path) -> None:
    spec, worlds = default_worlds(set_world=["monopoly:buyers.switching_cost=1"])
    days, variants = study_days(spec.years), policy_variants(spec.axis.points)
    plans = [plan_variants(w.scenario, variants, spec.seeds.count, days) for w in worlds]
    write_worlds(spec, worlds, plans, tmp_path)
    for world, plan in zip(worlds, plans):  # each world's full resolved scenario
        assert load_scenario(tmp_path / scenario_file(world.name)) == plan.base
    data = tomllib.loads((tmp_path / STUDY_FILE).read_text(encoding="utf-8"))
    assert data["seeds"] == {"count": 2, "first": 0}
    again, _ = read_study(tmp_path / STUDY_FILE)
    _, rerun = resolve_study(again)
    plans_again = [plan_variants(w.scenario, variants, again.seeds.count, days) for w in rerun]
    assert [p.sweep_id for p in plans_again] == [p.sweep_id for p in plans]


def test_a_world_given_as_a_scenario_reruns_from_its_written_file(tmp_path: Path) -> None:
    custom = load_scenario("monopoly").model_copy(update={"name": "my monopoly"})
    spec, scenarios, labels = study_from_arguments("taobao", custom, 2, 0.05, 2)
    spec, worlds = resolve_study(spec, SMALL, None, labels, scenarios)
    days, variants = study_days(spec.years), policy_variants(spec.axis.points)
    plans = [plan_variants(w.scenario, variants, 2, days) for w in worlds]
    write_worlds(spec, worlds, plans, tmp_path, inline={"monopoly"})
    again, _ = read_study(tmp_path / STUDY_FILE)
    assert again.world("monopoly").scenario == str(tmp_path / scenario_file("monopoly"))
    _, rerun = resolve_study(again)
    assert plan_variants(rerun[1].scenario, variants, 2, days).sweep_id == plans[1].sweep_id


# --------------------------------------------------------------------------- the differences


def _named(sentence: str) -> set[str]:
    """The field names a differences sentence lists (``key (a → b)``, separated by ';')."""
    listed = sentence.split("): ", 1)[1].rstrip(".")
    return {re.match(r"(\S+) \(", part).group(1) for part in listed.split("; ")}  # type: ignore[union-attr]


def _regime(name: str, plan):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    return SimpleNamespace(name=name, sweep=SimpleNamespace(plan=plan))


def test_the_differences_sentence_names_exactly_the_differing_fields() -> None:
    _, worlds = default_worlds(
        set_world=[
            "monopoly:buyers.switching_cost=1",
            "rivals:market.sessions_per_buyer_per_day=0.3",
        ]
    )
    variants = policy_variants(2)
    plans = [plan_variants(w.scenario, variants, 2, 18) for w in worlds]
    sentence = world_differences([_regime("with rivals", p) for p in plans])
    expected = {
        "name",
        "market.sessions_per_buyer_per_day",
        "platforms.Taobao.brand",
        "platforms.Taobao.initial_seller_share",
        "platforms.Pinduoduo",
        "platforms.JD",
    }
    assert _named(sentence) == expected
    assert sentence.startswith("The worlds differ in 6 fields")
    assert "market.sessions_per_buyer_per_day (0.3 → 0.2)" in sentence
    assert "platforms.JD (present → absent)" in sentence


def test_the_policy_axis_is_no_difference_between_the_worlds() -> None:
    # a world's own incumbent ranking is set by the axis at every point: never a difference
    _, worlds = default_worlds(set_world=["rivals:platforms.0.ranking.ads=0.7"])
    assert "platforms.Taobao.ranking.ads" in changed_fields(worlds[0].scenario, worlds[1].scenario)
    plans = [plan_variants(w.scenario, policy_variants(2), 2, 18) for w in worlds]
    sentence = world_differences([_regime("a", plans[0]), _regime("b", plans[1])])
    assert "ranking" not in sentence


def test_identical_worlds_are_said_to_be_identical() -> None:
    assert differences_sentence([], "a", "b") == (
        "The worlds a and b have the same resolved scenario: no field differs."
    )


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_a_study_runs_from_its_file_and_reruns_from_the_one_it_writes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    args = ["experiment", "whom-to-save", "--study", str(path), "--workers", "1"]
    status, out, err = in_process(
        capsys, *args, "--set-world", "monopoly:buyers.switching_cost=1", "--out", str(tmp_path)
    )
    assert status == 0, err[-3000:]
    sentence = next(line for line in out.splitlines() if line.startswith("The worlds differ"))
    assert "buyers.switching_cost" not in sentence and "platforms.Taobao.brand" in sentence
    report = Path(out.split("Report:")[1].strip())
    folder = report.parent
    assert html.escape(sentence) in report.read_text(encoding="utf-8")
    assert load_scenario(folder / scenario_file("monopoly")).buyers.switching_cost == 1.0
    # rerunning the written study finds the same study, every variant already done
    status, out, _ = in_process(
        capsys,
        "experiment",
        "whom-to-save",
        "--study",
        str(folder / STUDY_FILE),
        "--workers",
        "1",
        "--out",
        str(tmp_path),
    )
    assert status == 0 and Path(out.split("Report:")[1].strip()) == report


def test_study_days_and_points_errors_still_name_their_flags() -> None:
    with pytest.raises(SweepError, match="--years nan: not a finite number"):
        study_from_arguments(years=float("nan"))
    with pytest.raises(SweepError, match="--points 1: need at least 2"):
        study_from_arguments(points=1)
    with pytest.raises(ScenarioError, match="--preset nonesuch: "):
        resolve_study(*study_from_arguments(preset="nonesuch")[:1])


def test_a_world_flag_over_a_study_file_keeps_the_files_settings_and_their_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "study.toml"
    path.write_text(STUDY.replace("market.buyers = 1000", "market.buyerz = 1000"))
    status, _, err = in_process(
        capsys, "experiment", "whom-to-save", "--study", str(path), "--monopoly", "monopoly"
    )
    assert status == 2
    assert err.strip().startswith(f"twosided: error: {path}: worlds.1.settings: market.buyerz:")
