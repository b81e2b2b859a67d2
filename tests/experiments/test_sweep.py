"""Sweeps: one row per variant, seed, day and platform; exactly the single runs; stored in
the catalog; rerunning skips what is done; the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import twosided
from twosided.experiments.report import OUTCOMES, chart_id, report_outcomes, write_sweep_report
from twosided.experiments.sweep import SweepResult, plan_sweep, run_sweep
from twosided.store import Catalog

from ..report.browser import render
from .conftest import ADS, DAYS, SEEDS, SMALL

VARY = {ADS: [0.0, 2.0], "platforms.0.fees.service_fee_cents": [0, 500_000]}


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    out = tmp_path_factory.mktemp("sweep")
    plan = plan_sweep("taobao", VARY, seeds=SEEDS, days=DAYS, overrides=SMALL)
    return run_sweep(plan, workers=1, out=out)


def test_one_row_per_variant_seed_day_and_platform(swept: SweepResult) -> None:
    table = swept.table
    platforms = len(swept.plan.base.platforms)
    assert len(swept.plan.variants) == 4
    assert len(table) == 4 * SEEDS * DAYS * platforms
    keys = ["variant", "seed", "day", "platform_id"]
    assert not table.duplicated(keys).any()
    assert list(table.columns[:3]) == ["variant", *VARY]
    for column in ("revenue_cents", "active_sellers", "share_sessions"):
        assert column in table.columns
    combos = table.groupby("variant")[list(VARY)].first().apply(tuple, axis=1).tolist()
    assert combos == [(0.0, 0), (0.0, 500_000), (2.0, 0), (2.0, 500_000)]


def test_each_variant_is_the_single_run_with_its_overrides(swept: SweepResult) -> None:
    """The sweep batches its variants (one shape): money and counts are exactly the single
    runs', floats agree to float32 rounding (a differently shaped program)."""
    for variant in swept.plan.variants:
        single = twosided.simulate(
            "taobao", days=DAYS, seeds=SEEDS, overrides={**SMALL, **variant.overrides}
        ).daily
        mine = swept.table[swept.table["variant"] == variant.index].drop(columns=["variant", *VARY])
        mine = mine.reset_index(drop=True)
        assert list(mine.columns) == list(single.columns)
        ints = single.select_dtypes(exclude="floating").columns
        pd.testing.assert_frame_equal(mine[ints], single[ints], check_exact=True)
        floats = single.select_dtypes("floating").columns
        np.testing.assert_allclose(mine[floats], single[floats], rtol=1e-6, atol=1e-6)


def test_unbatched_variants_are_exactly_the_single_runs(tmp_path: Path) -> None:
    plan = plan_sweep("taobao", {ADS: VARY[ADS]}, seeds=SEEDS, days=DAYS, overrides=SMALL)
    result = run_sweep(plan, workers=1, out=tmp_path, batch=False)
    for variant in plan.variants:
        single = twosided.simulate(
            "taobao", days=DAYS, seeds=SEEDS, overrides={**SMALL, **variant.overrides}
        ).daily
        mine = result.table[result.table["variant"] == variant.index].drop(columns=["variant", ADS])
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), single, check_exact=True)
        numeric = single.select_dtypes("number").columns
        means = mine.groupby("platform_id")[numeric].mean()
        assert means.equals(single.groupby("platform_id")[numeric].mean())


def test_money_and_counts_match_separate_one_seed_runs_exactly(swept: SweepResult) -> None:
    """Each seed alone gives the same integer outcomes (orders, cents, counts) as in the
    sweep's vmapped batch; float averages agree to float32 rounding (summation order)."""
    variant = swept.plan.variants[-1]
    table = swept.table[swept.table["variant"] == variant.index].drop(columns=["variant", *VARY])
    for seed in swept.plan.seeds:
        overrides = {**SMALL, **variant.overrides}
        alone = twosided.simulate("taobao", days=DAYS, seeds=[seed], overrides=overrides).daily
        mine = table[table["seed"] == seed].reset_index(drop=True)
        ints = alone.select_dtypes("integer").columns
        assert "revenue_cents" in ints and "orders" in ints
        pd.testing.assert_frame_equal(mine[ints], alone[ints], check_exact=True)
        floats = alone.select_dtypes("floating").columns
        np.testing.assert_allclose(mine[floats], alone[floats], rtol=1e-5, atol=1e-1)


def test_the_varied_values_change_the_runs(swept: SweepResult) -> None:
    fees = (
        swept.table[swept.table["platform_id"] == 0]
        .groupby("variant")["revenue_service_fee_cents"]
        .sum()
    )
    assert fees[0] == 0 and fees[2] == 0
    assert fees[1] > 0 and fees[3] > 0


def test_every_variant_is_a_catalog_row_and_a_complete_folder(swept: SweepResult) -> None:
    out = swept.folder.parent.parent
    with Catalog(out) as catalog:
        rows = catalog.runs(kind="sweep")
    rows = rows[rows["sweep_id"] == swept.plan.sweep_id]
    assert len(rows) == len(swept.plan.variants) and rows["run_id"].is_unique
    by_variant = {json.dumps(json.loads(v), sort_keys=True) for v in rows["variant"]}
    assert by_variant == {json.dumps(v.labels, sort_keys=True) for v in swept.plan.variants}
    for path in rows["path"]:
        assert (Path(path) / "daily.parquet").is_file()
        assert Path(path).parent == swept.folder
    assert not list(swept.folder.glob(".tmp-*"))
    plan = json.loads((swept.folder / "sweep.json").read_text())
    assert plan["sweep_id"] == swept.plan.sweep_id and len(plan["variants"]) == 4


def test_rerunning_the_same_sweep_runs_nothing_and_returns_the_same_table(
    swept: SweepResult,
) -> None:
    out = swept.folder.parent.parent
    calls: list[tuple[int, int]] = []
    again = twosided.sweep(
        "taobao",
        VARY,
        seeds=SEEDS,
        days=DAYS,
        overrides=SMALL,
        workers=1,
        out=out,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(4, 4)]
    assert again.attrs["sweep_id"] == swept.plan.sweep_id
    pd.testing.assert_frame_equal(again, swept.table, check_exact=True)


def test_report_draws_every_outcome_in_a_browser(swept: SweepResult, tmp_path: Path) -> None:
    path = write_sweep_report(swept)
    text = path.read_text(encoding="utf-8")
    assert path == swept.folder / "report.html"
    assert "<script src=" not in text  # plotly.js is inline: the page works offline
    assert "first quarter (days 0-2)" in text and "last quarter (days 9-11)" in text
    ids = [chart_id(o) for o in report_outcomes(swept)]
    assert len(ids) == len(OUTCOMES)
    rendered = render(path, tmp_path, ids)
    assert rendered.errors == []
    assert set(rendered.charts) == set(ids)
    for chart, counts in rendered.charts.items():
        assert counts["main_svg"] >= 1, chart
        # one line per platform and value of the second key, in each of the two windows
        assert counts["traces"] >= 2 * len(swept.plan.base.platforms) * 2, chart


def test_report_escapes_names(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>'
    result = run_sweep(
        plan_sweep(
            "taobao",
            {ADS: [0.0, 1.0]},
            seeds=SEEDS,
            days=DAYS,
            overrides={**SMALL, "name": evil, "platforms.0.name": evil + "P"},
        ),
        workers=1,
        out=tmp_path,
    )
    html = write_sweep_report(result).read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
