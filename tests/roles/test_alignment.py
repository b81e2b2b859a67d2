"""Alignment: revenue classes add up to the platform's revenue, and the share of revenue not
earned at users' expense falls, at every seed, as the incumbent ranks by ad spend more."""

from __future__ import annotations

import math

import pytest

from twosided.roles.alignment import AlignmentError, alignment, revenue_classes

from ..conftest import cached_run

DAYS = 63
SEEDS = 2
BUYERS = 20_000
AD_WEIGHTS = (0.0, 1.0, 3.0)


def run_with_ads(weight: float):
    return cached_run(
        "taobao", DAYS, SEEDS, {"market.buyers": BUYERS, "platforms.0.ranking.ads": weight}
    )


@pytest.fixture(scope="module")
def runs():
    return {w: run_with_ads(w) for w in AD_WEIGHTS}


def test_classes_add_up_to_revenue(runs):
    classes = revenue_classes(runs[1.0].daily)
    total = classes["with_users_cents"] + classes["at_expense_cents"] + classes["fixed_cents"]
    assert total.to_numpy() == pytest.approx(classes["revenue_cents"].to_numpy(), rel=1e-9)
    assert (classes["at_expense_cents"] >= 0).all()
    assert classes["alignment"].between(0, 1).all()


def test_alignment_falls_as_ranking_weighs_ad_spend(runs):
    incumbent = runs[0.0].scenario.platforms[0].name
    figures = [
        next(a for a in alignment(runs[w].daily) if a.platform == incumbent) for w in AD_WEIGHTS
    ]
    for seed in range(SEEDS):
        per_seed = [f.per_seed[seed] for f in figures]
        assert per_seed[0] > per_seed[1] > per_seed[2], per_seed
    at_expense = [f.at_expense_cents for f in figures]
    assert at_expense[0] < at_expense[1] < at_expense[2]


def test_alignment_over_the_last_days_uses_only_those_days(runs):
    daily = runs[1.0].daily
    last = alignment(daily, last_days=7)
    tail = alignment(daily[daily["day"] > daily["day"].max() - 7])
    assert [a.alignment for a in last] == pytest.approx([a.alignment for a in tail])


def test_a_table_without_the_columns_is_one_line(runs):
    daily = runs[1.0].daily.drop(columns=["revenue_ads_misaligned_cents"])
    with pytest.raises(AlignmentError, match="lacks revenue_ads_misaligned_cents"):
        alignment(daily)


def test_one_seed_gives_the_figure_without_an_interval(runs):
    daily = runs[1.0].daily
    one = alignment(daily[daily["seed"] == daily["seed"].min()])
    both = alignment(daily)
    for single, pair in zip(one, both):
        assert len(single.per_seed) == 1 and single.alignment == single.per_seed[0]
        assert math.isnan(single.low) and math.isnan(single.high)  # not [0, 1]
        assert single.describe() == f"{single.alignment:.3f}"
        assert 0.0 <= pair.low <= pair.alignment <= pair.high <= 1.0
