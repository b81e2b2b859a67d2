"""A Gymnasium ``Env`` for one platform; the others follow their scenario policies.

``gymnasium.make("twosided/Platform-v0", scenario="taobao", platform="Taobao")`` (the id is
registered on import of ``twosided.env``). Actions and observations are NumPy float32 in
the units of docs/strategic.md; actions out of the bounds are clipped. An episode of seed
``s`` (``reset(seed=s)``) is, day for day, the run ``twosided.simulate`` makes of seed ``s``
when the platform plays its scenario policy. Without a seed, ``reset`` draws one from the
environment's generator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import jax
import numpy as np

from twosided.env.functional import EnvState, Objective, episode_keys, make
from twosided.env.policy import ACTION_NAMES, scenario_action
from twosided.scenario import Scenario
from twosided.simulation import MAX_SEED, prepare


def platform_index(names: tuple[str, ...], platform: int | str) -> int:
    """A platform's index from its index or name."""
    if isinstance(platform, str) and not platform.isdigit():
        if platform not in names:
            raise ValueError(f"platform {platform!r}: not one of {', '.join(names)}")
        return names.index(platform)
    index = int(platform)
    if not 0 <= index < len(names):
        raise ValueError(f"platform {index}: the scenario has {len(names)} platforms")
    return index


def to_numpy(info: dict[str, Any], index: int | None = None) -> dict[str, Any]:
    """An info dict as NumPy, optionally one platform's part of it (``[P]`` entries, the
    ``action`` row, the ``daily_*`` columns)."""
    out = {}
    for key, value in jax.device_get(info).items():
        if key == "daily":
            continue
        value = np.asarray(value)
        if index is not None and key != "day":
            value = value[:, index] if key.startswith("daily_") else value[index]
        out[key] = value
    return out


class PlatformEnv(gym.Env):
    """One platform chooses its policy each period (``period_days`` days)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        scenario: str | Path | Scenario = "taobao",
        platform: int | str = 0,
        period_days: int = 7,
        periods: int | None = None,
        objective: Objective = "revenue",
        surplus_weight: float = 1.0,
        overrides: dict[str, Any] | list[str] | None = None,
        render_mode: str | None = None,
    ) -> None:
        sc = prepare(scenario, overrides)
        self.env, self.params = make(sc, period_days, periods, objective, surplus_weight)
        self.index = platform_index(self.env.names, platform)
        self.policies = scenario_action(sc)  # [P, A]: every platform's scenario policy
        low, high = np.asarray(self.params.low), np.asarray(self.params.high)
        self.action_space = gym.spaces.Box(low[self.index], high[self.index], dtype=np.float32)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, (self.env.observation_size,), dtype=np.float32
        )
        self.render_mode = render_mode
        self.action_names = ACTION_NAMES
        self.observation_names = self.env.observation_names
        self._state: EnvState | None = None
        self._day_root: jax.Array | None = None

    @property
    def default_action(self) -> np.ndarray:
        """The platform's scenario policy."""
        return self.policies[self.index].copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode (engine seed ``seed``, or one drawn from ``np_random``)."""
        super().reset(seed=seed)
        engine_seed = seed if seed is not None else int(self.np_random.integers(0, MAX_SEED))
        k_reset, self._day_root = episode_keys(int(engine_seed) % (MAX_SEED + 1))
        self._state = self.env.reset(k_reset, self.params)
        obs = np.asarray(self.env.observe(self._state, self.params))[self.index]
        return obs, {"seed": int(engine_seed)}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One period with this platform's ``action`` (clipped to the bounds)."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        actions = self.policies.copy()
        actions[self.index] = np.asarray(action, np.float32).reshape(-1)
        self._state, obs, reward, term, trunc, info = self.env.step(
            self._day_root, self._state, actions, self.params
        )
        obs, reward = np.asarray(obs)[self.index], float(np.asarray(reward)[self.index])
        return obs, reward, bool(term), bool(trunc), to_numpy(info, self.index)


class PlatformVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of ``PlatformEnv`` in one vmapped program (one engine seed each).

    Every copy has the same horizon, so all episodes end together; the environment then
    resets every copy at once in the same step (``AutoresetMode.SAME_STEP``: the returned
    observation is the new episode's, the last one is in ``info["final_obs"]``), with seeds
    following the previous ones."""

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "autoreset_mode": gym.vector.AutoresetMode.SAME_STEP,
    }

    def __init__(self, num_envs: int = 4, **kwargs: Any) -> None:
        from twosided.env import vector

        self._vector = vector
        self.single = PlatformEnv(**kwargs)
        self.num_envs = int(num_envs)
        self.single_action_space = self.single.action_space
        self.single_observation_space = self.single.observation_space
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.render_mode = None
        self._seeds = np.arange(num_envs)
        self._states: EnvState | None = None

    def _start(self, seeds: np.ndarray) -> np.ndarray:
        import jax.numpy as jnp

        self._seeds = np.asarray(seeds, np.int64) % (MAX_SEED + 1)
        keys = [episode_keys(int(s)) for s in self._seeds]
        self._resets = jnp.stack([k for k, _ in keys])
        self._days = jnp.stack([k for _, k in keys])
        env, params = self.single.env, self.single.params
        self._states = self._vector.reset(env, self._resets, params)
        obs = self._vector.observe(env, self._states, params)
        return np.asarray(obs)[:, self.single.index]

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every copy: seeds ``seed, seed + 1, ...`` (or the list; or drawn)."""
        if seed is None:
            seed = int(np.random.default_rng().integers(0, MAX_SEED - self.num_envs))
        seeds = np.asarray(
            seed if isinstance(seed, list) else [seed + i for i in range(self.num_envs)]
        )
        return self._start(seeds), {"seed": self._seeds.copy()}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        """One period of every copy (``actions [num_envs, A]``)."""
        if self._states is None:
            raise RuntimeError("call reset() before step()")
        full = np.broadcast_to(self.single.policies, (self.num_envs, *self.single.policies.shape))
        full = full.copy()
        full[:, self.single.index] = np.asarray(actions, np.float32).reshape(self.num_envs, -1)
        env, params = self.single.env, self.single.params
        self._states, obs, reward, term, trunc, info = self._vector.step(
            env, self._days, self._states, full, params
        )
        i = self.single.index
        obs, reward = np.asarray(obs)[:, i], np.asarray(reward)[:, i].astype(np.float64)
        term, trunc = np.asarray(term, bool), np.asarray(trunc, bool)
        infos = {
            k: np.asarray(v)[:, i]
            for k, v in jax.device_get(info).items()
            if k in ("revenue_cents", "consumer_surplus_cents", "gmv_cents", "sessions")
        }
        if (term | trunc).all():
            infos["final_obs"] = obs
            obs = self._start(self._seeds + self.num_envs)
        return obs, reward, term, trunc, infos
