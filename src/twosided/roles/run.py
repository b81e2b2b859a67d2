"""Customers and users of each platform, derived from a run's ledger.

A run records every cent that moved (``flows``: seed, day, platform, stream, source,
destination, cents) and each side's activity per day (``daily``: buyer sessions, active
sellers). From these alone, per platform:

* **Who pays the platform.** Every flow into the platform's own account is a payment by
  its source; flows out of it (a refunded service fee) are negative payments. Money that
  reaches the platform from an account that only holds others' money (escrow: buyers'
  money; deposits: sellers' money) is traced back to the groups that funded that account,
  in proportion to what each put in over the run. A group is a **customer** when it pays
  at least ``min_customer_share`` of the platform's revenue.
* **Whose activity the payments follow.** The elasticity of each group's *per-use*
  payments (charged per click or sale: :mod:`twosided.roles.streams`) to the other group's
  activity, over periods of ``period_days`` days after ``warmup_days``, within each seed and
  with a fixed effect per period, combined over seeds with a t interval
  (:mod:`twosided.roles.elasticity`). Lump sums (annual service fees, forfeited deposits)
  are charged whatever the traffic of the days around them, so they are shown, each with
  its own figure, but left out: a seller's annual fee can follow buyers only across years.
  A group that is not a customer is a **user** when a customer's per-use payments rise
  with its activity: the whole interval lies above zero. A group that pays nothing has no
  payment elasticity: it pays nothing, whatever the other side does.
* **Amounts** (who pays how much, through which streams) are those of the first run given,
  the base: pooled runs after it (a probe) serve only the elasticities.

The two sides are buyers (the ``households`` account; activity: shopping sessions) and
sellers (the ``sellers`` account; activity: active sellers). Suppliers and affiliates are
outside the platform's two sides; money they paid it would still be shown.

What identifies the elasticity. Within one run, buyer activity moves from day to day only
by the draws of who shops (one or two percent once the market's common path is removed),
while sellers' payments carry far larger noise of their own (order values, annual fees paid
on entry) and drift as sellers learn their bids; the days of one run do not identify the
elasticity, and trying (without fixed effects) gives confident figures of either sign. What
does identify it is an experiment: the same scenario and seeds with fewer buyers
(:func:`probe`), pooled with the run. At the same seed the sellers are the same draws and
the only difference is the buyers who come; the elasticity is how the sellers' payments
answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from twosided.roles.elasticity import Elasticity, log_log
from twosided.roles.errors import RolesError
from twosided.roles.streams import is_per_use, why_left_out
from twosided.scenario import Scenario, ScenarioError, load_scenario
from twosided.sim.ledger import REVENUE_STREAMS
from twosided.simulation import Result, simulate

PLATFORM_ACCOUNT = "platform"
HOLDING_ACCOUNTS = ("escrow", "deposits")
MIN_CUSTOMER_SHARE = 0.1  # a customer pays at least a tenth of the platform's revenue
PERIOD_DAYS = 7  # commission follows a purchase by the escrow confirmation delay (days)
WARMUP_DAYS = 14  # day-0 annual fees and the first escrow releases are not steady payments
SCENARIO_FILE = "scenario.toml"  # a run folder's resolved scenario (see twosided.store)


class RunDataError(RolesError):
    """A run reference or table that cannot be analysed; the message is one clear line."""


@dataclasses.dataclass(frozen=True)
class Group:
    """A side of the market: its ledger account and its daily activity column."""

    name: str
    account: str
    activity: str
    activity_label: str
    activity_is_flow: bool  # summed over a period (sessions) or averaged (a head count)


GROUPS: tuple[Group, ...] = (
    Group("buyers", "households", "sessions", "buyer sessions", True),
    Group("sellers", "sellers", "active_sellers", "active sellers", False),
)


@dataclasses.dataclass(frozen=True)
class RunData:
    """The tables the roles are derived from: one run, or several pooled (column ``run``)."""

    daily: pd.DataFrame
    flows: pd.DataFrame

    @property
    def platforms(self) -> list[str]:
        """Platform names in engine order."""
        order = self.daily[["platform_id", "platform"]].drop_duplicates().sort_values("platform_id")
        return order["platform"].tolist()


def _stream_names() -> dict[str, tuple[str, int]]:
    """Ledger stream -> (revenue stream as reported, sign)."""
    out: dict[str, tuple[str, int]] = {}
    for name, parts in REVENUE_STREAMS.items():
        for part in parts:
            out[part.lstrip("-")] = (name, -1 if part.startswith("-") else 1)
    return out


RUN_TABLES = ("daily.parquet", "flows.parquet")  # what the roles are derived from


def check_run_folder(folder: Path | str, needs: Sequence[str] = RUN_TABLES) -> Path:
    """The folder, if it holds the files ``needs`` names; else a one-line ``RunDataError``."""
    folder = Path(folder)
    missing = [n for n in needs if not (folder / n).is_file()]
    if missing:
        raise RunDataError(f"{folder}: not a run folder (missing {', '.join(missing)})")
    return folder


def _read_folder(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    check_run_folder(folder)
    return pd.read_parquet(folder / "daily.parquet"), pd.read_parquet(folder / "flows.parquet")


def run_data(runs: object | Sequence[object]) -> RunData:
    """Tables from a Result, a run folder, or a list of them (pooled, labelled by ``run``)."""
    items = list(runs) if isinstance(runs, (list, tuple)) else [runs]
    if not items:
        raise RunDataError("no runs given")
    dailies, flows = [], []
    for i, item in enumerate(items):
        if isinstance(item, (str, Path)):
            daily, flow = _read_folder(Path(item))
        else:
            daily, flow = item.daily, item.flows  # a twosided Result
        dailies.append(daily.assign(run=i))
        flows.append(flow.assign(run=i))
    names = {tuple(sorted(d["platform"].unique())) for d in dailies}
    if len(names) > 1:
        raise RunDataError("pooled runs must have the same platforms")
    return RunData(pd.concat(dailies, ignore_index=True), pd.concat(flows, ignore_index=True))


# --------------------------------------------------------------------------- payments

_KEYS = ["run", "seed", "platform"]


def _funding_shares(flows: pd.DataFrame) -> pd.DataFrame:
    """Who funded each holding account, as shares of its inflows over the run."""
    into = flows[
        flows["destination"].isin(HOLDING_ACCOUNTS) & ~flows["source"].isin(HOLDING_ACCOUNTS)
    ]
    funded = into.groupby([*_KEYS, "destination", "source"], as_index=False)["cents"].sum()
    funded = funded.rename(columns={"destination": "holding", "source": "funder"})
    total = funded.groupby([*_KEYS, "holding"])["cents"].transform("sum")
    funded["share"] = np.where(total > 0, funded["cents"] / total.where(total > 0, 1), 0.0)
    return funded.drop(columns="cents")


def traced_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """The flows with money paid out of a holding account attributed to those who funded it.

    A flow out of escrow (buyers' money held) or deposits (sellers' money held) becomes one
    flow per funder, in proportion to what each put into that account over the run; flows
    into holding accounts are kept as they are. Columns as ``flows``; cents become floats.
    """
    held = flows["source"].isin(HOLDING_ACCOUNTS)
    out = flows[held].merge(
        _funding_shares(flows), left_on=[*_KEYS, "source"], right_on=[*_KEYS, "holding"]
    )
    out = out.assign(source=out["funder"], cents=out["cents"] * out["share"])
    kept = flows[~held].assign(cents=flows["cents"].astype(np.float64))
    return pd.concat([kept, out[flows.columns]], ignore_index=True)


def platform_payments(flows: pd.DataFrame) -> pd.DataFrame:
    """Payments to each platform by payer and revenue stream, per run, seed and day.

    Columns: run, seed, day, platform, payer (an account: households, sellers, ...),
    stream (a revenue stream of ``REVENUE_STREAMS``, or the ledger stream), cents. Flows
    out of the platform's account are negative payments by their destination.
    """
    names = _stream_names()
    traced = traced_flows(flows)
    into = traced[traced["destination"] == PLATFORM_ACCOUNT].assign(payer=traced["source"])
    back = traced[traced["source"] == PLATFORM_ACCOUNT].assign(payer=traced["destination"])
    pay = pd.concat([into, back.assign(cents=-back["cents"])], ignore_index=True)
    pay["stream"] = pay["stream"].map(lambda s: names.get(s, (s, 1))[0])
    return pay.groupby([*_KEYS, "day", "payer", "stream"], as_index=False)["cents"].sum()


def routes(flows: pd.DataFrame) -> pd.DataFrame:
    """Money between the market's sides on each platform, holding accounts traced through.

    Columns: platform, source, destination (accounts other than the platform's own),
    cents summed over runs, seeds and days. Households' payments that escrow releases to
    sellers appear as households -> sellers.
    """
    traced = traced_flows(flows)
    sides = ~traced["source"].isin([PLATFORM_ACCOUNT, *HOLDING_ACCOUNTS]) & ~traced[
        "destination"
    ].isin([PLATFORM_ACCOUNT, *HOLDING_ACCOUNTS])
    traced = traced[sides & (traced["source"] != traced["destination"])]
    return traced.groupby(["platform", "source", "destination"], as_index=False)["cents"].sum()


# --------------------------------------------------------------------------- roles


@dataclasses.dataclass(frozen=True)
class Follow:
    """How one group's payments to a platform move with another group's activity."""

    payer: str
    activity_of: str
    activity_label: str
    elasticity: Elasticity | None  # of the payer's per-use payments, summed
    per_use: tuple[str, ...]  # the payer's per-use streams: what the elasticity is measured on
    by_stream: dict[str, Elasticity | None]  # every stream the payer pays, each on its own
    note: str  # why there is no figure, when there is none

    def describe(self) -> str:
        """The figure, or why there is none."""
        return self.elasticity.describe() if self.elasticity is not None else self.note

    @property
    def left_out(self) -> tuple[str, ...]:
        """The payer's streams not in the elasticity (lump sums), in ``by_stream`` order."""
        return tuple(s for s in self.by_stream if s not in self.per_use)

    @property
    def carried_by(self) -> tuple[str, ...]:
        """The per-use streams that follow the activity on their own (interval above 0)."""
        return tuple(
            s for s in self.per_use if (e := self.by_stream.get(s)) is not None and e.positive
        )


@dataclasses.dataclass(frozen=True)
class PlatformRoles:
    """The derived roles on one platform, with the figures that justify them."""

    platform: str
    revenue_cents: float  # amounts in cents over the base run (the first given), mean per seed
    paid_cents: dict[str, float]  # payer (group name or account) -> cents
    streams: dict[str, dict[str, float]]  # payer -> revenue stream -> cents
    follows: tuple[Follow, ...]
    routed_cents: dict[tuple[str, str], float]  # (from group, to group) -> cents on the platform
    customers: tuple[str, ...]
    users: dict[str, str]  # user -> evidence: "follows" (elasticity) or "route" (money's route)
    min_customer_share: float

    def share(self, payer: str) -> float:
        """The payer's share of the platform's revenue."""
        return self.paid_cents.get(payer, 0.0) / self.revenue_cents if self.revenue_cents else 0.0

    def follow(self, payer: str, activity_of: str) -> Follow | None:
        """The elasticity record of ``payer``'s payments to ``activity_of``'s activity."""
        return next(
            (f for f in self.follows if f.payer == payer and f.activity_of == activity_of), None
        )


@dataclasses.dataclass(frozen=True)
class RunRoles:
    """Roles on every platform of one run (or several pooled runs)."""

    platforms: tuple[PlatformRoles, ...]
    runs: int
    seeds: int
    periods: int
    period_days: int
    warmup_days: int
    run_id: str | None = None  # the base run's id, when it is a stored run

    def platform(self, name: str) -> PlatformRoles:
        """The roles on the platform of that name."""
        for p in self.platforms:
            if p.platform == name:
                return p
        raise KeyError(name)


def _group_of(account: str) -> str:
    return next((g.name for g in GROUPS if g.account == account), account)


def _periodic(
    frame: pd.DataFrame, value: str, how: str, period_days: int, warmup: int
) -> pd.Series:
    """Sum or mean of a daily column per run, seed and full period after the warm-up."""
    frame = frame[frame["day"] >= warmup]
    period = ((frame["day"] - warmup) // period_days).rename("period")
    days = frame.groupby([frame["run"], frame["seed"], period])["day"].transform("nunique")
    full = days == period_days
    return (
        frame[full].groupby([frame["run"][full], frame["seed"][full], period[full]])[value].agg(how)
    )


def _fit(paid: pd.Series, activity: pd.Series) -> Elasticity | None:
    y = paid.reindex(activity.index, fill_value=0.0)
    if y.sum() <= 0:
        return None
    index = activity.index
    return log_log(
        y.to_numpy(),
        activity.to_numpy(),
        index.get_level_values("seed").to_numpy(),
        index.get_level_values("period").to_numpy(),
    )


def _note(
    paid_total: float, per_use_total: float, left_out: Sequence[str], runs: int, observations: int
) -> str:
    if paid_total <= 0:
        return "pays nothing"
    if per_use_total <= 0:
        sums = "; ".join(f"{s}: {why_left_out(s)}" for s in left_out)
        return f"pays only lump sums ({sums}), which can follow activity only across years"
    if observations == 0:
        return "too few days for an elasticity (it needs one period after the warm-up)"
    if runs < 2:
        return "not identified by one run (pool it with a probe run)"
    return "not identified (the runs do not differ in this activity)"


def _follow(
    payer: Group,
    other: Group,
    daily: pd.DataFrame,
    pay: pd.DataFrame,
    period_days: int,
    warmup: int,
) -> Follow:
    how = "sum" if other.activity_is_flow else "mean"
    activity = _periodic(daily, other.activity, how, period_days, warmup)
    mine = pay[pay["payer"] == payer.account]
    by_stream = {
        stream: _fit(_periodic(part, "cents", "sum", period_days, warmup), activity)
        for stream, part in mine.groupby("stream")
        if part["cents"].sum() != 0
    }
    per_use = tuple(s for s in by_stream if is_per_use(s))
    used = mine[mine["stream"].isin(per_use)]
    total = _fit(_periodic(used, "cents", "sum", period_days, warmup), activity)
    note = (
        ""
        if total is not None
        else _note(
            float(mine["cents"].sum()),
            float(used["cents"].sum()),
            [s for s in by_stream if s not in per_use],
            daily["run"].nunique(),
            len(activity),
        )
    )
    return Follow(payer.name, other.name, other.activity_label, total, per_use, by_stream, note)


def _user_evidence(
    group: str,
    customers: tuple[str, ...],
    follows: tuple[Follow, ...],
    routed: dict[tuple[str, str], float],
) -> str | None:
    """Why ``group`` is a user, or None: the customers' payments follow its activity (when the
    runs identify that), else its money reaches the customers through the platform."""
    fits = [
        f.elasticity
        for f in follows
        if f.activity_of == group and f.payer in customers and f.elasticity is not None
    ]
    if fits:
        return "follows" if any(e.positive for e in fits) else None
    if any(routed.get((group, c), 0.0) > 0 for c in customers):
        return "route"
    return None


BASE_RUN = 0  # the first run given: the one whose amounts are shown


def _platform_roles(
    name: str,
    daily: pd.DataFrame,
    pay: pd.DataFrame,
    route: pd.DataFrame,
    period_days: int,
    warmup: int,
    min_share: float,
) -> PlatformRoles:
    """One platform's roles; ``route`` is the base run's, ``pay`` and ``daily`` every run's."""
    seeds = daily.loc[daily["run"] == BASE_RUN, "seed"].nunique()  # amounts: mean per seed
    base = pay[pay["run"] == BASE_RUN]
    base = base.assign(group=base["payer"].map(_group_of), cents=base["cents"] / seeds)
    paid = base.groupby("group")["cents"].sum()
    streams = {
        g: {s: float(c) for s, c in part.groupby("stream")["cents"].sum().items() if c != 0}
        for g, part in base.groupby("group")
    }
    routed = {
        (_group_of(r.source), _group_of(r.destination)): float(r.cents) / seeds
        for r in route.itertuples()
        if r.cents != 0
    }
    revenue = float(paid.sum())
    customers = tuple(
        g.name for g in GROUPS if revenue > 0 and paid.get(g.name, 0.0) / revenue >= min_share
    )
    follows = tuple(
        _follow(payer, other, daily, pay, period_days, warmup)
        for payer in GROUPS
        for other in GROUPS
        if other is not payer
    )
    users = {
        g.name: evidence
        for g in GROUPS
        if g.name not in customers
        and (evidence := _user_evidence(g.name, customers, follows, routed)) is not None
    }
    return PlatformRoles(
        name,
        revenue,
        {g: float(c) for g, c in paid.items()},
        streams,
        follows,
        routed,
        customers,
        users,
        min_share,
    )


def derive_run_roles(
    runs: object | Sequence[object],
    period_days: int = PERIOD_DAYS,
    warmup_days: int = WARMUP_DAYS,
    min_customer_share: float = MIN_CUSTOMER_SHARE,
) -> RunRoles:
    """Customers and users of every platform, from the ledger and activity of runs.

    ``runs``: a ``twosided.Result``, a run folder (with ``daily.parquet`` and
    ``flows.parquet``), or a list of them with the same platforms, pooled: for the users,
    a run and its :func:`probe` (the same scenario and seeds with fewer buyers). The amounts
    are the first run's (the base); the others serve only the elasticities.
    """
    data = run_data(runs)
    pay = platform_payments(data.flows)
    route = routes(data.flows[data.flows["run"] == BASE_RUN])
    days = int(data.daily.groupby("run")["day"].max().min()) + 1
    periods = max(0, (days - warmup_days) // period_days)
    platforms = tuple(
        _platform_roles(
            name,
            data.daily[data.daily["platform"] == name],
            pay[pay["platform"] == name],
            route[route["platform"] == name],
            period_days,
            warmup_days,
            min_customer_share,
        )
        for name in data.platforms
    )
    seeds = int(data.daily["seed"].nunique())
    return RunRoles(
        platforms,
        int(data.daily["run"].nunique()),
        seeds,
        periods,
        period_days,
        warmup_days,
        _base_run_id(runs),
    )


def _base_run_id(runs: object | Sequence[object]) -> str | None:
    """The id of the base run (the first one), when it is a stored run or its folder."""
    base = runs[0] if isinstance(runs, (list, tuple)) and runs else runs
    if isinstance(base, (str, Path)):
        return Path(base).name
    return getattr(base, "run_id", None) or None


# --------------------------------------------------------------------------- probe

PROBE_SCALE = 0.5  # the probe run has half the buyers: a large, cheap shift in activity
SIZE_FIELDS = {"buyers": ("market", "buyers"), "sellers": ("market", "initial_sellers")}


def probe(base: object, group: str = "buyers", scale: float = PROBE_SCALE) -> Result:
    """The base run's scenario, seeds and days again, with ``group``'s number scaled.

    ``base``: a ``twosided.Result`` or a run folder holding ``scenario.toml``. Pooled with
    the base (``derive_run_roles([base, probe(base)])``), it is the experiment that
    identifies how the other side's payments follow this group's activity.
    """
    if group not in SIZE_FIELDS:
        raise RunDataError(f"probe: unknown group '{group}' (groups: {', '.join(SIZE_FIELDS)})")
    if not 0.0 < scale != 1.0:
        raise RunDataError("probe: scale must be positive and not 1")
    scenario, seeds, days = _base_run(base)
    section, field = SIZE_FIELDS[group]
    size = getattr(getattr(scenario, section), field)
    return simulate(
        scenario,
        days=days,
        seeds=seeds,
        overrides={f"{section}.{field}": max(1, round(size * scale))},
    )


def _base_run(base: object) -> tuple[Scenario, list[int], int]:
    """The scenario, seeds and day count of a Result (or a loaded run) or a run folder."""
    if not isinstance(base, (str, Path)):
        return base.scenario, list(base.seeds), int(base.daily["day"].max()) + 1
    folder = Path(str(base))
    if not (folder / SCENARIO_FILE).is_file():
        raise RunDataError(f"{folder}: no {SCENARIO_FILE}, so it cannot be run again as a probe")
    try:
        scenario = load_scenario(folder / SCENARIO_FILE)
    except ScenarioError as err:
        raise RunDataError(f"{folder / SCENARIO_FILE}: {err}") from None
    daily = pd.read_parquet(folder / "daily.parquet", columns=["seed", "day"])
    return scenario, sorted(int(s) for s in daily["seed"].unique()), int(daily["day"].max()) + 1
