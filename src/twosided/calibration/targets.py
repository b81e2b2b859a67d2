"""The targets file: what a calibration matches (moments with their public values and
sources), what it estimates (scenario parameters within bounds) and on which runs.

A targets file (TOML, validated by ``TargetsSpec``)::

    [run]
    scenario = "taobao"          # a preset, or a scenario file (relative to this file)
    days = 365
    warmup = 30                  # days left out of every moment
    seeds = 4                    # common random numbers: the same seeds for every candidate
    first_seed = 0
    [run.settings]               # key.path = value, as --set, applied before estimating
    "market.buyers" = 20000

    [optimizer]
    max_evaluations = 80         # simulations (of all seeds) at most
    step = 0.02                  # finite-difference step, a share of each parameter's range

    [[moments]]
    name = "take_rate"           # from the catalogue (twosided.calibration.moments)
    platform = "Taobao"          # a platform's name; leave out for the whole market
    target = 0.0408
    se = 0.004                   # the target's standard error ...
    tolerance = 0.0075           # ... and/or the band the fit must land in (at least one)
    source = "Alibaba Group, annual report FY2021 (Form 20-F), China commerce revenue / GMV"

    [[parameters]]
    key = "platforms.Taobao.fees.commission"   # any numeric field, as --set names it
    lower = 0.0
    upper = 0.08
    start = 0.03                 # optional: default, the scenario's value (clipped)

Errors are one line naming the file and the entry (``targets.toml: moments.2.name:
unknown moment 'take_rat' (did you mean 'take_rate'?)``).
"""

from __future__ import annotations

import dataclasses
import math
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twosided.calibration.moments import MOMENTS
from twosided.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    load_scenario,
    scenario_value,
)
from twosided.scenario.errors import did_you_mean, format_error
from twosided.scenario.overrides import flat_settings
from twosided.scenario.reader import parse_toml, read_text_file

DEFAULT_MAX_EVALUATIONS = 80
DEFAULT_STEP = 0.02  # 2% of a parameter's range: above the noise of a common-seed run
BAND_Z = 1.96  # a tolerance band read as a 95% interval when no standard error is given


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class RunSpec(_Model):
    """The runs every candidate is scored on."""

    scenario: str = Field("taobao", description="A preset name or a scenario TOML file.")
    days: int = Field(365, ge=2, description="Days each run lasts.")
    warmup: int = Field(30, ge=0, description="First days left out of every moment.")
    seeds: int = Field(4, ge=2, le=64, description="Seeds per candidate (common to all).")
    first_seed: int = Field(0, ge=0, le=2**31 - 1, description="The first seed.")
    settings: dict[str, Any] = Field(
        default_factory=dict, description="key.path = value, as --set, before estimating."
    )

    @field_validator("settings")
    @classmethod
    def _flat(cls, value: dict[str, Any]) -> dict[str, Any]:
        return flat_settings(value)

    @model_validator(mode="after")
    def _window(self) -> RunSpec:
        if self.warmup >= self.days:
            raise ValueError(f"warmup {self.warmup} leaves no day of {self.days} to compare")
        return self


class OptimizerSpec(_Model):
    """How hard the search works."""

    max_evaluations: int = Field(DEFAULT_MAX_EVALUATIONS, ge=1, le=10_000)
    step: float = Field(DEFAULT_STEP, gt=0.0, le=0.25)


class MomentSpec(_Model):
    """One target: a moment of the catalogue, its public value and where it comes from."""

    name: str
    platform: str | None = None
    target: float
    se: float | None = Field(None, gt=0.0)
    tolerance: float | None = Field(None, gt=0.0)
    source: str = Field(..., min_length=1)

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in MOMENTS:
            raise ValueError(f"unknown moment '{value}'{did_you_mean(value, MOMENTS)}")
        return value

    @field_validator("source")
    @classmethod
    def _sourced(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a target needs its source (where the figure comes from)")
        return value

    @model_validator(mode="after")
    def _scale_and_scope(self) -> MomentSpec:
        if self.se is None and self.tolerance is None:
            raise ValueError("give se (the target's standard error) or tolerance (a band)")
        scope = MOMENTS[self.name].scope
        if scope == "platform" and self.platform is None:
            raise ValueError(f"{self.name} is measured per platform: name its platform")
        if scope == "market" and self.platform is not None:
            raise ValueError(f"{self.name} is a market figure: leave platform out")
        return self

    @property
    def label(self) -> str:
        """``take_rate (Taobao)``, ``conversion_per_session (market)``."""
        return f"{self.name} ({self.platform or 'market'})"

    @property
    def band(self) -> float:
        """How far the model may land from the target: the tolerance, or ``1.96 se``."""
        return self.tolerance if self.tolerance is not None else BAND_Z * float(self.se)

    @property
    def scale(self) -> float:
        """The target's standard error: ``se``, or the tolerance read as a 95% band."""
        return self.se if self.se is not None else float(self.tolerance) / BAND_Z


class ParameterSpec(_Model):
    """One parameter to estimate: a numeric scenario field and its bounds."""

    key: str = Field(..., min_length=1)
    lower: float
    upper: float
    start: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParameterSpec:
        if not self.lower < self.upper:
            raise ValueError(f"bounds reversed or empty: lower {self.lower} >= upper {self.upper}")
        if self.start is not None and not self.lower <= self.start <= self.upper:
            raise ValueError(f"start {self.start} outside [{self.lower}, {self.upper}]")
        return self


class TargetsSpec(_Model):
    """A calibration: runs, optimizer, targets and parameters."""

    run: RunSpec = Field(default_factory=RunSpec)
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    moments: list[MomentSpec] = Field(..., min_length=1)
    parameters: list[ParameterSpec] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> TargetsSpec:
        keys = [p.key for p in self.parameters]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"parameter {twice[0]} given twice")
        labels = [m.label for m in self.moments]
        twice = sorted({m for m in labels if labels.count(m) > 1})
        if twice:
            raise ValueError(f"moment {twice[0]} given twice")
        return self


@dataclasses.dataclass(frozen=True)
class Problem:
    """A targets file resolved against its scenario: the base scenario (settings applied),
    each parameter's start value, and the spec itself."""

    spec: TargetsSpec
    scenario: Scenario
    starts: tuple[float, ...]
    source: str  # how errors and pages name the targets (the file, or "targets")

    @property
    def names(self) -> list[str]:
        """The parameters' keys, in order."""
        return [p.key for p in self.spec.parameters]

    def at(self, values: tuple[float, ...] | list[float]) -> Scenario:
        """The scenario with the parameters set to ``values``."""
        return apply_overrides(self.scenario, dict(zip(self.names, map(float, values))))


def shipped_targets() -> list[str]:
    """Names of the targets files shipped with twosided (``twosided/targets/*.toml``)."""
    folder = resources.files("twosided") / "targets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def read_targets(ref: str | Path) -> tuple[TargetsSpec, Path]:
    """A targets file (or the name of a shipped one, e.g. ``alibaba_fy2021``), validated; a
    scenario file in it is made relative to the file's folder. Errors name the file and
    the entry."""
    where = str(ref)
    if not where.endswith(".toml") and not Path(where).exists() and where in shipped_targets():
        resource = resources.files("twosided") / "targets" / f"{where}.toml"
        text, folder = resource.read_text(encoding="utf-8"), Path.cwd()
    else:
        text, folder = read_text_file(where, "targets file"), Path(where).resolve().parent
    data = parse_toml(text, where)
    try:
        spec = TargetsSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(f"{where}: {format_error(err, TargetsSpec)}") from None
    scenario = spec.run.scenario
    if scenario.endswith(".toml") and not Path(scenario).is_absolute():
        spec.run.scenario = str(folder / scenario)
    return spec, folder


def resolve(spec: TargetsSpec, source: str = "targets") -> Problem:
    """Check the targets against their scenario (settings, parameter keys and values,
    platforms named by moments) and resolve start values; ScenarioError naming the entry."""
    try:
        base = load_scenario(spec.run.scenario)
    except ScenarioError as err:
        raise ScenarioError(f"{source}: run.scenario: {err}") from None
    try:
        base = apply_overrides(base, spec.run.settings)
    except ScenarioError as err:
        raise ScenarioError(f"{source}: run.settings: {err}") from None
    names = [p.name for p in base.platforms]
    for i, m in enumerate(spec.moments):
        if m.platform is not None and m.platform not in names:
            hint = did_you_mean(m.platform, names)
            raise ScenarioError(
                f"{source}: moments.{i}.platform: no platform '{m.platform}'{hint}; "
                f"the scenario has {', '.join(names)}"
            )
    starts = tuple(_start(base, i, p, source) for i, p in enumerate(spec.parameters))
    return Problem(spec, base, starts, source)


def _start(base: Scenario, i: int, p: ParameterSpec, source: str) -> float:
    """Parameter ``p``'s start: its own, or the scenario's value clipped to the bounds;
    checks that the key names a numeric, non-integer field that takes both bounds."""
    where = f"{source}: parameters.{i} ({p.key})"
    try:
        current = scenario_value(base, p.key)
    except ScenarioError as err:
        raise ScenarioError(f"{where}: {err}") from None
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        kind = type(current).__name__
        raise ScenarioError(f"{where}: not a single number (the scenario has a {kind})")
    if isinstance(current, int):
        raise ScenarioError(f"{where}: an integer field; calibration estimates real numbers")
    for bound in (p.lower, p.upper):
        try:
            apply_overrides(base, {p.key: float(bound)})
        except ScenarioError as err:
            raise ScenarioError(f"{where}: bound {bound}: {err}") from None
    start = p.start if p.start is not None else min(max(float(current), p.lower), p.upper)
    if not math.isfinite(start):
        raise ScenarioError(f"{where}: start is not finite")
    return float(start)
