"""A PettingZoo ``ParallelEnv``: every platform is an agent choosing its policy each period.

Agents are the platforms' names; each one's action and observation spaces are those of
``twosided.env.gym.PlatformEnv`` for that platform, its reward its own objective. The
episode ends by truncation after ``periods`` periods (``agents`` is then empty).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from twosided.env.functional import EnvState, Objective, episode_keys, make
from twosided.env.gym import to_numpy
from twosided.env.policy import scenario_action
from twosided.scenario import Scenario
from twosided.simulation import MAX_SEED, prepare


class MarketParallelEnv(ParallelEnv):
    """Every platform an agent; actions are dicts ``{name: action}`` (missing agents play
    their scenario policy)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [], "name": "twosided_market_v0"}

    def __init__(
        self,
        scenario: str | Path | Scenario = "taobao",
        period_days: int = 7,
        periods: int | None = None,
        objective: Objective = "revenue",
        surplus_weight: float = 1.0,
        overrides: dict[str, Any] | list[str] | None = None,
        render_mode: str | None = None,
    ) -> None:
        sc = prepare(scenario, overrides)
        self.env, self.params = make(sc, period_days, periods, objective, surplus_weight)
        self.possible_agents = list(self.env.names)
        self.agents: list[str] = []
        self.policies = scenario_action(sc)
        self._low, self._high = np.asarray(self.params.low), np.asarray(self.params.high)
        self.render_mode = render_mode
        self._state: EnvState | None = None
        self._rng = np.random.default_rng()

    @functools.cache  # noqa: B019 - one space object per agent, as PettingZoo expects
    def observation_space(self, agent: str) -> gym.spaces.Box:
        """Every agent sees a vector of ``env.observation_size`` float32."""
        return gym.spaces.Box(-np.inf, np.inf, (self.env.observation_size,), dtype=np.float32)

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gym.spaces.Box:
        """The agent's policy, bounded as the schema bounds it."""
        i = self.possible_agents.index(agent)
        return gym.spaces.Box(self._low[i], self._high[i], dtype=np.float32)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode (engine seed ``seed``, or one drawn at random)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        engine_seed = seed if seed is not None else int(self._rng.integers(0, MAX_SEED))
        k_reset, self._day_root = episode_keys(int(engine_seed) % (MAX_SEED + 1))
        self._state = self.env.reset(k_reset, self.params)
        self.agents = list(self.possible_agents)
        obs = np.asarray(self.env.observe(self._state, self.params))
        return (
            {a: obs[i] for i, a in enumerate(self.agents)},
            {a: {"seed": int(engine_seed)} for a in self.agents},
        )

    def step(self, actions: dict[str, np.ndarray]) -> tuple[dict[str, Any], ...]:
        """One period; every agent's reward is its own objective."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        full = self.policies.copy()
        for agent, action in actions.items():
            full[self.possible_agents.index(agent)] = np.asarray(action, np.float32).reshape(-1)
        self._state, obs, reward, term, trunc, info = self.env.step(
            self._day_root, self._state, full, self.params
        )
        obs, reward = np.asarray(obs), np.asarray(reward)
        names = self.agents
        out_obs = {a: obs[i] for i, a in enumerate(self.possible_agents) if a in names}
        rewards = {a: float(reward[i]) for i, a in enumerate(self.possible_agents) if a in names}
        terms = {a: bool(term) for a in names}
        truncs = {a: bool(trunc) for a in names}
        infos = {a: to_numpy(info, i) for i, a in enumerate(self.possible_agents) if a in names}
        if bool(term) or bool(trunc):
            self.agents = []
        return out_obs, rewards, terms, truncs, infos
