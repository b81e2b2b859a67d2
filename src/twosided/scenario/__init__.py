"""The scenario: every number the engine uses, typed, validated and documented.

A scenario is a pydantic model loaded from TOML (the standard library's ``tomllib``).
It is the single source of truth for defaults: each field states its default and the
reason for it. Presets under ``twosided/presets/`` override only what they change.

Money is given in integer cents (``*_cents`` fields); behaviour in plain floats.

The package, lowest first: ``errors`` (``ScenarioError``, one line per problem), ``writer``
(scenario -> TOML text), ``schema`` (the pydantic models and their validation),
``presets`` (the shipped presets by name), ``reader`` (a scenario from a preset or a TOML
file), ``overrides`` (the ``key.path=value`` language of ``--set``). Every name is
importable from ``twosided.scenario`` itself.
"""

from twosided.scenario.errors import ScenarioError, format_error, one_line
from twosided.scenario.overrides import (
    apply_overrides,
    parse_value,
    scenario_value,
    split_assignment,
)
from twosided.scenario.presets import preset_names, preset_text
from twosided.scenario.reader import load_scenario, parse_toml
from twosided.scenario.schema import (
    CENTS_PER_YUAN,
    MAX_DAYS,
    MAX_PLATFORMS,
    Auction,
    Buyers,
    Cents,
    Escrow,
    Fees,
    Governance,
    Market,
    NonNegative,
    Platform,
    Probability,
    Ranking,
    Rate,
    Scenario,
    Sellers,
    SellerTypes,
    check_type_shares,
    scenario_from_dict,
    type_share_table,
)
from twosided.scenario.writer import dump_toml

_format_error = format_error  # the name roles.business imported before the split

__all__ = [
    "CENTS_PER_YUAN",
    "MAX_DAYS",
    "MAX_PLATFORMS",
    "Auction",
    "Buyers",
    "Cents",
    "Escrow",
    "Fees",
    "Governance",
    "Market",
    "NonNegative",
    "Platform",
    "Probability",
    "Ranking",
    "Rate",
    "Scenario",
    "ScenarioError",
    "SellerTypes",
    "Sellers",
    "apply_overrides",
    "check_type_shares",
    "dump_toml",
    "format_error",
    "load_scenario",
    "one_line",
    "parse_toml",
    "parse_value",
    "preset_names",
    "preset_text",
    "scenario_from_dict",
    "scenario_value",
    "split_assignment",
    "type_share_table",
]
