"""Seller behaviour promise (``twosided.sim.sellers``), unit by unit on hand-built seller
states: proportional imitation moves a seller's markup, ads and quality part of the way
toward a more profitable peer, with a chance that grows with the profit gap, and never
toward a poorer one; a listing is withdrawn after ``exit_after_periods`` losing (or
sale-less) periods in a row, and a seller listed nowhere leaves the market; sellers
multi-home onto platforms where their category earns more than they do; new sellers
enter in numbers that follow each market's traffic, only where a platform is open, and
verification keeps harmful applicants out."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import scenario_from_dict
from twosided.sim import sellers as seller_behaviour
from twosided.sim.params import Dims, Params, build
from twosided.sim.pytree import replace
from twosided.sim.state import HONEST, NON_SHIPPER, Sellers, init_state

SCALE = 50_000.0  # imitation_scale_cents: a profit gap of this size is imitated for sure
STILL = {
    "mutation_sd": 0.0,
    "type_imitation_rate": 0.0,
    "multihome_rate": 0.0,
    "imitation_scale_cents": SCALE,
    "imitation_step": 0.5,
    "exit_after_periods": 3,
}
_init_state = jax.jit(init_state, static_argnums=1)
_revise = jax.jit(seller_behaviour.revise, static_argnums=4)
_enter_jit = jax.jit(seller_behaviour.enter, static_argnums=6)


def world(
    categories: int,
    capacity: int,
    platforms: int = 1,
    sellers: dict[str, Any] | None = None,
    governance: dict[str, Any] | None = None,
) -> tuple[Dims, Params, Sellers]:
    """A small market's dimensions, parameters and day-0 sellers (every slot active)."""
    scenario = scenario_from_dict(
        {
            "name": "sellers",
            "market": {
                "buyers": 100,
                "categories": categories,
                "seller_capacity": capacity,
                "initial_sellers": capacity,
                "page_length": 4,
            },
            "sellers": {
                **STILL,
                "honest_share": 1.0,
                "counterfeiter_share": 0.0,
                "non_shipper_share": 0.0,
                "initial_platforms_share": 0.0,
                **(sellers or {}),
            },
            "platforms": [
                {
                    "name": f"P{p}",
                    "initial_seller_share": 1.0 if p == 0 else 0.0,
                    "governance": governance or {},
                }
                for p in range(platforms)
            ],
        }
    )
    dims, params = build(scenario)
    state = _init_state(jax.random.key(0), dims, params)
    return dims, params, state.sellers


def first_of_each_category(dims: Dims) -> np.ndarray:
    return np.arange(dims.sellers) % dims.seller_capacity == 0


def revise(
    sellers: Sellers, dims: Dims, params: Params, seed: int = 0, open_: list[bool] | None = None
) -> tuple[Sellers, np.ndarray]:
    opened = jnp.asarray(open_ if open_ is not None else [True] * dims.platforms)
    revised, apply = _revise(jax.random.key(seed), sellers, opened, params, dims)
    return revised, np.asarray(apply)


# --------------------------------------------------------------------------- imitation


def _poor_and_rich(gap: float, categories: int = 2000, capacity: int = 4):
    """In every category slot 0 earned nothing; its peers earned ``gap`` more with other
    strategies (markup 0.6 vs 0.2, ads 0.5 vs 0.1, quality 0.8 vs 0.4)."""
    dims, params, s = world(categories, capacity)
    poor = first_of_each_category(dims)
    row = poor[None, :]
    s = replace(
        s,
        markup=jnp.where(row, 0.2, 0.6),
        ad_intensity=jnp.where(row, 0.1, 0.5),
        quality=jnp.where(poor, 0.4, 0.8),
        period_profit=jnp.where(row, 0.0, gap),
        last_profit=jnp.where(row, 0.0, gap),
        period_orders=jnp.full(s.period_orders.shape, 10.0),
    )
    return dims, params, s, poor


def test_imitation_moves_a_poor_seller_halfway_toward_a_richer_peer():
    dims, params, s, poor = _poor_and_rich(gap=2 * SCALE)
    revised, _ = revise(s, dims, params)
    markup = np.asarray(revised.markup[0])
    ads = np.asarray(revised.ad_intensity[0])
    quality = np.asarray(revised.quality)
    moved = poor & ~np.isclose(markup, 0.2)
    # a gap beyond the scale is imitated for sure unless the random peer was itself (1 in 4)
    assert moved.sum() / poor.sum() == pytest.approx(3 / 4, abs=0.04)
    np.testing.assert_allclose(markup[moved], 0.2 + 0.5 * (0.6 - 0.2), rtol=1e-6)
    np.testing.assert_allclose(ads[moved], 0.1 + 0.5 * (0.5 - 0.1), rtol=1e-6)
    np.testing.assert_allclose(quality[moved], 0.4 + 0.5 * (0.8 - 0.4), rtol=1e-6)
    # a richer seller never imitates a poorer one
    assert (markup[~poor] == np.float32(0.6)).all() and (quality[~poor] == np.float32(0.8)).all()


@pytest.mark.parametrize("gap_share", [0.25, 0.6])
def test_the_chance_to_imitate_is_proportional_to_the_profit_gap(gap_share):
    dims, params, s, poor = _poor_and_rich(gap=gap_share * SCALE)
    revised, _ = revise(s, dims, params, seed=3)
    moved = poor & ~np.isclose(np.asarray(revised.markup[0]), 0.2)
    # Schlag's rule: copy with probability gap / scale, when the peer is another seller
    assert moved.sum() / poor.sum() == pytest.approx(gap_share * 3 / 4, abs=0.04)


def test_type_imitation_adopts_the_richer_peers_trade_and_goods():
    dims, params, s, poor = _poor_and_rich(gap=2 * SCALE)
    params = replace(params, sellers=replace(params.sellers, type_imitation_rate=jnp.float32(1.0)))
    # the rich peers are non-shippers listing the claimed quality
    s = replace(s, honesty=jnp.where(poor, HONEST, NON_SHIPPER).astype(jnp.int8))
    revised, _ = revise(s, dims, params)
    honesty = np.asarray(revised.honesty)
    turned = poor & (honesty == NON_SHIPPER)
    assert turned.sum() / poor.sum() == pytest.approx(3 / 4, abs=0.04)
    np.testing.assert_allclose(
        np.asarray(revised.quality)[turned],
        float(params.sellers.counterfeit_claimed_quality),
        rtol=1e-6,
    )


def test_revision_closes_the_period():
    dims, params, s, _ = _poor_and_rich(gap=2 * SCALE)
    revised, _ = revise(s, dims, params)
    np.testing.assert_array_equal(np.asarray(revised.last_profit), np.asarray(s.period_profit))
    assert float(jnp.abs(revised.period_profit).max()) == 0.0
    assert float(jnp.abs(revised.period_orders).max()) == 0.0


# --------------------------------------------------------------------------- exit


def test_a_listing_is_withdrawn_after_sustained_losses_or_no_sales():
    # four sellers in one category on two platforms; three periods in a row end a listing
    dims, params, s = world(1, 4, platforms=2)
    listed = jnp.ones((2, 4), bool)
    profit = jnp.asarray(
        [
            [-100.0, -100.0, 500.0, 500.0],  # P0
            [-100.0, 500.0, 500.0, 500.0],
        ]
    )  # P1
    orders = jnp.asarray([[5.0, 5.0, 0.0, 5.0], [5.0, 5.0, 5.0, 5.0]])
    streak = jnp.asarray([[2, 2, 2, 1], [2, 0, 2, 2]], jnp.int32)
    s = replace(
        s,
        listed=listed,
        active=jnp.ones(4, bool),
        period_profit=profit,
        last_profit=profit,
        period_orders=orders,
        loss_streak=streak,
    )
    revised, _ = revise(s, dims, params)
    got = np.asarray(revised.listed)
    # seller 0 lost on both platforms for a third period: it leaves the market
    assert not got[:, 0].any() and not bool(revised.active[0])
    # seller 1 leaves P0 only (its P1 listing is profitable) and stays in the market
    assert got[:, 1].tolist() == [False, True] and bool(revised.active[1])
    # seller 2 sold nothing on P0 for a third period (profit alone does not keep it there)
    assert got[:, 2].tolist() == [False, True]
    # a profitable period resets the streak; a second losing period does not yet end it
    assert got[:, 3].tolist() == [True, True]
    assert np.asarray(revised.loss_streak)[:, 3].tolist() == [0, 0]
    assert np.asarray(revised.loss_streak)[1, 1] == 0


def test_a_losing_streak_counts_up_before_the_exit():
    dims, params, s = world(1, 4, platforms=1)
    s = replace(
        s,
        period_profit=jnp.full((1, 4), -1.0),
        period_orders=jnp.full((1, 4), 3.0),
        loss_streak=jnp.asarray([[0, 1, 2, 0]], jnp.int32),
    )
    revised, _ = revise(s, dims, params)
    assert np.asarray(revised.loss_streak)[0, :3].tolist() == [1, 2, 0]
    assert np.asarray(revised.listed)[0].tolist() == [True, True, False, True]


def test_losses_on_a_platform_not_yet_open_do_not_count():
    dims, params, s = world(1, 4, platforms=2)
    s = replace(
        s,
        listed=jnp.ones((2, 4), bool),
        period_profit=jnp.full((2, 4), -1.0),
        period_orders=jnp.zeros((2, 4)),
        loss_streak=jnp.full((2, 4), 2, jnp.int32),
    )
    revised, _ = revise(s, dims, params, open_=[True, False])
    assert not np.asarray(revised.listed)[0].any()
    assert np.asarray(revised.listed)[1].all() and bool(revised.active.all())


# --------------------------------------------------------------------------- multi-homing


def _homing(
    other_platform_profit: float,
    rate: float = 1.0,
    governance: dict | None = None,
    harmful_single_homers: bool = False,
):
    """200 categories of 4 sellers; sellers 0-1 list on P0 only and earn 100 a period,
    sellers 2-3 list on both and earn ``other_platform_profit`` per period on P1."""
    dims, params, s = world(
        200, 4, platforms=2, sellers={"multihome_rate": rate}, governance=governance
    )
    slot = np.arange(dims.sellers) % 4
    single = jnp.asarray(slot < 2)
    listed = jnp.stack([jnp.ones(dims.sellers, bool), ~single])
    profit = jnp.stack(
        [jnp.full(dims.sellers, 100.0), jnp.where(single, 0.0, other_platform_profit)]
    )
    honesty = jnp.where(single & harmful_single_homers, NON_SHIPPER, HONEST).astype(jnp.int8)
    s = replace(
        s,
        listed=listed,
        active=jnp.ones(dims.sellers, bool),
        period_profit=profit,
        last_profit=profit,
        period_orders=jnp.full(profit.shape, 5.0),
        honesty=honesty,
    )
    revised, apply = revise(s, dims, params)
    return np.asarray(single), apply, revised


def test_sellers_multi_home_where_their_category_earns_more():
    single, apply, revised = _homing(other_platform_profit=10_000.0)
    assert apply[1, single].all() and not apply[0].any() and not apply[1, ~single].any()
    assert np.asarray(revised.listed)[1].all()
    # a new listing starts without a rating
    assert float(jnp.abs(revised.rating_n[1][single]).max()) == 0.0


def test_sellers_stay_away_from_platforms_that_earn_less_than_they_do():
    _, apply, _ = _homing(other_platform_profit=50.0)
    assert not apply.any()


def test_multi_homing_happens_at_its_rate_per_period():
    single, apply, _ = _homing(other_platform_profit=10_000.0, rate=0.3)
    assert apply[1, single].mean() == pytest.approx(0.3, abs=0.05)


def test_verification_keeps_harmful_sellers_from_multi_homing():
    single, apply, _ = _homing(
        10_000.0, governance={"verification_rate": 1.0}, harmful_single_homers=True
    )
    assert single.any() and not apply.any()


# --------------------------------------------------------------------------- entry


def _enter(
    sessions: list[float],
    open_: list[bool],
    governance: dict | None = None,
    types: dict | None = None,
    categories: int = 100,
    seed: int = 0,
):
    """Entrants into an empty market of ``categories`` categories with ample free slots,
    given each platform's daily sessions per category."""
    dims, params, s = world(
        categories,
        60,
        platforms=len(sessions),
        sellers={"entry_per_thousand_sessions": 0.05, **(types or {})},
        governance=governance,
    )
    s = replace(s, active=jnp.zeros(dims.sellers, bool), listed=jnp.zeros_like(s.listed))
    traffic = jnp.asarray([[x] * categories for x in sessions], jnp.int32)
    log_ref = jnp.full((categories,), 8.0, jnp.float32)
    entered, new = _enter_jit(
        jax.random.key(seed), s, traffic, jnp.asarray(open_), log_ref, params, dims
    )
    return params, entered, np.asarray(new)


def test_entry_follows_each_markets_traffic():
    # 0.05 entrants per 1,000 sessions: 100 categories x 2.0 = 200 expected on P0, 40 on P1
    _, entered, new = _enter([40_000, 8_000, 0], [True, True, True])
    counts = new.sum(axis=1)
    assert abs(counts[0] - 200) < 4 * np.sqrt(200), counts
    assert abs(counts[1] - 40) < 4 * np.sqrt(40), counts
    assert counts[2] == 0
    # each entrant takes a free slot, lists on one platform only, and starts unrated
    assert (new.sum(axis=0) <= 1).all()
    fresh = new.any(axis=0)
    np.testing.assert_array_equal(np.asarray(entered.active), fresh)
    assert float(jnp.abs(entered.rating_n[:, fresh]).max()) == 0.0


def test_no_seller_enters_a_platform_that_is_not_open():
    _, _, new = _enter([40_000, 40_000], [True, False])
    assert new[0].sum() > 100 and new[1].sum() == 0


def test_verification_keeps_harmful_entrants_out():
    harmful_mix = {"honest_share": 0.5, "counterfeiter_share": 0.25, "non_shipper_share": 0.25}
    params, entered, new = _enter(
        [40_000, 40_000], [True, True], types=harmful_mix, governance={"verification_rate": 1.0}
    )
    honesty = np.asarray(entered.honesty)
    assert new.sum() > 100
    assert (honesty[new.any(axis=0)] == HONEST).all()
    # the same draws without screening let about half in as harmful sellers
    _, open_door, new_open = _enter([40_000, 40_000], [True, True], types=harmful_mix)
    harmful = np.asarray(open_door.honesty)[new_open.any(axis=0)] != HONEST
    assert harmful.mean() == pytest.approx(0.5, abs=0.08)


def test_the_accounts_stage_pays_each_live_listing_its_running_costs():
    from .conftest import one_day

    dims, params, state, after, r = one_day("taobao")
    live = np.asarray(r.accounts.live)
    fixed = int(params.sellers.fixed_cost_per_day_cents)
    assert np.asarray(r.accounts.costs.fixed_costs).tolist() == (live.sum(axis=1) * fixed).tolist()
    # goods are paid for each order: the cost of goods is the sum over today's purchases
    s = r.session
    cost = np.where(np.asarray(s.bought), np.round(np.asarray(s.unit_cost)), 0).astype(np.int64)
    per_platform = np.bincount(np.asarray(s.platform), weights=cost, minlength=dims.platforms)
    assert np.asarray(r.accounts.costs.cost_of_goods).tolist() == per_platform.astype(int).tolist()
    # a live listing that sold nothing and bought no clicks made a loss of its overhead
    sold = np.zeros(live.shape, bool)
    sold[
        np.asarray(s.platform)[np.asarray(s.bought)], np.asarray(s.listing)[np.asarray(s.bought)]
    ] = True
    idle = live & ~sold
    assert (np.asarray(r.accounts.profit)[idle] <= 0).all()


def test_the_turnover_stage_settles_its_listing_changes():
    from .conftest import one_day

    dims, params, state, after, r = one_day(
        "taobao", {"sellers.entry_per_thousand_sessions": 200.0}
    )
    entries = np.asarray(r.turnover.entries)
    assert entries.sum() > 0
    deposit = np.asarray(params.platform.governance.deposit_cents)
    paid = np.asarray(r.turnover.revised.deposit_paid) + np.asarray(r.turnover.entered.deposit_paid)
    assert paid.tolist() == (entries * deposit).tolist()
