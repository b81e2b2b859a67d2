"""Strategic platforms: the market as an environment where platforms choose their policy.

* ``twosided.env.make`` / ``MarketEnv``: the functional environment (pure JAX; ``reset``,
  ``step``; jittable and vmappable), every platform at once;
* ``twosided.env.gym.PlatformEnv``: a Gymnasium ``Env`` for one platform, the others
  following their scenario policies, registered as ``twosided/Platform-v0``;
* ``twosided.env.parallel.MarketParallelEnv``: a PettingZoo ``ParallelEnv``, every platform
  an agent;
* ``twosided.env.vector``: many environments in one vmapped step (functional), and
  ``twosided.env.gym.PlatformVectorEnv`` (``gymnasium.make_vec("twosided/Platform-v0",
  num_envs=8, vectorization_mode="vector_entry_point")``).

Gymnasium and PettingZoo are optional (``pip install twosided[strategy]``); the functional
environment needs neither. See docs/strategic.md.
"""

from __future__ import annotations

from twosided.env.functional import (
    OBJECTIVES,
    EnvParams,
    EnvState,
    MarketEnv,
    day_root,
    episode_keys,
    make,
    scenario_action,
)
from twosided.env.policy import ACTION_FIELDS, ACTION_NAMES

ENV_ID = "twosided/Platform-v0"


def _register() -> None:
    """Register ``twosided/Platform-v0`` with Gymnasium when it is installed."""
    try:
        import gymnasium
    except ImportError:  # the functional environment works without it
        return
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(
            id=ENV_ID,
            entry_point="twosided.env.gym:PlatformEnv",
            vector_entry_point="twosided.env.gym:PlatformVectorEnv",
        )


_register()

__all__ = [
    "ACTION_FIELDS",
    "ACTION_NAMES",
    "ENV_ID",
    "OBJECTIVES",
    "EnvParams",
    "EnvState",
    "MarketEnv",
    "day_root",
    "episode_keys",
    "make",
    "scenario_action",
]
