"""Escrow, fraud, disputes and governance promise: every order ends in exactly one terminal
state; held escrow is exactly the money of orders in flight; escrow with buyer-first claims
leaves buyers no fraud losses while sellers carry false claims; without escrow buyers carry
fraud losses; stricter governance sends fewer orders to harmful sellers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import load_scenario
from twosided.sim import escrow
from twosided.sim.params import build
from twosided.sim.state import COUNTERFEITER, HONEST, NON_SHIPPER, OF, TERMINAL_STATES

from ..conftest import cached_run

DAYS = 120


@pytest.fixture(scope="module", params=["no_escrow", "escrow_2004", "taobao"])
def run(request):
    return cached_run(request.param, DAYS, seeds=2)


def test_orders_placed_equal_terminal_plus_in_flight(run):
    d = run.daily.sort_values(["seed", "platform_id", "day"])
    g = d.groupby(["seed", "platform_id"])
    placed = g["orders"].cumsum()
    terminal = g[[f"orders_{s}" for s in TERMINAL_STATES]].cumsum().sum(axis=1)
    assert (placed == terminal + d["orders_in_flight"]).all()
    # most orders finish within the run, so the terminal states are really reached
    assert terminal.groupby([d["seed"], d["platform_id"]]).last().min() > 0


def test_held_escrow_is_the_money_of_orders_in_flight(run):
    d = run.daily
    assert (d["escrow_balance_cents"] == d["escrow_held_cents"]).all()
    escrowed = {p.name: p.escrow.enabled for p in run.scenario.platforms}
    for name, enabled in escrowed.items():
        held = d.loc[d["platform"] == name, "escrow_balance_cents"]
        assert (held > 0).any() if enabled else (held == 0).all()


def test_each_order_path_has_exactly_one_terminal_state():
    _, params = build(load_scenario("taobao"))
    n = 20_000
    key = jax.random.key(0)
    u = jax.random.uniform(key, (n, 5))
    honesty = jnp.asarray(np.resize([HONEST, COUNTERFEITER, NON_SHIPPER], n), jnp.int8)
    platform = jnp.asarray(np.resize([0, 1, 2], n), jnp.int32)
    fate = escrow.order_fates(
        u, honesty, platform, jnp.zeros(n, jnp.int32), jnp.full(n, 5000, jnp.int64),
        jnp.full(n, 0.85), jnp.where(honesty == HONEST, 0.85, 0.1), params,
    )
    book = np.asarray(fate["book"])
    assert (book[:, : len(TERMINAL_STATES)].sum(axis=1) == 1).all()
    delay = np.asarray(fate["delay"])
    assert delay.min() >= 0 and delay.max() < build(load_scenario("taobao"))[0].horizon
    # money of an order goes exactly one way: released to the seller or refunded
    escrowed = np.asarray(params.escrow)[np.asarray(platform)]
    released, refunded = book[:, OF["release_cents"]], book[:, OF["refund_cents"]]
    assert ((released + refunded)[escrowed] == 5000).all()


def _totals(name: str, overrides: dict | None = None) -> dict:
    r = cached_run(name, DAYS, seeds=2, overrides=overrides)
    return r.daily.groupby("seed")[
        ["fraud_loss_cents", "seller_claim_loss_cents", "false_claims", "orders", "harmful_orders"]
    ].sum()


def test_escrow_with_buyer_first_protects_buyers_and_sellers_carry_false_claims():
    t = _totals("escrow_2004")
    assert (t["false_claims"] > 0).all()
    assert (t["fraud_loss_cents"] == 0).all()
    assert (t["seller_claim_loss_cents"] > 0).all()


def test_without_escrow_buyers_carry_fraud_losses():
    t = _totals("no_escrow")
    assert (t["harmful_orders"] > 0).all()
    assert (t["fraud_loss_cents"] > 0).all()


def test_stricter_governance_sends_fewer_orders_to_harmful_sellers():
    lax = _totals("no_escrow", {"platforms.0.governance.detection_rate": 0.0})
    strict = _totals("no_escrow", {"platforms.0.governance.detection_rate": 0.05})
    share_lax = lax["harmful_orders"] / lax["orders"]
    share_strict = strict["harmful_orders"] / strict["orders"]
    assert (share_strict < 0.5 * share_lax).all(), (share_lax, share_strict)
