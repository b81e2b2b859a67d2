"""The platform's policy as an action vector: its fields, their bounds and the scenario's
own policy (docs/strategic.md, "Actions").

An action is one row of ``ACTION_FIELDS`` per platform (``[P, A]`` float32):

========================  ===================================  ==========================
action field              engine parameter it sets             bounds
========================  ===================================  ==========================
``rank_quality``          ``platform.ranking.quality``         the schema's (``Ranking``)
``rank_price``            ``platform.ranking.price``           the schema's
``rank_commission``       ``platform.ranking.commission``      the schema's
``rank_ads``              ``platform.ranking.ads``             the schema's
``commission_scale``      ``platform.fees.commission`` ×       0 .. 1 / highest rate
``reserve_cents``         ``platform.auction.reserve_cents``   the schema's (``Cents``)
``detection_rate``        ``platform.governance.detection_rate``  the schema's (0 .. 1)
========================  ===================================  ==========================

Bounds are read from the pydantic ``Field`` metadata (``ge`` / ``le``) of the schema, so a
change of the schema's bounds moves the action space with it. The commission multiplier
scales the scenario's per-category rates; its upper bound is where the highest of them
reaches the schema's largest rate (1.0, ``Fees._commission_in_range``). Actions out of
bounds are *clipped* to them (``clip``); the reserve price is rounded to whole cents.
The number of sponsored slots is a shape (it sizes the results page) and stays the
scenario's.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel

from twosided.scenario import Auction, Governance, Ranking, Scenario
from twosided.sim.params import commission_rates  # [P, C]: the scale of commission actions

F32 = jnp.float32
MAX_COMMISSION_RATE = 1.0  # Fees._commission_in_range: every rate lies in [0, 1]


@dataclasses.dataclass(frozen=True)
class ActionField:
    """One component of the action: its name, the schema field it sets and its unit."""

    name: str
    section: str  # the Platform sub-section: ranking, fees, auction, governance
    field: str  # the field in that section
    unit: str
    model: type[BaseModel] | None = None  # where its bounds are read (None: derived)


ACTION_FIELDS: tuple[ActionField, ...] = (
    ActionField("rank_quality", "ranking", "quality", "weight", Ranking),
    ActionField("rank_price", "ranking", "price", "weight", Ranking),
    ActionField("rank_commission", "ranking", "commission", "weight", Ranking),
    ActionField("rank_ads", "ranking", "ads", "weight", Ranking),
    ActionField("commission_scale", "fees", "commission", "× scenario rates"),
    ActionField("reserve_cents", "auction", "reserve_cents", "cents per click", Auction),
    ActionField("detection_rate", "governance", "detection_rate", "per listing-day", Governance),
)
ACTION_NAMES: tuple[str, ...] = tuple(f.name for f in ACTION_FIELDS)
INDEX: dict[str, int] = {name: i for i, name in enumerate(ACTION_NAMES)}


def schema_bounds(model: type[BaseModel], field: str) -> tuple[float, float]:
    """The ``(ge, le)`` bounds of a schema field, from its pydantic metadata."""
    low, high = -np.inf, np.inf
    for meta in model.model_fields[field].metadata:
        if getattr(meta, "ge", None) is not None:
            low = float(meta.ge)
        if getattr(meta, "le", None) is not None:
            high = float(meta.le)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{model.__name__}.{field} has no finite bounds in the schema")
    return low, high


def bounds(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of every platform's action, ``[P, A]`` each."""
    P = len(scenario.platforms)
    low = np.zeros((P, len(ACTION_FIELDS)), np.float32)
    high = np.zeros((P, len(ACTION_FIELDS)), np.float32)
    top_rate = commission_rates(scenario).max(axis=1)
    for a, f in enumerate(ACTION_FIELDS):
        if f.model is not None:
            low[:, a], high[:, a] = schema_bounds(f.model, f.field)
        else:  # commission_scale: the highest rate may reach the schema's largest rate
            low[:, a] = 0.0
            scale = MAX_COMMISSION_RATE / np.maximum(top_rate, 1e-12)
            high[:, a] = np.where(top_rate > 0, scale, 1.0)
    return low, high


def scenario_action(scenario: Scenario) -> np.ndarray:
    """Every platform's scenario policy as an action ``[P, A]`` (commission scale 1)."""
    rows = []
    for p in scenario.platforms:
        values = {
            "rank_quality": p.ranking.quality,
            "rank_price": p.ranking.price,
            "rank_commission": p.ranking.commission,
            "rank_ads": p.ranking.ads,
            "commission_scale": 1.0,
            "reserve_cents": p.auction.reserve_cents,
            "detection_rate": p.governance.detection_rate,
        }
        rows.append([values[name] for name in ACTION_NAMES])
    return np.asarray(rows, dtype=np.float32)


def clip(action: jax.Array, low: jax.Array, high: jax.Array) -> jax.Array:
    """The action clipped to its bounds (NaN becomes the lower bound), reserve rounded."""
    action = jnp.asarray(action, F32)
    action = jnp.where(jnp.isnan(action), low, action)
    action = jnp.clip(action, low, high)
    reserve = INDEX["reserve_cents"]
    return action.at[..., reserve].set(jnp.round(action[..., reserve]))


def as_dict(action: np.ndarray) -> dict[str, float]:
    """One platform's action as ``{field: value}``."""
    return {name: float(v) for name, v in zip(ACTION_NAMES, np.asarray(action), strict=True)}


def overrides(action: np.ndarray, platform: int, scenario: Scenario) -> dict[str, object]:
    """Scenario overrides (``platforms.i.section.field``) that make one platform follow an
    action for a whole run (commission: the scaled rates)."""
    out: dict[str, object] = {}
    values = as_dict(action)
    base = commission_rates(scenario)[platform]
    for f in ACTION_FIELDS:
        key = f"platforms.{platform}.{f.section}.{f.field}"
        v = values[f.name]
        if f.name == "commission_scale":
            rates = [min(MAX_COMMISSION_RATE, float(r) * v) for r in base]
            out[key] = rates
        elif f.name == "reserve_cents":
            out[key] = round(v)
        else:
            out[key] = v
    return out
