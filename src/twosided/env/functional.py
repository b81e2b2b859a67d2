"""The functional environment: a market where platforms choose their policy each period.

In the style of gymnax and Gymnasium's ``FuncEnv``: the environment object holds only
static configuration, every number is in ``EnvParams`` (a pytree), and the two pure
functions are::

    env, params = twosided.env.make("taobao", period_days=7, periods=52)
    state = env.reset(key, params)
    state, obs, reward, terminated, truncated, info = env.step(key, state, action, params)

One step is a *decision period* of ``period_days`` engine days (``lax.scan`` over
``twosided.sim.step``). The action is every platform's policy for the period (``[P, A]``,
``env.policy``); observation ``[P, O]`` and reward ``[P]`` are each platform's own view
and objective (docs/strategic.md has the tables). ``terminated`` is always false (a market
does not end); ``truncated`` is true after ``periods`` periods.

Keys: the engine's draws on day ``d`` use ``fold_in(key, d)`` where ``key`` is the key
given to ``step``, and the initial state uses ``fold_in(key, 0)`` of the key given to
``reset``. ``sim.run`` derives day ``d``'s key as ``fold_in(fold_in(seed_key, 1), d)``, so
``reset(key(seed))`` followed by steps with ``day_root(seed)`` is, day for day, the run
``twosided.simulate`` makes of that seed (``episode_keys``; the wrappers do this, and the
tests check the tables match bit for bit).

``reset`` and ``step`` are compiled and run in the engine's 64-bit mode; to ``vmap`` or
``jit`` them inside JAX code of your own, run that code under ``twosided.sim.x64()``.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from twosided.env import policy as pol
from twosided.scenario import Scenario, load_scenario
from twosided.sim import day as sim_day
from twosided.sim.draws import root_key
from twosided.sim.params import Dims, Params, build
from twosided.sim.precision import with_x64
from twosided.sim.pytree import pytree_dataclass, replace
from twosided.sim.state import State, init_state, is_open
from twosided.sim.streams import REVENUE_NAMES, revenue_column

F32 = jnp.float32
F64 = jnp.float64
Objective = Literal["revenue", "profit", "welfare", "share"]
OBJECTIVES: tuple[str, ...] = ("revenue", "profit", "welfare", "share")
YUAN = 100.0  # cents per yuan: money in observations and rewards is in yuan

# the observation of one platform: its own business over the last period (per day, money
# in yuan), then each rival's public price index and session share, in platform order
OWN_OBSERVATION: tuple[str, ...] = (
    "sessions",
    "gmv",
    *(f"revenue_{name}" for name in REVENUE_NAMES),
    "sellers",
    "share",
    "rating",
    "price_index",
    "progress",
)
RIVAL_OBSERVATION: tuple[str, ...] = ("price_index", "share")


@pytree_dataclass
class EnvParams:
    """Every number of the environment: the engine's parameters (the scenario's policies
    are the base every action overwrites), the action bounds and the reward weight."""

    sim: Params
    base_commission: jax.Array  # f32[P, C] the scenario's commission rates
    low: jax.Array  # f32[P, A]
    high: jax.Array  # f32[P, A]
    surplus_weight: jax.Array  # f32 λ of the "welfare" objective


@pytree_dataclass
class Period:
    """One platform-by-platform summary of a decision period ([P] each; totals)."""

    sessions: jax.Array  # i64
    gmv_cents: jax.Array  # i64
    revenue: dict[str, jax.Array]  # i64 cents by revenue stream
    revenue_cents: jax.Array  # i64
    profit_cents: jax.Array  # i64: net money into the platform's ledger account
    consumer_surplus_cents: jax.Array  # f64
    orders: jax.Array  # i64


@pytree_dataclass
class EnvState:
    """The engine state plus the period count and the last period's summary."""

    sim: State
    period: jax.Array  # i32 periods done
    last: Period  # the last period (zeros after reset)


@dataclasses.dataclass(frozen=True)
class MarketEnv:
    """The static part of the environment (hashable: a jit static argument)."""

    dims: Dims
    names: tuple[str, ...]
    period_days: int = 7
    periods: int = 52
    objective: Objective = "revenue"
    daily_metrics: bool = False  # also return every engine daily metric in info["daily"]

    def __post_init__(self) -> None:
        if self.period_days < 1:
            raise ValueError(f"period_days {self.period_days}: must be at least 1")
        if self.periods < 1:
            raise ValueError(f"periods {self.periods}: must be at least 1")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective {self.objective!r}: one of {', '.join(OBJECTIVES)}")

    @property
    def platforms(self) -> int:
        """Number of platforms (agents)."""
        return self.dims.platforms

    @property
    def action_size(self) -> int:
        """Components of one platform's action."""
        return len(pol.ACTION_FIELDS)

    @property
    def observation_names(self) -> tuple[str, ...]:
        """Names of one platform's observation components (rivals as ``rival<k>_...``,
        ``k`` counting the other platforms in engine order)."""
        rivals = tuple(
            f"rival{k}_{name}" for k in range(1, self.platforms) for name in RIVAL_OBSERVATION
        )
        return OWN_OBSERVATION + rivals

    @property
    def observation_size(self) -> int:
        """Components of one platform's observation."""
        return len(self.observation_names)

    def reset(self, key: jax.Array, params: EnvParams) -> EnvState:
        """The market on day 0 (engine state from ``fold_in(key, 0)``)."""
        return _reset(self, key, params)

    def step(
        self, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams
    ) -> tuple[EnvState, jax.Array, jax.Array, jax.Array, jax.Array, dict[str, Any]]:
        """One decision period under ``action`` ([P, A], clipped to the bounds)."""
        return _step(self, key, state, action, params)

    def observe(self, state: EnvState, params: EnvParams) -> jax.Array:
        """Every platform's observation of the state ([P, O] float32)."""
        return _observe(self, state, params)


def _zero_period(P: int) -> Period:
    z = jnp.zeros((P,), jnp.int64)
    return Period(
        sessions=z,
        gmv_cents=z,
        revenue={name: z for name in REVENUE_NAMES},
        revenue_cents=z,
        profit_cents=z,
        consumer_surplus_cents=jnp.zeros((P,), F64),
        orders=z,
    )


def apply_action(sim: Params, action: jax.Array, base_commission: jax.Array) -> Params:
    """The engine parameters with every platform's policy set from an (already clipped)
    action ``[P, A]``."""
    a = {name: action[:, i] for i, name in enumerate(pol.ACTION_NAMES)}
    plat = sim.platform
    ranking = replace(
        plat.ranking,
        quality=a["rank_quality"],
        price=a["rank_price"],
        commission=a["rank_commission"],
        ads=a["rank_ads"],
    )
    rates = jnp.clip(
        base_commission * a["commission_scale"][:, None], 0.0, pol.MAX_COMMISSION_RATE
    ).astype(plat.fees.commission.dtype)
    fees = replace(plat.fees, commission=rates)
    reserve = a["reserve_cents"].astype(plat.auction.reserve_cents.dtype)
    auction = replace(plat.auction, reserve_cents=reserve)
    detection = a["detection_rate"].astype(plat.governance.detection_rate.dtype)
    governance = replace(plat.governance, detection_rate=detection)
    platform = replace(plat, ranking=ranking, fees=fees, auction=auction, governance=governance)
    return replace(sim, platform=platform)


@functools.partial(jax.jit, static_argnums=0)
def _reset_jit(env: MarketEnv, key: jax.Array, params: EnvParams) -> EnvState:
    sim = init_state(jax.random.fold_in(key, 0), env.dims, params.sim)
    return EnvState(sim=sim, period=jnp.int32(0), last=_zero_period(env.platforms))


@with_x64
def _reset(env: MarketEnv, key: jax.Array, params: EnvParams) -> EnvState:
    return _reset_jit(env, key, params)


def _period(daily: dict[str, jax.Array], flows_to_platform: jax.Array) -> Period:
    """Totals of a period from the stacked daily metrics ([days, P])."""
    return Period(
        sessions=daily["sessions"].sum(0),
        gmv_cents=daily["gmv_cents"].sum(0),
        revenue={name: daily[revenue_column(name)].sum(0) for name in REVENUE_NAMES},
        revenue_cents=daily["revenue_cents"].sum(0),
        profit_cents=flows_to_platform,
        consumer_surplus_cents=daily["consumer_surplus_cents"].sum(0),
        orders=daily["orders"].sum(0),
    )


def _platform_balances(state: State, P: int) -> jax.Array:
    from twosided.sim import ledger

    at = ledger.account_index("platform", 0, P)
    return state.balances[at : at + P]


def _reward(env: MarketEnv, period: Period, params: EnvParams) -> jax.Array:
    """Each platform's objective over the period ([P] float32; money in yuan)."""
    if env.objective == "revenue":
        value = period.revenue_cents / YUAN
    elif env.objective == "profit":
        value = period.profit_cents / YUAN
    elif env.objective == "welfare":
        surplus = params.surplus_weight * period.consumer_surplus_cents
        value = (period.revenue_cents + surplus) / YUAN
    else:  # share of the market's sessions
        total = jnp.sum(period.sessions)
        value = period.sessions / jnp.maximum(total, 1)
    return value.astype(F32)


@functools.partial(jax.jit, static_argnums=0)
def _step_jit(
    env: MarketEnv, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams
) -> tuple[EnvState, jax.Array, jax.Array, jax.Array, jax.Array, dict[str, Any]]:
    action = pol.clip(action, params.low, params.high)
    sim_params = apply_action(params.sim, action, params.base_commission)
    day0 = state.sim.day
    keys = jax.vmap(lambda d: jax.random.fold_in(key, d))(day0 + jnp.arange(env.period_days))
    before = _platform_balances(state.sim, env.platforms)

    def body(st: State, k: jax.Array) -> tuple[State, dict[str, jax.Array]]:
        return sim_day.step(st, sim_params, k, env.dims)

    sim, daily = jax.lax.scan(body, state.sim, keys)
    period = _period(daily, _platform_balances(sim, env.platforms) - before)
    new = EnvState(sim=sim, period=state.period + 1, last=period)
    obs = _observe(env, new, params)
    reward = _reward(env, period, params)
    terminated = jnp.zeros((), bool)
    truncated = new.period >= env.periods
    info: dict[str, Any] = {
        "day": sim.day,
        "action": action,
        "revenue_cents": period.revenue_cents,
        "profit_cents": period.profit_cents,
        "consumer_surplus_cents": period.consumer_surplus_cents,
        "gmv_cents": period.gmv_cents,
        "sessions": period.sessions,
        "daily_revenue_cents": daily["revenue_cents"],
        "daily_gmv_cents": daily["gmv_cents"],
    }
    if env.daily_metrics:
        info["daily"] = daily
    return new, obs, reward, terminated, truncated, info


@with_x64
def _step(
    env: MarketEnv, key: jax.Array, state: EnvState, action: jax.Array, params: EnvParams
) -> tuple[EnvState, jax.Array, jax.Array, jax.Array, jax.Array, dict[str, Any]]:
    return _step_jit(env, key, state, jnp.asarray(action, F32), params)


def _stocks(env: MarketEnv, state: EnvState, params: EnvParams) -> dict[str, jax.Array]:
    """What each platform sees of its listings now: sellers, rating, price index ([P])."""
    s = state.sim.sellers
    live = s.listed & s.active[None, :] & is_open(state.sim.day, params.sim)[:, None]
    n = jnp.sum(live, axis=1)
    rating = jnp.sum(jnp.where(live, s.rating_sum, 0.0), 1) / jnp.maximum(
        jnp.sum(jnp.where(live, s.rating_n, 0.0), 1), 1.0
    )
    markup = s.markup + params.sim.platform.markup_shift[:, None]
    price_index = jnp.sum(jnp.where(live, markup, 0.0), 1) / jnp.maximum(n, 1)
    return {"sellers": n.astype(F32), "rating": rating.astype(F32), "price_index": price_index}


@functools.partial(jax.jit, static_argnums=0)
def _observe_jit(env: MarketEnv, state: EnvState, params: EnvParams) -> jax.Array:
    P, days, last = env.platforms, float(env.period_days), state.last
    stocks = _stocks(env, state, params)
    total = jnp.sum(last.sessions)
    share = jnp.where(total > 0, last.sessions / jnp.maximum(total, 1), 1.0 / P)
    own = {
        "sessions": last.sessions / days,
        "gmv": last.gmv_cents / YUAN / days,
        **{f"revenue_{n}": last.revenue[n] / YUAN / days for n in REVENUE_NAMES},
        "sellers": stocks["sellers"],
        "share": share,
        "rating": stocks["rating"],
        "price_index": stocks["price_index"],
        "progress": jnp.broadcast_to(state.period / env.periods, (P,)),
    }
    own_cols = jnp.stack([jnp.asarray(own[n], F32) for n in OWN_OBSERVATION], axis=1)
    if P == 1:
        return own_cols
    public = jnp.stack([stocks["price_index"], share], axis=1).astype(F32)  # [P, 2]
    others = np.array([[j for j in range(P) if j != i] for i in range(P)])  # [P, P-1]
    rivals = public[others].reshape(P, -1)
    return jnp.concatenate([own_cols, rivals], axis=1)


@with_x64
def _observe(env: MarketEnv, state: EnvState, params: EnvParams) -> jax.Array:
    return _observe_jit(env, state, params)


@with_x64
def env_params(scenario: Scenario, surplus_weight: float = 1.0) -> tuple[Dims, EnvParams]:
    """The engine's sizes and the environment's parameters of a scenario."""
    dims, sim = build(scenario)
    low, high = pol.bounds(scenario)
    return dims, EnvParams(
        sim=sim,
        base_commission=jnp.asarray(pol.commission_rates(scenario), F32),
        low=jnp.asarray(low),
        high=jnp.asarray(high),
        surplus_weight=jnp.asarray(surplus_weight, F32),
    )


def make(
    scenario: str | Path | Scenario = "taobao",
    period_days: int = 7,
    periods: int | None = None,
    objective: Objective = "revenue",
    surplus_weight: float = 1.0,
    overrides: dict[str, Any] | list[str] | None = None,
    daily_metrics: bool = False,
) -> tuple[MarketEnv, EnvParams]:
    """The environment of a scenario: ``(env, params)``.

    ``periods`` defaults to as many whole periods as fit in the scenario's ``days``.
    ``objective`` picks the reward (docs/strategic.md, "Rewards"); ``surplus_weight`` is
    λ of the ``welfare`` objective (revenue + λ × consumer surplus).
    """
    from twosided.simulation import prepare

    sc = prepare(scenario, overrides)
    if periods is None:
        periods = max(1, sc.days // period_days)
    dims, params = env_params(sc, surplus_weight)
    names = tuple(p.name for p in sc.platforms)
    env = MarketEnv(dims, names, period_days, periods, objective, daily_metrics)
    return env, params


def day_root(seed: int) -> jax.Array:
    """The key ``sim.run`` derives every day's key from (``fold_in(root_key(seed), 1)``): pass
    it to every ``step`` to replay the seed's ``twosided.simulate`` run."""
    with jax.enable_x64(True):
        return jax.random.fold_in(root_key(seed), 1)


def episode_keys(seed: int) -> tuple[jax.Array, jax.Array]:
    """``(reset key, step key)`` of a seed, as ``twosided.simulate`` draws it."""
    return root_key(seed), day_root(seed)


def scenario_action(scenario: str | Path | Scenario) -> np.ndarray:
    """Every platform's scenario policy as an action ``[P, A]``."""
    return pol.scenario_action(load_scenario(scenario))
