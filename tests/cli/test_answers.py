"""``twosided experiment flip`` and ``sensitivity`` end to end on a small world without
rivals: the flip search writes its table and page; a fee of a stream nobody pays moves
nothing (μ* exactly 0 on common seeds) while the outside option does; bad flags are one
line with exit status 2."""

from __future__ import annotations

import pandas as pd
import pytest

from twosided import cli

SMALL = [
    "--set", "market.buyers=1500", "--set", "market.initial_sellers=8",
    "--set", "market.seller_capacity=24", "--years", "0.2", "--seeds", "2",
]  # fmt: skip
NO_AFFILIATES = ["--set", "platforms.0.fees.affiliate_order_share=0"]


def test_a_flip_search_writes_its_points_and_page(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["experiment", "flip", "monopoly", *SMALL, "--range", "-1:5", "--steps", "1"]
    assert cli.run_app([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Revenue gap along buyers.offline_utility" in printed
    folder = out / "flips" / "monopoly-buyers.offline_utility"
    table = pd.read_csv(folder / "flip.csv")
    assert table["buyers.offline_utility"].iloc[0] == -1.0
    assert table["buyers.offline_utility"].iloc[-1] == 5.0
    assert {"gap_mean", "gap_low", "gap_high", "gap_seed_0", "gap_seed_1"} <= set(table)
    # the mean is the mean of the paired per-seed gaps
    assert table["gap_mean"].tolist() == pytest.approx(
        table[["gap_seed_0", "gap_seed_1"]].mean(axis=1).tolist()
    )
    page = (folder / "flip.html").read_text(encoding="utf-8")
    assert "Flip point of buyers.offline_utility in monopoly" in page


def test_a_fee_nobody_pays_has_no_effect_and_the_outside_option_has(tmp_path, capsys):
    out = tmp_path / "runs"
    args = [
        "experiment", "sensitivity", "monopoly", *SMALL, *NO_AFFILIATES,
        "--vary", "buyers.offline_utility=-1:5",
        "--vary", "platforms.0.fees.affiliate_fee_rate=0:0.5",
        "--trajectories", "2", "--out", str(out),
    ]  # fmt: skip
    assert cli.run_app(args) == 0
    assert "Sensitivity of the long-run revenue gap" in capsys.readouterr().out
    folder = out / "sensitivity" / "monopoly-morris"
    indices = pd.read_csv(folder / "indices.csv").set_index("parameter")
    assert indices.loc["platforms.0.fees.affiliate_fee_rate", "mu_star"] == 0.0
    assert indices.loc["buyers.offline_utility", "mu_star"] > 0.0
    assert len(pd.read_csv(folder / "points.csv")) == 2 * 3
    assert (folder / "sensitivity.html").is_file()


BAD = [
    (["experiment", "flip", "--range", "5:1"], "--range 5:1: the lower end"),
    (["experiment", "flip", "--range", "1-5"], "expected LOW:HIGH"),
    (["experiment", "flip", "--parameter", "buyers.offlne_utility"], "unknown key"),
    (["experiment", "flip", "--range", "0:2", "--parameter", "market.buyers"], "--parameter"),
    (["experiment", "sensitivity"], "--vary: give at least one"),
    (["experiment", "sensitivity", "--vary", "x"], "--vary x: expected"),
    (["experiment", "sensitivity", "--vary", "buyers.switching_cost=0:1", "--method", "fast"],
     "--method fast"),
    (["experiment", "flip", "--years", "0"], "--years 0"),
]  # fmt: skip


@pytest.mark.parametrize("args,words", BAD)
def test_bad_flags_are_one_line_and_exit_2(tmp_path, capsys, args, words):
    assert cli.run_app([*args, "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "runs").exists()
