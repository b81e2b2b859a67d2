"""The Gymnasium environment for one platform: registered, passes Gymnasium's checker,
clips actions, and replays the scenario run with the scenario's policy."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import twosided
import twosided.env
from tests.env.conftest import PERIOD_DAYS, PERIODS, SMALL
from twosided.env.gym import PlatformEnv


@pytest.fixture(scope="module")
def env() -> PlatformEnv:
    made = gymnasium.make(
        twosided.env.ENV_ID,
        scenario="taobao",
        platform="Taobao",
        period_days=PERIOD_DAYS,
        periods=PERIODS,
        overrides=SMALL,
    )
    return made.unwrapped


def test_registered_on_import_and_passes_check_env(env):
    assert twosided.env.ENV_ID in gymnasium.registry
    assert isinstance(env, PlatformEnv)
    check_env(env, skip_render_check=True)


def test_an_episode_of_the_scenario_policy_is_the_simulate_run(env):
    obs, info = env.reset(seed=4)
    assert obs in env.observation_space and info["seed"] == 4
    revenue, truncated = [], False
    while not truncated:
        obs, reward, terminated, truncated, info = env.step(env.default_action)
        assert not terminated
        revenue.append(info["daily_revenue_cents"])
    ref = twosided.simulate("taobao", days=PERIOD_DAYS * PERIODS, seeds=[4], overrides=SMALL)
    daily = ref.daily[ref.daily["platform"] == "Taobao"]["revenue_cents"].to_numpy()
    np.testing.assert_array_equal(np.concatenate(revenue), daily)
    assert reward == pytest.approx(info["revenue_cents"] / 100.0)


def test_out_of_bounds_actions_are_clipped(env):
    env.reset(seed=1)
    high = env.action_space.high
    _, _, _, _, info = env.step(high * 10.0)
    np.testing.assert_array_equal(info["action"], high)


def test_unknown_platform_is_refused():
    with pytest.raises(ValueError, match="platform 'Nope'"):
        PlatformEnv("taobao", platform="Nope", overrides=SMALL)


def test_vector_env_batches_copies_of_the_platform_env(env):
    from twosided.env.gym import PlatformVectorEnv

    vec = gymnasium.make_vec(
        twosided.env.ENV_ID,
        num_envs=2,
        vectorization_mode="vector_entry_point",
        scenario="taobao",
        platform="Taobao",
        period_days=PERIOD_DAYS,
        periods=PERIODS,
        overrides=SMALL,
    )
    assert isinstance(vec, PlatformVectorEnv)
    obs, info = vec.reset(seed=4)
    assert obs.shape == (2, env.observation_space.shape[0]) and list(info["seed"]) == [4, 5]
    single_obs, _ = env.reset(seed=4)
    np.testing.assert_array_equal(obs[0], single_obs)
    actions = np.stack([env.default_action, env.action_space.high])
    obs, reward, term, trunc, info = vec.step(actions)
    _, _, _, _, single_info = env.step(env.default_action)
    np.testing.assert_array_equal(info["revenue_cents"][0], single_info["revenue_cents"])
    assert reward.shape == (2,) and not term.any() and not trunc.any()
    obs, reward, term, trunc, info = vec.step(actions)  # the last period: all reset
    assert trunc.all() and "final_obs" in info
    assert obs.shape == (2, env.observation_space.shape[0])
