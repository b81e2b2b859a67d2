"""The day's metrics (``twosided.sim.collect``): per-platform sums of the stage records."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import collect, day
from twosided.sim.params import build
from twosided.sim.pytree import replace
from twosided.sim.state import init_state
from twosided.sim.streams import revenue_columns

# four buyers, one session each: the records of a real day, with the sessions replaced
TINY = {
    "market.buyers": 4,
    "market.sessions_per_buyer_per_day": 1.0,
    "market.seller_capacity": 4,
    "market.initial_sellers": 2,
}


def _day():
    dims, params = build(apply_overrides(load_scenario("taobao"), TINY))
    state = jax.jit(init_state, static_argnums=1)(jax.random.key(0), dims, params)
    after, records = jax.jit(day.stages, static_argnums=3)(state, params, jax.random.key(1), dims)
    return dims, params, state, after, records


def test_sessions_orders_and_gmv_are_summed_per_platform():
    dims, params, state, after, r = _day()
    assert dims.sessions == 4
    s = replace(
        r.session,
        platform=jnp.asarray([0, 2, 2, 1], jnp.int32),
        online=jnp.asarray([True, True, True, False]),
        bought=jnp.asarray([True, True, False, False]),
        price=jnp.asarray([1000, 250, 0, 0], jnp.int64),
    )
    m = collect.daily(after, params, dims, day=state.day, r=replace(r, session=s)).columns()
    assert np.asarray(m["sessions"]).tolist() == [1, 0, 2]  # the offline session counts nowhere
    assert np.asarray(m["orders"]).tolist() == [1, 0, 1]
    assert np.asarray(m["gmv_cents"]).tolist() == [1000, 0, 250]


def test_a_buyer_switches_once_from_its_last_platform_with_the_harm_met_there():
    dims, params, state, after, r = _day()
    s = replace(
        r.session,
        buyer=jnp.asarray([0, 0, 1, 2], jnp.int32),
        platform=jnp.asarray([1, 2, 0, 1], jnp.int32),
        online=jnp.asarray([True, True, True, True]),
        last_platform=jnp.asarray([0, 0, 0, -1], jnp.int8),
        last_harm=jnp.asarray([3, 3, 1, 0], jnp.int8),
        last_of_day=jnp.asarray([False, True, True, True]),
    )
    switches = np.asarray(collect._switches(s, dims))
    assert switches.sum() == 1  # buyer 0 (last session on 2, before: 0), fraud harm
    assert switches[0, 2, 3] == 1  # buyer 1 stayed on 0; buyer 2 had no platform before


def test_the_columns_spread_revenue_and_terminal_states():
    dims, params, state, after, r = _day()
    m = collect.daily(after, params, dims, day=state.day, r=r).columns()
    for column in (*revenue_columns(), "orders_confirmed", "orders_claim_rejected"):
        assert column in m
    assert "revenue" not in m and "terminal" not in m
    total = sum(np.asarray(m[c]) for c in revenue_columns())
    np.testing.assert_array_equal(total, m["revenue_cents"])


def test_the_market_counts_each_buyer_and_seller_once_whatever_its_platforms():
    dims, params, state, after, r = _day()
    assert dims.platforms == 3
    today = int(state.day)
    never = -30_000  # state.NEVER: a platform the buyer never used
    last_visit = jnp.asarray(
        [
            [today, today - 5, never],  # on Taobao and Pinduoduo this month: multi-homing
            [today, never, never],  # Taobao only
            [today - 40, today - 2, never],  # Taobao two months ago: Pinduoduo only
            [never, never, never],  # inactive
        ],
        jnp.int16,
    )
    after = replace(after, buyers=replace(after.buyers, last_visit=last_visit))
    listed = [[True, True, False], [True, False, True], [False, False, False]]
    live = jnp.zeros(r.accounts.live.shape, bool).at[:, :3].set(jnp.asarray(listed))
    records = replace(r, accounts=replace(r.accounts, live=live))
    m = collect.daily(after, params, dims, day=state.day, r=records).columns()
    assert np.asarray(m["monthly_active_buyers"]).tolist() == [2, 2, 0]
    assert np.asarray(m["multihoming_buyers"]).tolist() == [1, 1, 0]
    assert np.asarray(m["market_monthly_active_buyers"]).tolist() == [3, 3, 3]  # not 4
    assert np.asarray(m["market_multihoming_buyers"]).tolist() == [1, 1, 1]
    assert np.asarray(m["active_sellers"]).tolist() == [2, 2, 0]  # listings
    assert np.asarray(m["market_sellers"]).tolist() == [3, 3, 3]  # seller 0 listed twice
