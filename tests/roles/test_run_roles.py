"""Roles from a run's ledger. On a taobao run pooled with its probe (the same scenario and
seeds with half the buyers), the ledger alone names sellers as every platform's customers
and buyers as its users, with an elasticity of sellers' per-use payments to buyer sessions
near one; the amounts shown are the base run's. The rule itself is checked on small
hand-made ledgers: who pays decides the customers, and a non-paying group is a user only
when the customers' per-use payments follow its activity, however lumpy their lump sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twosided.roles.alignment import alignment
from twosided.roles.elasticity import log_log
from twosided.roles.render import follow_text, platform_rows
from twosided.roles.run import (
    RunDataError,
    _fit,
    _periodic,
    derive_run_roles,
    platform_payments,
    probe,
    routes,
)
from twosided.sim.ledger import STREAMS

from ..conftest import cached_run

DAYS = 63
SEEDS = 2
BUYERS = 20_000


@pytest.fixture(scope="module")
def base():
    return cached_run("taobao", DAYS, SEEDS, {"market.buyers": BUYERS})


@pytest.fixture(scope="module")
def probed(base):
    return probe(base)


def test_probe_halves_the_buyers_at_the_same_seeds_and_days(base, probed):
    assert probed.scenario.market.buyers == BUYERS // 2
    assert probed.seeds == base.seeds
    assert probed.daily["day"].max() == base.daily["day"].max()


def test_taobao_sellers_are_customers_and_buyers_users_from_the_ledger(base, probed):
    roles = derive_run_roles([base, probed])
    incumbent = roles.platform(base.scenario.platforms[0].name)
    assert incumbent.customers == ("sellers",)
    assert incumbent.users == {"buyers": "follows"}
    assert incumbent.share("sellers") == pytest.approx(1.0)
    assert incumbent.share("buyers") == 0.0
    follow = incumbent.follow("sellers", "buyers")
    assert follow.elasticity.positive
    # ads are paid per click and commission per sale: both scale with buyer sessions
    assert 0.5 < follow.elasticity.estimate < 1.5
    assert follow.by_stream["ads"].positive and follow.by_stream["commission"].positive
    assert incumbent.follow("buyers", "sellers").note == "pays nothing"


def test_every_platform_is_paid_by_sellers_in_step_with_buyer_sessions(base, probed):
    roles = derive_run_roles([base, probed])
    fees = {p.name: p.fees.service_fee_cents for p in base.scenario.platforms}
    for p in roles.platforms:
        assert p.customers == ("sellers",) and p.share("buyers") == 0.0, p.platform
        assert p.users == {"buyers": "follows"}, p.platform
        follow = p.follow("sellers", "buyers")
        assert follow.elasticity.positive, (p.platform, follow.describe())
        assert 0.5 < follow.elasticity.estimate < 1.5, p.platform
        assert set(follow.per_use) == {"ads", "commission", "affiliate"}, p.platform
        assert "ads" in follow.carried_by, p.platform
        # the annual service fee is shown but is not evidence either way
        assert ("service_fee" in follow.left_out) == (fees[p.platform] > 0), p.platform


def test_amounts_are_the_base_runs_and_agree_with_its_alignment(base, probed):
    alone, pooled = derive_run_roles(base), derive_run_roles([base, probed])
    revenue = {a.platform: a.revenue_cents for a in alignment(base.daily)}
    for a, p in zip(alone.platforms, pooled.platforms, strict=True):
        assert p.paid_cents == pytest.approx(a.paid_cents), p.platform
        assert p.streams.keys() == a.streams.keys(), p.platform
        for group, streams in p.streams.items():
            assert streams == pytest.approx(a.streams[group]), (p.platform, group)
        assert p.routed_cents == pytest.approx(a.routed_cents), p.platform
        assert p.revenue_cents == pytest.approx(revenue[p.platform]), p.platform


def test_one_run_names_users_by_the_route_of_the_money_only(base):
    roles = derive_run_roles(base)
    incumbent = roles.platforms[0]
    assert incumbent.customers == ("sellers",)
    assert incumbent.users == {"buyers": "route"}
    assert incumbent.follow("sellers", "buyers").elasticity is None
    assert "one run" in incumbent.follow("sellers", "buyers").note
    assert incumbent.routed_cents[("buyers", "sellers")] > 0


def test_payments_are_the_platforms_revenue(base):
    pay = platform_payments(base.flows.assign(run=0))
    got = pay.groupby(["platform", "seed"])["cents"].sum()
    want = base.daily.groupby(["platform", "seed"])["revenue_cents"].sum()
    pd.testing.assert_series_equal(
        got.sort_index(), want.sort_index().astype(float), check_names=False
    )


def test_a_run_folder_gives_the_same_roles(base, tmp_path):
    base.daily.to_parquet(tmp_path / "daily.parquet")
    base.flows.to_parquet(tmp_path / "flows.parquet")
    from_folder = derive_run_roles(tmp_path)
    from_result = derive_run_roles(base)
    assert from_folder.platforms[0].paid_cents == pytest.approx(from_result.platforms[0].paid_cents)
    assert from_folder.platforms[0].users == from_result.platforms[0].users


def test_bad_run_input_is_one_line(tmp_path):
    with pytest.raises(RunDataError, match="not a run folder"):
        derive_run_roles(tmp_path)
    with pytest.raises(RunDataError, match="cannot be run again"):
        probe(tmp_path)


# --------------------------------------------------------------------------- hand-made ledgers

PLATFORM = "Mall"


def ledger(payments: dict[str, callable], sessions: callable, runs=(1.0, 0.5), seeds=3, days=42):
    """Daily and flows tables of a one-platform market: ``payments[stream](sessions, rng)``
    gives a stream's cents; runs differ in the scale of buyer sessions."""
    rng = np.random.default_rng(0)
    out = []
    for scale in runs:
        daily, flows = [], []
        for seed in range(seeds):
            for day in range(days):
                s = max(1, int(scale * sessions(seed, day, rng)))
                daily.append(
                    {
                        "seed": seed,
                        "day": day,
                        "platform_id": 0,
                        "platform": PLATFORM,
                        "sessions": s,
                        "active_sellers": 50,
                    }
                )
                for stream, amount in payments.items():
                    src, dst = STREAMS[stream]
                    flows.append(
                        {
                            "seed": seed,
                            "day": day,
                            "platform": PLATFORM,
                            "stream": stream,
                            "source": src,
                            "destination": dst,
                            "cents": int(amount(s, rng)),
                        }
                    )
        out.append(_Tables(pd.DataFrame(daily), pd.DataFrame(flows)))
    return out


class _Tables:
    def __init__(self, daily, flows):
        self.daily, self.flows = daily, flows


def busy(seed, day, rng):
    return 1000 * (1 + 0.1 * seed) * rng.lognormal(0, 0.05)


def test_payments_that_follow_buyers_make_them_users():
    runs = ledger(
        {
            "payment_escrow": lambda s, r: 500 * s,
            "release": lambda s, r: 500 * s,
            "ads": lambda s, r: 20 * s * r.lognormal(0, 0.1),
        },
        busy,
    )
    p = derive_run_roles(runs).platforms[0]
    assert p.customers == ("sellers",)
    assert p.users == {"buyers": "follows"}
    assert p.follow("sellers", "buyers").elasticity.estimate == pytest.approx(1.0, abs=0.1)


def test_payments_that_ignore_buyers_do_not_make_them_users():
    runs = ledger(
        {
            "payment_escrow": lambda s, r: 500 * s,
            "release": lambda s, r: 500 * s,
            "ads": lambda s, r: 20_000 * r.lognormal(0, 0.1),
        },
        busy,
    )
    p = derive_run_roles(runs).platforms[0]
    assert p.customers == ("sellers",)
    assert p.users == {}
    assert not p.follow("sellers", "buyers").elasticity.positive
    (neither,) = [row for row in platform_rows(p) if row[0] == "neither"]
    assert neither[1] == "buyers" and "elasticity" in neither[2]


def lumpy_fee(s, rng):
    """An annual fee: a large lump on a few days (when sellers list), whatever the traffic."""
    return 500_000 * (rng.random() < 0.2)


def test_lumpy_annual_fees_do_not_hide_per_use_payments_that_follow_buyers():
    runs = ledger(
        {
            "payment_escrow": lambda s, r: 500 * s,
            "release": lambda s, r: 500 * s,
            "ads": lambda s, r: 20 * s * r.lognormal(0, 0.1),
            "service_fee": lumpy_fee,
        },
        busy,
    )
    p = derive_run_roles(runs).platforms[0]
    follow = p.follow("sellers", "buyers")
    assert p.streams["sellers"]["service_fee"] > p.streams["sellers"]["ads"]
    assert p.users == {"buyers": "follows"}
    assert follow.per_use == ("ads",) and follow.left_out == ("service_fee",)
    assert follow.elasticity.estimate == pytest.approx(1.0, abs=0.1)
    # the fee on its own (and so all payments together) says nothing about buyers
    assert not follow.by_stream["service_fee"].positive
    everything = platform_payments(
        pd.concat([t.flows.assign(run=i) for i, t in enumerate(runs)], ignore_index=True)
    )
    daily = pd.concat([t.daily.assign(run=i) for i, t in enumerate(runs)], ignore_index=True)
    total = _fit(
        _periodic(everything[everything["payer"] == "sellers"], "cents", "sum", 7, 14),
        _periodic(daily, "sessions", "sum", 7, 14),
    )
    assert not total.positive
    assert "service_fee" in follow_text(follow) and "a lump sum" in follow_text(follow)


def test_a_customer_paying_only_lump_sums_leaves_users_to_the_route_of_the_money():
    runs = ledger(
        {
            "payment_escrow": lambda s, r: 500 * s,
            "release": lambda s, r: 500 * s,
            "service_fee": lumpy_fee,
        },
        busy,
    )
    p = derive_run_roles(runs).platforms[0]
    follow = p.follow("sellers", "buyers")
    assert follow.elasticity is None and follow.per_use == ()
    assert "pays only lump sums (service_fee" in follow.note
    assert p.users == {"buyers": "route"}


def test_escrow_money_paid_to_the_platform_is_the_buyers():
    # buyers' escrowed money that the platform keeps (as a fee) is a payment by buyers
    runs = ledger(
        {
            "payment_escrow": lambda s, r: 500 * s,
            "release": lambda s, r: 400 * s,
            "ads": lambda s, r: 20 * s,
        },
        busy,
    )
    for tables in runs:
        fee = tables.flows[tables.flows["stream"] == "payment_escrow"].assign(
            stream="escrow_fee",
            source="escrow",
            destination="platform",
            cents=lambda f: f["cents"] // 5,
        )
        tables.flows = pd.concat([tables.flows, fee], ignore_index=True)
    p = derive_run_roles(runs).platforms[0]
    assert set(p.customers) == {"buyers", "sellers"}
    assert p.share("buyers") > 0.5
    assert p.users == {}  # nobody left who pays little


def test_routes_trace_escrow_releases_back_to_buyers():
    runs = ledger({"payment_escrow": lambda s, r: 500 * s, "release": lambda s, r: 500 * s}, busy)
    flows = runs[0].flows.assign(run=0)
    r = routes(flows).set_index(["source", "destination"])["cents"]
    assert r[("households", "sellers")] == pytest.approx(
        flows.loc[flows["stream"] == "release", "cents"].sum()
    )


# --------------------------------------------------------------------------- estimator


def _synthetic(rng, elasticity=0.7, seeds=4, periods=10):
    """Two runs per seed (activity ×1 and ×2), a common time path, noise on both."""
    seed = np.repeat(np.arange(seeds), 2 * periods)
    period = np.tile(np.arange(periods), 2 * seeds)
    run = np.tile(np.repeat([0, 1], periods), seeds)
    x = np.exp(rng.normal(0, 0.2, len(seed)) + np.log(2.0) * run)
    y = 3.0 * x**elasticity * np.exp(rng.normal(0, 0.1, len(seed)) + 0.1 * period + 0.3 * seed)
    return y, x, seed, period, run


def test_log_log_interval_covers_the_true_elasticity_as_often_as_it_says():
    rng = np.random.default_rng(1)
    fits = [log_log(*_synthetic(rng)[:4]) for _ in range(300)]
    coverage = np.mean([f.low < 0.7 < f.high for f in fits])
    assert 0.91 < coverage < 0.99
    assert abs(np.mean([f.estimate for f in fits]) - 0.7) < 0.01


def test_an_elasticity_from_one_seed_has_no_interval():
    """The single-seed rule of twosided.statistics: NaN bounds (not ±inf), estimate alone."""
    y, x, seed, period, run = _synthetic(np.random.default_rng(3))
    mine = seed == 0
    fit = log_log(y[mine], x[mine], seed[mine], period[mine])
    assert fit is not None and fit.seeds == 1
    assert np.isnan(fit.low) and np.isnan(fit.high) and not fit.positive
    assert fit.describe() == f"{fit.estimate:.2f} (one seed: no interval)"
    several = log_log(y, x, seed, period)
    assert several.low < several.estimate < several.high and "[" in several.describe()


def test_log_log_needs_two_runs_at_a_seed():
    y, x, seed, period, run = _synthetic(np.random.default_rng(2))
    one = run == 0
    assert log_log(y[one], x[one], seed[one], period[one]) is None
    assert log_log(y, x, seed, period).seeds == 4
