"""The ``twosided sweep`` and ``twosided experiment whom-to-save`` commands: bad --vary is
one line and status 2 with nothing written; a sweep runs, reports and resumes; the study
runs end to end from the command line and writes its report."""

from __future__ import annotations

import html as html_lib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import typer

from twosided import cli
from twosided.store import Catalog

SMALL = ["--set", "market.buyers=5000", "--seeds", "2", "--workers", "1"]


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.run_app(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def command(*args: str) -> list[str]:
    """The installed console script (or the module, where scripts are not on disk)."""
    script = Path(sys.executable).parent / "twosided"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "twosided", *args]


@pytest.mark.parametrize(
    "spec",
    [
        "nope",
        "platforms.0.ranking.ads=0:1",
        "platforms.0.ranking.ads=0:x:3",
        "days=10:20:2",
        "platforms.0.ranking.ads=-1:1:3",
        "market.nonsense=1,2",
    ],
)
def test_bad_vary_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: str
) -> None:
    status, out, err = in_process(capsys, "sweep", "taobao", "--vary", spec, "--out", str(tmp_path))
    lines = err.strip().splitlines()
    assert status == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith("twosided: error: --vary"), err
    assert not tmp_path.joinpath("sweeps").exists()


def test_bad_vary_on_the_real_command_has_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        command("sweep", "taobao", "--vary", "ads", "--out", str(tmp_path)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip() == "twosided: error: --vary 'ads': expected key.path=START:STOP:STEPS"
    )


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--vary", "platforms.0.ranking.ads=1e400:1:2"], "START '1e400' is not a finite number"),
        (["--vary", "platforms.0.ranking.ads=0:nan:2"], "STOP 'nan' is not a finite number"),
        (["--vary", "platforms.0.ranking.ads=-1e308:1e308:3"], "too wide for floating point"),
        (
            ["--vary", "platforms.0.ranking.ads=0:1:100000000"],
            "100,000,000 variants from STEPS alone; a sweep runs at most 10,000",
        ),
        (
            [
                "--vary",
                "platforms.0.ranking.ads=0:1:200",
                "--vary",
                "platforms.0.ranking.price=0:1:60",
            ],
            "--vary: 12,000 variants (200 x 60); a sweep runs at most 10,000",
        ),
        (["--seeds", "100000000"], "--seeds 100,000,000: at most 10,000 seeds per variant"),
        (["--seeds", "99999999999999999999999"], "at most 10,000 seeds per variant"),
        (["--seed", "2147483647", "--seeds", "2"], "the last seed would be 2,147,483,648"),
        (["--days", "100000"], "--days: Input should be less than or equal to 32767"),
        (["--workers", "0"], "--workers 0: must be at least 1"),
    ],
)
def test_bad_numbers_for_sweep_are_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], words: str
) -> None:
    status, out, err = in_process(capsys, "sweep", "taobao", *flags, "--out", str(tmp_path))
    lines = err.strip().splitlines()
    assert status == 2 and out == ""
    assert len(lines) == 1 and words in lines[0], err
    assert not tmp_path.joinpath("sweeps").exists()


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--years", "nan"], "--years nan: not a finite number of years"),
        (["--years", "inf"], "--years inf: not a finite number of years"),
        (["--years", "-inf"], "--years -inf: not a finite number of years"),
        (["--years", "-1"], "--years -1: must be at least one day"),
        (["--years", "0.001"], "--years 0.001: must be at least one day"),
        (["--years", "1e300"], "--years 1e+300: at most 89.8 years (32,767 days)"),
        (["--years", "90"], "--years 90: at most 89.8 years (32,767 days)"),
        (["--points", "100000000"], "--points 100000000: 100,000,000 variants"),
        (["--seeds", "100000000"], "--seeds 100,000,000: at most 10,000 seeds per variant"),
        (["--workers", "0"], "--workers 0: must be at least 1"),
        # --set applies to both worlds: an error names the world it is in
        (
            ["--set", "platforms.1.brand=1"],
            "--monopoly rivals-removed: platforms.1: index out of range",
        ),
        (["--set", "market.buyerz=1"], "--preset taobao: market.buyerz: unknown key"),
        (["--monopoly", "taobao"], "--monopoly taobao: has 3 platforms; expected one"),
        (["--preset", "monopoly"], "--preset monopoly: has one platform; the study needs rivals"),
    ],
)
def test_bad_numbers_for_the_study_are_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], words: str
) -> None:
    status, out, err = in_process(
        capsys, "experiment", "whom-to-save", *flags, "--out", str(tmp_path)
    )
    lines = err.strip().splitlines()
    assert status == 2 and out == ""
    assert len(lines) == 1 and words in lines[0], err
    assert not tmp_path.joinpath("sweeps").exists() and not tmp_path.joinpath("studies").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "taobao", "--vary", "platforms.0.ranking.ads=1e400:1:2"],
        ["sweep", "taobao", "--vary", "platforms.0.ranking.ads=-1e308:1e308:3"],
        ["experiment", "whom-to-save", "--years", "nan"],
    ],
)
def test_bad_numbers_on_the_real_command_print_one_line_and_no_warnings(
    tmp_path: Path, args: list[str]
) -> None:
    done = subprocess.run(
        command(*args, "--out", str(tmp_path)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("twosided: error: ") and "Warning" not in done.stderr


def test_bad_executor_and_address_are_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = in_process(capsys, "sweep", "--executor", "dask", "--out", str(tmp_path))
    assert status == 2 and "--executor dask: expected one of local, ray" in err
    status, _, err = in_process(capsys, "sweep", "--address", "auto", "--out", str(tmp_path))
    assert status == 2 and "--address: only used with --executor ray" in err
    assert not tmp_path.joinpath("sweeps").exists()


@pytest.mark.slow
def test_sweep_command_runs_reports_and_resumes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = [
        "sweep",
        "taobao",
        "--vary",
        "platforms.0.ranking.ads=0:1:2",
        "--days",
        "12",
        *SMALL,
        "--out",
        str(tmp_path),
    ]
    status, out, _ = in_process(capsys, *args)
    assert status == 0
    assert "ran 2 variants, 0 already done" in out
    report = Path(out.split("Report:")[1].strip())
    assert report.is_file() and report.name == "report.html"
    status, out, _ = in_process(capsys, *args)
    assert status == 0 and "ran 0 variants, 2 already done" in out
    with Catalog(tmp_path) as catalog:
        assert len(catalog.runs(kind="sweep")) == 2


TIE_ADS, TIE_QUALITY = "platforms.0.ranking.ads", "platforms.0.ranking.quality"


@pytest.mark.parametrize(
    "flags, words",
    [
        (
            ["--tie", f"{TIE_ADS}=0:2:3", "--tie", f"{TIE_QUALITY}=2:0:2"],
            f"--tie {TIE_QUALITY}: 2 values, but {TIE_ADS} has 3",
        ),
        (
            ["--tie", f"{TIE_ADS}=0,1", "--vary", f"{TIE_ADS}=0,1"],
            f"--tie {TIE_ADS}: also given with --vary",
        ),
        (
            ["--tie", f"{TIE_ADS}=0,1", "--tie", "market.nonsense=1,2"],
            "--tie market.nonsense=1: market.nonsense: unknown key",
        ),
        (["--tie", f"{TIE_ADS}="], f"--tie '{TIE_ADS}=': no values after '='"),
        (["--tie", TIE_ADS], f"--tie '{TIE_ADS}': expected key.path=START:STOP:STEPS"),
    ],
)
def test_bad_tie_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], words: str
) -> None:
    status, out, err = in_process(capsys, "sweep", "taobao", *flags, "--out", str(tmp_path))
    lines = err.strip().splitlines()
    assert status == 2 and out == ""
    assert len(lines) == 1 and lines[0].startswith(f"twosided: error: {words}"), err
    assert not tmp_path.joinpath("sweeps").exists()


def test_tied_sweep_runs_reports_and_resumes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = [
        "sweep",
        "taobao",
        "--tie",
        f"{TIE_ADS}=0:2:2",
        "--tie",
        f"{TIE_QUALITY}=2:0:2",
        "--days",
        "6",
        "--set",
        "market.buyers=1000",
        "--seeds",
        "1",
        "--workers",
        "1",
        "--out",
        str(tmp_path),
    ]
    status, out, _ = in_process(capsys, *args)
    assert status == 0
    assert "2 variants x 1 seeds" in out and "ran 2 variants, 0 already done" in out
    with Catalog(tmp_path) as catalog:
        rows = catalog.runs(kind="sweep")
    assert len(rows) == 2
    folder = Path(out.split("Sweep folder:")[1].split()[0])
    labels = [
        json.loads((folder / f"v{i:04d}" / "variant.json").read_text())["labels"] for i in (0, 1)
    ]
    assert labels == [{TIE_ADS: 0, TIE_QUALITY: 2}, {TIE_ADS: 2, TIE_QUALITY: 0}]
    plan = json.loads((folder / "sweep.json").read_text())
    assert plan["tied"] == [TIE_ADS, TIE_QUALITY] and len(plan["variants"]) == 2
    page = html_lib.unescape(Path(out.split("Report:")[1].strip()).read_text())
    assert f"{TIE_ADS} (tied: {TIE_QUALITY})" in page
    assert f"{TIE_ADS}, {TIE_QUALITY} tied: they move together as one axis" in page
    status, out, _ = in_process(capsys, *args)
    assert status == 0 and "ran 0 variants, 2 already done" in out
    assert Path(out.split("Sweep folder:")[1].split()[0]) == folder


@pytest.mark.slow
def test_whom_to_save_runs_end_to_end_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        command(
            "experiment",
            "whom-to-save",
            "--seeds",
            "2",
            "--years",
            "0.2",
            "--points",
            "3",
            "--set",
            "market.buyers=1000",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Where the answer changes" in done.stdout
    # the one-line answer comes before the findings, in the terminal and on the page
    assert done.stdout.index("The answer in one line: ") < done.stdout.index("\n- ")
    report = Path(done.stdout.split("Report:")[1].strip())
    html = report.read_text(encoding="utf-8")
    findings = [line[2:] for line in done.stdout.splitlines() if line.startswith("- ")]
    # per world: horizons, service fee, buyers and sellers, why; then competition
    assert len(findings) == 9 and "Where the answer changes" in findings[-1]
    assert sum("annual service fee is a lump sum" in f for f in findings) == 2
    assert sum(f.startswith("Why, ") for f in findings) == 2
    for finding in findings:
        assert html_lib.escape(finding) in html
    summary = pd.read_csv(report.parent / "summary.csv")
    assert len(summary) == 6 and set(summary["world"]) == {"with rivals", "without rivals"}
    for column in (
        "revenue_first_quarter",
        "revenue_first_quarter_ranked",
        "revenue_long_run",
        "revenue_cumulative",
        "buyer_share",
        "sellers",
        "consumer_surplus",
    ):
        assert {column, f"{column}_lo", f"{column}_hi"} <= set(summary.columns)
    assert (summary["revenue_cumulative"] >= summary["revenue_long_run"]).all()
    fees = summary["revenue_first_quarter"] - summary["revenue_first_quarter_ranked"]
    assert (fees >= summary["service_fee_day0"] - 0.01).all()  # day 0's fee is in the quarter
    assert (summary["service_fee_day0"] > 0).all()
    assert summary["buyer_share"].between(0, 1).all()
    with Catalog(tmp_path) as catalog:
        rows = catalog.runs(kind="sweep")
    assert len(rows) == 6 and rows["sweep_id"].nunique() == 2


def test_ctrl_c_stops_between_variants_with_status_130() -> None:
    from twosided.cli.experiment import variant_progress

    stored = []
    with pytest.raises(typer.Exit) as stop:
        with variant_progress() as update:
            update(0, 3)
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C while a variant runs
            time.sleep(0.2)
            stored.append(1)  # ...the variant in flight still finishes and is stored
            update(1, 3)
            stored.append(2)  # never reached: the sweep stops at the first safe point
    assert stop.value.exit_code == 130
    assert stored == [1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
