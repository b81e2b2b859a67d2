"""Double-entry ledger in integer cents.

Every movement of money is a *stream*: a fixed pair of accounts (source, destination),
one pair per platform. A day's money is an int64 array ``flows[stream, platform]``; posting
it debits each source and credits each destination by the same amount, so no step can
create or destroy a cent (Pacioli's double entry, in array form). The sum of all balances
is therefore constant; the tests check it independently from the balances themselves.

Accounts: households (buyers, signed net position), sellers (all seller shops, signed),
suppliers (the rest of the economy: goods and running costs), affiliates, and per platform
its cash, its escrow account (buyers' money held) and its deposit account (sellers'
deposits held). Escrow and deposit accounts must never go negative.

The streams are declared once, in ``twosided.sim.streams``; the names here derive from it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from twosided.sim import streams
from twosided.sim.pytree import pytree_dataclass

T = TypeVar("T")
S_ = TypeVar("S_")  # the engine state (sim.state imports this module)
if TYPE_CHECKING:
    from twosided.sim.params import Dims

HOUSEHOLDS, SELLERS, SUPPLIERS, AFFILIATES = 0, 1, 2, 3
FIXED_ACCOUNTS = ("households", "sellers", "suppliers", "affiliates")
PER_PLATFORM_ACCOUNTS = ("platform", "escrow", "deposits")

# derived from the one registry, twosided.sim.streams: stream name -> (source, destination)
STREAMS: dict[str, tuple[str, str]] = {s.name: (s.source, s.destination) for s in streams.STREAMS}
STREAM_NAMES = streams.STREAM_NAMES
S = {name: i for i, name in enumerate(STREAM_NAMES)}

# the platform's revenue, by stream, as the report names it: the ledger streams it adds
# ("-name": subtracts; the service fee is net of its refunds)
REVENUE_STREAMS: dict[str, tuple[str, ...]] = {
    r.name: tuple(("-" if sign < 0 else "") + s.name for s, sign in streams.revenue_parts(r.name))
    for r in streams.REVENUE
}


def flow_record(cls: type[T]) -> type[T]:
    """A stage's money record: a pytree dataclass whose fields are ledger streams ([P]
    int64 cents each). A field that names no stream fails here, when the module loads."""
    unknown = [f for f in getattr(cls, "__annotations__", {}) if f not in S]
    if unknown:
        raise TypeError(f"{cls.__name__}: {', '.join(unknown)} name no stream of sim.streams")
    return pytree_dataclass(cls)


def amounts(record: object) -> dict[str, jax.Array]:
    """A flow record's amounts by stream name."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}  # type: ignore[arg-type]


def record_flows(platforms: int, *records: object) -> jax.Array:
    """The day's flows ``int64[streams, platforms]`` from stages' flow records."""
    flows = zero_flows(platforms)
    for record in records:
        for field in dataclasses.fields(record):  # type: ignore[arg-type]
            flows = add(flows, field.name, getattr(record, field.name))
    return flows


def account_names(platforms: list[str] | int) -> list[str]:
    """Names of all accounts, in balance-array order."""
    names = [f"P{i}" for i in range(platforms)] if isinstance(platforms, int) else platforms
    out = list(FIXED_ACCOUNTS)
    for kind in PER_PLATFORM_ACCOUNTS:
        out += [f"{kind}:{name}" for name in names]
    return out


def n_accounts(platforms: int) -> int:
    """How many accounts a market of ``platforms`` platforms has."""
    return len(FIXED_ACCOUNTS) + len(PER_PLATFORM_ACCOUNTS) * platforms


def account_index(kind: str, platform: int, platforms: int) -> int:
    """Index of an account in the balance array."""
    if kind in FIXED_ACCOUNTS:
        return FIXED_ACCOUNTS.index(kind)
    return len(FIXED_ACCOUNTS) + PER_PLATFORM_ACCOUNTS.index(kind) * platforms + platform


def _endpoints(platforms: int) -> tuple[np.ndarray, np.ndarray]:
    src = np.zeros((len(STREAMS), platforms), np.int32)
    dst = np.zeros((len(STREAMS), platforms), np.int32)
    for s, (a, b) in enumerate(STREAMS.values()):
        for p in range(platforms):
            src[s, p] = account_index(a, p, platforms)
            dst[s, p] = account_index(b, p, platforms)
    return src, dst


def zero_flows(platforms: int) -> jax.Array:
    """An empty day of flows: int64[streams, platforms]."""
    return jnp.zeros((len(STREAMS), platforms), jnp.int64)


def add(flows: jax.Array, stream: str, amount: jax.Array) -> jax.Array:
    """Add per-platform amounts (int64 cents, [P]) to one stream of a day's flows."""
    return jnp.asarray(flows).at[S[stream]].add(jnp.asarray(amount, jnp.int64))


def post(balances: jax.Array, flows: jax.Array) -> jax.Array:
    """Post a day's flows: debit every source and credit every destination, exactly."""
    src, dst = _endpoints(flows.shape[1])
    amounts = jnp.asarray(flows, jnp.int64).reshape(-1)
    balances = jnp.asarray(balances, jnp.int64)
    return balances.at[src.reshape(-1)].add(-amounts).at[dst.reshape(-1)].add(amounts)


def opening_balances(platforms: int, deposits_held: jax.Array) -> jax.Array:
    """Day-0 balances: all zero except the deposits day-0 sellers have already paid."""
    balances = jnp.zeros((n_accounts(platforms),), jnp.int64)
    flows = add(zero_flows(platforms), "deposit_paid", deposits_held)
    return post(balances, flows)


def revenue(flows: jax.Array) -> dict[str, jax.Array]:
    """The platform's revenue by revenue stream ([P] int64 cents) from a day's flows."""
    out = {}
    for r in streams.REVENUE:
        total = jnp.zeros(flows.shape[1:], jnp.int64)
        for stream, sign in streams.revenue_parts(r.name):
            total = total + sign * flows[S[stream.name]]
        out[r.name] = total
    return out


def stage(state: S_, dims: Dims, *records: object) -> tuple[S_, jax.Array]:
    """Ledger posting: the day's flow records become one flows array ``[streams, P]``,
    posted to the state's balances (debit every source, credit every destination)."""
    flows = record_flows(dims.platforms, *records)
    return dataclasses.replace(state, balances=post(state.balances, flows)), flows  # type: ignore[type-var]
