"""The whom-to-save study as data: its two worlds (each a preset or scenario file and its
settings), the policy axis, the horizon, the seeds and the executor; read from a study file
(TOML, validated by ``StudySpec``), built from the command line's flags, and written back,
resolved, into the study folder so that the study reruns from that one file.

A study file::

    years = 3.0                 # the horizon: run length in years of 365 days
    [axis]
    points = 5                  # policies from revenue-first (t = 0) to user-first (t = 1)
    [seeds]
    count = 4                   # seeds per policy, the same in both worlds
    first = 0                   # optional: default, each world's scenario seed
    [[worlds]]
    name = "rivals"             # the world with rivals (platform 0 is the incumbent)
    preset = "taobao"           # or scenario = "file.toml" (relative to the study file)
    [worlds.settings]           # key.path = value, as --set (applied to this world only)
    "market.buyers" = 50000
    [[worlds]]
    name = "monopoly"           # the world without rivals (one platform)
    preset = "rivals-removed"   # the rivals world, its rivals removed, all else held
    [executor]                  # optional: kind = "local" | "ray", workers, address, batch

Settings apply in this order: the file's, then ``--set`` (both worlds), then
``--set-world NAME:key.path=value`` (the named world only). Errors are one line naming the
file and the field (``study.toml: worlds.1.settings: market.buyerz: unknown key``) or the flag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twosided.experiments.grid import SweepError, check_variant_count
from twosided.experiments.whom_to_save.study import study_days
from twosided.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    load_scenario,
    scenario_from_dict,
)
from twosided.scenario.errors import did_you_mean, format_error
from twosided.scenario.overrides import flat_settings, parse_value, split_assignment
from twosided.scenario.reader import parse_toml, read_text_file

RIVALS, MONOPOLY = "rivals", "monopoly"
WORLDS = (RIVALS, MONOPOLY)  # the study's worlds, in the order it runs and reports them
# what the report calls each world (its regime), also accepted as a world's name
TITLES = {RIVALS: "with rivals", MONOPOLY: "without rivals"}
FLAGS = {RIVALS: "--preset", MONOPOLY: "--monopoly"}  # the flag that chooses each world
# the world without rivals, by default: the world with rivals, its rivals removed and every
# other field held (the one difference the question names)
RIVALS_REMOVED = "rivals-removed"
DEFAULT_PRESETS = {RIVALS: "taobao", MONOPOLY: RIVALS_REMOVED}
STUDY_FILE = "study.toml"  # the resolved study, in the study folder


def scenario_file(name: str) -> str:
    """The file, in the study folder, of world ``name``'s full resolved scenario."""
    return f"scenario-{name}.toml"


def world_name(text: str) -> str:
    """A world's name as the study calls it (``rivals``, ``monopoly``), from that name or
    the report's (``with rivals``, ``without rivals``), in any case; ValueError otherwise."""
    key = " ".join(str(text).split()).lower()
    for name in WORLDS:
        if key in (name, TITLES[name]):
            return name
    accepted = ", ".join(f"'{n}'" for n in (*WORLDS, *TITLES.values()))
    hint = did_you_mean(key, [*WORLDS, *TITLES.values()])
    raise ValueError(f"unknown world '{text}'{hint}; expected one of {accepted}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class WorldSpec(_Model):
    """One world: its name, where its scenario comes from (a preset or a scenario file,
    exactly one), and the settings applied to it alone."""

    name: str = Field(description="rivals or monopoly (or the report's: with/without rivals).")
    preset: str | None = Field(None, description="A preset name.")
    scenario: str | None = Field(None, description="A scenario TOML file.")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="key.path = value, as --set, for this world only."
    )

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        return world_name(value)

    @field_validator("settings")
    @classmethod
    def _flat(cls, value: dict[str, Any]) -> dict[str, Any]:
        return flat_settings(value)

    @model_validator(mode="after")
    def _one_source(self) -> WorldSpec:
        if (self.preset is None) == (self.scenario is None):
            raise ValueError("give exactly one of preset or scenario")
        if self.preset == RIVALS_REMOVED and self.name != MONOPOLY:
            raise ValueError(f"only the world without rivals can be '{RIVALS_REMOVED}'")
        return self

    @property
    def source(self) -> str:
        """The preset name or the scenario file."""
        return self.preset if self.preset is not None else str(self.scenario)


class AxisSpec(_Model):
    """The policy axis: how many policies, both ends included."""

    points: int = Field(5, ge=2, description="Policies along the axis, both ends included.")

    @field_validator("points")
    @classmethod
    def _capped(cls, value: int) -> int:
        try:
            check_variant_count(value, str(value))
        except SweepError as err:
            raise ValueError(str(err).partition(": ")[2]) from None
        return value


class SeedSpec(_Model):
    """The seeds every policy runs in both worlds."""

    count: int = Field(4, ge=1, description="Seeds per policy.")
    first: int | None = Field(
        None, ge=0, le=2**31 - 1, description="First seed (default: each world's scenario seed)."
    )


class ExecutorSpec(_Model):
    """Where the variants run (does not change the results)."""

    kind: Literal["local", "ray"] = "local"
    workers: int | None = Field(None, ge=1)
    address: str | None = None
    batch: bool = True  # local: variants of one shape as one vmapped program


class StudySpec(_Model):
    """A whom-to-save study: two worlds, the policy axis, the horizon, the seeds."""

    years: float = Field(3.0, description="Run length in years of 365 days.")
    axis: AxisSpec = Field(default_factory=AxisSpec)
    seeds: SeedSpec = Field(default_factory=SeedSpec)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    worlds: list[WorldSpec] = Field(
        default_factory=lambda: [WorldSpec(name=n, preset=DEFAULT_PRESETS[n]) for n in WORLDS]
    )

    @field_validator("years")
    @classmethod
    def _days(cls, value: float) -> float:
        try:
            study_days(value)
        except SweepError as err:
            raise ValueError(str(err).partition(": ")[2]) from None
        return value

    @field_validator("worlds")
    @classmethod
    def _both(cls, value: list[WorldSpec]) -> list[WorldSpec]:
        names = [w.name for w in value]
        if sorted(names) != sorted(WORLDS):
            raise ValueError(
                f"expected two worlds, named {RIVALS} and {MONOPOLY}, got "
                f"{', '.join(names) or 'none'}"
            )
        return value

    def world(self, name: str) -> WorldSpec:
        """The world called ``name`` (``rivals``/``monopoly``)."""
        return next(w for w in self.worlds if w.name == name)

    @property
    def days(self) -> int:
        """Days every run lasts."""
        return study_days(self.years)


# --------------------------------------------------------------------------- reading


def read_study(path: str | Path) -> tuple[StudySpec, Path]:
    """A study file, validated; scenario files in it are made relative to the file's
    folder. Returns the study and the file's folder. Errors name the file and the field."""
    where = str(path)
    file = Path(path)
    data = parse_toml(read_text_file(where, "study file"), where)
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(f"{where}: {format_error(err, StudySpec)}") from None
    folder = file.resolve().parent
    for world in spec.worlds:
        if world.scenario is not None and not Path(world.scenario).is_absolute():
            world.scenario = str(folder / world.scenario)
    return spec, folder


def world_assignments(items: Iterable[str]) -> list[tuple[str, str, str]]:
    """``--set-world NAME:key.path=value`` items as ``(world, item, key.path=value)``;
    SweepError (one line naming the flag and the item) for a missing ``:`` or ``=``, an
    empty key or an unknown world."""
    out = []
    for item in items:
        name, colon, assignment = item.partition(":")
        key = assignment.partition("=")[0].strip()
        if not colon or not name.strip() or "=" not in assignment:
            raise SweepError(f"--set-world {item!r}: expected NAME:key.path=value")
        if not key:
            raise SweepError(f"--set-world {item!r}: empty key")
        try:
            world = world_name(name)
        except ValueError as err:
            raise SweepError(f"--set-world {item!r}: {err}") from None
        out.append((world, item, assignment))
    return out


# --------------------------------------------------------------------------- resolving


@dataclasses.dataclass(frozen=True)
class Labels:
    """How errors name one world: its source (``--preset taobao``, ``study.toml:
    worlds.0.preset``), its own settings, and ``--set`` applied to it."""

    source: str
    settings: str
    sets: str

    @classmethod
    def of_flag(cls, name: str, source: str) -> Labels:
        """A world chosen by its flag (or its default): every error names the flag."""
        label = f"{FLAGS[name]} {source}"
        return cls(label, label, label)

    @classmethod
    def of_file(cls, file: str, index: int, world: WorldSpec) -> Labels:
        """A world of a study file: errors name the file and the field."""
        field = "preset" if world.preset is not None else "scenario"
        return cls(
            f"{file}: worlds.{index}.{field}",
            f"{file}: worlds.{index}.settings",
            f"--set (world {world.name})",
        )


@dataclasses.dataclass
class World:
    """One world resolved: its name, the spec it came from (settings merged) and its
    scenario (settings applied; the study's days and seeds are applied when it is planned).
    ``label`` is how errors name it (``--preset taobao``, ``study.toml: worlds.0.preset``)."""

    name: str
    spec: WorldSpec
    scenario: Scenario
    label: str


def _assignments(items: Sequence[str] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(items, dict):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items:
        key, text = split_assignment(item)
        out.pop(key, None)
        out[key] = parse_value(text)
    return out


def _apply(scenario: Scenario, settings: dict[str, Any], label: str) -> Scenario:
    try:
        return apply_overrides(scenario, settings)
    except ScenarioError as err:
        raise ScenarioError(f"{label}: {err}") from None


def resolve_world(
    spec: WorldSpec,
    labels: Labels,
    both: Sequence[str] | dict[str, Any] | None = None,
    alone: Sequence[tuple[str, dict[str, Any]]] = (),
    scenario: Scenario | None = None,
) -> World:
    """Load a world and apply its own settings, then ``both`` (``--set``) and ``alone``
    (``(item, {key: value})`` from ``--set-world``: errors name the item); every other
    error is named by ``labels``. ``scenario``: the world's scenario itself, in place of
    its preset or file (the Python API). The spec's settings become all three, in order."""
    try:
        base = scenario if scenario is not None else load_scenario(spec.source)
    except ScenarioError as err:
        raise ScenarioError(f"{labels.source}: {err}") from None
    settings = dict(spec.settings)
    base = _apply(base, settings, labels.settings) if settings else base
    steps = [(labels.sets, _assignments(both))] if both else []
    for item, extra in [*steps, *((f"--set-world {i!r}", e) for i, e in alone)]:
        base = _apply(base, extra, item)
        for key, value in extra.items():
            settings.pop(key, None)
            settings[key] = value
    return World(spec.name, spec.model_copy(update={"settings": settings}), base, labels.source)


def rivals_removed(scenario: Scenario) -> Scenario:
    """The world without rivals of ``scenario``: its incumbent (platform 0) alone, every
    other field held, named ``<name>-alone``."""
    data = scenario.model_dump(mode="json")
    data["platforms"] = data["platforms"][:1]
    data["name"] = f"{scenario.name}-alone"[:128]
    return scenario_from_dict(data)


def resolve_study(
    spec: StudySpec,
    sets: Sequence[str] | dict[str, Any] | None = None,
    set_world: Sequence[str] | dict[str, Sequence[str] | dict[str, Any]] | None = None,
    labels: dict[str, Labels] | None = None,
    scenarios: dict[str, Scenario] | None = None,
) -> tuple[StudySpec, list[World]]:
    """Both worlds resolved (in ``WORLDS`` order), and the study with every world's
    settings merged (what ``study_toml`` writes). ``set_world``: ``NAME:key=value`` items,
    or per world name its overrides; ``labels``: per world, how errors name it (default:
    its flag and source); ``scenarios``: worlds given as scenarios (the Python API)."""
    alone = _per_world(set_world)
    worlds: list[World] = []
    for name in WORLDS:
        world = spec.world(name)
        label = (labels or {}).get(name) or Labels.of_flag(name, world.source)
        scenario = (scenarios or {}).get(name)
        if scenario is None and world.preset == RIVALS_REMOVED:
            # the rivals world with its file's settings and --set, not its --set-world
            rivals = spec.world(RIVALS)
            given = (scenarios or {}).get(RIVALS)
            rivals_label = (labels or {}).get(RIVALS) or Labels.of_flag(RIVALS, rivals.source)
            held = resolve_world(rivals, rivals_label, sets, scenario=given)
            scenario = rivals_removed(held.scenario)
        worlds.append(resolve_world(world, label, sets, alone.get(name, []), scenario))
    resolved = spec.model_copy(update={"worlds": [w.spec for w in worlds]})
    return resolved, worlds


def _per_world(
    set_world: Sequence[str] | dict[str, Sequence[str] | dict[str, Any]] | None,
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per world, its ``(item, {key: value})`` settings in order (``item`` names them in
    errors)."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    if isinstance(set_world, dict):
        for name, items in set_world.items():
            try:
                world = world_name(name)
            except ValueError as err:
                raise SweepError(f"--set-world {name!r}: {err}") from None
            out.setdefault(world, []).append((f"{name}:...", _assignments(items)))
        return out
    for world, item, assignment in world_assignments(set_world or []):
        out.setdefault(world, []).append((item, _assignments([assignment])))
    return out


def study_from_arguments(
    preset: str | Path | Scenario | None = None,
    monopoly: str | Path | Scenario | None = None,
    seeds: int | None = None,
    years: float | None = None,
    points: int | None = None,
    seed: int | None = None,
    executor: str | None = None,
    workers: int | None = None,
    address: str | None = None,
    base: StudySpec | None = None,
    batch: bool | None = None,
) -> tuple[StudySpec, dict[str, Scenario], dict[str, Labels]]:
    """The study of ``base`` (default: the default study) with every argument that is not
    None in its place; the worlds given as scenarios, and how errors name the worlds given
    here (their flag, as given), by world name. Arguments are checked with errors naming
    their flag (``--years nan: ...``), as ``whom_to_save`` names them."""
    if years is not None:
        study_days(years)
    if points is not None and points < 2:
        raise SweepError(f"--points {points}: need at least 2 (both ends of the axis)")
    if points is not None:
        check_variant_count(points, f"--points {points}")
    spec = base if base is not None else StudySpec()
    worlds, scenarios, labels = [], {}, {}
    for world in spec.worlds:
        given = preset if world.name == RIVALS else monopoly
        if given is not None:
            text = given.name if isinstance(given, Scenario) else str(given)
            labels[world.name] = Labels.of_flag(world.name, text)
        if isinstance(given, Scenario):
            scenarios[world.name] = given
            world = WorldSpec(name=world.name, preset=given.name, settings=world.settings)
        elif given is not None:
            world = WorldSpec(name=world.name, preset=str(given), settings=world.settings)
            if str(given).endswith(".toml") or Path(given).is_file():
                world = WorldSpec(
                    name=world.name, scenario=str(Path(given).resolve()), settings=world.settings
                )
        worlds.append(world)
    update: dict[str, Any] = {"worlds": worlds}
    if years is not None:
        update["years"] = float(years)
    if points is not None:
        update["axis"] = AxisSpec.model_construct(points=points)
    if seeds is not None or seed is not None:
        update["seeds"] = spec.seeds.model_copy(
            update={k: v for k, v in (("count", seeds), ("first", seed)) if v is not None}
        )
    ran = {"kind": executor, "workers": workers, "address": address, "batch": batch}
    ran = {k: v for k, v in ran.items() if v is not None}
    if ran:
        update["executor"] = spec.executor.model_copy(update=ran)
    return spec.model_copy(update=update), scenarios, labels


# --------------------------------------------------------------------------- writing


def study_data(spec: StudySpec, seeds: Sequence[Sequence[int]]) -> dict[str, Any]:
    """The resolved study as a plain dict for TOML: the first seed written when both
    worlds run the same seeds (each world's scenario seed otherwise)."""
    data = spec.model_dump(mode="json", exclude_none=True)
    first = {s[0] for s in seeds}
    if spec.seeds.first is None and len(first) == 1:
        data["seeds"]["first"] = first.pop()
    for world in data["worlds"]:
        world.pop("preset" if world.get("scenario") else "scenario", None)
    return data


def study_toml(spec: StudySpec, seeds: Sequence[Sequence[int]]) -> str:
    """The resolved study as TOML that ``read_study`` reads back to the same study."""
    head = (
        "# A twosided whom-to-save study, resolved: rerun it with\n"
        "#   twosided experiment whom-to-save --study THIS_FILE\n"
        "# Each world's full resolved scenario is next to it (scenario-NAME.toml).\n\n"
    )
    return head + tomlkit.dumps(study_data(spec, seeds))
