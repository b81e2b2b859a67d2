"""Property-based tests (Hypothesis) over random valid scenarios of small, fixed size: with
any policies, fees, escrow rules and governance on 1-5 platforms, money is conserved
exactly, the balances that must stay non-negative do, every order ends in exactly one
terminal state, no metric is NaN or infinite, and the market shares sum to one.

Sizes (buyers, categories, seller slots, page, escrow delays, ad slots) are fixed per
platform count and only values vary, so one compiled program serves every example of a
platform count: five compiles in all. The number of examples is bounded for CI."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twosided
from twosided.scenario import scenario_from_dict
from twosided.sim.state import TERMINAL_STATES

EXAMPLES_PER_PLATFORM_COUNT = int(os.environ.get("TWOSIDED_PROPERTY_EXAMPLES", "12"))
DAYS = 370  # past the end of the first fee year (day 364): service fees are refunded
SEEDS = [0, 1]
MARKET = {
    "buyers": 300,
    "sessions_per_buyer_per_day": 0.5,
    "categories": 2,
    "seller_capacity": 6,
    "initial_sellers": 3,
    "page_length": 5,
}
# the first platform's escrow delays and ad slots are the largest, so every example of a
# platform count has the same order horizon and slot count (the same compiled shapes)
FIRST_ESCROW = {"ship_days": 2, "transit_days": 3, "auto_confirm_days": 8, "dispute_days": 3}
FIRST_SLOTS = 1
NON_NEGATIVE = ("escrow", "deposits", "platform", "suppliers", "affiliates")

unit = st.floats(0.0, 1.0)
unit_or_edges = st.one_of(st.sampled_from([0.0, 1.0]), unit)
cents = st.integers(0, 10**6)


@st.composite
def platforms(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """One platform with a random policy (delays and slots within the first platform's)."""
    first = index == 0
    escrow = (
        dict(FIRST_ESCROW)
        if first
        else {
            key: draw(st.integers(1 if key == "auto_confirm_days" else 0, value))
            for key, value in FIRST_ESCROW.items()
        }
    )
    return {
        "name": f"P{index}",
        "entry_day": 0 if first else draw(st.integers(0, DAYS + 5)),
        "brand": draw(st.floats(-3.0, 3.0)),
        "initial_seller_share": draw(unit),
        "markup_shift": draw(st.floats(-0.5, 2.0)),
        "ranking": {
            k: draw(st.floats(0.0, 5.0)) for k in ("quality", "price", "commission", "ads")
        },
        "auction": {
            "mechanism": draw(st.sampled_from(["gsp", "vcg"])),
            "slots": FIRST_SLOTS if first else draw(st.integers(0, FIRST_SLOTS)),
            "reserve_cents": draw(st.integers(0, 500)),
            "increment_cents": draw(st.integers(0, 10)),
        },
        "fees": {
            "commission": draw(unit_or_edges),
            "service_fee_cents": draw(cents),
            "service_fee_refund_threshold_cents": draw(st.integers(0, 10**7)),
            "service_fee_refund_share": draw(unit_or_edges),
            "affiliate_order_share": draw(unit_or_edges),
            "affiliate_fee_rate": draw(unit_or_edges),
            "affiliate_platform_share": draw(unit_or_edges),
        },
        "escrow": {
            "enabled": draw(st.booleans()),
            **escrow,
            "dispute_policy": draw(st.sampled_from(["buyer_first", "evidence"])),
            "evidence_accuracy": draw(unit),
            "recovery_rate": draw(unit_or_edges),
        },
        "governance": {
            "detection_rate": draw(unit_or_edges),
            "false_positive_rate": draw(st.floats(0.0, 0.2)),
            "verification_rate": draw(unit_or_edges),
            "deposit_cents": draw(cents),
            "forfeit_to": draw(st.sampled_from(["buyers", "platform"])),
        },
    }


@st.composite
def scenarios(draw: st.DrawFn, n_platforms: int) -> twosided.Scenario:
    """A random valid scenario of the fixed size with ``n_platforms`` platforms."""
    honest = draw(unit_or_edges)
    counterfeit = draw(st.floats(0.0, 1.0 - honest))
    data = {
        "name": "property",
        "days": DAYS,
        "market": MARKET,
        "buyers": {
            "price_sensitivity_median": draw(st.floats(0.01, 100.0)),
            "price_sensitivity_sigma": draw(st.floats(0.0, 3.0)),
            "quality_sensitivity_median": draw(st.floats(0.01, 100.0)),
            "quality_sensitivity_sigma": draw(st.floats(0.0, 3.0)),
            "outside_utility": draw(st.floats(-20.0, 20.0)),
            "switching_cost": draw(st.floats(0.0, 5.0)),
            "trust_weight": draw(st.floats(0.0, 10.0)),
            "compare_probability": draw(unit),
            "never_confirm_share": draw(unit),
            "claim_if_not_delivered": draw(unit_or_edges),
            "claim_if_counterfeit": draw(unit_or_edges),
            "false_claim_rate": draw(unit_or_edges),
        },
        "sellers": {
            "honest_share": honest,
            "counterfeiter_share": counterfeit,
            "non_shipper_share": max(0.0, 1.0 - honest - counterfeit),
            "fixed_cost_per_day_cents": draw(st.integers(0, 5000)),
            "adaptation_period_days": draw(st.integers(1, 10)),
            "exit_after_periods": draw(st.integers(1, 3)),
            "entry_per_thousand_sessions": draw(st.floats(0.0, 50.0)),
            "multihome_rate": draw(unit),
            "fake_reviews_per_order": draw(st.floats(0.0, 5.0)),
        },
        "platforms": [draw(platforms(i)) for i in range(n_platforms)],
    }
    return scenario_from_dict(data)


def check_invariants(run: twosided.Result) -> None:
    """Every invariant of a run's tables; raises AssertionError naming the first broken."""
    acc, daily = run.accounts, run.daily
    # money is conserved exactly, every day
    totals = acc.groupby(["seed", "day"])["balance_cents"].sum()
    assert totals.dtype == np.int64 and (totals == 0).all(), totals[totals != 0].head()
    # balances that must not go negative do not
    kinds = acc["account"].str.split(":").str[0]
    must = acc[kinds.isin(NON_NEGATIVE)]
    assert (must["balance_cents"] >= 0).all(), must[must["balance_cents"] < 0].head()
    # every order placed is in flight or ended in one terminal state
    d = daily.sort_values(["seed", "platform_id", "day"])
    g = d.groupby(["seed", "platform_id"])
    placed = g["orders"].cumsum()
    terminal = g[[f"orders_{s}" for s in TERMINAL_STATES]].cumsum().sum(axis=1)
    assert (placed == terminal + d["orders_in_flight"]).all()
    assert (d["orders_in_flight"] >= 0).all()
    # escrow holds exactly the money of the orders in flight
    assert (d["escrow_balance_cents"] == d["escrow_held_cents"]).all()
    # no NaN or infinity anywhere
    for name in ("daily", "accounts", "flows", "switches"):
        frame = getattr(run, name)
        numbers = frame.select_dtypes(include="number").to_numpy(dtype=float)
        assert np.isfinite(numbers).all(), f"{name} has NaN or infinity"
    # shares sum to one over platforms, on every seed and day with sessions (or GMV)
    per_day = daily.groupby(["seed", "day"])
    for share, base in (("share_sessions", "sessions"), ("share_gmv", "gmv_cents")):
        sums = per_day[share].sum()
        active = per_day[base].sum() > 0
        assert np.allclose(sums[active], 1.0, atol=1e-9), sums[active].head()
        assert (sums[~active] == 0).all()
    # a platform has no sessions before it opens
    opens = pd.Series({p.name: p.entry_day for p in run.scenario.platforms})
    closed = daily[daily["day"] < daily["platform"].map(opens)]
    assert (closed["sessions"] == 0).all() and (closed["orders"] == 0).all()


@pytest.mark.parametrize("n_platforms", [1, 2, 3, 4, 5])
def test_invariants_hold_in_random_valid_markets(n_platforms: int) -> None:
    @settings(
        max_examples=EXAMPLES_PER_PLATFORM_COUNT,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenario=scenarios(n_platforms))
    def check(scenario: twosided.Scenario) -> None:
        check_invariants(twosided.simulate(scenario, seeds=SEEDS))

    check()


def test_the_invariant_checks_can_fail() -> None:
    """A tampered run breaks the checks (they are not vacuous)."""
    run = twosided.simulate(_fixed(), seeds=SEEDS)
    check_invariants(run)
    broken = [
        ("accounts", "balance_cents", 1),
        ("daily", "orders_in_flight", 1),
        ("daily", "share_sessions", 0.5),
        ("daily", "avg_trust", np.nan),
    ]
    for table, column, change in broken:
        tampered = _copy(run)
        frame = getattr(tampered, table)
        if np.isnan(change):
            frame.loc[frame.index[0], column] = change
        else:
            frame.loc[frame.index[-1], column] += change
        with pytest.raises(AssertionError):
            check_invariants(tampered)


def _fixed() -> twosided.Scenario:
    """A valid scenario of the tests' size with one platform (shares their compile)."""
    first = {"name": "P0", "auction": {"slots": FIRST_SLOTS}, "escrow": FIRST_ESCROW}
    return scenario_from_dict(
        {"name": "fixed", "days": DAYS, "market": MARKET, "platforms": [first]}
    )


def _copy(run: twosided.Result) -> twosided.Result:
    return twosided.Result(
        run.scenario,
        run.seeds,
        run.daily.copy(),
        run.accounts.copy(),
        run.flows.copy(),
        run.switches.copy(),
    )
