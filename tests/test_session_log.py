"""The session log a researcher can estimate from (``Result.sessions``, ``Result.choices``,
``Result.session_outcomes``): every session drawn is there, offline ones included; the
platform-choice utilities logged are the ones the engine's logit used; the price term is
log(price / reference price); and the logged trust events add up to the daily table's
refunds and losses and reproduce the trust update."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import twosided
from twosided.sim import buyers as buyer_memory
from twosided.sim import shopping
from twosided.sim.params import build
from twosided.sim.state import is_open

# three platforms, one without escrow: fraud losses, refunds and counterfeits all happen
# within a short run; several sessions per buyer and day, so that the trust update sums;
# sponsored positions cost buyers a little, so that the ad load's part of the signal shows
DAYS = 16
SMALL = {
    "market.buyers": 1500,
    "market.sessions_per_buyer_per_day": 1.5,
    "platforms.1.escrow.enabled": False,
    "buyers.sponsored_disutility": 0.2,
}


@pytest.fixture(scope="module")
def run():
    return twosided.simulate(
        "taobao", days=DAYS, seeds=[3], overrides=SMALL, log_sessions=True, keep_state=True
    )


@pytest.fixture(scope="module")
def built(run):
    return build(run.scenario)


def test_offline_sessions_are_logged_and_are_the_days_sessions_no_platform_got(run, built):
    dims, _ = built
    out, daily, P = run.session_outcomes, run.daily, len(run.platforms)
    assert (out.groupby("day").size() == dims.sessions).all()  # every session drawn
    offline = (~out["online"]).groupby(out["day"]).sum()
    assert offline.min() > 0  # the case the log is about
    online_daily = daily.groupby("day")["sessions"].sum()
    assert (offline == dims.sessions - online_daily).all()
    per_platform = out[out["online"]].groupby(["day", "platform"]).size()
    expected = daily.set_index(["day", "platform"])["sessions"]
    assert (per_platform.reindex(expected.index, fill_value=0) == expected).all()
    assert out.loc[~out["online"], "platform"].isna().all()
    assert (out.loc[~out["online"], "platform_id"] == -1).all()
    assert not out.loc[~out["online"], "bought"].any()
    # the listing table holds exactly the online sessions
    listed = run.sessions.drop_duplicates(["day", "session"]).set_index(["day", "session"])
    online = out[out["online"]].set_index(["day", "session"])
    assert listed.index.sort_values().equals(online.index.sort_values())
    assert (listed["platform"] == online.loc[listed.index, "platform"]).all()
    # the choice table: every option of every session, one chosen, offline when offline
    ch = run.choices
    assert len(ch) == len(out) * (P + 1)
    assert (ch.groupby(["day", "session"])["chosen"].sum() == 1).all()
    went_offline = ch[ch["option"] == "offline"].set_index(["day", "session"])["chosen"]
    assert (went_offline == ~out.set_index(["day", "session"])["online"]).all()
    assert ch.loc[ch["chosen"], "available"].all()


def _option_arrays(ch: pd.DataFrame, P: int) -> dict[str, np.ndarray]:
    """The choice table's columns as [sessions, P + 1] arrays (rows come option by option)."""
    K = P + 1
    assert (ch["option_id"].to_numpy().reshape(-1, K) == np.arange(K)).all()
    return {c: ch[c].to_numpy().reshape(-1, K) for c in ("utility", "trust", "n_listed", "last")}


def test_the_logged_utilities_are_the_ones_the_engines_logit_used(run, built):
    """Exactly the engine's ``platform_utilities`` on the logged inputs, and its formula:
    brand + trust_weight · trust + assortment_weight · log(1 + n_listed) + switching_cost ·
    last; offline's is ``offline_utility``; an unavailable option is −inf."""
    _, params = built
    P = len(run.platforms)
    ch = run.choices
    a = _option_arrays(ch, P)
    day = ch["day"].to_numpy()[:: P + 1]
    last = np.where(a["last"][:, :P].any(axis=1), a["last"][:, :P].argmax(axis=1), -1)
    for d in np.unique(day):
        rows = day == d
        engine = shopping.platform_utilities(
            jnp.asarray(a["trust"][rows, :P]),
            jnp.asarray(a["n_listed"][rows, :P]),
            jnp.asarray(last[rows], jnp.int8),
            is_open(jnp.int32(d), params),
            params,
        )
        np.testing.assert_allclose(np.asarray(engine), a["utility"][rows], rtol=1e-6, atol=1e-6)
    b = params.buyers
    formula = (
        np.asarray(params.platform.brand)[None, :]
        + float(b.trust_weight) * a["trust"][:, :P]
        + float(b.assortment_weight) * np.log1p(a["n_listed"][:, :P])
        + float(b.switching_cost) * a["last"][:, :P]
    )
    available = np.isfinite(a["utility"])
    assert (available[:, :P] == (a["n_listed"][:, :P] > 0)).all()  # all open in taobao
    np.testing.assert_allclose(
        a["utility"][:, :P][available[:, :P]], formula[available[:, :P]], rtol=1e-5, atol=1e-5
    )
    assert (a["utility"][:, P] == np.float32(b.offline_utility)).all()
    assert a["last"][:, :P].any() and not a["last"][:, P].any()  # habit is in the data


def _logit(u: np.ndarray) -> np.ndarray:
    w = np.exp(u - u.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def _worst_z(p: np.ndarray, chosen: np.ndarray) -> float:
    """The largest |z| of the count chosen against the sum of the probabilities (a
    binomial sum's standard error), per option and per fifth of predicted probability."""

    def z(mask: np.ndarray) -> float:
        q = p[mask]
        return float((chosen[mask].sum() - q.sum()) / np.sqrt(np.sum(q * (1 - q))))

    options = [np.arange(p.shape[1])[None, :] == k for k in range(p.shape[1])]
    fifth = np.searchsorted(np.quantile(p, [0.2, 0.4, 0.6, 0.8]), p)
    masks = [np.broadcast_to(m, p.shape) for m in options] + [fifth == f for f in range(5)]
    return max(abs(z(m)) for m in masks)


def test_the_logit_on_the_logged_utilities_predicts_the_choices(run, built):
    """Closed-form logit probabilities from the logged utilities against the choices made:
    per option, and per fifth of predicted probability, the count chosen is within four
    standard errors of the sum of the probabilities; utilities without the habit term
    (what a log missing it would give) fail the same check."""
    _, params = built
    P = len(run.platforms)
    a = _option_arrays(run.choices, P)
    chosen = run.choices["chosen"].to_numpy().reshape(-1, P + 1)
    u = a["utility"].astype(np.float64)
    assert _worst_z(_logit(u), chosen) < 4
    assert _logit(u)[:, P].mean() > 0.02  # offline is chosen often enough to be estimated
    no_habit = u - float(params.buyers.switching_cost) * a["last"]
    assert _worst_z(_logit(no_habit), chosen) > 8  # the check has power


def test_the_price_term_is_log_price_over_the_categorys_reference_price(run):
    s = run.sessions
    ref = np.exp(np.asarray(run.final_states.market.log_ref_price)[0])  # [C] of seed 3
    np.testing.assert_allclose(s["ref_price_cents"], ref[s["category"]], rtol=1e-6)
    np.testing.assert_allclose(
        s["log_rel_price"], np.log(s["price_cents"] / s["ref_price_cents"]), atol=2e-5
    )
    out = run.session_outcomes
    np.testing.assert_allclose(out["ref_price_cents"], ref[out["category"]], rtol=1e-6)


def test_the_order_fates_logged_add_up_to_the_daily_tables_refunds_and_losses(run):
    """Grouped by the day they settle (the daily table counts an order then), the logged
    orders' refunds, fraud and counterfeit losses, claims and terminal states are the
    daily table's, to the cent; orders settling after the run are not in it."""
    out = run.session_outcomes
    orders = out[out["bought"]]
    assert (orders["settle_day"] > orders["day"]).all()
    settled = orders[orders["settle_day"] < DAYS].assign(
        claims=lambda f: f["claim"].astype(np.int64),
        **{
            f"orders_{state}": (lambda f, s=state: (f["order_state"] == s).astype(np.int64))
            for state in ("confirmed", "auto_confirmed", "refunded", "claim_rejected")
        },
    )
    columns = [
        "refund_cents",
        "fraud_loss_cents",
        "counterfeit_loss_cents",
        "claims",
        "orders_confirmed",
        "orders_auto_confirmed",
        "orders_refunded",
        "orders_claim_rejected",
    ]
    got = settled.groupby(["settle_day", "platform"])[columns].sum()
    got.index = got.index.set_names(["day", "platform"])
    daily = run.daily.rename(columns={"refunds_cents": "refund_cents"})
    want = daily.set_index(["day", "platform"])[columns]
    pd.testing.assert_frame_equal(
        got.reindex(want.index, fill_value=0), want, check_dtype=False, check_names=False
    )
    for column in ("refund_cents", "fraud_loss_cents", "counterfeit_loss_cents"):
        assert want[column].sum() > 0, column  # every kind of event happens
    # each event is what its flags say
    assert (orders["refunded"] == (orders["order_state"] == "refunded")).all()
    assert (orders["refund_cents"] == np.where(orders["refunded"], orders["price_cents"], 0)).all()
    assert (orders["lost_to_fraud"] == (orders["fraud_loss_cents"] > 0)).all()
    fraud = orders["seller_type"] == "non_shipper"
    assert (orders["lost_to_fraud"] == (fraud & ~orders["refunded"])).all()
    assert (orders.loc[fraud, "delivered_quality"] == 0).all()
    assert (orders["counterfeit"] == (orders["seller_type"] == "counterfeiter")).all()
    assert (orders.loc[orders["counterfeit_loss_cents"] > 0, "counterfeit"]).all()
    assert (out.loc[~out["bought"], ["refund_cents", "fraud_loss_cents"]] == 0).all().all()


def test_the_logged_events_reproduce_the_trust_signal_and_update(run, built):
    """``buyers.experience`` on the logged events gives the logged signal, and the buyers'
    trust after the last day is ``trust + rate · Σ (signal − trust)`` over each buyer's
    sessions on each platform that day."""
    _, params = built
    out = run.session_outcomes
    on = out[out["online"]]

    def col(name: str) -> jnp.ndarray:
        return jnp.asarray(on[name].to_numpy())

    signal, harm = buyer_memory.experience(
        inclusive_value=col("inclusive_value"),
        bought=col("bought"),
        overpay=col("overpay"),
        quality_gap=col("quality_gap"),
        lost_to_fraud=col("lost_to_fraud"),
        refunded=col("refunded"),
        price_sens=col("beta_price"),
        quality_sens=col("beta_quality"),
        params=params,
        ad_nuisance=col("ad_nuisance"),
    )
    assert (on["ad_nuisance"] > 0).mean() > 0.5  # pages carry sponsored slots
    np.testing.assert_allclose(np.asarray(signal), on["signal"], rtol=1e-5, atol=1e-5)
    names = np.asarray(["none", "price", "quality", "fraud"], dtype=object)
    assert (names[np.asarray(harm)] == on["harm"].to_numpy()).all()
    assert set(on["harm"]) >= {"none", "quality", "fraud"}
    # the comparison: what was seen and what it was set against give the overpayment
    cmp = on[on["compared"]]
    assert len(cmp) > 100 and cmp["compared_platform"].notna().all()
    assert (cmp["overpay"] > 0).mean() > 0.3
    assert (cmp["compared_platform"] != cmp["platform"]).all()
    overpay = np.maximum(np.log(cmp["price_considered_cents"] / cmp["price_seen_cents"]), 0)
    np.testing.assert_allclose(cmp["overpay"], overpay, rtol=1e-5, atol=1e-6)
    bought = cmp[cmp["bought"]]
    assert (bought["price_considered_cents"] == bought["price_cents"]).all()
    assert (on.loc[~on["compared"], "overpay"] == 0).all()
    # the update, on the last day (no later session moves the trust it left)
    last = on[on["day"] == DAYS - 1].assign(step=lambda f: f["signal"] - f["trust"])
    moved = last.groupby(["buyer", "platform_id"]).agg(
        trust=("trust", "first"), step=("step", "sum")
    )
    assert (last.groupby(["buyer", "platform_id"])["trust"].nunique() == 1).all()
    assert (last.groupby(["buyer", "platform_id"]).size() > 1).any()  # sums are tested
    expected = moved["trust"] + float(params.buyers.trust_learning_rate) * moved["step"]
    final = np.asarray(run.final_states.buyers.trust)[0]  # [N, P] of seed 3
    b, p = (moved.index.get_level_values(i).to_numpy() for i in (0, 1))
    np.testing.assert_allclose(final[b, p], expected, rtol=1e-5, atol=1e-5)
