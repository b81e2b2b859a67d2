"""The ``twosided sweep`` and ``twosided experiment whom-to-save`` commands: bad --vary is
one line and status 2 with nothing written; a sweep runs, reports and resumes; the study
runs end to end from the command line and writes its report."""

from __future__ import annotations

import html as html_lib
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
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip() == "twosided: error: --vary 'ads': expected key.path=START:STOP:STEPS"
    )


def test_bad_executor_and_address_are_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = in_process(capsys, "sweep", "--executor", "dask", "--out", str(tmp_path))
    assert status == 2 and "--executor dask: expected one of local, ray" in err
    status, _, err = in_process(capsys, "sweep", "--address", "auto", "--out", str(tmp_path))
    assert status == 2 and "--address: only used with --executor ray" in err
    assert not tmp_path.joinpath("sweeps").exists()


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


def test_whom_to_save_runs_end_to_end_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        command(
            "experiment",
            "whom-to-save",
            "--seeds",
            "2",
            "--years",
            "1",
            "--points",
            "3",
            "--set",
            "market.buyers=5000",
            "--workers",
            "1",
            "--out",
            str(tmp_path),
        ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Where the answer changes" in done.stdout
    report = Path(done.stdout.split("Report:")[1].strip())
    html = report.read_text(encoding="utf-8")
    findings = [line[2:] for line in done.stdout.splitlines() if line.startswith("- ")]
    assert len(findings) == 5 and "Where the answer changes" in findings[-1]
    for finding in findings:
        assert html_lib.escape(finding) in html
    summary = pd.read_csv(report.parent / "summary.csv")
    assert len(summary) == 6 and set(summary["world"]) == {"with rivals", "without rivals"}
    for column in (
        "revenue_first_quarter",
        "revenue_long_run",
        "revenue_cumulative",
        "buyer_share",
        "sellers",
        "consumer_surplus",
    ):
        assert {column, f"{column}_lo", f"{column}_hi"} <= set(summary.columns)
    assert (summary["revenue_cumulative"] >= summary["revenue_long_run"]).all()
    assert summary["buyer_share"].between(0, 1).all()
    with Catalog(tmp_path) as catalog:
        rows = catalog.runs(kind="sweep")
    assert len(rows) == 6 and rows["sweep_id"].nunique() == 2


def test_ctrl_c_stops_between_variants_with_status_130() -> None:
    from twosided.experiments.commands import variant_progress

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
