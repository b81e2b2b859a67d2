"""The ``twosided`` command: runs write complete run folders whose summary agrees with the
daily table, every preset runs, bad input gets one line and status 2 with nothing written,
Ctrl-C leaves nothing behind, and the catalog lists a run only once it is finished.

Exit statuses and tracebacks are checked on the real console script (subprocesses); the
many small cases run in-process through ``cli.run_app`` with the same parsing and errors.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import twosided
from twosided import cli, store
from twosided.scenario import apply_overrides, load_scenario
from twosided.store import Catalog

from .test_store import check_summary_against_daily

SMALL = ["--set", "market.buyers=2000", "--days", "10", "--seeds", "2"]
TINY = ["--set", "market.buyers=2000", "--days", "2"]
INTERRUPT = 130
RUN_FILES = {
    "scenario.toml",
    "daily.parquet",
    "accounts.parquet",
    "flows.parquet",
    "switches.parquet",
    "summary.json",
    "meta.json",
    "report.html",
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """Subprocess environment: the test session's compilation cache (tests/conftest.py),
    shared by every process of the session, or a folder of its own where it has none."""
    cache = os.environ.get("JAX_COMPILATION_CACHE_DIR") or tmp_path_factory.mktemp("jax-cache")
    return {
        **os.environ,
        "JAX_COMPILATION_CACHE_DIR": str(cache),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    }


def command() -> list[str]:
    """The installed console script (or the module, where scripts are not on disk)."""
    script = Path(sys.executable).parent / "twosided"
    return [str(script)] if script.exists() else [sys.executable, "-m", "twosided.cli"]


def twosided_cmd(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*command(), *args], cwd=cwd, env=env, capture_output=True, text=True)


def in_process(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.run_app(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_folders(out: Path) -> list[Path]:
    """Run folders (and leftovers of unfinished ones) under a runs folder."""
    if not out.exists():
        return []
    return [p for p in out.iterdir() if p.is_dir() and p.name != cli.COMPARISONS]


def only_run(out: Path) -> Path:
    folders = run_folders(out)
    assert len(folders) == 1, folders
    return folders[0]


# --------------------------------------------------------------------------- twosided run


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One `twosided run` of the default preset, made small with --set and --days (in
    process, sharing its compiled program with the other small runs)."""
    cwd = tmp_path_factory.mktemp("cli")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.run_app(["run", *SMALL, "--out", "runs"])
    proc = subprocess.CompletedProcess(["twosided"], status, out.getvalue(), err.getvalue())
    return proc, cwd / "runs"


def test_run_exits_0_and_writes_every_file(small_run):
    proc, out = small_run
    assert proc.returncode == 0, proc.stderr
    folder = only_run(out)
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    assert (out / store.CATALOG_NAME).exists()


def test_run_prints_a_summary_per_platform_and_where_the_run_is(small_run):
    proc, out = small_run
    folder = only_run(out)
    for name in (
        "Taobao",
        "Pinduoduo",
        "JD",
        "Market",
        "GMV (yuan)",
        "Take rate",
        "Share of sessions",
        "Seller listings (last day)",
        "Consumer surplus (yuan)",
        "from ads (yuan)",
        "from commission (yuan)",
    ):
        assert name in proc.stdout
    assert f"Run folder: runs/{folder.name}" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_run_summary_json_agrees_with_daily_parquet(small_run):
    _, out = small_run
    folder = only_run(out)
    summary = json.loads((folder / "summary.json").read_text())
    check_summary_against_daily(summary, pd.read_parquet(folder / "daily.parquet"))
    assert summary["seeds"] == [0, 1] and summary["days"] == 10


def test_run_writes_the_resolved_scenario_with_every_field(small_run):
    _, out = small_run
    folder = only_run(out)
    written = load_scenario(folder / "scenario.toml")
    expected = apply_overrides(load_scenario("taobao"), {"market.buyers": 2000, "days": 10})
    assert written == expected
    # every field is written out, except optional tables left unset (TOML has no null)
    assert flat_keys(tomllib.loads((folder / "scenario.toml").read_text())) == flat_keys(
        expected.model_dump(mode="json", exclude_none=True)
    )


def test_run_meta_records_versions_device_seeds_and_command(small_run):
    _, out = small_run
    meta = json.loads((only_run(out) / "meta.json").read_text())
    assert meta["command"] == ["twosided", "run", *SMALL, "--out", "runs"]
    assert meta["seeds"] == [0, 1]
    assert meta["twosided"] == twosided.__version__
    assert meta["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["jax"] and meta["device"].startswith("cpu")


def test_runs_lists_the_run_and_passes_sql_through(small_run, capsys):
    _, out = small_run
    folder = only_run(out)
    status, stdout, _ = in_process(capsys, "runs", "--out", str(out))
    assert status == 0 and folder.name in stdout
    # what the run changed from its preset, in its own column
    assert "changes" in stdout and "days=10" in stdout and "market.buyers=2000" in stdout
    status, stdout, _ = in_process(capsys, "runs", "--out", str(out), "--sql", "DESCRIBE runs")
    assert status == 0 and "sweep_id" in stdout
    assert "nan" not in stdout.split() and "None" not in stdout  # NULL is an empty cell
    status, stdout, _ = in_process(
        capsys,
        "runs",
        "--out",
        str(out),
        "--csv",
        "--sql",
        "SELECT run_id, count(*) AS n, sum(gmv_cents) AS gmv FROM daily GROUP BY run_id",
    )
    daily = pd.read_parquet(folder / "daily.parquet")
    assert status == 0
    assert stdout.splitlines() == [
        "run_id,n,gmv",
        f"{folder.name},{len(daily)},{int(daily['gmv_cents'].sum())}",  # a sum of cents: whole
    ]


def test_report_rebuilds_the_report_of_the_latest_run(small_run, capsys):
    _, out = small_run
    report = only_run(out) / "report.html"
    report.unlink()
    status, stdout, _ = in_process(capsys, "report", "latest", "--out", str(out))
    assert status == 0 and f"Report: {report.resolve()}" in stdout
    html = report.read_text()
    assert all(f'id="{chart}"' in html for chart in twosided.report.chart_ids())


def test_report_with_a_warmup_leaves_the_first_days_out_and_says_so(small_run, capsys):
    _, out = small_run
    report = only_run(out) / "report.html"
    status, _, _ = in_process(capsys, "report", "latest", "--out", str(out), "--warmup", "4")
    assert status == 0
    assert "The first 4 days (warm-up) are left out" in report.read_text()
    status, stdout, stderr = in_process(
        capsys, "report", "latest", "--out", str(out), "--warmup", "10"
    )
    assert_one_line_error(status, stdout, stderr, "'--warmup': 10 days must be at least 0")
    status, _, _ = in_process(capsys, "report", "latest", "--out", str(out))
    assert status == 0 and "(warm-up) are left out" not in report.read_text()


def test_compare_prints_differences_and_writes_a_comparison_report(small_run, capsys):
    _, out = small_run
    first = only_run(out).name
    status, _, err = in_process(
        capsys, "run", *SMALL, "--out", str(out), "--set", "platforms.Taobao.ranking.ads=3"
    )
    assert status == 0, err
    second = next(p.name for p in run_folders(out) if p.name != first)
    status, stdout, _ = in_process(capsys, "compare", first, second, "--out", str(out))
    assert status == 0
    a = json.loads((out / first / "summary.json").read_text())["market"]
    b = json.loads((out / second / "summary.json").read_text())["market"]
    change = (b["gmv_cents"] - a["gmv_cents"]) / 100
    market_gmv = next(line for line in stdout.splitlines() if "Market" in line and "GMV" in line)
    assert f"{change:+,.0f}" in market_gmv
    path = out / cli.COMPARISONS / f"{first}--vs--{second}.html"
    assert f"Comparison report: {path}" in stdout
    html = path.read_text()
    assert first in html and second in html and "Taobao (B)" in html
    # what differs is listed first; same days, buyers and seeds: no warning
    assert stdout.index("What differs") < stdout.index("Totals over each run")
    assert "platforms.Taobao.ranking.ads" in stdout and "Warning" not in stdout
    assert "Per day and per 1,000 buyers" not in stdout


def test_compare_warns_about_other_days_and_offers_normalised_figures(small_run, capsys):
    _, out = small_run
    first = sorted(run_folders(out))[0].name
    before = {p.name for p in run_folders(out)}
    status, _, err = in_process(
        capsys,
        "run",
        "--set",
        "market.buyers=4000",
        "--days",
        "10",
        "--seeds",
        "1",
        "--out",
        str(out),
    )
    assert status == 0, err
    (second,) = {p.name for p in run_folders(out)} - before
    status, stdout, _ = in_process(capsys, "compare", first, second, "--out", str(out))
    assert status == 0
    assert "Warning: A has 2,000 buyers and B 4,000" in stdout
    assert "Warning: A ran seeds [0, 1] and B seeds [0]" in stdout
    assert "Per day and per 1,000 buyers" in stdout


def test_the_changes_column_is_short():
    from twosided.cli.runs import preset_changes

    assert preset_changes("no-such-preset", Path("nowhere")) == "(not a preset)"
    assert preset_changes("taobao", Path("nowhere")) == "?"


def test_the_changes_column_names_the_first_changes_and_counts_the_rest(tmp_path):
    from twosided.cli.runs import preset_changes

    changed = apply_overrides(
        load_scenario("taobao"),
        {
            "days": 90,
            "market.buyers": 50_000,
            "platforms.Taobao.ranking.ads": 2.0,
            "platforms.JD.fees.commission": 0.07,
        },
    )
    (tmp_path / "scenario.toml").write_text(changed.to_toml())
    text = preset_changes("taobao", tmp_path, width=40)
    assert text == "days=90, market.buyers=50000, +2 more"
    assert len(preset_changes("taobao", tmp_path)) <= 60
    (tmp_path / "scenario.toml").write_text(load_scenario("taobao").to_toml())
    assert preset_changes("taobao", tmp_path) == "-"


@pytest.mark.parametrize("damage", ["truncate", "remove"])
@pytest.mark.parametrize("table", ["daily", "flows"])
def test_a_damaged_run_folder_is_one_line_naming_the_file(
    small_run, tmp_path, capsys, damage, table
):
    import shutil

    _, out = small_run
    folder = tmp_path / "damaged"
    shutil.copytree(sorted(run_folders(out))[0], folder)
    path = folder / f"{table}.parquet"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
        expected = f"{path}: damaged run file"
    else:
        path.unlink()
        expected = f"missing {table}.parquet"
    for args in (
        ["report", str(folder)],
        ["compare", str(folder), "latest"],
        ["run", "--from", str(folder)],
        ["roles", str(folder)],
    ):
        status, stdout, stderr = in_process(capsys, *args, "--out", str(out))
        assert_one_line_error(status, stdout, stderr, expected)
        if args[0] == "run":
            assert "--from: " in stderr


def tampered_copy(small_run, tmp_path: Path, **meta_changes: object) -> tuple[Path, Path]:
    """A copy of the small run's runs folder with its run's meta.json changed."""
    _, out = small_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns(cli.COMPARISONS))
    folder = sorted(run_folders(copy))[0]
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, **meta_changes}))
    return copy, folder


def test_compare_never_writes_outside_the_comparisons_folder(small_run, tmp_path, capsys):
    copy, folder = tampered_copy(small_run, tmp_path, run_id="../../escaped")
    status, stdout, err = in_process(
        capsys, "compare", str(folder), str(folder), "--out", str(copy)
    )
    assert status == 0, err
    written = [p for p in tmp_path.rglob("*.html") if p.parent.name == cli.COMPARISONS]
    assert [p.parent for p in written] == [copy / cli.COMPARISONS]
    assert not list(tmp_path.glob("escaped*")) and not list(copy.glob("escaped*"))


@pytest.mark.parametrize("seeds", [[4294967296], [3, 3]])
def test_from_refuses_seeds_out_of_range_in_one_line(small_run, tmp_path, capsys, seeds):
    copy, folder = tampered_copy(small_run, tmp_path, seeds=seeds)
    status, stdout, stderr = in_process(capsys, "run", "--from", str(folder), "--out", str(copy))
    assert_one_line_error(status, stdout, stderr, "seeds must be")


HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\x9b31m [bold]x[/bold]"


def test_control_characters_never_reach_the_terminal(small_run, tmp_path, capsys):
    copy, _ = tampered_copy(small_run, tmp_path)
    with Catalog(copy) as catalog:
        catalog.con.execute("UPDATE runs SET name = ?", [HOSTILE])
    status, stdout, _ = in_process(capsys, "runs", "--out", str(copy))
    assert status == 0
    status, queried, _ = in_process(
        capsys, "runs", "--out", str(copy), "--sql", "SELECT name FROM runs"
    )
    assert status == 0
    for text in (stdout, queried):
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        assert "evil\\x1b[2J\\x1b]0;pwned\\x07" in " ".join(text.split())
        assert "[bold]x[/bold]" in text  # markup shown as typed, not interpreted
    cli.print_grid(["a"], [[HOSTILE]], title=HOSTILE)
    cli.say(HOSTILE)
    assert "\x1b" not in capsys.readouterr().out


def test_runs_leaves_out_a_damaged_run_and_names_it(small_run, tmp_path, capsys):
    copy, folder = tampered_copy(small_run, tmp_path)
    (folder / "daily.parquet").write_bytes(b"PAR1 damaged PAR1")
    status, stdout, stderr = in_process(
        capsys, "runs", "--out", str(copy), "--sql", "SELECT count(*) AS n FROM daily"
    )
    assert status == 0, stderr
    assert "left out a damaged run file" in stderr and "daily.parquet" in stderr
    status, stdout, stderr = in_process(capsys, "runs", "--out", str(copy), "--sql", "SELECT 1")
    assert status == 0 and "Traceback" not in stderr


def test_runs_limit_applies_before_the_rows_are_fetched(small_run, capsys):
    _, out = small_run
    status, stdout, _ = in_process(
        capsys,
        "runs",
        "--out",
        str(out),
        "--limit",
        "3",
        "--sql",
        "SELECT range AS n FROM range(2000000)",
    )
    assert status == 0
    assert "... 1999997 more rows" in stdout


def test_rebuild_index_after_moving_the_runs_folder(small_run, tmp_path, capsys):
    copy, folder = tampered_copy(small_run, tmp_path)
    (copy / store.CATALOG_NAME).unlink()
    status, stdout, _ = in_process(capsys, "runs", "--out", str(copy), "--rebuild-index")
    assert status == 0 and "Indexed " in stdout
    status, stdout, _ = in_process(capsys, "runs", "--out", str(copy))
    assert status == 0 and folder.name in stdout


def test_default_preset_with_its_defaults_runs(tmp_path, cli_env):
    """The real default: `twosided run` with nothing but fewer days (200,000 buyers)."""
    proc = twosided_cmd(cli_env, "run", "--days", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "3/3 days" in proc.stderr
    folder = only_run(tmp_path / "twosided-runs")
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    scenario = load_scenario(folder / "scenario.toml")
    assert scenario == apply_overrides(load_scenario("taobao"), {"days": 3})
    summary = json.loads((folder / "summary.json").read_text())
    check_summary_against_daily(summary, pd.read_parquet(folder / "daily.parquet"))


@pytest.mark.slow
@pytest.mark.parametrize("preset", twosided.preset_names())
def test_every_preset_loads_validates_and_runs(preset, tmp_path, capsys):
    status, stdout, err = in_process(capsys, "run", preset, *SMALL, "--out", str(tmp_path))
    assert status == 0, err
    folder = only_run(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    names = [p.name for p in load_scenario(preset).platforms]
    assert [p["platform"] for p in summary["platforms"]] == names
    assert summary["market"]["sessions"] > 0
    assert all(name in stdout for name in names)


# --------------------------------------------------------------------------- the catalog


def test_the_catalog_lists_a_run_only_after_it_finishes(tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs"
    during: dict[str, object] = {}
    write_report = twosided.report.write_report

    def spy(run, path, *args, **kwargs):
        during["folders"] = [p.name for p in run_folders(out)]
        with Catalog(out, read_only=True) as catalog:
            during["listed"] = len(catalog.runs())
        return write_report(run, path, *args, **kwargs)

    monkeypatch.setattr(twosided.report, "write_report", spy)
    status, _, err = in_process(capsys, "run", *SMALL, "--out", str(out))
    assert status == 0, err
    assert during["listed"] == 0
    assert all(name.startswith(store.TMP_PREFIX) for name in during["folders"])
    with Catalog(out, read_only=True) as catalog:
        assert catalog.runs()["run_id"].tolist() == [only_run(out).name]


# --------------------------------------------------------------------------- presets, show


def test_presets_lists_each_preset_on_one_line_with_its_description(capsys):
    status, stdout, _ = in_process(capsys, "presets")
    lines = stdout.splitlines()
    assert status == 0 and len(lines) == len(twosided.preset_names())
    for line, name in zip(lines, twosided.preset_names(), strict=True):
        assert line.split()[0] == name
        assert line.endswith(load_scenario(name).description)


def flat_keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= flat_keys(value, f"{prefix}{key}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                keys |= flat_keys(item, f"{prefix}{key}.{i}.")
        else:
            keys.add(prefix + key)
    return keys


@pytest.mark.parametrize("preset", twosided.preset_names())
def test_show_prints_every_field_and_loads_back_as_the_same_scenario(preset, tmp_path, capsys):
    status, stdout, _ = in_process(capsys, "show", preset)
    assert status == 0
    path = tmp_path / "copy.toml"
    path.write_text(stdout)
    scenario = load_scenario(preset)
    assert load_scenario(path) == scenario
    # every field, except optional tables left unset (TOML has no null)
    assert flat_keys(tomllib.loads(stdout)) == flat_keys(
        scenario.model_dump(mode="json", exclude_none=True)
    )


def test_show_documents_every_field_in_a_comment_above_it(capsys):
    from twosided.scenario.schema import Market, Platform

    status, stdout, _ = in_process(capsys, "show", "taobao")
    assert status == 0
    lines = stdout.splitlines()
    buyers = lines.index("buyers = 200000")
    comment = []
    for line in reversed(lines[:buyers]):
        if not line.startswith("# "):
            break
        comment.insert(0, line[2:])
    assert " ".join(comment) == " ".join(Market.model_fields["buyers"].description.split())
    assert sum(line.startswith("# ") for line in lines) > sum(" = " in line for line in lines)
    commission = Platform.model_fields["seller_types"].description.split()[0]
    assert f"# seller_types (a table) is unset: {commission}" in stdout


def test_show_applies_set_overrides(capsys):
    status, stdout, _ = in_process(capsys, "show", "--set", "platforms.JD.fees.commission=0.07")
    assert status == 0
    jd = next(p for p in tomllib.loads(stdout)["platforms"] if p["name"] == "JD")
    assert jd["fees"]["commission"] == 0.07


# --------------------------------------------------------------------------- bad input


BAD_FILES = {
    "unknown_key.toml": ("[market]\nbuyerz = 5\n", "market.buyerz: unknown key"),
    "wrong_type.toml": ('days = "many"\n', "days: Input should be a valid integer"),
    "quoted_number.toml": ('days = "30"\n', "days: Input should be a valid integer"),
    "bool_for_number.toml": ("days = true\n", "days: Input should be a valid integer"),
    "out_of_range.toml": (
        '[[platforms]]\nname = "A"\n[platforms.fees]\ncommission = 1.5\n',
        "platforms.0.fees.commission: commission rate 1.5 is outside [0, 1]",
    ),
    "not_toml.toml": ("days = \n", "invalid TOML"),
}

BAD_ARGS = [
    (["run", "unknown_key.toml"], "unknown_key.toml: market.buyerz: unknown key"),
    (["run", "wrong_type.toml"], "wrong_type.toml: days"),
    (["run", "quoted_number.toml"], "quoted_number.toml: days: Input should be a valid integer"),
    (
        ["run", "bool_for_number.toml"],
        "bool_for_number.toml: days: Input should be a valid integer",
    ),
    (["run", "out_of_range.toml"], "platforms.0.fees.commission"),
    (["run", "not_toml.toml"], "not_toml.toml: invalid TOML"),
    (["run", "missing.toml"], "scenario file 'missing.toml' not found"),
    (["run", "adir.toml"], "error: scenario file 'adir.toml' is a folder, not a file"),
    (["run", "binary.toml"], "error: scenario file 'binary.toml': not UTF-8 text (byte 0)"),
    (["run", "no_such_preset"], "preset 'no_such_preset' not found"),
    (["run", "--set", "market.buyers"], "--set 'market.buyers': expected key.path=value"),
    (["run", "--set", "market.buyerz=5"], "--set: market.buyerz: unknown key"),
    (["run", "--set", "market.buyers=many"], "--set: market.buyers: Input should be a valid"),
    (["run", "--set", "platforms.0.fees.commission=1.5"], "commission rate 1.5 is outside"),
    (["run", "--set", "platforms.Nobody.fees.commission=0.1"], "no entry named 'Nobody'"),
    (["run", "--days", "many"], "'--days'"),
    (["run", "--days", "0"], "'--days'"),
    (["run", "--days", "99999"], "--days: Input should be less than or equal to 32767"),
    (["run", "--seeds", "0"], "'--seeds'"),
    (["run", "--warmup", "-1"], "'--warmup': -1 days must be at least 0"),
    (["run", *TINY, "--warmup", "2"], "'--warmup': 2 days must be at least 0 and less than"),
    (["report", "latest", "--warmup", "x"], "'--warmup'"),
    (["run", "--seed", "-1"], "'--seed'"),
    (
        ["run", "--seeds", "99999999999999999999999"],
        "--seeds 99,999,999,999,999,999,999,999: at most 10,000",
    ),
    (["run", "--seed", "2147483647", "--seeds", "2"], "the last seed would be 2,147,483,648"),
    (["run", "--bogus"], "No such option: --bogus"),
    (["run", "--out", "a_file"], "'--out'"),
    (["run", *TINY, "--out", "/proc/twosided-x"], "'--out': /proc/twosided-x: cannot write"),
    (["run", *TINY, "--out", "a_file/runs"], "'--out': a_file/runs: cannot write there"),
    (["run", *TINY, "--out", "bad_catalog"], "'--out': bad_catalog/catalog.duckdb: cannot open"),
    (["run", "--out", "new/deeper", "--set", "market.buyerz=1"], "market.buyerz: unknown key"),
    (
        [
            "sweep",
            *TINY,
            "--seeds",
            "1",
            "--vary",
            "market.buyers=2000,2500",
            "--out",
            "/proc/twosided-x",
        ],
        "'--out': /proc/twosided-x: cannot write",
    ),
    (
        [
            "experiment",
            "whom-to-save",
            "--years",
            "0.01",
            "--seeds",
            "1",
            "--points",
            "2",
            "--set",
            "market.buyers=2000",
            "--out",
            "/proc/twosided-x",
        ],
        "'--out': /proc/twosided-x",
    ),
    (["report", "latest", "--out", "bad_catalog"], "'--out': bad_catalog/catalog.duckdb"),
    (["compare", "latest", "latest", "--out", "/proc/twosided-x"], "'--out': /proc/twosided-x"),
    (["show", "no_such_preset"], "preset 'no_such_preset' not found"),
    (["report", "no_such_run"], "run 'no_such_run' not found"),
    (["compare", "no_such_run", "latest"], "run 'no_such_run' not found"),
    (["runs", "--sql", "SELECT * FROM no_such_table"], "--sql: Catalog Error"),
    (["nosuchcommand"], "No such command"),
    (["runs", "--out", "a_file"], "'--out': a_file is not a folder"),
    (["runs", "--sql", "COPY (SELECT 1) TO 'leak.csv'"], "--sql: only queries are run"),
    (["runs", "--sql", ""], "--sql: empty query"),
]


@pytest.fixture
def bad_inputs(tmp_path, monkeypatch) -> Path:
    for name, (text, _) in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "adir.toml").mkdir()
    (tmp_path / "bad_catalog").mkdir()
    (tmp_path / "bad_catalog" / store.CATALOG_NAME).write_text("not a database")
    (tmp_path / "binary.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_one_line_error(status: int, stdout: str, stderr: str, expected: str) -> None:
    assert status == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("twosided: error: ")
    assert expected in lines[0]
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("args", "expected"), BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_input_gives_one_line_status_2_and_writes_nothing(
    bad_inputs, capsys, monkeypatch, args, expected
):
    def simulate(*args, **kwargs):
        raise AssertionError("bad input must be refused before anything is simulated")

    monkeypatch.setattr(twosided, "simulate", simulate)
    monkeypatch.setattr(twosided.simulation, "simulate", simulate)
    before = sorted(p.name for p in bad_inputs.iterdir())
    status, stdout, stderr = in_process(capsys, *args)
    assert_one_line_error(status, stdout, stderr, expected)
    assert sorted(p.name for p in bad_inputs.iterdir()) == before  # no runs folder, no file


@pytest.mark.parametrize("index", [0, 2, 8, 13])
def test_bad_input_on_the_console_script(bad_inputs, cli_env, index):
    args, expected = BAD_ARGS[index]
    proc = twosided_cmd(cli_env, *args, cwd=bad_inputs)
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, expected)
    assert not (bad_inputs / "twosided-runs").exists()


def test_no_command_prints_help(capsys):
    status, stdout, _ = in_process(capsys)
    assert status == 0
    assert "Usage: twosided" in stdout and "compare" in stdout
    status, stdout, stderr = in_process(capsys, "experiment")
    assert status == 0 and stderr == ""
    assert "Usage: twosided experiment" in stdout and "whom-to-save" in stdout


def test_compare_refuses_a_comparisons_file_before_any_work(small_run, capsys, tmp_path):
    _, out = small_run
    blocked = tmp_path / "blocked"
    shutil.copytree(out, blocked)
    shutil.rmtree(blocked / "comparisons", ignore_errors=True)  # earlier tests' reports
    (blocked / "comparisons").write_text("a file where the reports go")
    status, stdout, stderr = in_process(
        capsys, "compare", "latest", "latest", "--out", str(blocked)
    )
    assert_one_line_error(status, stdout, stderr, "comparisons is not a folder")


# --------------------------------------------------------------------------- Ctrl-C


def past_start_up(env: dict[str, str]) -> float:
    """Seconds after which a command started now has loaded the command line: twice what
    loading it takes on this machine now (a loaded CI machine takes several times longer
    than a quiet one), plus a margin, and never under 8 s. A Ctrl-C before that ends the
    program quietly (twosided.console), which is not what these tests are about."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import twosided.cli"], env=env, check=True)
    return max(8.0, 2 * (time.perf_counter() - start) + 3.0)


def test_ctrl_c_during_a_run_exits_130_and_leaves_no_run_folder(tmp_path, cli_env):
    """SIGINT while the simulation runs (a long run: 3,000 days)."""
    proc = subprocess.Popen(
        [*command(), "run", "--set", "market.buyers=5000", "--days", "3000", "--out", "runs"],
        cwd=tmp_path,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(past_start_up(cli_env))  # inside compiling or simulating
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate()
    assert proc.returncode == 130
    assert "interrupted: no run folder was written" in stderr
    assert "Traceback" not in stderr
    assert run_folders(tmp_path / "runs") == []


CONSOLE_SCRIPT = "import sys; from twosided.console import main; sys.exit(main())"  # as pip's


def test_the_console_script_is_the_light_entry_point():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["twosided"] == "twosided.console:main"
    probe = (
        "import sys, twosided.console; print(*(name in sys.modules for name in "
        "('jax', 'twosided.cli', 'importlib.metadata')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    # nothing heavy before main() can take Ctrl-C (importlib.metadata pulls in email, ...)
    assert loaded.stdout.split() == ["False", "False", "False"]


def test_ctrl_c_while_the_command_is_still_loading_exits_quietly(tmp_path, cli_env):
    """SIGINT at several moments of start-up (Python importing JAX, the engine, Plotly):
    never a traceback; status 130 (or 0 where the command had already finished)."""
    statuses = []
    for delay in (0.15, 0.3, 0.5, 0.8, 1.2):
        proc = subprocess.Popen(
            [sys.executable, "-c", CONSOLE_SCRIPT, "presets"],
            cwd=tmp_path,
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate()
        assert "Traceback" not in stderr, (delay, stderr)
        assert proc.returncode in (0, INTERRUPT), (delay, proc.returncode, stderr)
        assert len(stderr.strip().splitlines()) <= 1, stderr
        statuses.append(proc.returncode)
    assert INTERRUPT in statuses  # at least one signal landed while loading


def test_ctrl_c_while_writing_the_run_folder_leaves_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(twosided.report, "write_report", interrupted)
    status, _, stderr = in_process(capsys, "run", *SMALL, "--out", str(tmp_path / "runs"))
    assert status == 130
    assert "interrupted: no run folder was written" in stderr
    assert run_folders(tmp_path / "runs") == []
    with Catalog(tmp_path / "runs", read_only=True) as catalog:
        assert catalog.runs().empty


# --------------------------------------------------------------------------- compile cache


def test_the_console_keeps_compiled_programs_under_the_users_cache(tmp_path, monkeypatch):
    """`twosided` keeps compiled simulations in $XDG_CACHE_HOME/twosided/jax between
    invocations; JAX_COMPILATION_CACHE_DIR, when set, is left to JAX."""
    import jax

    before = jax.config.jax_compilation_cache_dir
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    try:
        cli.keep_compiled_programs()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "twosided" / "jax")
        jax.config.update("jax_compilation_cache_dir", before)
        monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "chosen"))
        cli.keep_compiled_programs()
        assert jax.config.jax_compilation_cache_dir == before
    finally:
        jax.config.update("jax_compilation_cache_dir", before)


# --------------------------------------------------------------------------- start-up


def imported_modules(*args: str) -> tuple[int, set[str]]:
    """Run ``python -X importtime ARGS`` and return its status and every module it imported."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True
    )
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return proc.returncode, names


def loads_jax(modules: set[str]) -> bool:
    return any(m == "jax" or m.startswith(("jax.", "jaxlib")) for m in modules)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["presets"],
        ["show"],
        ["show", "taobao", "--set", "market.buyers=7"],
        ["run", "--help"],
        ["sweep", "--help"],
        ["roles", "--help"],
    ],
)
def test_commands_that_do_not_simulate_never_import_jax(args, tmp_path):
    status, modules = imported_modules("-m", "twosided", *args)
    assert status == 0
    assert "twosided.cli" in modules  # the whole command line was loaded...
    assert not loads_jax(modules)  # ...but not the engine


def test_the_import_check_sees_jax_where_it_is_loaded():
    status, modules = imported_modules("-c", "import twosided.simulation")
    assert status == 0 and loads_jax(modules)


def test_the_command_lines_constants_are_the_libraries():
    from twosided.cli import common
    from twosided.experiments import executors

    assert common.DEFAULT_ROOT == store.DEFAULT_ROOT
    assert cli.CACHE_ENV == executors.CACHE_ENV


NATIVE = """
import os, sys
from pathlib import Path
from twosided.cli.common import native_messages_kept
folder = Path(sys.argv[1])
try:
    with native_messages_kept() as log:
        os.write(2, b"Very slow compile? If you want to file a bug...\\n")  # as XLA does
        sys.stderr.write("compiling\\n")  # the progress bar
        log.keep_in(folder)
        if sys.argv[2] == "fail":
            raise RuntimeError("boom")
except RuntimeError:
    pass
sys.stderr.write("after\\n")
"""


@pytest.mark.parametrize("outcome", ["ok", "fail"])
def test_native_messages_stay_off_the_terminal_and_go_to_the_run_folder(tmp_path, outcome):
    proc = subprocess.run(
        [sys.executable, "-c", NATIVE, str(tmp_path), outcome], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "compiling" in proc.stderr and "after" in proc.stderr  # Python's own stderr
    kept = (tmp_path / cli.common.NATIVE_LOG).read_text()
    assert "Very slow compile?" in kept
    if outcome == "ok":
        assert "Very slow compile?" not in proc.stderr
    else:  # a failure shows what native code said: it may be why
        assert "Very slow compile?" in proc.stderr
