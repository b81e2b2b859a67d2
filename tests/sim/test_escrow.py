"""Escrow, fraud, disputes and governance promise: every order ends in exactly one terminal
state; held escrow is exactly the money of orders in flight; escrow with buyer-first claims
leaves buyers no fraud losses while sellers carry false claims; without escrow buyers carry
fraud losses; stricter governance sends fewer orders to harmful sellers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import escrow
from twosided.sim.params import build
from twosided.sim.state import COUNTERFEITER, HONEST, NON_SHIPPER, ORDER_FIELDS, TERMINAL_STATES

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
        u,
        honesty,
        platform,
        jnp.zeros(n, jnp.int32),
        jnp.full(n, 5000, jnp.int64),
        jnp.full(n, 0.85),
        jnp.where(honesty == HONEST, 0.85, 0.1),
        params,
    )
    book = np.asarray(fate.book.stack())
    assert (book[:, : len(TERMINAL_STATES)].sum(axis=1) == 1).all()
    delay = np.asarray(fate.delay)
    assert delay.min() >= 0 and delay.max() < build(load_scenario("taobao"))[0].horizon
    # money of an order goes exactly one way: released to the seller or refunded
    escrowed = np.asarray(params.platform.escrow.enabled)[np.asarray(platform)]
    released, refunded = np.asarray(fate.book.release_cents), np.asarray(fate.book.refund_cents)
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


# ------------------------------------------------------------------ order_fates in closed form

N_ORDERS = 60_000  # binomial shares below are within 0.01 at this size (about 4 sigma)
PRICE = 5000
_order_fates = jax.jit(escrow.order_fates)  # one compile serves every policy below


def _fates(
    policy: dict, honesty_type: int, n: int = N_ORDERS, seed: int = 1
) -> dict[str, np.ndarray]:
    """The paths of ``n`` orders of one honesty type on the one platform of ``no_escrow``
    with its escrow section (enabled, dispute_policy, ...) changed as ``policy`` says."""
    scenario = apply_overrides(
        load_scenario("no_escrow"), {f"platforms.0.escrow.{k}": v for k, v in policy.items()}
    )
    _, params = build(scenario)
    u = jax.random.uniform(jax.random.key(seed), (n, 5))
    honesty = jnp.full(n, honesty_type, jnp.int8)
    delivered = 0.85 if honesty_type == HONEST else (0.15 if honesty_type == COUNTERFEITER else 0.0)
    fate = _order_fates(
        u,
        honesty,
        jnp.zeros(n, jnp.int32),
        jnp.zeros(n, jnp.int32),
        jnp.full(n, PRICE, jnp.int64),
        jnp.full(n, 0.85),
        jnp.full(n, delivered),
        params,
    )
    out = {name: np.asarray(getattr(fate.book, name)) for name in ORDER_FIELDS}
    out["params"] = params
    return out


def _rate(x: np.ndarray) -> float:
    return float(np.mean(x))


EVIDENCE = {"enabled": True, "dispute_policy": "evidence"}


def test_perfect_evidence_rejects_exactly_the_false_claims():
    # honest sellers: every claim is false, and a perfect judge rejects every one of them
    honest = _fates({**EVIDENCE, "evidence_accuracy": 1.0}, HONEST)
    assert honest["claims"].sum() > 0
    assert (honest["false_claims"] == honest["claims"]).all()
    assert (honest["claim_rejected"] == honest["claims"]).all()
    assert honest["refunded"].sum() == 0 and honest["seller_loss_cents"].sum() == 0
    # non-shippers: every claim is valid (escrow files one for every missing parcel) and upheld
    fraud = _fates({**EVIDENCE, "evidence_accuracy": 1.0}, NON_SHIPPER)
    assert (fraud["claims"] == 1).all() and (fraud["refunded"] == 1).all()
    assert fraud["false_claims"].sum() == 0 and fraud["fraud_loss_cents"].sum() == 0


@pytest.mark.parametrize("accuracy", [0.9, 0.6])
def test_evidence_errors_uphold_false_claims_and_reject_true_ones_at_one_minus_accuracy(accuracy):
    policy = {**EVIDENCE, "evidence_accuracy": accuracy}
    honest = _fates(policy, HONEST)
    false_claim_rate = float(honest["params"].buyers.false_claim_rate)
    claims = honest["claims"] == 1
    assert _rate(claims) == pytest.approx(false_claim_rate, abs=0.003)
    # a false claim is upheld (the seller pays) with the judge's error rate
    assert _rate(honest["refunded"][claims]) == pytest.approx(1 - accuracy, abs=0.04)
    assert (honest["seller_loss_cents"] == honest["refunded"] * PRICE).all()
    # every missing parcel becomes a claim under escrow; the judge wrongly rejects 1 - accuracy
    # of them and the buyer loses the price
    fraud = _fates(policy, NON_SHIPPER)
    assert _rate(fraud["claim_rejected"]) == pytest.approx(1 - accuracy, abs=0.01)
    assert _rate(fraud["fraud_loss_cents"]) == pytest.approx((1 - accuracy) * PRICE, rel=0.05)
    assert (fraud["fraud_loss_cents"] == fraud["claim_rejected"] * PRICE).all()


def test_lower_evidence_accuracy_costs_buyers_and_honest_sellers_more():
    def losses(accuracy: float) -> tuple[int, int]:
        policy = {**EVIDENCE, "evidence_accuracy": accuracy}
        return (
            _fates(policy, NON_SHIPPER)["fraud_loss_cents"].sum(),
            _fates(policy, HONEST)["seller_loss_cents"].sum(),
        )

    fraud, seller = zip(*(losses(a) for a in (1.0, 0.9, 0.7, 0.5)))
    assert fraud[0] == 0 and seller[0] == 0
    assert list(fraud) == sorted(fraud) and len(set(fraud)) == 4, fraud
    assert list(seller) == sorted(seller) and len(set(seller)) == 4, seller


def test_buyer_first_upholds_every_claim_whatever_the_accuracy():
    honest = _fates(
        {"enabled": True, "dispute_policy": "buyer_first", "evidence_accuracy": 0.0}, HONEST
    )
    assert (honest["refunded"] == honest["claims"]).all() and honest["claims"].sum() > 0
    assert (honest["seller_loss_cents"] == honest["claims"] * PRICE).all()


@pytest.mark.parametrize("recovery", [0.0, 0.1, 0.5, 1.0])
def test_without_escrow_buyers_recover_a_non_shippers_take_only_at_the_recovery_rate(recovery):
    fraud = _fates({"enabled": False, "recovery_rate": recovery}, NON_SHIPPER)
    p = fraud["params"]
    claim = float(p.buyers.claim_if_not_delivered)
    # no tracking record forces a claim: the buyer claims with its own chance, and the
    # seller is made to pay back with the recovery rate
    assert _rate(fraud["claims"]) == pytest.approx(claim, abs=0.01)
    assert _rate(fraud["refunded"]) == pytest.approx(claim * recovery, abs=0.01)
    assert _rate(fraud["fraud_loss_cents"]) == pytest.approx(
        (1 - claim * recovery) * PRICE, abs=0.01 * PRICE
    )
    assert (fraud["fraud_loss_cents"] + fraud["refund_cents"] == PRICE).all()
    # nothing is held: the seller was paid at once, a refund comes back from the seller
    assert fraud["release_cents"].sum() == 0
    assert (fraud["refund_cents"] == fraud["refunded"] * PRICE).all()
    # a parcel that never came is never confirmed by its buyer
    assert fraud["confirmed"].sum() == 0


def test_without_escrow_every_order_still_ends_in_exactly_one_terminal_state():
    for honesty_type in (HONEST, COUNTERFEITER, NON_SHIPPER):
        f = _fates({"enabled": False, "recovery_rate": 0.3}, honesty_type, n=20_000)
        terminal = sum(f[name] for name in TERMINAL_STATES)
        assert (terminal == 1).all()
        # a claim ends refunded or rejected; an order without a claim is confirmed either way
        assert ((f["refunded"] + f["claim_rejected"]) == f["claims"]).all()
        assert f["release_cents"].sum() == 0


def test_without_escrow_false_claims_cost_honest_sellers_only_what_is_recovered():
    honest = _fates({"enabled": False, "recovery_rate": 0.5}, HONEST)
    claims = honest["claims"] == 1
    assert _rate(claims) == pytest.approx(
        float(honest["params"].buyers.false_claim_rate), abs=0.003
    )
    assert _rate(honest["refunded"][claims]) == pytest.approx(0.5, abs=0.05)
    assert (honest["seller_loss_cents"] == honest["refunded"] * PRICE).all()


def test_book_orders_adds_each_placed_order_at_its_terminal_day_and_nothing_else():
    """The book gains exactly the rows of placed orders, each at (day + delay) % horizon
    and its platform, on top of what it held; sessions without an order add nothing even
    though their fields are not zero."""
    H, P, F, n = 5, 3, len(ORDER_FIELDS), 400
    rng = np.random.default_rng(0)
    before = rng.integers(0, 1000, (H, P, F))
    rows = rng.integers(1, 10**9, (n, F))  # no zero fields: unplaced rows must not leak
    platform = rng.integers(0, P, n)
    delay = rng.integers(0, 12, n)
    placed = rng.random(n) < 0.5
    day = 7
    with jax.enable_x64(True):
        book = escrow.OrderRow.of(jnp.asarray(rows, jnp.int64))
        got = escrow.book_orders(
            jnp.asarray(before, jnp.int64),
            jnp.asarray(day, jnp.int32),
            jnp.asarray(platform, jnp.int32),
            jnp.asarray(delay, jnp.int32),
            book,
            jnp.asarray(placed),
        )
        got = np.asarray(got)
    want = before.copy()
    for i in np.flatnonzero(placed):
        want[(day + delay[i]) % H, platform[i]] += rows[i]
    assert got.dtype == np.int64
    assert (got == want).all()
