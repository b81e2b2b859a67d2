"""Extreme but valid markets run and give the results documented in docs/extremes.md: one
buyer, one seller, zero ad slots, 100% commission, every seller a fraud, escrow off
everywhere, their combinations, and the longest run the schema allows. Each run also keeps
every invariant of tests/test_properties.py (money, non-negative balances, terminal states,
finite metrics, shares).

Two platforms, the property tests' market and 370 days (so most runs share their compiled
program); sellers revise every 5 days and leave after 2 losing periods."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import twosided
from twosided.scenario import scenario_from_dict
from twosided.sim.params import build
from twosided.sim.pytree import replace
from twosided.sim.run import init_states, iterate
from twosided.simulation import result_from_arrays

from ..test_properties import DAYS, FIRST_ESCROW, FIRST_SLOTS, MARKET, check_invariants

SEEDS = [0, 1]
FAST_SELLERS = {"adaptation_period_days": 5, "exit_after_periods": 2}
NON_SHIPPERS = {"honest_share": 0.0, "counterfeiter_share": 0.0, "non_shipper_share": 1.0}


def platform(name: str, **sections: dict[str, Any]) -> dict[str, Any]:
    """A platform of the tests' shape, with some policy sections changed."""
    data: dict[str, Any] = {
        "name": name,
        "auction": {"slots": FIRST_SLOTS},
        "escrow": dict(FIRST_ESCROW),
    }
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    return data


def simulate(
    *platforms: dict[str, Any],
    market: dict[str, Any] | None = None,
    sellers: dict[str, Any] | None = None,
) -> twosided.Result:
    """Two platforms (or as given), 370 days, 2 seeds; the run's invariants checked."""
    scenario = scenario_from_dict(
        {
            "name": "extreme",
            "days": DAYS,
            "market": {**MARKET, **(market or {})},
            "sellers": {**FAST_SELLERS, **(sellers or {})},
            "platforms": list(platforms) or [platform("A"), platform("B")],
        }
    )
    run = twosided.simulate(scenario, seeds=SEEDS)
    check_invariants(run)
    return run


def totals(run: twosided.Result) -> pd.DataFrame:
    """Per seed and platform: every daily column summed over the run."""
    return run.daily.groupby(["seed", "platform"]).sum(numeric_only=True)


def on_day(run: twosided.Result, day: int) -> pd.DataFrame:
    return run.daily[run.daily["day"] == day].set_index(["seed", "platform"])


def account(run: twosided.Result, name: str, day: int) -> pd.Series:
    acc = run.accounts
    return acc[(acc["account"] == name) & (acc["day"] == day)].set_index("seed")["balance_cents"]


# --------------------------------------------------------------------------- one buyer, one seller


def test_one_buyer_shops_at_most_once_a_day():
    run = simulate(market={"buyers": 1})
    d = run.daily
    per_day = d.groupby(["seed", "day"])["sessions"].sum()
    assert per_day.max() <= run.scenario.sessions_per_day == 1
    assert per_day.sum() > 0  # the buyer does shop
    assert (d["active_buyers"] <= 1).all() and (d["monthly_active_buyers"] <= 1).all()
    assert (d["orders"] <= d["sessions"]).all()


def test_one_seller_is_the_whole_supply():
    run = simulate(market={"categories": 1, "seller_capacity": 1, "initial_sellers": 1})
    d = run.daily
    assert (d["active_sellers"] <= 1).all()
    # no listing, no shopping: a platform without the seller has no sessions and no orders
    empty = d[d["active_sellers"] == 0]
    assert (empty["orders"] == 0).all() and (empty["gmv_cents"] == 0).all()
    assert d["orders"].sum() > 0


def test_one_seller_that_is_a_fraud_on_platforms_without_escrow():
    """The harshest small market (the one-seller shape): the only seller never ships, no
    escrow, no recovery, and the platforms take 100% commission. The buyers lose exactly
    what the platforms take; the seller, earning nothing, leaves."""
    harsh = {"fees": {"commission": 1.0}, "escrow": {"enabled": False, "recovery_rate": 0.0}}
    run = simulate(
        platform("A", **harsh),
        platform("B", **harsh),
        market={"categories": 1, "seller_capacity": 1, "initial_sellers": 1},
        sellers=NON_SHIPPERS,
    )
    t = totals(run)
    assert (t["harmful_orders"] == t["orders"]).all() and t["orders"].sum() > 0
    assert (t["refunds_cents"] == 0).all()
    assert (t["revenue_commission_cents"] == t["fraud_loss_cents"]).all()
    assert t["fraud_loss_cents"].sum() > 0
    assert t["sellers_exited"].groupby(level="seed").sum().min() >= 1


def test_one_buyer_in_a_market_without_ad_slots():
    run = simulate(
        platform("A", auction={"slots": 0}),
        platform("B", auction={"slots": 0}),
        market={"buyers": 1},
    )
    d = run.daily
    assert (d["sponsored_clicks"] == 0).all() and (d["revenue_ads_cents"] == 0).all()
    assert d.groupby(["seed", "day"])["sessions"].sum().max() <= 1


# --------------------------------------------------------------------------- ads


def test_zero_ad_slots_sell_no_sponsored_clicks():
    """No slots: no sponsored listing and, without a weight on bids in the organic ranking,
    no ad revenue at all. With such a weight (B), sellers still pay per click for organic
    positions their bids bought (docs/model.md), so B may earn ad revenue."""
    run = simulate(
        platform("A", auction={"slots": 0}, ranking={"ads": 0.0}),
        platform("B", auction={"slots": 0}, ranking={"ads": 5.0}),
    )
    t = totals(run)
    assert (t["sponsored_clicks"] == 0).all()
    assert (t.xs("A", level="platform")["revenue_ads_cents"] == 0).all()
    assert (t.xs("A", level="platform")["paid_clicks"] == 0).all()
    flows = run.flows
    assert flows[(flows["stream"] == "ads") & (flows["platform"] == "A")]["cents"].sum() == 0
    assert t["clicks"].sum() > 0 and t["orders"].sum() > 0


# --------------------------------------------------------------------------- fees


def test_a_100_percent_commission_leaves_sellers_nothing_and_they_leave():
    run = simulate(platform("A", fees={"commission": 1.0}), platform("B", fees={"commission": 1.0}))
    t = totals(run)
    last = on_day(run, DAYS - 1)
    # the platform keeps every cent buyers paid for the orders that settled: GMV is
    # commission, refunds, or still held in escrow at the end
    kept = t["revenue_commission_cents"] + t["refunds_cents"] + last["escrow_held_cents"]
    assert (kept == t["gmv_cents"]).all()
    assert (t["revenue_commission_cents"] > 0).all()
    assert (t["seller_profit_cents"] < 0).all()
    first = on_day(run, 0)
    assert (t["sellers_exited"] >= first["active_sellers"]).all()  # everyone at day 0 left
    assert (account(run, "sellers", DAYS - 1) < 0).all()


# --------------------------------------------------------------------------- fraud and escrow


def test_every_seller_a_fraud_under_buyer_first_escrow_costs_buyers_nothing():
    run = simulate(
        platform("A", escrow={"dispute_policy": "buyer_first"}),
        platform("B", escrow={"dispute_policy": "buyer_first"}),
        sellers=NON_SHIPPERS,
    )
    t = totals(run)
    assert (t["harmful_orders"] == t["orders"]).all() and t["orders"].sum() > 0
    assert (t["fraud_loss_cents"] == 0).all()
    settled = t[
        ["orders_confirmed", "orders_auto_confirmed", "orders_refunded", "orders_claim_rejected"]
    ].sum(axis=1)
    assert (t["orders_refunded"] == settled).all()  # every settled order came back
    last = on_day(run, DAYS - 1)
    assert (t["refunds_cents"] + last["escrow_held_cents"] == t["gmv_cents"]).all()
    assert (t["revenue_commission_cents"] == 0).all()
    assert (run.daily["avg_delivered_quality"] == 0).all()


def test_every_seller_a_fraud_without_escrow_costs_buyers_everything_they_paid():
    off = {"enabled": False, "recovery_rate": 0.0}
    run = simulate(platform("A", escrow=off), platform("B", escrow=off), sellers=NON_SHIPPERS)
    t = totals(run)
    assert (t["refunds_cents"] == 0).all()
    assert (t["fraud_loss_cents"] > 0).all()
    assert (t["fraud_loss_cents"] <= t["gmv_cents"]).all()
    settled = t[
        ["orders_confirmed", "orders_auto_confirmed", "orders_refunded", "orders_claim_rejected"]
    ].sum(axis=1)
    assert (t["orders_refunded"] == 0).all() and (settled > 0).all()
    # buyers trust a platform that lets them lose their money less than one that refunds
    protected = simulate(
        platform("A", escrow={"dispute_policy": "buyer_first"}),
        platform("B", escrow={"dispute_policy": "buyer_first"}),
        sellers=NON_SHIPPERS,
    )
    week = run.daily["day"] >= DAYS - 7
    assert run.daily[week]["avg_trust"].mean() < protected.daily[week]["avg_trust"].mean()


def test_escrow_off_everywhere_holds_no_money():
    off = {"enabled": False}
    run = simulate(platform("A", escrow=off), platform("B", escrow=off))
    d = run.daily
    assert (d["escrow_balance_cents"] == 0).all() and (d["escrow_held_cents"] == 0).all()
    streams = run.flows.groupby("stream")["cents"].sum()
    assert streams[["payment_escrow", "release", "refund_escrow"]].sum() == 0
    assert streams["payment_direct"] == d["gmv_cents"].sum() > 0


def test_everything_at_once():
    """No slots, 100% commission, every seller a fraud, no escrow, on both platforms."""
    harsh = {
        "auction": {"slots": 0},
        "ranking": {"ads": 0.0},
        "fees": {"commission": 1.0},
        "escrow": {"enabled": False, "recovery_rate": 0.0},
    }
    run = simulate(platform("A", **harsh), platform("B", **harsh), sellers=NON_SHIPPERS)
    t = totals(run)
    assert (t["revenue_ads_cents"] == 0).all()
    assert (t["refunds_cents"] == 0).all()
    # the platform takes as commission exactly what buyers lost to the frauds it settled
    assert (t["revenue_commission_cents"] == t["fraud_loss_cents"]).all()
    assert (t["sellers_exited"] >= on_day(run, 0)["active_sellers"]).all()


# --------------------------------------------------------------------------- the longest run


def test_the_last_days_of_the_longest_valid_run_keep_buyer_memory():
    """Days up to 32,766 (the schema's limit, MAX_DAYS = 32,767): buyers seen today are
    among the month's active buyers and trust does not reset (int16 days hold)."""
    scenario = scenario_from_dict(
        {
            "name": "long",
            "days": twosided.scenario.MAX_DAYS,
            "market": MARKET,
            "platforms": [platform("A"), platform("B")],
        }
    )
    dims, params = build(scenario)
    start = scenario.days - DAYS
    states = init_states(jnp.asarray(SEEDS, jnp.uint32), dims, params)
    states = replace(states, day=jnp.full_like(states.day, start))
    parts = [
        m
        for _, _, m in iterate(
            dims, params, SEEDS, DAYS, scenario.chunk_days, states=states, start_day=start
        )
    ]
    raw = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
    run = result_from_arrays(scenario, SEEDS, raw, start_day=start)
    d = run.daily
    assert d["day"].max() == twosided.scenario.MAX_DAYS - 1
    assert (d["active_buyers"] <= d["monthly_active_buyers"]).all()
    # every seed still counts the month's buyers on its last day (a platform that lost all
    # its sellers in this tiny market may have none of its own)
    last = d[d["day"] == d["day"].max()]
    assert (last.groupby("seed")["monthly_active_buyers"].sum() > 0).all()
    late = d[d["day"] >= d["day"].max() - 5]
    assert late["avg_trust"].abs().max() > 0  # buyers remember their last visits
    assert (run.accounts.groupby(["seed", "day"])["balance_cents"].sum() == 0).all()


@pytest.mark.parametrize("days", [twosided.scenario.MAX_DAYS + 1, 10**6])
def test_a_longer_run_is_refused_in_one_line(days):
    with pytest.raises(twosided.ScenarioError, match="days: Input should be less than"):
        twosided.simulate("monopoly", days=days)


def test_extremely_sensitive_buyers_give_finite_outcomes():
    """The most price- and quality-sensitive buyers the schema allows: logit weights stay
    finite, so trust and consumer surplus do too (they were NaN before the weights were
    scaled, see shopping.weight_shift)."""
    scenario = scenario_from_dict(
        {
            "name": "sensitive",
            "days": DAYS,
            "market": MARKET,
            "sellers": FAST_SELLERS,
            "buyers": {
                "price_sensitivity_median": 100.0,
                "price_sensitivity_sigma": 3.0,
                "quality_sensitivity_median": 100.0,
                "quality_sensitivity_sigma": 3.0,
                "sensitivity_correlation": 0.99,
            },
            "platforms": [platform("A"), platform("B")],
        }
    )
    run = twosided.simulate(scenario, seeds=SEEDS)
    check_invariants(run)  # no NaN or infinity
    assert run.daily["orders"].sum() > 0
    assert run.daily["consumer_surplus_cents"].abs().sum() > 0
