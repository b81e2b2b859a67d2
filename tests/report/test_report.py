"""The HTML report: it renders in headless Chromium with every chart drawn and no console
error, works offline, states the scenario and a headline computed from the data, shows
user-supplied names as text, and draws two runs on the same charts in a comparison."""

from __future__ import annotations

import dataclasses
import re

import pytest

import twosided
from twosided import report
from twosided.outcomes import revenue_stream_columns
from twosided.report import charts
from twosided.store import load_run, save_run

from ..conftest import cached_run
from .browser import render

SMALL = {"market.buyers": 2000}
DAYS = 10
SEEDS = 2
EXTRA = ("Roles <of> the sides", '<p id="extra-body">customers pay, users are why</p>')


@pytest.fixture(scope="module")
def result():
    return cached_run("taobao", DAYS, seeds=SEEDS, overrides=SMALL)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def page(result, work):
    return report.write_report(result, work / "report.html", extra_sections=[EXTRA])


@pytest.fixture(scope="module")
def rendered(page, work):
    return render(page, work, report.chart_ids())


def test_every_chart_is_drawn_without_console_errors(rendered):
    assert rendered.errors == []
    assert set(rendered.charts) == set(report.chart_ids())
    for chart, counts in rendered.charts.items():
        assert counts["main_svg"] >= 1, chart
        assert counts["traces"] >= 1, chart


def test_the_report_names_every_required_chart():
    titles = " | ".join(chart.title for chart in charts.CHARTS)
    for needed in (
        "Market share",
        "Revenue by stream",
        "Take rate",
        "Consumer surplus",
        "Sellers",
        "Markup",
        "quality",
        "Escrow",
        "disputes",
    ):
        assert needed in titles


def test_the_render_check_catches_a_broken_page(page, work):
    """The browser check can fail: a script error and a chart that never draws are seen."""
    broken = work / "broken.html"
    html = page.read_text()
    first = report.chart_ids()[0]
    html = html.replace("</body>", "<script>throw new Error('boom')</script></body>")
    html = html.replace(f'Plotly.newPlot(                        "{first}"', "void(")
    broken.write_text(html)
    seen = render(broken, work, report.chart_ids())
    assert any("boom" in error for error in seen.errors)
    assert seen.charts[first]["main_svg"] == 0


def test_revenue_streams_add_up_to_revenue(result):
    streams = revenue_stream_columns(result.daily.columns)
    assert len(streams) >= 4
    assert (result.daily[streams].sum(axis=1) == result.daily["revenue_cents"]).all()


def test_the_page_is_self_contained(page):
    html = page.read_text()
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "plotly.js v" in html[:200_000]  # the library itself is inlined in the head


def test_extra_sections_follow_the_charts_with_escaped_titles(rendered):
    dom = rendered.dom
    assert "Roles &lt;of&gt; the sides" in dom
    assert dom.index('id="extra-body"') > dom.index(f'id="{report.chart_ids()[-1]}"')


def test_the_headline_states_the_scenario_and_figures_from_the_data(result, rendered):
    text = re.sub(r"<[^>]+>", " ", rendered.dom.split('class="headline"')[1].split("</div>")[0])
    assert "Scenario 'taobao'" in text and "2,000 buyers" in text and "10 days, 2 seeds" in text
    daily = result.daily
    first = daily[daily["day"] < 7].groupby("platform")["share_sessions"].mean()
    last = daily[daily["day"] > daily["day"].max() - 7].groupby("platform")["share_sessions"].mean()
    gainer = (last - first).idxmax()
    moved = f"({first[gainer]:.1%} to {last[gainer]:.1%})"
    assert f"{gainer} gained the most share of sessions {moved}" in text
    revenue = daily.groupby("seed")["revenue_cents"].sum().mean() / 100
    assert f"Platform revenue totalled {revenue:,.0f} yuan" in text


def test_user_supplied_names_render_as_text(work):
    evil = {
        **SMALL,
        "name": "</title><b>bold</b>",
        "platforms.0.name": "<script>",
        "platforms.1.name": '<img src=x onerror="window.__errors.push(1)">',
        "platforms.2.name": "<b>JD</b>",
        "description": "<i>quoted</i> & more",
    }
    run = twosided.simulate("taobao", days=DAYS, seeds=SEEDS, overrides=evil)
    page = report.write_report(run, work / "evil.html")
    html = page.read_text()
    # our scripts only: plotly.js, then one per chart
    assert html.count("<script") == 1 + len(report.chart_ids())
    assert "<b>bold</b>" not in html and "<i>quoted</i>" not in html
    seen = render(page, work, report.chart_ids())
    assert seen.errors == []
    assert all(counts["main_svg"] >= 1 for counts in seen.charts.values())
    assert "&lt;/title&gt;&lt;b&gt;bold&lt;/b&gt;" in seen.dom
    assert "<img" not in seen.dom
    legend = re.findall(r'class="legendtext"[^>]*>([^<]*)<', seen.dom)
    assert "&lt;script&gt;" in legend
    assert "&lt;b&gt;JD&lt;/b&gt;" in legend  # Plotly's own markup is shown, not applied


def test_several_seeds_draw_a_band_and_one_seed_none(result):
    panel = [charts.Panel("share", charts.S.smoothed("share_sessions"))]
    several = charts.line_panels([("", result)], panel)
    first_seed = dataclasses.replace(
        result, daily=result.daily[result.daily["seed"] == result.seeds[0]], seeds=result.seeds[:1]
    )
    one = charts.line_panels([("", first_seed)], panel)
    bands = [t for t in several.data if t.fill == "toself"]
    assert len(bands) == len(result.platforms)
    assert not [t for t in one.data if t.fill == "toself"]


def test_a_comparison_draws_both_runs_on_the_same_charts(result, work):
    run_b = twosided.simulate(
        "taobao", days=DAYS, seeds=SEEDS, overrides={**SMALL, "platforms.Taobao.ranking.ads": 3.0}
    )
    _, folder = save_run(run_b, work / "runs")
    b = load_run(folder)
    page = report.write_comparison(result, b, work / "comparison.html")
    seen = render(page, work, report.chart_ids())
    assert seen.errors == []
    legend = set(re.findall(r'class="legendtext"[^>]*>([^<]*)<', seen.dom))
    for platform in result.platforms:
        assert {f"{platform} (A)", f"{platform} (B)"} <= legend
    for chart, counts in seen.charts.items():
        assert counts["main_svg"] >= 1, chart
        # revenue: one bar trace per stream; lines: one per platform and run
        assert counts["traces"] >= 2 * (1 if chart == "chart-revenue" else len(result.platforms))
    assert b.run_id in page.read_text()


def test_a_report_after_a_warmup_says_the_first_days_are_left_out(result):
    html = report.build_report(result.after_warmup(3))
    headline = re.sub(r"<[^>]+>", " ", html.split('class="headline"')[1].split("</div>")[0])
    assert "The first 3 days (warm-up) are left out" in headline
    assert "7 days, 2 seeds" in headline
    assert "(warm-up) are left out" not in report.build_report(result)
