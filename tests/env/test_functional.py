"""The functional environment: it replays ``twosided.simulate``, clips actions to the
schema's bounds, and runs under ``jit`` and ``vmap``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import twosided
from tests.env.conftest import PERIOD_DAYS, PERIODS, SMALL
from twosided import metrics as tables
from twosided import sim
from twosided.env import functional as fenv
from twosided.env import policy as pol
from twosided.env import vector
from twosided.scenario import Governance, Ranking
from twosided.simulation import prepare

SEED = 3


@pytest.fixture(scope="module")
def market():
    env, params = fenv.make("taobao", PERIOD_DAYS, PERIODS, overrides=SMALL, daily_metrics=True)
    return env, params, fenv.scenario_action(prepare("taobao", SMALL))


def _episode(env, params, action, seed=SEED):
    k_reset, k_day = fenv.episode_keys(seed)
    state = env.reset(k_reset, params)
    days, rewards, infos = [], [], []
    for _ in range(env.periods):
        state, obs, reward, term, trunc, info = env.step(k_day, state, action, params)
        days.append(jax.device_get(info["daily"]))
        rewards.append(np.asarray(reward))
        infos.append(jax.device_get({k: v for k, v in info.items() if k != "daily"}))
    return state, obs, rewards, infos, days, (term, trunc)


def test_scenario_policy_reproduces_simulate_bit_for_bit(market):
    env, params, action = market
    _, _, _, _, days, _ = _episode(env, params, action)
    raw = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=0)[None], *days)
    ref = twosided.simulate("taobao", days=PERIOD_DAYS * PERIODS, seeds=[SEED], overrides=SMALL)
    names = list(ref.platforms)
    pd.testing.assert_frame_equal(tables.daily_table(raw, names, [SEED], 0), ref.daily)
    pd.testing.assert_frame_equal(tables.flows_table(raw, names, [SEED], 0), ref.flows)
    assert ref.daily["revenue_cents"].sum() > 0


def test_reward_and_info_are_the_periods_totals(market):
    env, params, action = market
    _, obs, rewards, infos, days, (term, trunc) = _episode(env, params, action)
    for reward, info, day in zip(rewards, infos, days, strict=True):
        np.testing.assert_array_equal(info["revenue_cents"], day["revenue_cents"].sum(0))
        np.testing.assert_allclose(reward, info["revenue_cents"] / 100.0, rtol=1e-6)
        # profit is the platform account's change: today equal to revenue
        np.testing.assert_array_equal(info["profit_cents"], info["revenue_cents"])
    assert not bool(term) and bool(trunc)
    assert obs.shape == (env.platforms, env.observation_size)
    names = env.observation_names
    share = np.asarray(obs)[:, names.index("share")]
    np.testing.assert_allclose(share.sum(), 1.0, rtol=1e-6)
    sessions = np.asarray(obs)[:, names.index("sessions")]
    np.testing.assert_allclose(sessions, days[-1]["sessions"].sum(0) / PERIOD_DAYS, rtol=1e-6)
    # a rival's public share is that rival's own share
    assert np.asarray(obs)[0, names.index("rival1_share")] == share[1]


def test_bounds_are_the_schemas():
    sc = prepare("taobao", SMALL)
    low, high = pol.bounds(sc)
    i = pol.INDEX
    ads = Ranking.model_fields["ads"].metadata
    assert high[0, i["rank_ads"]] == next(m.le for m in ads if hasattr(m, "le"))
    np.testing.assert_array_equal(low, 0.0)
    assert pol.schema_bounds(Governance, "detection_rate") == (0.0, 1.0)
    np.testing.assert_array_equal(high[:, i["detection_rate"]], 1.0)
    top = pol.commission_rates(sc).max(axis=1)
    np.testing.assert_allclose(high[:, i["commission_scale"]] * top, 1.0, rtol=1e-6)


def test_actions_out_of_bounds_are_clipped(market):
    env, params, action = market
    wild = np.array(action, copy=True)
    wild[0, pol.INDEX["rank_ads"]] = 1e6
    wild[1, pol.INDEX["detection_rate"]] = -3.0
    wild[2, pol.INDEX["reserve_cents"]] = np.nan
    wild[0, pol.INDEX["reserve_cents"]] = 12.6
    clipped = np.asarray(pol.clip(wild, params.low, params.high))
    assert clipped[0, pol.INDEX["rank_ads"]] == 100.0
    assert clipped[1, pol.INDEX["detection_rate"]] == 0.0
    assert clipped[2, pol.INDEX["reserve_cents"]] == 0.0
    assert clipped[0, pol.INDEX["reserve_cents"]] == 13.0
    k_reset, k_day = fenv.episode_keys(SEED)
    state = env.reset(k_reset, params)
    _, _, r_wild, _, _, info = env.step(k_day, state, wild, params)
    _, _, r_clip, _, _, _ = env.step(k_day, state, clipped, params)
    np.testing.assert_array_equal(np.asarray(info["action"]), clipped)
    np.testing.assert_array_equal(np.asarray(r_wild), np.asarray(r_clip))


def test_apply_action_sets_the_engine_parameters(market):
    _env, params, action = market
    a = np.array(action, copy=True)
    a[1, pol.INDEX["commission_scale"]] = 2.0
    a[0, pol.INDEX["rank_ads"]] = 7.5
    with sim.x64():
        p = fenv.apply_action(params.sim, jnp.asarray(a), params.base_commission)
    np.testing.assert_allclose(
        np.asarray(p.platform.fees.commission[1]), 2.0 * np.asarray(params.base_commission[1])
    )
    assert float(p.platform.ranking.ads[0]) == 7.5
    assert p.platform.auction.reserve_cents.dtype == jnp.int64


def test_batch_under_vmap_and_jit(market):
    env, params, action = market
    seeds = [SEED, SEED + 1]
    keys = jnp.stack([fenv.episode_keys(s)[0] for s in seeds])
    day_keys = jnp.stack([fenv.episode_keys(s)[1] for s in seeds])
    actions = np.stack([action, action])
    actions[1, 0, pol.INDEX["rank_ads"]] = 50.0
    states = vector.reset(env, keys, params)
    states, obs, reward, _term, _trunc, info = vector.step(env, day_keys, states, actions, params)
    assert obs.shape == (2, env.platforms, env.observation_size)
    assert reward.shape == (2, env.platforms)
    # each member of the batch is its own environment: the same seed alone agrees
    one = env.reset(keys[0], params)
    _, _, r0, _, _, info0 = env.step(day_keys[0], one, actions[0], params)
    np.testing.assert_array_equal(np.asarray(info["revenue_cents"][0]), info0["revenue_cents"])
    # under an outer jit, inside the engine's precision context
    with sim.x64():
        jitted = jax.jit(lambda s, a: env.step(day_keys[0], s, a, params)[2])
        np.testing.assert_allclose(np.asarray(jitted(one, actions[0])), np.asarray(r0), rtol=1e-6)


def test_unknown_objective_is_refused(market):
    env, _, _ = market
    with pytest.raises(ValueError, match="objective"):
        fenv.MarketEnv(env.dims, env.names, objective="wealth")  # type: ignore[arg-type]


@pytest.mark.parametrize("objective", fenv.OBJECTIVES)
def test_each_objective_is_its_documented_reward(market, objective):
    env, params, _ = market
    chosen = fenv.MarketEnv(env.dims, env.names, objective=objective)
    with sim.x64():
        period = fenv.Period(
            sessions=jnp.asarray([300, 100, 0], jnp.int64),
            gmv_cents=jnp.zeros(3, jnp.int64),
            revenue={n: jnp.zeros(3, jnp.int64) for n in fenv.REVENUE_NAMES},
            revenue_cents=jnp.asarray([10_000, 500, 0], jnp.int64),
            profit_cents=jnp.asarray([9_000, 500, 0], jnp.int64),
            consumer_surplus_cents=jnp.asarray([2_000.0, 100.0, 0.0], jnp.float64),
            orders=jnp.zeros(3, jnp.int64),
        )
        weighted = fenv.replace(params, surplus_weight=jnp.asarray(0.5, jnp.float32))
        reward = np.asarray(fenv._reward(chosen, period, weighted))
    expected = {
        "revenue": [100.0, 5.0, 0.0],
        "profit": [90.0, 5.0, 0.0],
        "welfare": [110.0, 5.5, 0.0],
        "share": [0.75, 0.25, 0.0],
    }[objective]
    np.testing.assert_allclose(reward, expected, rtol=1e-6)
