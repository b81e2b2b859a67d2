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
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

HOUSEHOLDS, SELLERS, SUPPLIERS, AFFILIATES = 0, 1, 2, 3
FIXED_ACCOUNTS = ("households", "sellers", "suppliers", "affiliates")
PER_PLATFORM_ACCOUNTS = ("platform", "escrow", "deposits")

# stream name -> (source, destination); "platform", "escrow", "deposits" mean that
# account of the platform the flow belongs to
STREAMS: dict[str, tuple[str, str]] = {
    "payment_escrow": ("households", "escrow"),
    "payment_direct": ("households", "sellers"),
    "release": ("escrow", "sellers"),
    "refund_escrow": ("escrow", "households"),
    "refund_seller": ("sellers", "households"),
    "commission": ("sellers", "platform"),
    "ads": ("sellers", "platform"),
    "service_fee": ("sellers", "platform"),
    "service_fee_refund": ("platform", "sellers"),
    "affiliate_platform": ("sellers", "platform"),
    "affiliate_payout": ("sellers", "affiliates"),
    "cost_of_goods": ("sellers", "suppliers"),
    "fixed_costs": ("sellers", "suppliers"),
    "fake_reviews": ("sellers", "suppliers"),
    "deposit_paid": ("sellers", "deposits"),
    "deposit_returned": ("deposits", "sellers"),
    "forfeit_to_buyers": ("deposits", "households"),
    "forfeit_to_platform": ("deposits", "platform"),
}
STREAM_NAMES = tuple(STREAMS)
S = {name: i for i, name in enumerate(STREAM_NAMES)}

# the platform's revenue, by stream, as the report names it (service fee is net of refunds)
REVENUE_STREAMS = {
    "ads": ("ads",),
    "commission": ("commission",),
    "service_fee": ("service_fee", "-service_fee_refund"),
    "affiliate": ("affiliate_platform",),
    "forfeits": ("forfeit_to_platform",),
}


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
    return (
        balances.at[src.reshape(-1)].add(-amounts).at[dst.reshape(-1)].add(amounts)
    )


def opening_balances(platforms: int, deposits_held: jax.Array) -> jax.Array:
    """Day-0 balances: all zero except the deposits day-0 sellers have already paid."""
    balances = jnp.zeros((n_accounts(platforms),), jnp.int64)
    flows = add(zero_flows(platforms), "deposit_paid", deposits_held)
    return post(balances, flows)


def revenue(flows: jax.Array) -> dict[str, jax.Array]:
    """The platform's revenue by stream ([P] int64 cents) from a day's flows."""
    out = {}
    for name, parts in REVENUE_STREAMS.items():
        total = jnp.zeros(flows.shape[1:], jnp.int64)
        for part in parts:
            sign, stream = (-1, part[1:]) if part.startswith("-") else (1, part)
            total = total + sign * flows[S[stream]]
        out[name] = total
    return out
