"""One day (``twosided.sim.day``): the stages in the order of docs/model.md §1.3."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import day
from twosided.sim.params import build
from twosided.sim.state import HONEST, init_state

SMALL = {"market.buyers": 400, "market.seller_capacity": 10, "market.initial_sellers": 5}
_stages = jax.jit(day.stages, static_argnums=3)
_step = jax.jit(day.step, static_argnums=3)


def _world(overrides: dict | None = None, preset: str = "taobao"):
    dims, params = build(apply_overrides(load_scenario(preset), {**SMALL, **(overrides or {})}))
    state = jax.jit(init_state, static_argnums=1)(jax.random.key(0), dims, params)
    return dims, params, state


def test_a_step_advances_the_day_and_conserves_every_cent():
    dims, params, state = _world()
    total = int(np.asarray(state.balances).sum())
    for d in range(3):
        state, metrics = _step(state, params, jax.random.key(d + 1), dims)
        assert int(state.day) == d + 1
        assert int(np.asarray(state.balances).sum()) == total
        np.testing.assert_array_equal(metrics["accounts"], state.balances)


def test_listings_punished_today_are_not_on_todays_pages():
    # governance runs before the pages: with every harmful listing caught, none is shown
    dims, params, state = _world(
        {f"platforms.{p}.governance.detection_rate": 1.0 for p in range(3)}
    )
    harmful = np.asarray(state.sellers.honesty) != HONEST
    assert harmful[np.asarray(state.sellers.active)].any()
    _, r = _stages(state, params, jax.random.key(1), dims)
    shown = np.asarray(r.pages.listing)
    assert (shown >= 0).any()
    assert not harmful[shown[shown >= 0]].any()
    assert int(np.asarray(r.policing.exits).sum()) > 0


def test_the_days_flows_are_the_stage_records_posted_once():
    dims, params, state = _world()
    after, r = _stages(state, params, jax.random.key(1), dims)
    moved = np.asarray(after.balances) - np.asarray(state.balances)
    assert moved.sum() == 0 and np.abs(moved).sum() > 0
    # buyers' payments for today's orders are what the session says they paid
    payments = r.orders.payments
    paid = np.asarray(payments.payment_escrow) + np.asarray(payments.payment_direct)
    price, platform = np.asarray(r.session.price), np.asarray(r.session.platform)
    assert paid.tolist() == np.bincount(platform, weights=price, minlength=3).astype(int).tolist()
    assert int(after.day) == int(state.day)  # stages leave the day to ``step``


def test_entrants_arrive_after_the_sessions():
    # a seller entering today is not on today's pages (entry is the last seller stage)
    dims, params, state = _world({"sellers.entry_per_thousand_sessions": 500.0})
    after, r = _stages(state, params, jax.random.key(2), dims)
    entered = np.asarray(after.sellers.active) & ~np.asarray(state.sellers.active)
    assert entered.any()
    shown = np.asarray(r.pages.listing)
    assert not entered[shown[shown >= 0]].any()


@pytest.mark.parametrize("preset", ["no_escrow", "pdd_entry"])
def test_orders_booked_today_settle_later_or_today_never_twice(preset):
    dims, params, state = _world(preset=preset)
    state, _ = _step(state, params, jax.random.key(1), dims)
    booked = int(np.asarray(state.orders)[..., :4].sum())
    _, r = _stages(state, params, jax.random.key(2), dims)
    settled = int(
        sum(
            np.asarray(getattr(r.orders.due, n)).sum()
            for n in ("confirmed", "auto_confirmed", "refunded", "claim_rejected")
        )
    )
    assert settled <= booked + int(np.asarray(r.session.bought).sum())
