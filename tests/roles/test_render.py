"""Rendering: the Rich tables and the report's HTML section name the derived roles with the
figures that justify them, and escape what they print."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from rich.console import Console

from twosided import report
from twosided.roles import alignment, derive_roles, derive_run_roles, load_business_model
from twosided.roles.alignment import Alignment
from twosided.roles.business import example_path
from twosided.roles.render import (
    alignment_text,
    business_lines,
    business_renderable,
    report_section,
    run_renderable,
)

from ..conftest import cached_run


def text_of(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(renderable)
    return out.getvalue()


@pytest.fixture(scope="module")
def base():
    return cached_run("taobao", 63, 2, {"market.buyers": 20_000})


def test_business_lines_name_customer_and_user_with_the_flow():
    lines = business_lines(derive_roles(load_business_model("dance_school")))
    assert "customer: The mother pays 100% of its income" in lines
    assert any(line.startswith("user: The child:") and "'dance lessons'" in line for line in lines)


def test_business_table_shows_roles_reasons_and_phases():
    text = text_of(business_renderable(derive_roles(load_business_model("business_magazine"))))
    assert re.search(r"customer\s+│\s+Its biggest advertiser", text)
    assert re.search(r"user\s+│\s+Readers", text)
    assert "pays little" in text
    assert "after readers complain: the ads return" in text


def test_run_table_shows_roles_figures_and_alignment(base):
    text = text_of(run_renderable(derive_run_roles(base), alignment(base.daily)))
    for name in ("Taobao", "Pinduoduo", "JD"):
        assert f"{name}: customers and users" in text
    assert re.search(r"customer\s+│\s+sellers", text)
    assert re.search(r"user\s+│\s+buyers", text)
    assert "needs a probe run" in text
    assert "'twosided roles RUN --probe'" in text  # the command that runs it
    assert "alignment" in text and "at users' expense" in text


def test_the_probe_command_names_a_stored_run(base):
    roles = dataclasses.replace(derive_run_roles(base), run_id="20261201-120000-abcd")
    assert "'twosided roles 20261201-120000-abcd --probe'" in text_of(run_renderable(roles))


def test_report_section_is_a_titled_escaped_html_body(base):
    title, body = report_section(base)
    roles = derive_run_roles(base)
    assert title == "Customers and users"
    assert body.count("<table") == len(roles.platforms) == body.count("</table>")
    for p in roles.platforms:
        assert f"<h3>{p.platform}</h3>" in body
    assert "<td class=label>customer</td><td class=label>sellers</td>" in body
    assert "users&#x27; expense" in body  # text is escaped, never raw
    assert "alignment" in body and "1 run(s), 2 seed(s)" in body
    link = re.search(r'Definitions: <a href="([^"]+)">docs/roles.md</a>', body)
    assert link and link.group(1).startswith("file://") and link.group(1).endswith("roles.md")
    # every amount carries its unit, in the report as in the terminal
    assert re.search(r"of revenue [\d,]+ yuan, [\d,]+ yuan at users&#x27; expense", body)
    assert not re.search(r"\d\.\d\d\)", body)  # no unitless two-decimal amounts


def test_a_platform_without_revenue_says_so():
    empty = Alignment("Late", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, float("nan"), 0.0, 1.0, ())
    assert alignment_text(empty) == "no revenue over these days"


def test_the_run_report_has_the_customers_and_users_section(base):
    page = report.build_report(base)
    assert "<h2>Customers and users</h2>" in page
    assert page.index("<h2>Customers and users</h2>") > page.index("<h2>Summary</h2>")


MARKUP = {"Taobao": "[/]", "Pinduoduo": "[bold]P", "JD": "[link=x]J[/link]"}


def test_names_that_look_like_rich_markup_print_literally(base, tmp_path):
    """Names from files and runs are text: Rich markup in them is shown, never applied (a
    stray closing tag used to crash `twosided roles`)."""
    text = example_path("flower_seller").read_text(encoding="utf-8")
    text = text.replace('name = "flower seller outside a cinema"', 'name = "[/] roses [bold]"')
    text = text.replace('girlfriend = "The girlfriend"', 'girlfriend = "[red]her[/red]"')
    path = tmp_path / "markup.toml"
    path.write_text(text, encoding="utf-8")
    printed = text_of(business_renderable(derive_roles(load_business_model(path))))
    assert "[/] roses [bold]: customers and users" in printed
    assert "[red]her[/red]" in printed
    renamed = dataclasses.replace(
        base,
        daily=base.daily.assign(platform=base.daily["platform"].map(MARKUP)),
        flows=base.flows.assign(platform=base.flows["platform"].map(MARKUP)),
    )
    printed = text_of(run_renderable(derive_run_roles(renamed)))
    for name in MARKUP.values():
        assert f"{name}: customers and users" in printed
