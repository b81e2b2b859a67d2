"""The Python API: ``simulate(scenario, days=..., seeds=...) -> Result``."""

from __future__ import annotations

import dataclasses
import html
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twosided import memory
from twosided import metrics as tables
from twosided.outcomes import PER_SEED, SEED, grid_html, grid_text, summary_grid, with_per_seed
from twosided.scenario import Scenario, ScenarioError, apply_overrides, load_scenario
from twosided.sim.params import build
from twosided.sim.run import chunk_size, simulate_arrays
from twosided.sim.state import State

warnings.filterwarnings("ignore", message="Some donated buffers were not usable")


@dataclasses.dataclass
class Result:
    """What a simulation produced, as tidy tables.

    Attributes:
        scenario: the resolved scenario that ran.
        seeds: the seeds, in the order of the batch.
        daily: one row per seed, day and platform with every outcome (see docs/model.md).
        accounts: ledger balances per seed, day and account (cents); their sum never changes.
        flows: money moved per seed, day, platform and stream (cents).
        switches: buyers' moves between platforms per day, with the harm met before.
        sessions: the session log's listings (one row per online session and listing
            shown), when asked for (``metrics.sessions_table`` lists the columns).
        final_states: the engine state after the last day (batched over seeds).
        warmup: the first days left out of the tables (``after_warmup``); 0 for a whole run.
        choices: with the session log, every session's platform choice (one row per
            session drawn and option: each platform and offline; ``metrics.choices_table``).
        session_outcomes: with the session log, one row per session drawn, offline ones
            included: its order, price comparison, order fate and trust signal
            (``metrics.session_outcomes_table``).
    """

    scenario: Scenario
    seeds: list[int]
    daily: pd.DataFrame
    accounts: pd.DataFrame
    flows: pd.DataFrame
    switches: pd.DataFrame
    sessions: pd.DataFrame | None = None
    final_states: State | None = None
    warmup: int = 0
    choices: pd.DataFrame | None = None
    session_outcomes: pd.DataFrame | None = None

    @property
    def platforms(self) -> list[str]:
        """Platform names in engine order."""
        return [p.name for p in self.scenario.platforms]

    def summary(self, last_days: int | None = None, warmup: int = 0) -> Summary:
        """Per-platform totals and shares, averaged over seeds (optionally the last N days,
        or without the first ``warmup`` days).

        A DataFrame of numbers (money in cents, one row per platform) that prints as the
        command line's summary table: money in yuan, a Market column, and with several
        seeds each figure's 95% interval over seeds. A ``warmup`` that leaves no day
        raises ``ValueError``.
        """
        mean = tables.summarize(self.daily, last_days, warmup)
        per_seed = (
            per_seed_summary(self.daily, last_days, warmup)
            if self.daily["seed"].nunique() > 1
            else pd.DataFrame()
        )
        return with_per_seed(Summary(mean), per_seed)

    def after_warmup(self, warmup: int) -> Result:
        """This result without its first ``warmup`` days in any day table (what a report
        with a warm-up shows); ``warmup`` is recorded on the copy. ``ValueError`` if no
        day would be left."""
        if not warmup:
            return self
        first = int(tables.after_warmup(self.daily, warmup)["day"].min())

        def cut(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if frame is None else frame[frame["day"] >= first]

        return dataclasses.replace(
            self,
            daily=cut(self.daily),
            accounts=cut(self.accounts),
            flows=cut(self.flows),
            switches=cut(self.switches),
            sessions=cut(self.sessions),
            choices=cut(self.choices),
            session_outcomes=cut(self.session_outcomes),
            warmup=self.warmup + warmup,
        )


def per_seed_summary(
    daily: pd.DataFrame, last_days: int | None = None, warmup: int = 0
) -> pd.DataFrame:
    """``summarize`` of every seed on its own, in one pass: one row per seed and platform,
    with ``seed_index`` (0, 1, ... in seed order). Each seed's platforms get ids of their
    own, so that ``summarize`` averages nothing; shares are then taken within each seed."""
    code = pd.factorize(daily["seed"], sort=True)[0]
    width = int(daily["platform_id"].max()) + 1
    table = tables.summarize(
        daily.assign(platform_id=daily["platform_id"] + width * code), last_days, warmup
    )
    table[SEED] = table["platform_id"] // width
    table["platform_id"] = table["platform_id"] % width
    for share, column in (("share_sessions", "sessions"), ("share_gmv", "gmv_cents")):
        total = table.groupby(SEED)[column].transform("sum")
        table[share] = table[column] / total.clip(lower=1)
    return table.sort_values([SEED, "platform_id"], ignore_index=True)


class Summary(pd.DataFrame):
    """``Result.summary()``: the per-platform figures (cents, fractions), shown as a table.

    Operations on it give plain DataFrames; ``str()`` and notebooks show the table of
    ``twosided.outcomes.summary_grid``.
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _grid(self) -> tuple[list[str], list[list[str]]]:
        return summary_grid(self)

    def _note(self) -> str:
        per_seed = self.attrs.get(PER_SEED)
        seeds = 0 if per_seed is None or per_seed.empty else per_seed[SEED].nunique()
        spread = f"; ± is the 95% interval over {seeds} seeds" if seeds > 1 else ""
        return (
            f"(money in yuan; a DataFrame of {len(self)} platforms in cents{spread}; "
            "pd.DataFrame(summary) shows the numbers)"
        )

    def __repr__(self) -> str:
        return f"{grid_text(*self._grid())}\n{self._note()}"

    def _repr_html_(self) -> str:
        return f"{grid_html(*self._grid())}<p>{html.escape(self._note())}</p>"


# seeds run together in one vmapped call (memory grows with them; the memory check refuses
# far fewer on most machines), and the largest seed the scenario schema accepts
MAX_SEEDS = 10_000
MAX_SEED: int = next(m.le for m in Scenario.model_fields["seed"].metadata if hasattr(m, "le"))


def check_seed_count(seeds: int, first: int, flag: str = "--seeds") -> None:
    """Refuse more than ``MAX_SEEDS`` seeds, or seeds past the schema's largest seed."""
    if seeds > MAX_SEEDS:
        raise ScenarioError(f"{flag} {seeds:,}: at most {MAX_SEEDS:,} seeds in one run")
    last = first + seeds - 1
    if last > MAX_SEED:
        raise ScenarioError(
            f"{flag} {seeds:,}: from seed {first:,} the last seed would be {last:,}; "
            f"seeds go up to {MAX_SEED:,}"
        )


def resolve_seeds(
    scenario: Scenario, seeds: int | Sequence[int] | None, seed: int | None
) -> list[int]:
    """``seeds`` may be a count (consecutive seeds from ``seed`` or the scenario's) or a list."""
    first = scenario.seed if seed is None else seed
    if seeds is None:
        return [first]
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError("seeds must be at least 1")
        check_seed_count(seeds, first)
        return list(range(first, first + seeds))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out


def prepare(
    scenario: str | Path | Scenario,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    days: int | None = None,
) -> Scenario:
    """Load a scenario, apply ``key.path=value`` overrides and a day count."""
    sc = load_scenario(scenario)
    if overrides:
        sc = apply_overrides(sc, overrides if isinstance(overrides, dict) else list(overrides))
    if days is not None:
        sc = apply_overrides(sc, {"days": days})
    return sc


def simulate(
    scenario: str | Path | Scenario = "taobao",
    days: int | None = None,
    seeds: int | Sequence[int] | None = None,
    seed: int | None = None,
    overrides: Sequence[str] | dict[str, Any] | None = None,
    log_sessions: bool = False,
    keep_state: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Simulate a market.

    Args:
        scenario: a preset name (``"taobao"``), a TOML file, or a ``Scenario``.
        days: days to simulate (default: the scenario's ``days``).
        seeds: how many seeds (consecutive from ``seed``), or an explicit list; all run
            together in one vmapped program.
        seed: the first seed (default: the scenario's ``seed``).
        overrides: ``["platforms.0.ranking.ads=2", ...]`` or a dict of the same.
        log_sessions: also return the session log (small runs only): ``sessions`` (one
            row per online session and listing shown), ``choices`` (per session drawn and
            platform-choice option) and ``session_outcomes`` (per session drawn).
        keep_state: keep the final engine state on the result.
        progress: called with the number of days done after each compiled chunk.

    Raises ``memory.TooLargeError`` (a ``ScenarioError``) before compiling anything when
    the run would not fit in memory on this device (see ``twosided.memory``).
    """
    sc = prepare(scenario, overrides, days)
    seed_list = resolve_seeds(sc, seeds, seed)
    dims, params = build(sc)
    memory.check(
        dims, params, len(seed_list), sc.days, chunk_size(sc.days, sc.chunk_days), log_sessions
    )
    states, raw = simulate_arrays(
        dims, params, seed_list, sc.days, sc.chunk_days, log_sessions, progress
    )
    return result_from_arrays(sc, seed_list, raw, states if keep_state else None)


def result_from_arrays(
    sc: Scenario,
    seeds: list[int],
    raw: dict[str, np.ndarray],
    states: State | None = None,
    start_day: int = 0,
) -> Result:
    """Build a Result from stacked engine metrics."""
    names = [p.name for p in sc.platforms]
    log = raw.get("log")

    def from_log(table: Callable[..., pd.DataFrame]) -> pd.DataFrame | None:
        return None if log is None else table(log, names, seeds, start_day)

    return Result(
        scenario=sc,
        seeds=seeds,
        daily=tables.daily_table(raw, names, seeds, start_day),
        accounts=tables.accounts_table(raw, names, seeds, start_day),
        flows=tables.flows_table(raw, names, seeds, start_day),
        switches=tables.switches_table(raw, names, seeds, start_day),
        sessions=from_log(tables.sessions_table),
        final_states=states,
        choices=from_log(tables.choices_table),
        session_outcomes=from_log(tables.session_outcomes_table),
    )
