"""The whom-to-save study: the policy axis, findings computed from the numbers, and the
whole study end to end at small scale."""

from __future__ import annotations

import html as html_lib
import math
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from twosided.experiments.grid import SweepError
from twosided.experiments.page import number, write_page
from twosided.experiments.whom_to_save import (
    CHART_IDS,
    MEASURES,
    Regime,
    answer_line,
    buyer_value_budget,
    changes_figure,
    competition_finding,
    fee_finding,
    horizon_finding,
    leader,
    measures_figure,
    overtaking_day,
    paired_gap,
    policy_variants,
    policy_weights,
    regime,
    regime_table,
    study_findings,
    study_html,
    users_finding,
    why_finding,
)
from twosided.scenario import Ranking

from ..report.browser import render

POLICIES = (0.0, 0.5, 1.0)
DAYS = 40
SEEDS = (0, 1, 2)


def test_policy_axis_runs_from_revenue_first_to_the_schema_default() -> None:
    default = Ranking()
    user_first = policy_weights(1.0)
    assert user_first["platforms.0.ranking.quality"] == default.quality
    assert user_first["platforms.0.ranking.price"] == default.price
    assert (
        user_first["platforms.0.ranking.commission"] == 0 == user_first["platforms.0.ranking.ads"]
    )
    revenue_first = policy_weights(0.0)
    assert (
        revenue_first["platforms.0.ranking.quality"]
        == 0
        == revenue_first["platforms.0.ranking.price"]
    )
    assert (
        revenue_first["platforms.0.ranking.commission"] > 0
        and revenue_first["platforms.0.ranking.ads"] > 0
    )
    for t in np.linspace(0, 1, 7):
        assert sum(policy_weights(t).values()) == pytest.approx(buyer_value_budget())
    variants = policy_variants(5)
    assert [v.labels["policy"] for v in variants] == [0.0, 0.25, 0.5, 0.75, 1.0]
    with pytest.raises(SweepError, match="--points 1"):
        policy_variants(1)


Daily = Callable[[float, int, int], float]  # (policy t, day, seed) -> value


def _flat(value: float) -> Daily:
    return lambda t, day, seed: value


FEE_CENTS = 50_000  # the synthetic incumbent's service fees, all charged on day 0


SESSIONS_DRAWN, SESSIONS_ONLINE = 20, 15  # a day's sessions drawn, and on the incumbent


def _fake_regime(
    name: str,
    revenue: Daily,
    scenario: str = "synthetic",
    buyers: Daily = lambda t, day, seed: 50 + 10 * t,
    sellers: Daily = _flat(20),
) -> Regime:
    """A regime from a synthetic daily table: ``revenue`` is the ads revenue in cents per
    day; the service fee (FEE_CENTS) falls on day 0 under every policy; ``buyers`` are the
    monthly active buyers (of 100)."""
    rows = [
        {
            "policy": t,
            "seed": s,
            "day": d,
            "platform_id": 0,
            "revenue_ads_cents": revenue(t, d, s),
            "revenue_commission_cents": 0,
            "revenue_affiliate_cents": 0,
            "revenue_service_fee_cents": FEE_CENTS if d == 0 else 0,
            "revenue_cents": revenue(t, d, s) + (FEE_CENTS if d == 0 else 0),
            "consumer_surplus_cents": 100 * t,
            "monthly_active_buyers": buyers(t, d, s),
            "active_sellers": sellers(t, d, s),
            "sessions": SESSIONS_ONLINE,
        }
        for t in POLICIES
        for s in SEEDS
        for d in range(DAYS)
    ]
    base = SimpleNamespace(
        name=scenario,
        market=SimpleNamespace(buyers=100),
        platforms=[None],
        sessions_per_day=SESSIONS_DRAWN,
    )
    plan = SimpleNamespace(days=DAYS, base=base, variants=POLICIES, seeds=SEEDS, sweep_id="0123")
    return regime(name, SimpleNamespace(table=pd.DataFrame(rows), plan=plan))


def _fading_greed(t: float, day: int, seed: int) -> float:
    """Revenue-first earns early and fades; user-first builds up (plus seed noise)."""
    return 10_000 * (1 - t) * math.exp(-day / 2) + 1_000 * t + 10 * seed


def _steady_greed(t: float, day: int, seed: int) -> float:
    """Revenue-first earns most on every day."""
    return 2_000 * (1 - t) + 1_000 + 10 * seed


SHORT = range(0, 10)  # the synthetic run's first quarter (days 0-9); last quarter: 30-39


def _user_first_wins_late(short_gap: Callable[[int], float]) -> Daily:
    """User-first clearly earns most in the last quarter (by 500 or 250 yuan a day, the
    same on every seed); in the first quarter revenue-first earns ``short_gap(seed)``
    cents more in total than the others."""

    def revenue(t: float, day: int, seed: int) -> float:
        base = 10_000 + 1_000 * seed
        if day in SHORT:
            return base + (short_gap(seed) / len(SHORT) if t == 0 else 0)
        return base + 50_000 * t * (day >= 20)

    return revenue


NOISY_GAP = {0: 96_200, 1: -90_100, 2: 100_800}.__getitem__  # +962, -901, +1,008 yuan
REAL_GAP = {0: 96_200, 1: 90_100, 2: 100_800}.__getitem__


def test_session_shares_count_every_session_drawn_offline_or_online() -> None:
    reg = _fake_regime("with rivals", _fading_greed)
    # 15 of the 20 sessions drawn a day reach the incumbent, the only platform: 5 stay offline
    assert reg.seeds["session_share"].tolist() == pytest.approx([0.75] * len(reg.seeds))
    assert reg.seeds["offline_share"].tolist() == pytest.approx([0.25] * len(reg.seeds))
    assert {"session_share", "offline_share"} <= {m.key for m in MEASURES}


def test_findings_follow_the_numbers() -> None:
    rivals = _fake_regime("with rivals", _fading_greed)
    alone = _fake_regime("without rivals", _steady_greed)

    text = horizon_finding(rivals)
    assert "in the first quarter (days 0-9) is highest under revenue-first ranking (t = 0)" in text
    assert "in the last quarter (days 30-39) it is highest under user-first ranking (t = 1)" in text
    assert "The answer changes with the horizon" in text
    day = overtaking_day(rivals, 0.0, 1.0)
    cum = np.cumsum([[_fading_greed(t, d, 0) for d in range(DAYS)] for t in (0.0, 1.0)], axis=1)
    ahead = cum[1] > cum[0]
    assert day is not None and 0 < day < DAYS - 1
    assert ahead[day:].all() and not ahead[day - 1]
    assert f"overtakes for good on day {day}" in text

    text = horizon_finding(alone)
    assert "The same policy leads clearly at both horizons" in text
    assert "next best, the blend t = 0.5" in text

    both = competition_finding([rivals, alone])
    assert "long-run revenue the answer depends on competition" in both
    assert "user-first ranking (t = 1) with rivals" in both
    assert "revenue-first ranking (t = 0) without rivals" in both
    # the study's question, at the two ends of the axis
    assert (
        "between revenue-first and user-first, for long-run revenue with rivals user-first "
        "ranking earns more" in both
    )
    assert "without rivals revenue-first ranking earns more" in both
    assert "competition reverses the answer" in both


def test_a_short_run_gap_within_seed_noise_is_no_change_with_the_horizon() -> None:
    """The reviewer's case: first-quarter gaps of +962, -901 and +1,008 yuan on three seeds."""
    reg = _fake_regime("with rivals", _user_first_wins_late(NOISY_GAP))
    gap = paired_gap(reg, "revenue_first_quarter", 0.0, 1.0)
    assert gap.mean == pytest.approx((962 - 901 + 1008) / 3)
    assert gap.lo < 0 < gap.hi and not gap.clear
    first_quarter = leader(reg, "revenue_first_quarter")
    assert first_quarter.best == 0.0 and not first_quarter.clear  # highest mean, but noise

    text = horizon_finding(reg)
    assert "first quarter (days 0-9) shows no clear difference" in text
    assert "its highest mean is under revenue-first ranking (t = 0)" in text
    assert "an interval that includes zero" in text
    assert "The answer changes with the horizon" not in text
    assert "do not show that the answer changes with the horizon" in text
    # the long run is clear all the same
    assert "last quarter (days 30-39) it is highest under user-first ranking (t = 1)" in text


def test_a_short_run_gap_beyond_seed_noise_is_a_change_with_the_horizon() -> None:
    reg = _fake_regime("with rivals", _user_first_wins_late(REAL_GAP))
    assert leader(reg, "revenue_first_quarter").clear
    text = horizon_finding(reg)
    assert "first quarter (days 0-9) is highest under revenue-first ranking (t = 0)" in text
    assert "The answer changes with the horizon" in text


def test_a_leader_must_be_clear_of_every_other_policy() -> None:
    """Clear of the runner-up is not enough: a policy further behind on average but noisier
    may not be told apart from the leader."""

    def revenue(t: float, day: int, seed: int) -> float:
        if t == 0.5:
            return 9_000  # second mean, every seed the same: clearly behind
        if t == 0.0:
            return 8_000 + 3_000 * (seed - 1)  # lowest mean, but noisy
        return 10_000

    lead = leader(_fake_regime("w", revenue), "revenue_long_run")
    assert lead.best == 1.0 and lead.gaps[0].b == 0.5 and lead.gaps[0].clear
    assert not lead.clear and [g.b for g in lead.tied] == [0.0]


SPREAD = (7, 10, 13)  # a paired gap of 10 ± 3 over three seeds: p = 0.029 alone


def test_a_leader_clear_of_each_policy_alone_is_not_clear_of_both_after_holm() -> None:
    """Naming a best of three policies is two comparisons: each gap, clear alone (p = 0.029),
    is not clear once Holm's correction doubles the smaller p-value (0.058 > 0.05)."""

    def revenue(t: float, day: int, seed: int) -> float:
        return 100_000 - {1.0: 0, 0.5: 1_000, 0.0: 1_100}[t] * SPREAD[seed]

    reg = _fake_regime("with rivals", revenue)
    alone = [paired_gap(reg, "revenue_long_run", 1.0, b) for b in (0.5, 0.0)]
    assert all(g.clear and g.lo > 0 and g.family == 1 for g in alone)
    assert alone[0].p == pytest.approx(alone[1].p) and 0.025 < alone[0].p < 0.05
    lead = leader(reg, "revenue_long_run")
    assert lead.best == 1.0 and not lead.clear
    assert [g.family for g in lead.gaps] == [2, 2]
    assert [g.p_adjusted for g in lead.gaps] == pytest.approx([2 * alone[0].p] * 2)
    text = horizon_finding(reg)
    assert "in the last quarter (days 30-39) it shows no clear difference" in text
    assert "clear alone, but not after Holm's correction for 2 comparisons" in text
    assert f"Holm-adjusted p = {2 * alone[0].p:.3f} over 2 comparisons" in text


def test_the_users_finding_judges_its_three_outcomes_as_one_family() -> None:
    """Buyer share moves by 10 ± 3 points over three seeds: clear alone, not among the
    finding's three outcomes (Holm); consumer surplus, the same gap on every seed, stays
    clear."""
    buyers = lambda t, day, seed: 50 + t * SPREAD[seed]  # noqa: E731
    reg = _fake_regime("with rivals", _steady_greed, buyers=buyers)
    share = paired_gap(reg, "buyer_share", 1.0, 0.0)
    assert share.clear and share.family == 1
    text = users_finding(reg)
    assert "buyer share 50.0% → 60.0% (no clear difference: +10.0 points" in text
    assert f"Holm-adjusted p = {2 * share.p:.3f} over 3 comparisons" in text
    assert "consumer surplus of the incumbent's buyers 0 → 10 yuan (+10 yuan" in text
    assert "over 4 comparisons" in why_finding(reg)  # the why finding: a family of four


def _losing_buyers(t: float, day: int, seed: int) -> float:
    """Revenue-first's buyers drift away from 80 to 50 (of 100); user-first's stay at 80."""
    return 80 - 30 * (1 - t) * day / (DAYS - 1) + seed


def test_why_with_rivals_weighs_buyers_lost_against_revenue_per_buyer() -> None:
    # revenue-first earns 2 yuan a buyer a day against 1.5, but on fewer buyers
    def revenue(t: float, day: int, seed: int) -> float:
        return _losing_buyers(t, day, seed) * (200 - 50 * t)

    sellers = lambda t, day, seed: 30 - 10 * (1 - t) * day / DAYS + seed  # noqa: E731
    reg = _fake_regime("with rivals", revenue, buyers=_losing_buyers, sellers=sellers)
    row = reg.summary.set_index("policy")
    text = why_finding(reg)
    share_q, share_l = row.loc[0.0, "buyer_share_first_quarter"], row.loc[0.0, "buyer_share"]
    assert share_l < share_q
    assert (
        f"buyer share {share_q:.1%} in the first quarter → {share_l:.1%} in the last quarter"
        in text
    )
    assert "Revenue-first loses buyers (" in text and "and sellers (" in text
    assert "earns more per buyer" in text
    assert "does not make up for the buyers it loses" in text
    assert "its last quarter revenue is" in text and "lower" in text

    text = users_finding(reg)
    assert (
        "buyer share " + f"{row.loc[0.0, 'buyer_share']:.1%} → {row.loc[1.0, 'buyer_share']:.1%}"
        in text
    )
    assert "no clear difference" not in text.split(";")[0]


def test_why_without_rivals_keeps_the_buyers_and_the_extra_revenue() -> None:
    def buyers(t: float, day: int, seed: int) -> float:
        return 99.7 + 0.1 * ((seed + round(4 * t)) % 3 - 1)  # noise, not the policy

    def revenue(t: float, day: int, seed: int) -> float:
        return buyers(t, day, seed) * (200 - 50 * t)

    reg = _fake_regime("without rivals", revenue, buyers=buyers)
    text = why_finding(reg)
    assert "Revenue-first keeps as many buyers (no clear difference in buyer share" in text
    assert "so it keeps its buyers and its extra ad and commission revenue" in text
    assert "its last quarter revenue is" in text and "higher" in text
    assert "buyer share 99.7% → 99.7% (no clear difference" in users_finding(reg)


def test_the_service_fee_is_reported_apart_from_what_the_ranking_moves() -> None:
    reg = _fake_regime("with rivals", _steady_greed)
    row = reg.summary.set_index("policy")
    assert row.loc[0.0, "service_fee_day0"] == FEE_CENTS / 100
    assert row.loc[0.0, "revenue_first_quarter"] == pytest.approx(
        row.loc[0.0, "revenue_first_quarter_ranked"] + FEE_CENTS / 100
    )
    text = fee_finding(reg)
    share = FEE_CENTS / 100 / row.loc[0.0, "revenue_first_quarter"]
    assert "lump sum" in text and "on day 0" in text and "500 yuan under every policy" in text
    assert f"It is {share:.1%} of the incumbent's revenue in the first quarter" in text
    assert "the ranking does not clearly move it" in text
    ranked = number(row.loc[0.0, "revenue_first_quarter_ranked"])
    assert (
        "(ads, commission and affiliate) is highest under revenue-first ranking (t = 0) "
        f"({ranked} yuan)" in text
    )


def test_competition_changes_the_answer_only_when_both_worlds_are_clear() -> None:
    noisy = _fake_regime("with rivals", _user_first_wins_late(NOISY_GAP))
    alone = _fake_regime("without rivals", _steady_greed)
    text = competition_finding([noisy, alone])
    assert "long-run revenue the answer depends on competition" in text  # both clear

    def noise(t: float, day: int, seed: int) -> float:
        """User-first has the highest mean by 50 cents a day, within seed noise."""
        return 10_000 + 1_000 * ((seed + round(2 * t)) % 3) + 50 * t

    text = competition_finding([_fake_regime("with rivals", noise), alone])
    assert "depends on competition" not in text
    assert "do not show that competition changes which point of the axis is best" in text
    assert "with rivals neither end clearly earns more" in text
    assert "these seeds do not show whether competition reverses it" in text
    assert "competition reverses the answer" not in text


def test_report_escapes_scenario_names() -> None:
    evil = "<img src=x onerror=alert(1)>"
    regimes = [
        _fake_regime("with rivals", _fading_greed, evil),
        _fake_regime("without rivals", _steady_greed),
    ]
    findings = study_findings(regimes)
    assert any(evil in f for f in findings)  # plain text...
    html = study_html(regimes, findings)
    assert (
        "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    )  # ...escaped on the page


def test_report_links_the_optimizer_results_of_its_scenarios(tmp_path: Path) -> None:
    from twosided.strategy import saved

    regimes = [
        _fake_regime("with rivals", _fading_greed),
        _fake_regime("without rivals", _steady_greed),
    ]
    findings = study_findings(regimes)
    assert "Optimized policies" not in study_html(regimes, findings)
    result = {"equilibrium": {"platforms": ["A", "<B>"], "converged": False}}
    kept = saved.save(tmp_path, "taobao", {}, result)
    folder = tmp_path / "studies" / "whom-to-save-x"
    html = study_html(regimes, findings, saved.find(tmp_path, {"taobao"}), folder)
    assert "Optimized policies" in html
    assert f'href="../../optimizations/{kept.name}"' in html
    assert "best responses between A, &lt;B&gt;: did not converge" in html


def test_report_draws_its_charts_in_a_browser(tmp_path: Path) -> None:
    regimes = [
        _fake_regime("with rivals", _fading_greed),
        _fake_regime("without rivals", _steady_greed),
    ]
    findings = study_findings(regimes)
    path = write_page(tmp_path / "study.html", study_html(regimes, findings))
    rendered = render(path, tmp_path, list(CHART_IDS))
    assert rendered.errors == []
    assert set(rendered.charts) == set(CHART_IDS)
    measures, changes, cumulative = (rendered.charts[i] for i in CHART_IDS)
    assert measures["traces"] >= len(MEASURES) * len(regimes)
    assert changes["traces"] >= len(MEASURES) * len(regimes)
    assert cumulative["traces"] >= len(POLICIES) * len(regimes)
    for finding in findings:
        assert html_lib.escape(finding, quote=False) in rendered.dom  # shown as text
    dom = rendered.dom
    answer = html_lib.escape(answer_line(regimes), quote=False)
    assert dom.index(answer) < dom.index(html_lib.escape(findings[0], quote=False))
    assert "annual service fee is then refunded" in dom  # the cumulative dip, explained


def test_charts_draw_paired_changes_and_keep_bounds() -> None:
    regimes = [
        _fake_regime("with rivals", _fading_greed),
        _fake_regime("without rivals", _steady_greed),
    ]
    levels_fig, changes_fig = measures_figure(regimes), changes_figure(regimes)
    share = [m.key for m in MEASURES].index("buyer_share") + 1
    axis = f"yaxis{share if share > 1 else ''}"
    assert levels_fig.layout[axis].tickformat == ".0%"
    assert levels_fig.layout[axis].range[1] <= 1.0
    assert changes_fig.layout[axis].tickformat == "+.1%"
    xaxis = levels_fig.layout["xaxis"]
    assert list(xaxis.tickvals) == sorted(POLICIES)  # ticks at the policies only
    for trace in levels_fig.data:  # no level's interval below zero
        low = np.asarray(trace.y, dtype=float) - np.asarray(trace.error_y.arrayminus)
        assert (low >= -1e-9).all()
    # the change of revenue-first from itself is zero, with no interval
    first = changes_fig.data[0]
    assert first.y[0] == 0 and first.error_y.array[0] == 0
    assert "earns most" in answer_line(regimes)
    table = regime_table(regimes[0])
    assert re.search(r"\d+\.\d%", table)  # buyer share in percent
