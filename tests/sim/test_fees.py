"""Listing fees promise (``twosided.sim.fees.listing_changes``): every new listing pays its
platform's deposit and annual service fee; a listing that ends voluntarily gets its
deposit back; a punished one forfeits it, to buyers or to the platform as that platform's
governance says. Over a run this holds for every listing, including a seller slot freed
and taken by a newcomer on the same day."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import fees, ledger
from twosided.sim.params import build

from ..conftest import cached_run

DEPOSIT = (100_000, 20_000, 300_000)
FEE = (600_000, 0, 100_000)


def _params():
    overrides: dict = {}
    for p, (deposit, fee) in enumerate(zip(DEPOSIT, FEE)):
        overrides[f"platforms.{p}.governance.deposit_cents"] = deposit
        overrides[f"platforms.{p}.fees.service_fee_cents"] = fee
        overrides[f"platforms.{p}.governance.forfeit_to"] = "buyers" if p == 0 else "platform"
    return build(apply_overrides(load_scenario("taobao"), overrides))[1]


def test_listing_changes_charge_new_listings_and_settle_ended_ones():
    before = jnp.asarray([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
    after = jnp.asarray(
        [
            [1, 0, 0, 1, 1],  # P0: two end, two new
            [0, 1, 1, 0, 0],  # P1: one ends, one new
            [0, 0, 0, 0, 0],
        ],
        bool,
    )  # P2: all four end
    forfeited = jnp.asarray([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [1, 0, 1, 0, 0]], bool)
    got = {
        k: np.asarray(v).tolist()
        for k, v in ledger.amounts(
            fees.listing_changes(before, after, forfeited, _params())
        ).items()
    }
    d0, d1, d2 = DEPOSIT
    assert got["deposit_paid"] == [2 * d0, d1, 0]
    assert got["service_fee"] == [2 * FEE[0], FEE[1], 0]
    assert got["deposit_returned"] == [d0, 0, 2 * d2]
    # P0 pays forfeits to buyers, P1 and P2 keep them
    assert got["forfeit_to_buyers"] == [d0, 0, 0]
    assert got["forfeit_to_platform"] == [0, d1, 2 * d2]


def test_unchanged_listings_cost_nothing():
    listed = jnp.asarray(np.random.default_rng(0).random((3, 50)) < 0.5)
    got = fees.listing_changes(listed, listed, jnp.zeros_like(listed), _params())
    assert all(int(v.sum()) == 0 for v in ledger.amounts(got).values())


# --------------------------------------------------------------------------- over a run

# a full market (every slot taken on day 0) where listings lose money and end after one
# losing period: nearly every entrant takes a slot freed by a seller who left that same day
CHURN = {
    "market.buyers": 20_000,
    "market.seller_capacity": 20,
    "market.initial_sellers": 20,
    "sellers.adaptation_period_days": 7,
    "sellers.exit_after_periods": 1,
    "sellers.fixed_cost_per_day_cents": 20_000,
    "sellers.entry_per_thousand_sessions": 5.0,
    "platforms.0.governance.deposit_cents": 100_000,
    "platforms.0.fees.service_fee_cents": 50_000,
}


def test_every_new_listing_pays_deposit_and_fee_even_in_a_slot_freed_the_same_day():
    run = cached_run("no_escrow", 60, seeds=2, overrides=CHURN)
    flows = run.flows[run.flows["day"] > 0]  # day 0 opens the fee year for every listing
    paid = flows.groupby(["seed", "day", "stream"])["cents"].sum().unstack(fill_value=0)
    daily = run.daily[run.daily["day"] > 0].set_index(["seed", "day"])
    entered = daily["sellers_entered"].reindex(paid.index)
    assert daily["sellers_entered"].sum() > 50 and daily["sellers_exited"].sum() > 50
    np.testing.assert_array_equal(paid["deposit_paid"], 100_000 * entered)
    np.testing.assert_array_equal(paid["service_fee"], 50_000 * entered)
    # and every listing that ended got its deposit back or forfeited it
    settled = (
        paid["deposit_returned"]
        + paid.get("forfeit_to_buyers", 0)
        + paid.get("forfeit_to_platform", 0)
    )
    exited = daily["sellers_exited"].reindex(paid.index)
    np.testing.assert_array_equal(settled, 100_000 * exited)


def test_the_fee_stage_on_day_0_charges_every_live_listing_its_annual_fee():
    from .conftest import one_day

    dims, params, state, after, r = one_day("taobao")
    live = np.asarray(state.sellers.listed & state.sellers.active[None, :])
    fee = np.asarray(params.platform.fees.service_fee_cents)
    assert np.asarray(r.annual_fee.service_fee).tolist() == (live.sum(axis=1) * fee).tolist()
    assert int(np.asarray(r.annual_fee.service_fee_refund).sum()) == 0  # not a year's end
