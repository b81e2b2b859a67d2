"""The whom-to-save study: the policy axis, findings computed from the numbers, and the
whole study end to end at small scale."""

from __future__ import annotations

import html as html_lib
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from twosided.experiments.grid import SweepError
from twosided.experiments.page import write_page
from twosided.experiments.whom_to_save import (
    CHART_IDS,
    MEASURES,
    Regime,
    study_findings,
    study_html,
    buyer_value_budget,
    competition_finding,
    horizon_finding,
    overtaking_day,
    policy_variants,
    policy_weights,
    regime,
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


def _fake_regime(name: str, revenue: callable, scenario: str = "synthetic") -> Regime:
    """A regime from a synthetic daily table: revenue(t, day, seed) in cents per day."""
    rows = [
        {
            "policy": t,
            "seed": s,
            "day": d,
            "platform_id": 0,
            "revenue_cents": revenue(t, d, s),
            "consumer_surplus_cents": 100 * t,
            "monthly_active_buyers": 50 + 10 * t,
            "active_sellers": 20,
        }
        for t in POLICIES
        for s in SEEDS
        for d in range(DAYS)
    ]
    base = SimpleNamespace(name=scenario, market=SimpleNamespace(buyers=100), platforms=[None])
    plan = SimpleNamespace(days=DAYS, base=base, variants=POLICIES, seeds=SEEDS, sweep_id="0123")
    return regime(name, SimpleNamespace(table=pd.DataFrame(rows), plan=plan))


def _fading_greed(t: float, day: int, seed: int) -> float:
    """Revenue-first earns early and fades; user-first builds up (plus seed noise)."""
    return 10_000 * (1 - t) * math.exp(-day / 2) + 1_000 * t + 10 * seed


def _steady_greed(t: float, day: int, seed: int) -> float:
    """Revenue-first earns most on every day."""
    return 2_000 * (1 - t) + 1_000 + 10 * seed


def test_findings_follow_the_numbers() -> None:
    rivals = _fake_regime("with rivals", _fading_greed)
    alone = _fake_regime("without rivals", _steady_greed)

    text = horizon_finding(rivals)
    assert "in the first quarter (days 0-9) is highest under revenue-first ranking (t = 0)" in text
    assert "in the last quarter (days 30-39) under user-first ranking (t = 1)" in text
    assert "The answer changes with the horizon" in text and "larger than seed noise" in text
    day = overtaking_day(rivals, 0.0, 1.0)
    cum = np.cumsum([[_fading_greed(t, d, 0) for d in range(DAYS)] for t in (0.0, 1.0)], axis=1)
    ahead = cum[1] > cum[0]
    assert day is not None and 0 < day < DAYS - 1
    assert ahead[day:].all() and not ahead[day - 1]
    assert f"overtakes for good on day {day}" in text

    text = horizon_finding(alone)
    assert "The same policy leads at both horizons" in text
    assert "next best, the blend t = 0.5" in text

    both = competition_finding([rivals, alone])
    assert "long-run revenue the answer depends on competition" in both
    assert "user-first ranking (t = 1) with rivals" in both
    assert "revenue-first ranking (t = 0) without rivals" in both


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
    measures, cumulative = (rendered.charts[i] for i in CHART_IDS)
    assert measures["traces"] >= len(MEASURES) * len(regimes)
    assert cumulative["traces"] >= len(POLICIES) * len(regimes)
    for finding in findings:
        assert html_lib.escape(finding, quote=False) in rendered.dom  # shown as text
