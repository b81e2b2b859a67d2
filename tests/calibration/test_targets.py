"""The targets file: a good one resolves against its scenario; every bad entry is one line
naming the file and the entry, and the command exits with status 2."""

from __future__ import annotations

import textwrap

import pytest

from twosided import cli
from twosided.calibration import read_targets, resolve
from twosided.scenario import ScenarioError

GOOD = """
[run]
scenario = "taobao"
days = 30
warmup = 5
seeds = 2
[run.settings]
"market.buyers" = 1500

[[moments]]
name = "take_rate"
platform = "Taobao"
target = 0.04
tolerance = 0.0075
source = "Alibaba Group annual report FY2021"

[[parameters]]
key = "sellers.ad_intensity_mean"
lower = 0.1
upper = 2.0
"""


def write(tmp_path, text: str):
    path = tmp_path / "targets.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_file_resolves_with_the_scenarios_value_as_start(tmp_path):
    spec, _ = read_targets(write(tmp_path, GOOD))
    problem = resolve(spec, "targets.toml")
    assert problem.scenario.market.buyers == 1500
    assert problem.starts == (0.3,)  # taobao's sellers.ad_intensity_mean
    assert spec.moments[0].band == 0.0075 and spec.moments[0].scale == pytest.approx(0.0075 / 1.96)
    assert problem.at((1.5,)).sellers.ad_intensity_mean == 1.5


BAD = [
    (GOOD.replace('name = "take_rate"', 'name = "take_rat"'), "moments.0.name", "take_rate"),
    (GOOD.replace('source = "Alibaba Group annual report FY2021"', ""), "moments.0.source", ""),
    (GOOD.replace('source = "Alibaba Group annual report FY2021"', 'source = " "'), "source", ""),
    (GOOD.replace("tolerance = 0.0075", ""), "moments.0", "se"),
    (GOOD.replace("lower = 0.1", "lower = 3.0"), "parameters.0", "bounds reversed"),
    (
        GOOD.replace("sellers.ad_intensity_mean", "sellers.ad_intensity_meen"),
        "parameters.0 (sellers.ad_intensity_meen)",
        "unknown key",
    ),
    (GOOD.replace('platform = "Taobao"', 'platform = "Taobo"'), "moments.0.platform", "Taobao"),
    (
        GOOD.replace("sellers.ad_intensity_mean", "market.initial_sellers"),
        "parameters.0 (market.initial_sellers)",
        "integer",
    ),
    (
        GOOD.replace("sellers.ad_intensity_mean", "platforms.Taobao.fees.commission"),
        "parameters.0 (platforms.Taobao.fees.commission)",
        "not a single number",
    ),
    (GOOD.replace("upper = 2.0", "upper = 9.0"), "parameters.0", "bound 9.0"),
    (GOOD.replace('platform = "Taobao"\n', ""), "moments.0", None),  # take_rate: market ok
    (
        GOOD.replace('name = "take_rate"', 'name = "gmv_share"').replace(
            'platform = "Taobao"\n', ""
        ),
        "moments.0",
        "per platform",
    ),
    (GOOD.replace("warmup = 5", "warmup = 30"), "run", "leaves no day"),
    (
        GOOD + '\n[[parameters]]\nkey = "sellers.ad_intensity_mean"\nlower = 0\nupper = 1\n',
        "",
        "twice",
    ),
]


@pytest.mark.parametrize("text,where,words", BAD)
def test_a_bad_entry_is_one_line_naming_it(tmp_path, text, where, words):
    path = write(tmp_path, text)
    if words is None:  # the control: a market-wide take rate is a valid target
        resolve(read_targets(path)[0], str(path))
        return
    with pytest.raises(ScenarioError) as err:
        resolve(read_targets(path)[0], str(path))
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    assert where in message and words in message, message


def test_the_command_exits_2_with_one_line_and_no_folder(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("lower = 0.1", "lower = 3.0"))
    out = tmp_path / "runs"
    assert cli.run_app(["calibrate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bounds reversed" in err[0] and "Traceback" not in err[0]
    assert not (out / "calibrations").exists()
    assert cli.run_app(["calibrate", str(tmp_path / "missing.toml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_the_catalogue_is_listed(capsys):
    assert cli.run_app(["calibrate", "x.toml", "--moments"]) == 0
    printed = capsys.readouterr().out
    assert "take_rate" in printed and "sellers_per_thousand_buyers" in printed
