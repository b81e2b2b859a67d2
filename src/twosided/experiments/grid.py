"""What a sweep varies: ``--vary`` specs, the grid of variants, and the sweep's identity.

A spec names a scenario field by its override path and the values it takes:

- ``key.path=START:STOP:STEPS``: ``STEPS`` evenly spaced values from ``START`` to ``STOP``
  inclusive (integers stay integers when the spacing is whole);
- ``key.path=V1,V2,...``: an explicit list (values read as TOML, bare words as strings);
- ``key.path=V``: one value (the same for every variant).

``--tie`` specs have the same form, but all tied keys move together as ONE axis: each takes
the same number of values and the i-th point of the axis takes the i-th value of every tied
key (a policy blend such as ``ads=0:2:5`` with ``relevance=1:0:5`` is 5 points, not 25).
The first tied key's values must differ (it is the report's x axis).

The grid is every combination of the varied values (the tied axis first, then the ``--vary``
keys in order), the first varying slowest. A sweep
has at most ``MAX_VARIANTS`` variants and ``MAX_SEEDS`` seeds per variant (checked before
any list is built, so a typo such as ``0:1:100000000`` fails at once instead of hanging).
Every variant is validated against the scenario schema before anything runs, so a bad value
fails at once with one line naming the flag and the field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from twosided import simulation
from twosided.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    parse_value,
    split_assignment,
)
from twosided.store import engine_fingerprint

# significant digits kept of a START:STOP:STEPS value (0.1 steps read 0.3, not 0.30000000000000004)
_SIGNIFICANT_DIGITS = 12
# the most variants one sweep runs (each is validated up front, about 0.4 ms each)
MAX_VARIANTS = 10_000
# the most seeds per variant (they run together in one vmapped call)
MAX_SEEDS = simulation.MAX_SEEDS
# the largest seed the scenario schema accepts (``Scenario.seed``)
MAX_SEED = simulation.MAX_SEED
# keys that belong to the sweep itself, not to its variants
_SWEEP_KEYS = {"days": "--days", "seed": "--seeds"}

VarySpec = Mapping[str, Any] | Sequence[str] | None


class SweepError(ScenarioError):
    """A sweep request that cannot be run (bad --vary, bad executor); one clear line.
    A kind of ScenarioError, so that callers handling bad scenarios handle it too."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One point of a sweep.

    Attributes:
        index: position in the sweep (the order variants are listed and stored in).
        labels: the values that identify the variant in tables and plots (column -> value).
        overrides: the scenario overrides that make it (override path -> value).
    """

    index: int
    labels: dict[str, Any]
    overrides: dict[str, Any]


def _number(raw: str, spec: str, what: str, flag: str = "--vary") -> int | float:
    value = parse_value(raw)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SweepError(f"{flag} {spec!r}: {what} {raw.strip()!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise SweepError(f"{flag} {spec!r}: {what} {raw.strip()!r} is not a finite number")
    return value


def check_variant_count(count: int, flag: str, detail: str = "") -> None:
    """Refuse a sweep of more than ``MAX_VARIANTS`` variants (one line with both numbers)."""
    if count > MAX_VARIANTS:
        raise SweepError(
            f"{flag}: {count:,} variants{detail}; a sweep runs at most {MAX_VARIANTS:,}"
        )


def check_seed_count(seeds: int, first: int, flag: str = "--seeds") -> None:
    """Refuse more than ``MAX_SEEDS`` seeds, or seeds past the schema's largest seed."""
    try:
        simulation.check_seed_count(seeds, first, flag)
    except ScenarioError as err:
        raise SweepError(str(err).replace("in one run", "per variant")) from None


def value_range(start: int | float, stop: int | float, steps: int) -> list[int | float]:
    """``steps`` evenly spaced values from ``start`` to ``stop`` inclusive."""
    if steps == 1:
        return [start]
    if isinstance(start, int) and isinstance(stop, int) and (stop - start) % (steps - 1) == 0:
        step = (stop - start) // (steps - 1)
        return [start + i * step for i in range(steps)]
    # Overflow (a span past the largest float) is an error; underflow is not: a step smaller
    # than the smallest normal float is still rounded correctly (to a subnormal or zero).
    with np.errstate(over="raise", invalid="raise", under="ignore"):
        try:
            values = np.linspace(start, stop, steps)
        except FloatingPointError:
            raise SweepError(f"range {start:g} to {stop:g}: too wide for floating point") from None
    rounded = [float(f"{v:.{_SIGNIFICANT_DIGITS}g}") for v in values]
    if isinstance(start, int) and isinstance(stop, int):  # whole ends keep whole values whole
        return [int(v) if v.is_integer() else v for v in rounded]
    return rounded


def parse_values(text: str, spec: str, flag: str = "--vary") -> list[Any]:
    """The values of one spec's right-hand side (a range, a list, or one value)."""
    if not text.strip():
        raise SweepError(f"{flag} {spec!r}: no values after '='")
    if text.count(":") == 2 and not text.strip().startswith(("[", '"', "'")):
        start, stop, steps = text.split(":")
        count = _number(steps, spec, "STEPS", flag)
        if not isinstance(count, int) or count < 1:
            raise SweepError(f"{flag} {spec!r}: STEPS must be a whole number of at least 1")
        check_variant_count(count, f"{flag} {spec!r}", " from STEPS alone")
        low, high = _number(start, spec, "START", flag), _number(stop, spec, "STOP", flag)
        try:
            return value_range(low, high, count)
        except SweepError as err:
            raise SweepError(f"{flag} {spec!r}: {err}") from None
    if ":" in text and not text.strip().startswith(("[", '"', "'")):
        raise SweepError(f"{flag} {spec!r}: expected key.path=START:STOP:STEPS")
    if text.strip().startswith("["):
        value = parse_value(text)
        return value if isinstance(value, list) and value else [value]
    return [parse_value(part) for part in text.split(",")]


def parse_spec(spec: str, flag: str = "--vary") -> tuple[str, list[Any]]:
    """``key.path=START:STOP:STEPS`` (or ``=V1,V2,...``) -> (key, values)."""
    key, text = split_assignment(spec, flag, "key.path=START:STOP:STEPS", SweepError)
    return key, parse_values(text, spec, flag)


def normalize_vary(vary: VarySpec, flag: str = "--vary") -> dict[str, list[Any]]:
    """A dict ``{key: values | "START:STOP:STEPS" | value}`` or a list of spec strings ->
    ``{key: [values]}`` in the order given (``flag`` names the option in errors)."""
    if vary is None:
        return {}
    pairs: list[tuple[str, list[Any]]] = []
    if isinstance(vary, Mapping):
        for key, values in vary.items():
            spec = f"{key}={values}"
            if isinstance(values, str):
                pairs.append((str(key), parse_values(values, spec, flag)))
            elif isinstance(values, Sequence):
                if not values:
                    raise SweepError(f"{flag} {key}: no values")
                pairs.append((str(key), list(values)))
            else:
                pairs.append((str(key), [values]))
    elif isinstance(vary, str):
        pairs.append(parse_spec(vary, flag))
    else:
        pairs.extend(parse_spec(str(spec), flag) for spec in vary)
    out: dict[str, list[Any]] = {}
    for key, values in pairs:
        if key in _SWEEP_KEYS:
            raise SweepError(f"{flag} {key}: set it with {_SWEEP_KEYS[key]}, not {flag}")
        if key in out:
            raise SweepError(f"{flag} {key}: given twice")
        out[key] = values
    return out


def normalize_tie(tie: VarySpec, vary: Mapping[str, list[Any]] | None = None) -> dict[str, list]:
    """The tied keys (same forms as ``normalize_vary``) -> ``{key: [values]}``, checked: every
    tied key has as many values as the first, none is also varied, and the first key's values
    differ (it is the report's x axis)."""
    tied = normalize_vary(tie, "--tie")
    for key in tied:
        if vary and key in vary:
            raise SweepError(f"--tie {key}: also given with --vary; a key is tied or varied")
    if not tied:
        return tied
    first, *others = tied
    for key in others:
        if len(tied[key]) != len(tied[first]):
            raise SweepError(
                f"--tie {key}: {len(tied[key])} values, but {first} has {len(tied[first])}; "
                "tied keys take the same number of values"
            )
    values = [json.dumps(v, sort_keys=True, default=str) for v in tied[first]]
    if len(set(values)) < len(values):
        raise SweepError(
            f"--tie {first}: a value is repeated; the first tied key is the report's x axis, "
            "so its values must differ (put a key with distinct values first)"
        )
    return tied


def grid(
    vary: Mapping[str, list[Any]], tie: Mapping[str, list[Any]] | None = None
) -> list[Variant]:
    """Every combination of the varied values (the first key varies slowest); at most
    ``MAX_VARIANTS`` of them. The tied keys (``normalize_tie``) are one axis, the first
    and slowest: its i-th point sets the i-th value of every tied key."""
    tie = tie or {}
    axes: list[list[dict[str, Any]]] = []
    if tie:
        axes.append([dict(zip(tie, point)) for point in zip(*tie.values())])
    axes.extend([{key: value} for value in vary[key]] for key in vary)
    sizes = [len(axis) for axis in axes]
    flag = "--tie/--vary" if tie else "--vary"
    check_variant_count(math.prod(sizes), flag, f" ({' x '.join(map(str, sizes))})")
    variants = []
    for i, combo in enumerate(itertools.product(*axes)):
        values = {k: v for point in combo for k, v in point.items()}
        variants.append(Variant(index=i, labels=dict(values), overrides=dict(values)))
    return variants


def resolve_variant(base: Scenario, variant: Variant, tied: Collection[str] = ()) -> Scenario:
    """The scenario one variant runs: the base with the variant's overrides, validated. With
    tied keys, an error names the flag (``--tie`` or ``--vary``) of the key at fault."""
    try:
        return apply_overrides(base, variant.overrides)
    except ScenarioError as err:
        if tied:
            for key, value in variant.overrides.items():
                try:
                    apply_overrides(base, {key: value})
                except ScenarioError as alone:
                    flag = "--tie" if key in tied else "--vary"
                    raise SweepError(f"{flag} {key}={value}: {alone}") from None
        where = ", ".join(f"{k}={v}" for k, v in variant.labels.items())
        flag = "--tie/--vary" if tied else "--vary"
        raise SweepError(f"{flag} {where}: {err}") from None


def sweep_id(
    base: Scenario,
    variants: Sequence[Variant],
    seeds: Sequence[int],
    version: str,
    tied: Sequence[str] = (),
) -> str:
    """A stable id of a sweep: a hash of its resolved base scenario (days included), its
    variants, its seeds, the twosided version and the engine's code. The same sweep always
    gets the same id; a changed engine gets a new one. Tied keys are part of it when two or
    more are tied (so that untied sweeps keep their ids)."""
    payload = {
        "scenario": base.model_dump(mode="json"),
        "variants": [[v.labels, v.overrides] for v in variants],
        "seeds": list(seeds),
        "version": version,
        "engine": engine_fingerprint(),
    }
    if len(tied) > 1:  # one key tied alone is that key varied: the same sweep
        payload["tied"] = list(tied)
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
