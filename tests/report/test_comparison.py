"""Comparing two runs: the scenario fields that differ are listed field by field, runs
whose totals do not compare (other days, buyers or seeds) are flagged, and their outcomes
are offered per day and per 1,000 buyers."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd

from twosided import report
from twosided.report.comparison import (
    MARKET,
    FieldDifference,
    comparability_warnings,
    needs_normalising,
    normalised,
    normalised_differences,
    scenario_differences,
)
from twosided.scenario import apply_overrides, load_scenario

BASE = apply_overrides(load_scenario("taobao"), {"market.buyers": 2000, "days": 10})


def fake_run(scenario, seeds, gmv_cents: float) -> SimpleNamespace:
    """A run with a summary of three platforms whose GMV adds up to ``gmv_cents``."""
    names = [p.name for p in scenario.platforms]
    frame = pd.DataFrame(
        {
            "platform_id": range(len(names)),
            "platform": names,
            "sessions": [300.0, 100.0, 100.0],
            "gmv_cents": [gmv_cents / 2, gmv_cents / 4, gmv_cents / 4],
            "revenue_cents": [5e3, 1e3, 1e3],
            "monthly_active_buyers": [800.0, 300.0, 400.0],
            "active_sellers": [40.0, 20.0, 20.0],
        }
    )
    frame["share_sessions"] = frame["sessions"] / frame["sessions"].sum()
    frame["take_rate"] = frame["revenue_cents"] / frame["gmv_cents"]
    return SimpleNamespace(scenario=scenario, seeds=seeds, summary=lambda: frame.copy())


def test_differences_are_listed_field_by_field_with_platforms_by_name():
    b = apply_overrides(
        BASE, {"days": 90, "platforms.Taobao.ranking.ads": 2.0, "market.buyers": 50_000}
    )
    diffs = scenario_differences(BASE, b)
    assert FieldDifference("days", "10", "90") in diffs
    assert FieldDifference("market.buyers", "2000", "50000") in diffs
    ads = next(d for d in diffs if d.key == "platforms.Taobao.ranking.ads")
    assert float(ads.b) == 2.0 and float(ads.a) != 2.0
    assert len(diffs) == 3  # nothing else differs
    assert scenario_differences(BASE, BASE) == []


def test_a_platform_in_one_run_only_is_one_row():
    two = apply_overrides(BASE, {"platforms.2.name": "Suning"})
    keys = {d.key: d for d in scenario_differences(BASE, two)}
    assert keys["platforms.JD"] == FieldDifference("platforms.JD", "present", "(absent)")
    assert keys["platforms.Suning"] == FieldDifference("platforms.Suning", "(absent)", "present")
    assert not [k for k in keys if k.startswith("platforms.JD.")]


def test_runs_of_other_days_buyers_or_seeds_are_flagged():
    a = fake_run(BASE, [0, 1], 1e6)
    same = fake_run(BASE, [0, 1], 2e6)
    assert comparability_warnings(a, same) == [] and not needs_normalising(a, same)
    b = fake_run(apply_overrides(BASE, {"days": 20, "market.buyers": 4000}), [0], 4e6)
    warnings = comparability_warnings(a, b)
    assert len(warnings) == 3 and needs_normalising(a, b)
    assert "A ran 10 days and B 20" in warnings[0]
    assert "A has 2,000 buyers and B 4,000" in warnings[1]
    assert "A ran seeds [0, 1] and B seeds [0]" in warnings[2]


def test_normalised_figures_are_per_day_and_per_1000_buyers():
    a = fake_run(BASE, [0], 1e6)
    frame = normalised(a.summary(), days=10, buyers=2000)
    assert frame["gmv_cents"].tolist() == [25_000.0, 12_500.0, 12_500.0]  # /10 days /2
    assert frame["active_sellers"].tolist() == [20.0, 10.0, 10.0]  # a level: /2 only
    assert frame["share_sessions"].equals(a.summary()["share_sessions"])
    # twice the days and twice the buyers, four times the GMV: the same per day and buyer
    b = fake_run(apply_overrides(BASE, {"days": 20, "market.buyers": 4000}), [0], 4e6)
    diffs = {(d.platform, d.outcome.column): d for d in normalised_differences(a, b)}
    gmv = diffs[(MARKET, "gmv_cents")]
    assert gmv.a_text == gmv.b_text == "500" and gmv.change_text.startswith("+0 ")


def test_the_comparison_page_lists_differences_and_warns(tmp_path):
    import twosided

    a = twosided.simulate(BASE, seeds=1)
    b = twosided.simulate(BASE, days=12, seeds=1, overrides={"platforms.Taobao.ranking.ads": 2.0})
    html = report.build_comparison(a, b)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "What differs" in text and "platforms.Taobao.ranking.ads" in text
    assert html.index("What differs") < html.index("Key outcomes")
    assert "Warning: A ran 10 days and B 12" in text
    assert "Key outcomes per day and per 1,000 buyers" in text
    same = report.build_comparison(a, a)
    assert "The two scenarios are the same" in same and "Warning: A" not in same
    assert "per day and per 1,000 buyers" not in same
