"""The PettingZoo environment: every platform an agent; passes PettingZoo's API test."""

from __future__ import annotations

import numpy as np
from pettingzoo.test import parallel_api_test

from tests.env.conftest import PERIOD_DAYS, PERIODS, SMALL
from twosided.env.parallel import MarketParallelEnv


def test_parallel_api_and_an_episode():
    env = MarketParallelEnv("taobao", PERIOD_DAYS, PERIODS, overrides=SMALL)
    parallel_api_test(env, num_cycles=PERIODS + 1)
    obs, infos = env.reset(seed=2)
    assert list(obs) == ["Taobao", "Pinduoduo", "JD"]
    steps = 0
    while env.agents:
        actions = {a: env.action_space(a).high for a in env.agents}
        obs, rewards, _terms, truncs, infos = env.step(actions)
        steps += 1
        for a in rewards:
            np.testing.assert_array_equal(infos[a]["action"], env.action_space(a).high)
    assert steps == PERIODS and all(truncs.values())
