"""The sweep report's charts draw what findings test: levels with intervals that keep their
bounds (no negative money, no share above 100%), paired changes from the baseline, whole
units on count axes, ticks at the varied values, shares in percent."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from twosided.experiments.report import (
    OUTCOMES,
    baseline,
    outcome_figure,
    summarize_windows,
    sweep_report_html,
)
from twosided.experiments.stats import long_window, short_window

KEY = "platforms.0.ranking.ads"
DAYS, SEEDS, VALUES = 40, [0, 1, 2], [0.0, 1.0, 2.0]


def fake_table() -> pd.DataFrame:
    """Two platforms; revenue noisy across seeds (0 on some days) but 5 yuan a day higher
    per step of ads in every seed; shares near 100%; 2-4 listings."""
    rows = []
    for v, value in enumerate(VALUES):
        for seed in SEEDS:
            for day in range(DAYS):
                for pid, name in enumerate(("Taobao", "JD")):
                    noise = (seed * 900 + day * 7 % 50) * (day % 3 > 0)
                    rows.append(
                        {
                            "variant": v,
                            KEY: value,
                            "seed": seed,
                            "day": day,
                            "platform_id": pid,
                            "platform": name,
                            "revenue_cents": noise + 500 * value * (pid == 0),
                            "gmv_cents": noise * 10,
                            "share_sessions": 0.97 if pid == 0 else 0.03,
                            "active_sellers": 2 + (seed + day) % 3,
                            "take_rate": 0.05,
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def summaries():
    windows = [short_window(DAYS), long_window(DAYS)]
    outcomes = [o for o in OUTCOMES if o.column in fake_table().columns]
    return windows, outcomes, summarize_windows(fake_table(), [KEY], outcomes, windows)


def outcome(column: str):
    return next(o for o in OUTCOMES if o.column == column)


def test_levels_never_leave_the_seeds_bounds(summaries):
    _, _, by_window = summaries
    for summary in by_window.values():
        assert (summary.levels["gmv_cents_lo"] >= 0).all()
        assert (summary.levels["share_sessions_hi"] <= 1).all()


def test_the_change_row_is_paired_and_clear_where_every_seed_moves(summaries):
    windows, _, by_window = summaries
    changes = by_window[windows[1].name].changes
    taobao = changes[(changes["platform"] == "Taobao") & (changes[KEY] == 2.0)].iloc[0]
    assert taobao["revenue_cents"] == pytest.approx(10.0)  # 2 steps x 5 yuan, every seed
    assert taobao["revenue_cents_lo"] > 0  # clear, although the seeds' levels overlap
    levels = by_window[windows[1].name].levels
    first = levels[(levels["platform"] == "Taobao") & (levels[KEY] == 0.0)].iloc[0]
    last = levels[(levels["platform"] == "Taobao") & (levels[KEY] == 2.0)].iloc[0]
    assert last["revenue_cents_lo"] < first["revenue_cents_hi"]


def test_axes_show_percent_whole_units_and_the_varied_values(summaries):
    windows, _, by_window = summaries
    share = outcome_figure(by_window, windows, outcome("share_sessions"), [KEY], 0.0)
    assert share.layout.yaxis.tickformat == ".0%" and share.layout.yaxis.range[1] <= 1.0
    assert share.layout.yaxis3.tickformat == "+.1%"  # changes of a share, in points
    sellers = outcome_figure(by_window, windows, outcome("active_sellers"), [KEY], 0.0)
    assert sellers.layout.yaxis.dtick == 1 and sellers.layout.yaxis.tickformat == ",d"
    assert list(sellers.layout.xaxis.tickvals) == VALUES
    assert len(sellers.data) == 2 * 2 * 2  # platforms x windows x (level, change)
    revenue = outcome_figure(by_window, windows, outcome("revenue_cents"), [KEY], 0.0)
    for trace in revenue.data[:2]:
        assert (np.asarray(trace.y) - np.asarray(trace.error_y.arrayminus) >= 0).all()


def test_the_page_says_what_the_change_row_tests(tmp_path: Path):
    table = fake_table()
    variants = [SimpleNamespace(labels={KEY: v}) for v in VALUES]
    plan = SimpleNamespace(
        keys=[KEY],
        days=DAYS,
        variants=variants,
        seeds=SEEDS,
        base=SimpleNamespace(name="taobao"),
        sweep_id="abc",
        tied=[],
    )
    html = sweep_report_html(SimpleNamespace(plan=plan, table=table, folder=tmp_path))
    assert baseline([KEY], table) == 0.0
    assert "change from platforms.0.ranking.ads = 0 seed by seed" in html
    assert "Changes from platforms.0.ranking.ads = 0" in html
    assert "97.0%" in html  # shares are percentages in the numbers table too


def test_a_tied_axis_is_charted_against_its_first_key_naming_the_others() -> None:
    from twosided.experiments.report import axis_title, chart_keys
    from twosided.experiments.sweep import plan_sweep

    quality, price = "platforms.0.ranking.quality", "platforms.0.ranking.price"
    plan = plan_sweep(
        "taobao",
        [f"{price}=1,2"],
        seeds=1,
        days=5,
        overrides={"market.buyers": 5000},
        tie=[f"{KEY}=0,2", f"{quality}=2,0"],
    )
    assert plan.keys == [KEY, quality, price]
    # the companion moves with the first tied key: not a line of its own, not a pairing key
    assert chart_keys(plan) == [KEY, price]
    assert axis_title(plan, KEY) == f"{KEY} (tied: {quality})"
    assert axis_title(plan, price) == price
    untied = plan_sweep("taobao", [f"{KEY}=0,2", f"{quality}=2,0"], seeds=1, days=5)
    assert chart_keys(untied) == [KEY, quality] and axis_title(untied, KEY) == KEY
