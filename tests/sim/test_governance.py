"""Governance promise (``twosided.sim.governance``): each day a harmful listing is caught
with the platform's detection rate and an honest one wrongly punished with its false
positive rate, only where the platform is open; verification turns harmful applicants
away and never honest ones. Over a run, full verification keeps harmful sellers out of
the market from day 0, punished sellers' deposits go to buyers or to the platform as
configured (and the platform's forfeit revenue is exactly the deposits it kept), and
honest sellers lose deposits only through false positives."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import governance
from twosided.sim.params import build
from twosided.sim.state import COUNTERFEITER, HONEST, NON_SHIPPER

from ..conftest import cached_run

M = 60_000


def _params(**policy: float):
    scenario = apply_overrides(
        load_scenario("taobao"),
        {f"platforms.{p}.governance.{k}": v for p in range(3) for k, v in policy.items()},
    )
    return build(scenario)[1]


def _honesty() -> jax.Array:
    return jnp.asarray(np.resize([HONEST, COUNTERFEITER, NON_SHIPPER], M), jnp.int8)


def test_detection_catches_harmful_listings_at_its_rate_and_honest_ones_at_the_false_alarm_rate():
    params = _params(detection_rate=0.05, false_positive_rate=0.01)
    honesty = _honesty()
    listed = jnp.ones((3, M), bool)
    caught = np.asarray(
        governance.detect(
            jax.random.key(0), listed, honesty, jnp.asarray([True, True, False]), params
        )
    )
    harmful = np.asarray(honesty) != HONEST
    for p in (0, 1):
        assert caught[p, harmful].mean() == pytest.approx(0.05, abs=0.005)
        assert caught[p, ~harmful].mean() == pytest.approx(0.01, abs=0.003)
    assert not caught[2].any()  # a platform not yet open punishes nobody


def test_detection_punishes_only_listings():
    params = _params(detection_rate=1.0, false_positive_rate=1.0)
    listed = jnp.asarray(np.random.default_rng(0).random((3, M)) < 0.5)
    caught = governance.detect(jax.random.key(1), listed, _honesty(), jnp.ones(3, bool), params)
    np.testing.assert_array_equal(np.asarray(caught), np.asarray(listed))


def test_a_blind_eye_catches_nobody():
    params = _params(detection_rate=0.0, false_positive_rate=0.0)
    caught = governance.detect(
        jax.random.key(2), jnp.ones((3, M), bool), _honesty(), jnp.ones(3, bool), params
    )
    assert not bool(caught.any())


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0])
def test_verification_turns_away_harmful_applicants_at_its_rate_and_never_honest_ones(rate):
    params = _params(verification_rate=rate)
    honesty = _honesty()
    applying = jnp.ones((3, M), bool)
    turned = np.asarray(governance.screened(jax.random.key(3), applying, honesty, params))
    harmful = np.asarray(honesty) != HONEST
    assert not turned[:, ~harmful].any()
    assert turned[:, harmful].mean() == pytest.approx(rate, abs=0.01)
    assert not bool(governance.screened(jax.random.key(3), ~applying, honesty, params).any())


# --------------------------------------------------------------------------- over a run

DAYS = 90
SMALL = {"market.buyers": 20_000}


def _run(**overrides):
    return cached_run("no_escrow", DAYS, seeds=2, overrides={**SMALL, **overrides})


def test_full_verification_keeps_harmful_sellers_out_from_day_zero():
    open_door = _run()
    assert (open_door.daily["harmful_sellers"] > 0).all()  # the market has harmful sellers
    screened = _run(**{"platforms.0.governance.verification_rate": 1.0}).daily
    assert (screened["harmful_sellers"] == 0).all()
    assert screened["harmful_orders"].sum() == 0 and screened["fraud_loss_cents"].sum() == 0
    # entry goes on: the screened market still admits honest newcomers
    assert screened["sellers_entered"].sum() > 0


def _forfeits(to: str):
    policy = {
        "platforms.0.governance.detection_rate": 0.05,
        "platforms.0.governance.deposit_cents": 100_000,
        "platforms.0.governance.forfeit_to": to,
    }
    run = _run(**policy)
    streams = run.flows.groupby(["seed", "stream"])["cents"].sum().unstack(fill_value=0)
    return run.daily.groupby("seed").sum(numeric_only=True), streams


def test_forfeited_deposits_kept_by_the_platform_are_its_forfeit_revenue():
    daily, streams = _forfeits("platform")
    assert (daily["deposits_forfeited_cents"] > 0).all()
    assert (daily["revenue_forfeits_cents"] == daily["deposits_forfeited_cents"]).all()
    assert (streams["forfeit_to_platform"] == daily["deposits_forfeited_cents"]).all()
    assert streams.get("forfeit_to_buyers", 0).sum() == 0
    # each forfeit is a whole deposit
    assert (daily["deposits_forfeited_cents"] % 100_000 == 0).all()


def test_forfeited_deposits_paid_to_buyers_are_no_platform_revenue():
    daily, streams = _forfeits("buyers")
    assert (daily["deposits_forfeited_cents"] > 0).all()
    assert (daily["revenue_forfeits_cents"] == 0).all()
    assert (streams["forfeit_to_buyers"] == daily["deposits_forfeited_cents"]).all()
    assert streams.get("forfeit_to_platform", 0).sum() == 0


def test_honest_sellers_lose_deposits_only_to_false_positives():
    honest = {
        "sellers.honest_share": 1.0,
        "sellers.counterfeiter_share": 0.0,
        "sellers.non_shipper_share": 0.0,
        "platforms.0.governance.deposit_cents": 100_000,
        "platforms.0.governance.detection_rate": 0.05,
    }
    clean = _run(**honest, **{"platforms.0.governance.false_positive_rate": 0.0}).daily
    assert clean["deposits_forfeited_cents"].sum() == 0
    wrong = _run(**honest, **{"platforms.0.governance.false_positive_rate": 0.01}).daily
    per_seed = wrong.groupby("seed")["deposits_forfeited_cents"].sum()
    assert (per_seed > 0).all()
    # 1% of the listings a day, within four Poisson standard deviations
    punished = per_seed / 100_000
    expected = 0.01 * wrong.groupby("seed")["active_sellers"].sum()
    assert (abs(punished - expected) < 4 * np.sqrt(expected)).all(), (punished, expected)


def test_the_governance_stage_delists_the_caught_and_forfeits_their_deposits():
    from .conftest import one_day

    policy = {
        "platforms.0.governance.detection_rate": 1.0,
        "platforms.0.governance.false_positive_rate": 0.0,
    }
    dims, params, state, after, r = one_day("no_escrow", policy)
    before = np.asarray(state.sellers.listed[0] & state.sellers.active)
    harmful = np.asarray(state.sellers.honesty) != HONEST
    punished = np.asarray(r.policing.punished[0])
    assert (punished == (before & harmful)).all() and punished.any()
    assert not (np.asarray(after.sellers.listed[0]) & harmful).any()
    forfeited = int(
        r.policing.changes.forfeit_to_buyers[0] + r.policing.changes.forfeit_to_platform[0]
    )
    deposit = int(params.platform.governance.deposit_cents[0])
    assert int(r.policing.exits[0]) == punished.sum()
    assert forfeited == punished.sum() * deposit
    assert int(r.policing.changes.deposit_returned[0]) == 0  # nobody left of their own will
