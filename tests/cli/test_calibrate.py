"""``twosided calibrate``: a short calibration end to end writes the calibrated scenario,
the fit, the estimates, the Jacobian and the page; run again, it resumes from its saved
evaluations instead of simulating them again."""

from __future__ import annotations

import json

import pandas as pd

from twosided import cli
from twosided.calibration import report
from twosided.scenario import load_scenario

TARGETS = """
[run]
scenario = "taobao"
days = 30
warmup = 5
seeds = 8
[run.settings]
"market.buyers" = 1500
"market.initial_sellers" = 8
"market.seller_capacity" = 24

[optimizer]
max_evaluations = 3

[[moments]]
name = "conversion_per_session"
target = 0.19
se = 0.005
source = "a test"

[[moments]]
name = "ads_share_of_revenue"
platform = "Taobao"
target = 0.6
tolerance = 0.05
source = "a test"

[[parameters]]
key = "sellers.ad_intensity_mean"
lower = 0.1
upper = 2.0
"""


def test_a_calibration_writes_its_files_and_resumes(tmp_path, capsys):
    targets = tmp_path / "small.toml"
    targets.write_text(TARGETS, encoding="utf-8")
    out = tmp_path / "runs"
    assert cli.run_app(["calibrate", str(targets), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Fit at the estimate" in printed and "sellers.ad_intensity_mean" in printed
    folder = out / "calibrations" / "small"
    assert {p.name for p in folder.iterdir()} == {*report.FILES, "evaluations.json"}
    params = pd.read_csv(folder / "parameters.csv")
    estimate = float(params.loc[0, "estimate"])
    assert 0.1 <= estimate <= 2.0
    calibrated = load_scenario(folder / "scenario.toml")
    assert calibrated.sellers.ad_intensity_mean == estimate
    assert calibrated.market.buyers == 1500  # the run's settings are part of it
    fit = pd.read_csv(folder / "fit.csv")
    assert list(fit["moment"]) == ["conversion_per_session", "ads_share_of_revenue"]
    assert fit["source"].eq("a test").all() and fit["model"].notna().all()
    assert len(pd.read_csv(folder / "jacobian.csv")) == 2
    page = (folder / "calibration.html").read_text(encoding="utf-8")
    assert "Calibration of taobao" in page and "Which moments identify" in page
    saved = json.loads((folder / "evaluations.json").read_text())["evaluations"]
    summary = json.loads((folder / "calibration.json").read_text())

    # again: every evaluation is read back, none simulated, the same answer
    assert cli.run_app(["calibrate", str(targets), "--out", str(out)]) == 0
    capsys.readouterr()
    assert json.loads((folder / "evaluations.json").read_text())["evaluations"] == saved
    assert (
        json.loads((folder / "calibration.json").read_text())["parameters"]
        == (summary["parameters"])
    )
