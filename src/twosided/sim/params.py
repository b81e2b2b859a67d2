"""Engine parameters: the scenario turned into static sizes and a pytree of arrays.

``Dims`` holds the static shapes (hashable, compiled into the program); ``Params`` holds
every behavioural number as a JAX array, so that one compiled program serves every
policy variant of the same shape. Nothing here invents a number: each one comes from
the scenario schema (``twosided.scenario``), where its default is documented.

``Params`` is nested like the schema and keeps its names, so ``platforms[i].ranking.ads``
in a scenario is ``params.platform.ranking.ads[i]`` in the engine:

* ``params.market``, ``params.buyers``, ``params.sellers``: the schema's sections, scalars;
* ``params.platform``: every platform field stacked on axis 0 (``[P]``), with its
  sub-records ``ranking``, ``auction``, ``fees``, ``escrow``, ``governance``.

The records are generated from the schema by one generic pass (``build``): every bool,
int and float field of a section becomes a leaf of the same name (bool; int32, or int64
for ``*_cents`` money; float32). Only the quantities the schema does not hold as such
are written by hand (``DERIVED``, computed in ``_derived``): the Zipf weights of the
categories, the examination probability of each page position, each platform's seller
types per category, per-category commission rates, and the booleans read off the
schema's choices (``auction.vcg``, ``escrow.buyer_first``, ``governance.forfeit_to_buyers``).
A new schema field is therefore in ``Params`` with nothing to write here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel

from twosided.scenario import Buyers, Market, Platform, Scenario, Sellers, type_share_table
from twosided.sim.draws import UNIFORMS_PER_BLOCK
from twosided.sim.precision import with_x64
from twosided.sim.pytree import pytree_dataclass

F32 = jnp.float32
I64 = jnp.int64
I32 = jnp.int32


@dataclasses.dataclass(frozen=True)
class Dims:
    """Static sizes of one simulation (shapes are fixed for a run; masks do the rest)."""

    buyers: int
    platforms: int
    categories: int
    seller_capacity: int  # slots per category
    sessions: int  # sessions drawn per day
    page_length: int
    ad_slots: int  # the most sponsored slots of any platform
    horizon: int  # days an order may stay in flight, plus one
    session_block: int = 0  # sessions simulated together (0: the whole day in one block)

    @property
    def session_blocks(self) -> int:
        """Blocks of sessions that cover the day: as few as keep each within
        ``session_block`` (one when it is 0 or the day is smaller)."""
        if self.session_block <= 0:
            return 1
        return -(-self.sessions // self.session_block)

    @property
    def session_rows(self) -> int:
        """Sessions per block: the day split evenly over ``session_blocks``, rounded up to a
        multiple of 8 (``draws.uniform16_rows``); the last block is padded."""
        even = -(-self.sessions // self.session_blocks)
        return -(-even // UNIFORMS_PER_BLOCK) * UNIFORMS_PER_BLOCK

    @property
    def sellers(self) -> int:
        """Seller slots in all: categories × capacity."""
        return self.categories * self.seller_capacity

    @property
    def markets(self) -> int:
        """Keyword markets in all: platforms × categories."""
        return self.platforms * self.categories


# quantities written by hand, by the record they live in (their values: ``_derived``)
DERIVED: dict[str, tuple[str, ...]] = {
    "market": ("category_log_weights",),  # [C] log Zipf popularity of each category
    "buyers": ("examination",),  # [L] chance that position k is examined
    "platform": ("seller_types",),  # [P, C, 3] shares of honest, counterfeiter, non-shipper
    "platform.fees": ("commission",),  # [P, C] commission rate by category
    "platform.auction": ("vcg",),  # [P] bool: mechanism == "vcg"
    "platform.escrow": ("buyer_first",),  # [P] bool: dispute_policy == "buyer_first"
    "platform.governance": ("forfeit_to_buyers",),  # [P] bool: forfeit_to == "buyers"
}
SECTIONS: dict[str, type[BaseModel]] = {
    "market": Market,
    "buyers": Buyers,
    "sellers": Sellers,
    "platform": Platform,
}


def leaf_dtype(name: str, annotation: Any) -> Any:
    """The array dtype of a schema field, or ``None`` for a field that is not a number
    (a name, a choice, a list or a sub-section)."""
    if annotation is bool:
        return jnp.bool_
    if annotation is int:
        return I64 if name.endswith("_cents") else I32
    if annotation is float:
        return F32
    return None


def _submodel(annotation: Any) -> type[BaseModel] | None:
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation if is_model else None


def _leaves(model: type[BaseModel]) -> dict[str, Any]:
    """The numeric fields of a schema section and their dtypes."""
    out = {}
    for name, info in model.model_fields.items():
        dtype = leaf_dtype(name, info.annotation)
        if dtype is not None:
            out[name] = dtype
    return out


def _record_class(path: str, model: type[BaseModel]) -> type:
    """A pytree dataclass with the section's numeric fields, sub-sections and derived
    quantities (the class is generated: a new schema field needs no code here)."""
    names = list(_leaves(model))
    subs = [n for n, info in model.model_fields.items() if _submodel(info.annotation)]
    names += [*subs, *DERIVED.get(path, ())]
    title = "".join(part.title() for part in path.split(".")) + "Params"
    namespace = {
        "__annotations__": {n: "jax.Array" for n in names},
        "__doc__": f"Engine parameters of the scenario's ``{path}`` section (generated).",
        "__module__": __name__,
        "__qualname__": title,
    }
    return pytree_dataclass(type(title, (), namespace))


def _classes(path: str, model: type[BaseModel], out: dict[str, type]) -> None:
    for name, info in model.model_fields.items():
        sub = _submodel(info.annotation)
        if sub is not None:
            _classes(f"{path}.{name}", sub, out)
    out[path] = _record_class(path, model)


RECORDS: dict[str, type] = {}
for _path, _model in SECTIONS.items():
    _classes(_path, _model, RECORDS)
MarketParams = RECORDS["market"]
BuyersParams = RECORDS["buyers"]
SellersParams = RECORDS["sellers"]
PlatformParams = RECORDS["platform"]


@pytree_dataclass
class Params:
    """Every behavioural number the engine uses, as arrays, nested like the schema."""

    market: Any  # MarketParams
    buyers: Any  # BuyersParams
    sellers: Any  # SellersParams
    platform: Any  # PlatformParams: every field [P] (stacked over platforms)


def horizon(scenario: Scenario) -> int:
    """Longest life of an order in days (payment to its terminal state), plus one."""
    longest = 0
    for p in scenario.platforms:
        e = p.escrow
        delivery = e.ship_days + e.transit_days
        # claims are filed the day after the expected delivery, or by the auto-confirm deadline
        claim_day = min(delivery + 1, e.ship_days + e.auto_confirm_days)
        longest = max(longest, e.ship_days + e.auto_confirm_days, claim_day + e.dispute_days)
    return longest + 1


@dataclasses.dataclass(frozen=True)
class CategoryCopies:
    """How a market that scales is laid out (``market.daily_sessions_per_category``).

    The scenario's ``categories`` are category *classes*; the market holds ``copies`` of
    each (category ``c`` belongs to class ``c // copies``), each with ``initial_sellers``
    day-0 sellers in ``seller_capacity`` slots. With ``demand`` the day's searches per
    copy of a mean class over the target, ``copies = max(1, round(demand))`` and the
    sellers of a copy are scaled by ``factor = demand / copies``: so a copy faces the same
    searches per seller at any market size, and markets whose size is a multiple of the
    target's are copies of one market (the same in law per copy; only precision grows).
    Unset, there is one copy and no scaling."""

    copies: int
    factor: float
    initial_sellers: int
    seller_capacity: int


def category_copies(scenario: Scenario) -> CategoryCopies:
    """The copies of each category class and the sellers of a copy (``CategoryCopies``)."""
    m = scenario.market
    target = m.daily_sessions_per_category
    if target is None:
        return CategoryCopies(1, 1.0, m.initial_sellers, m.seller_capacity)
    demand = scenario.sessions_per_day / (m.categories * target)
    copies = max(1, round(demand))
    factor = demand / copies
    initial = max(1, round(m.initial_sellers * factor))
    return CategoryCopies(copies, factor, initial, max(initial, round(m.seller_capacity * factor)))


def per_category(rows: np.ndarray, copies: int) -> np.ndarray:
    """Per-class values (last axis) laid out per category: each class's value repeated for
    its ``copies`` (class-major, as ``CategoryCopies`` numbers the categories)."""
    return np.repeat(np.asarray(rows), copies, axis=-1)


def commission_rates(scenario: Scenario) -> np.ndarray:
    """Each platform's commission rate in each category ``[P, C]`` (float32; one rate
    for all, or one per category class repeated over its copies)."""
    C, copies = scenario.market.categories, category_copies(scenario).copies
    rows = []
    for p in scenario.platforms:
        rate = p.fees.commission
        rows.append(list(rate) if isinstance(rate, list) else [rate] * C)
    return per_category(np.asarray(rows, dtype=F32), copies)


def dims_of(scenario: Scenario) -> Dims:
    """The static sizes of a scenario."""
    m, plats = scenario.market, scenario.platforms
    layout = category_copies(scenario)
    return Dims(
        buyers=m.buyers,
        platforms=len(plats),
        categories=m.categories * layout.copies,
        seller_capacity=layout.seller_capacity,
        sessions=scenario.sessions_per_day,
        page_length=m.page_length,
        ad_slots=max(1, max(p.auction.slots for p in plats)),
        horizon=horizon(scenario),
        session_block=scenario.session_block,
    )


def _derived(scenario: Scenario) -> dict[str, dict[str, np.ndarray]]:
    """The hand-written quantities (``DERIVED``), by record path."""
    m, b, s, plats = scenario.market, scenario.buyers, scenario.sellers, scenario.platforms
    C = m.categories
    layout = category_copies(scenario)
    ranks = np.arange(1, C + 1, dtype=np.float64)
    weights = ranks ** (-m.category_popularity_exponent)
    weights = per_category(weights / weights.sum(), layout.copies) / layout.copies
    positions = np.arange(m.page_length, dtype=np.float64)

    def type_shares(p: Platform) -> list[list[float]]:
        mix = p.seller_types if p.seller_types is not None else s
        return type_share_table(mix.honest_share, mix.counterfeiter_share, mix.non_shipper_share, C)

    def per_platform(get: Any, dtype: Any) -> np.ndarray:
        return np.asarray([get(p) for p in plats], dtype=dtype)

    return {
        "market": {
            "category_log_weights": np.asarray(np.log(weights), F32),
            "initial_sellers": np.asarray(layout.initial_sellers, I32),
        },
        "buyers": {"examination": np.asarray((positions + 1.0) ** (-b.examination_decay), F32)},
        "platform": {
            "seller_types": np.moveaxis(
                per_category(
                    np.moveaxis(np.asarray([type_shares(p) for p in plats], F32), 1, 2),
                    layout.copies,
                ),
                2,
                1,
            )
        },
        "platform.fees": {"commission": commission_rates(scenario)},
        "platform.auction": {"vcg": per_platform(lambda p: p.auction.mechanism == "vcg", bool)},
        "platform.escrow": {
            "buyer_first": per_platform(lambda p: p.escrow.dispute_policy == "buyer_first", bool)
        },
        "platform.governance": {
            "forfeit_to_buyers": per_platform(lambda p: p.governance.forfeit_to == "buyers", bool)
        },
    }


def _fill(path: str, model: type[BaseModel], values: list[BaseModel], derived: dict) -> Any:
    """The record at ``path`` from the section's values: one value (market, buyers,
    sellers: scalars) or one per platform (stacked on axis 0)."""
    stacked = path.startswith("platform")
    fields: dict[str, Any] = {}
    for name, dtype in _leaves(model).items():
        column = [getattr(v, name) for v in values]
        fields[name] = np.asarray(column if stacked else column[0], dtype)
    for name, info in model.model_fields.items():
        sub = _submodel(info.annotation)
        if sub is not None:
            fields[name] = _fill(f"{path}.{name}", sub, [getattr(v, name) for v in values], derived)
    fields.update(derived.get(path, {}))
    return RECORDS[path](**fields)


@with_x64
def build(scenario: Scenario) -> tuple[Dims, Params]:
    """Turn a validated scenario into static sizes and an array pytree of parameters.

    The leaves are made in NumPy and put on the device in one go (converting each with
    JAX would compile a small program per distinct shape and dtype)."""
    derived = _derived(scenario)
    params = Params(
        market=_fill("market", Market, [scenario.market], derived),
        buyers=_fill("buyers", Buyers, [scenario.buyers], derived),
        sellers=_fill("sellers", Sellers, [scenario.sellers], derived),
        platform=_fill("platform", Platform, list(scenario.platforms), derived),
    )
    return dims_of(scenario), jax.device_put(params)


def leaf_paths(params: Params) -> list[str]:
    """Dotted paths of every leaf (``platform.ranking.ads``, ...), in pytree order."""
    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    return [jax.tree_util.keystr(path, simple=True, separator=".") for path, _ in flat]
