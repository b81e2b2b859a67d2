"""Money: every cent moves through the double-entry ledger. Over a 90-day run of every
preset the sum of all balances never changes (exactly), balances that must stay
non-negative do, the balances move exactly by the posted flows, and the revenue the daily
table reports is the ledger's own flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import twosided
from twosided.sim import ledger

from ..conftest import cached_run

PRESETS = twosided.preset_names()
DAYS = 90


# taobao with every money stream moving: one platform without escrow (direct payment,
# refunds from sellers), evidence disputes that reject true claims (buyers' fraud losses),
# strict detection with false positives (forfeits, to buyers and to a platform); JD, the
# platform without escrow, screens nobody at entry, so that non-shippers list there and its
# buyers' fraud losses do not hang on whether one of its few unscreened sellers is one
AUDITED = {
    "market.buyers": 20_000,
    "platforms.0.governance.false_positive_rate": 0.01,
    "platforms.1.governance.detection_rate": 0.05,
    "platforms.1.governance.forfeit_to": "platform",
    "platforms.2.escrow.enabled": False,
    "platforms.2.escrow.recovery_rate": 0.5,
    "platforms.2.governance.verification_rate": 0.0,
}
RUNS = {**{name: (name, None) for name in PRESETS}, "audited": ("taobao", AUDITED)}


@pytest.fixture(scope="module", params=list(RUNS))
def preset_run(request) -> twosided.Result:
    name, overrides = RUNS[request.param]
    return cached_run(name, DAYS, seeds=2, overrides=overrides)


def test_post_moves_each_amount_from_source_to_destination():
    flows = ledger.add(ledger.zero_flows(2), "commission", np.array([7, 11]))
    balances = ledger.post(np.zeros(ledger.n_accounts(2), np.int64), flows)
    names = ledger.account_names(["A", "B"])
    got = dict(zip(names, np.asarray(balances).tolist()))
    assert got["sellers"] == -18 and got["platform:A"] == 7 and got["platform:B"] == 11
    assert sum(got.values()) == 0


def test_total_money_never_changes(preset_run):
    acc = preset_run.accounts
    totals = acc.groupby(["seed", "day"])["balance_cents"].sum()
    assert totals.dtype == np.int64
    assert (totals == 0).all(), totals[totals != 0].head()
    assert acc["day"].nunique() == DAYS


def test_balances_that_must_stay_non_negative_do(preset_run):
    acc = preset_run.accounts
    kinds = acc["account"].str.split(":").str[0]
    must = acc[kinds.isin(["escrow", "deposits", "platform", "suppliers", "affiliates"])]
    assert (must["balance_cents"] >= 0).all(), must[must["balance_cents"] < 0].head()


def test_balances_move_exactly_by_the_posted_flows(preset_run):
    acc = preset_run.accounts.pivot_table(
        index=["seed", "day"], columns="account", values="balance_cents", aggfunc="sum"
    )
    flows = preset_run.flows.copy()
    names = preset_run.platforms

    def account(kind: str, platform: str) -> str:
        return kind if kind in ledger.FIXED_ACCOUNTS else f"{kind}:{platform}"

    flows["src"] = [account(k, p) for k, p in zip(flows["source"], flows["platform"])]
    flows["dst"] = [account(k, p) for k, p in zip(flows["destination"], flows["platform"])]
    out = flows.groupby(["seed", "day", "src"])["cents"].sum().unstack(fill_value=0)
    inc = flows.groupby(["seed", "day", "dst"])["cents"].sum().unstack(fill_value=0)
    net = inc.sub(out, fill_value=0).reindex(columns=acc.columns, fill_value=0)
    change = acc.groupby(level="seed").diff().dropna()
    assert (change.astype(np.int64) == net.loc[change.index].astype(np.int64)).all().all()
    assert len(names) >= 1


def test_daily_revenue_is_the_ledgers_flows(preset_run):
    flows = preset_run.flows.pivot_table(
        index=["seed", "day", "platform"], columns="stream", values="cents", aggfunc="sum"
    )
    daily = preset_run.daily.set_index(["seed", "day", "platform"]).loc[flows.index]
    expected = {
        "revenue_ads_cents": flows["ads"],
        "revenue_commission_cents": flows["commission"],
        "revenue_service_fee_cents": flows["service_fee"] - flows["service_fee_refund"],
        "revenue_affiliate_cents": flows["affiliate_platform"],
        "revenue_forfeits_cents": flows["forfeit_to_platform"],
    }
    total = sum(expected.values())
    for column, values in expected.items():
        assert (daily[column].to_numpy() == values.to_numpy()).all(), column
    assert (daily["revenue_cents"].to_numpy() == total.to_numpy()).all()
    # and the platform's cash account holds exactly its cumulative revenue
    acc = preset_run.accounts
    for name in preset_run.platforms:
        cash = acc[acc["account"] == f"platform:{name}"].set_index(["seed", "day"])["balance_cents"]
        cum = (
            preset_run.daily[preset_run.daily["platform"] == name]
            .set_index(["seed", "day"])["revenue_cents"]
            .groupby(level="seed")
            .cumsum()
        )
        pd.testing.assert_series_equal(cash.loc[cum.index], cum, check_names=False)


def test_money_actually_moves(preset_run):
    d = preset_run.daily
    assert d["gmv_cents"].sum() > 0 and d["revenue_cents"].sum() > 0
    assert d["orders"].sum() > 0


def test_every_stream_moves_in_the_audited_run():
    run = cached_run("taobao", DAYS, seeds=2, overrides=AUDITED)
    moved = run.flows.groupby(["seed", "stream"])["cents"].sum().unstack(fill_value=0)
    moved = moved.reindex(columns=list(ledger.STREAMS), fill_value=0)
    # the fee year ends on day 364, after this run: only then are service fees refunded
    expected = [s for s in ledger.STREAMS if s != "service_fee_refund"]
    assert (moved[expected] > 0).all().all(), moved[expected].T
    totals = run.daily.groupby(["seed", "platform"]).sum(numeric_only=True)
    for column in (
        "refunds_cents",
        "claims",
        "false_claims",
        "deposits_forfeited_cents",
        "sellers_entered",
        "sellers_exited",
    ):
        assert (totals[column] > 0).all(), column
    # buyers lose money to fraud where claims can fail (evidence disputes, no escrow), and
    # not under escrow with buyer-first claims
    fraud = totals["fraud_loss_cents"]
    assert (fraud.xs(run.platforms[0], level="platform") > 0).all()
    assert (fraud.xs(run.platforms[1], level="platform") == 0).all()
    assert fraud.xs(run.platforms[2], level="platform").sum() > 0
    # the platform that keeps forfeits earns them; the others pay them to buyers
    kept = totals.xs(run.platforms[1], level="platform")
    assert (kept["revenue_forfeits_cents"] == kept["deposits_forfeited_cents"]).all()
    for name in (run.platforms[0], run.platforms[2]):
        assert (totals.xs(name, level="platform")["revenue_forfeits_cents"] == 0).all()


def test_the_ledger_stage_posts_the_stage_records_and_keeps_every_cent():
    from .conftest import one_day

    dims, params, state, after, r = one_day("taobao")
    moved = np.asarray(after.balances) - np.asarray(state.balances)
    np.testing.assert_array_equal(
        moved, np.asarray(ledger.post(np.zeros_like(state.balances), r.flows))
    )
    assert moved.sum() == 0
    assert int(
        r.flows[ledger.S["payment_escrow"]].sum() + r.flows[ledger.S["payment_direct"]].sum()
    ) == int(np.asarray(r.session.price).sum())
