"""``twosided optimize``: a small search end to end, resume from its state file, and bad
input as one line with exit status 2."""

from __future__ import annotations

import json

import pytest

from twosided import cli

SMALL = [
    "--set",
    "market.buyers=1000",
    "--set",
    "market.seller_capacity=16",
    "--set",
    "market.initial_sellers=8",
]
SEARCH = [
    "optimize",
    "monopoly",
    *SMALL,
    "--days",
    "14",
    "-f",
    "rank_ads",
    "-b",
    "rank_ads=0:5",
    "--population",
    "4",
    "--seeds",
    "2",
    "--eval-seeds",
    "2",
]


def test_a_search_reports_the_best_policy_and_resumes(tmp_path, capsys):
    state, out = tmp_path / "state.pkl", tmp_path / "result.json"
    runs = ["--out", str(tmp_path / "runs")]
    status = cli.run_app(
        [*SEARCH, *runs, "--generations", "2", "--state", str(state), "--json", str(out)]
    )
    printed = capsys.readouterr().out
    assert status == 0
    (kept,) = (tmp_path / "runs" / "optimizations").glob("monopoly-*.json")
    assert json.loads(kept.read_text())["optimum"] == json.loads(out.read_text())["optimum"]
    assert "Best policy for Taobao" in printed and "Frontier" in printed
    found = json.loads(out.read_text())["optimum"]
    assert 0.0 <= found["best"]["rank_ads"] <= 5.0 and found["evaluated"] == 8
    assert found["frontier"] and found["generations"] == 2
    assert {c["metric"] for c in found["comparison"]} == {
        "objective",
        "revenue_cents",
        "consumer_surplus_cents",
    }
    status = cli.run_app(
        [*SEARCH, *runs, "--generations", "3", "--state", str(state), "--json", str(out)]
    )
    capsys.readouterr()
    resumed = json.loads(out.read_text())["optimum"]
    assert status == 0 and resumed["evaluated"] == 12
    assert resumed["history"][:2] == found["history"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-b", "rank_ads=0:500"], "--bound rank_ads=0:500: must be increasing and within"),
        (["-b", "rank_ads"], "--bound rank_ads: expected FIELD=LOW:HIGH"),
        (["-f", "slots"], "--field: policy field 'slots'"),
        (["-p", "Nope"], "--platform Nope: not one of Taobao"),
        (["--days", "3"], "--days 3: shorter than one period"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    status = cli.run_app(["optimize", "monopoly", *SMALL, *args])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
