"""``cli_roles`` and ``twosided roles FILE|RUN``: status 0 with the roles printed for a
business model, a shipped example, a run folder or a catalogued run (with or without a
probe); status 2 and one line on stderr, no traceback, for bad input."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from twosided import cli, store
from twosided.roles.business import example_path
from twosided.roles.show import cli_roles

from ..conftest import cached_run


def call(target: str, **kwargs) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli_roles(
        target,
        console=Console(file=out, width=200, color_system=None),
        errors=Console(file=err, width=80, color_system=None),
        **kwargs,
    )
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    run = cached_run("taobao", 63, 2, {"market.buyers": 20_000})
    folder = tmp_path_factory.mktemp("run")
    run.daily.to_parquet(folder / "daily.parquet")
    run.flows.to_parquet(folder / "flows.parquet")
    (folder / "scenario.toml").write_text(run.scenario.to_toml(), encoding="utf-8")
    return folder


@pytest.mark.parametrize("target", ["self_media", str(example_path("mall"))])
def test_business_model_prints_roles(target):
    status, out, err = call(target)
    assert status == 0 and err == ""
    assert "customer" in out and "user" in out


def test_run_folder_prints_roles(run_folder):
    status, out, err = call(str(run_folder))
    assert status == 0 and err == ""
    assert "Taobao: customers and users" in out and "needs a probe run" in out


def rows_of(out: str, role: str) -> list[str]:
    """The 'why' cells of the rows of one role, in table order (each fits on one line)."""
    return re.findall(rf"^│ {role}\s+│[^│]*│ (.*?)\s*│$", out, flags=re.MULTILINE)


def test_run_folder_with_probe_prints_elasticities_and_the_base_runs_amounts(run_folder):
    status, out, _ = call(str(run_folder), with_probe=True)
    assert status == 0
    assert "elasticity" in out and "2 run(s), 2 seed(s)" in out
    _, alone, _ = call(str(run_folder))
    # the probe serves the elasticities only: who pays what, and alignment, are the run's
    customers, alignments = rows_of(out, "customer"), rows_of(out, "alignment")
    assert len(customers) == len(alignments) == 3
    assert customers == rows_of(alone, "customer") and alignments == rows_of(alone, "alignment")


def test_run_amounts_are_printed_in_yuan(run_folder):
    _, out, _ = call(str(run_folder))
    amounts = re.findall(r"\b(ads|commission|service_fee|revenue) ([\d,]+)(?![\d.])( yuan)?", out)
    assert amounts and all(unit == " yuan" for *_, unit in amounts)
    taobao = rows_of(out, "customer")[0]
    assert re.search(r"service_fee [\d,]+ yuan, ads [\d,]+ yuan", taobao), taobao


@pytest.mark.parametrize(
    "content,expected",
    [
        ("focal = [\n", "invalid TOML"),
        ('name = "x"\nfocal = "a"\n[parties]\na = ""\nb = ""\n', "money: Field required"),
    ],
)
def test_malformed_file_exits_2_with_one_line(tmp_path, content, expected):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    status, out, err = call(str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and expected in err and str(path) in err


def test_unknown_target_exits_2(tmp_path):
    status, _, err = call("no-such-run", root=tmp_path)
    assert status == 2 and "neither a business-model file" in err


def test_folder_without_tables_exits_2(tmp_path):
    status, _, err = call(str(tmp_path))
    assert status == 2 and "not a run folder" in err


def test_probe_of_a_business_model_exits_2():
    status, out, err = call("mall", with_probe=True)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "--probe" in err and "'mall' is a business-model file" in err


# --------------------------------------------------------------------------- twosided roles


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.run_app(["roles", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_twosided_roles_on_an_example_exits_0(capsys):
    status, out, err = run_cli(capsys, "flower_seller")
    assert status == 0 and err == ""
    assert "The boyfriend" in out and "The girlfriend" in out


def test_twosided_roles_on_a_run_of_the_catalog_exits_0(tmp_path, capsys):
    run = cached_run("taobao", 63, 2, {"market.buyers": 20_000})
    run_id, _ = store.save_run(run, tmp_path)
    status, out, err = run_cli(capsys, run_id[:12], "--out", str(tmp_path))
    assert status == 0, err
    assert "Taobao: customers and users" in out and "alignment" in out


def test_twosided_roles_on_a_malformed_file_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "model.toml"
    path.write_text(
        example_path("dance_school")
        .read_text(encoding="utf-8")
        .replace("amount = 4800", "amount = -1"),
        encoding="utf-8",
    )
    status, out, err = run_cli(capsys, str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("twosided: error:") and "money.0.amount" in err


def test_twosided_roles_with_probe_on_a_business_model_exits_2_with_one_line(capsys):
    status, out, err = run_cli(capsys, "mall", "--probe")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "--probe" in err and "applies to runs only" in err


def test_twosided_roles_on_a_folder_that_is_not_a_run_exits_2_naming_what_is_missing(
    tmp_path, capsys
):
    (tmp_path / "daily.parquet").write_bytes(b"")
    status, out, err = run_cli(capsys, str(tmp_path), "--out", str(tmp_path / "results"))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"{tmp_path}: not a run folder (missing flows.parquet, scenario.toml)" in err
    assert "catalog" not in err


def test_twosided_roles_on_an_unknown_run_exits_2(tmp_path, capsys):
    status, _, err = run_cli(capsys, "nosuchrun", "--out", str(tmp_path))
    assert status == 2 and err.count("\n") == 1 and "nosuchrun" in err


def test_console_script_shows_no_traceback_for_a_malformed_file(tmp_path):
    path = tmp_path / "model.toml"
    path.write_text("focal = [", encoding="utf-8")
    script = Path(sys.executable).parent / "twosided"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "twosided.cli"]
    proc = subprocess.run([*cmd, "roles", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "invalid TOML" in proc.stderr
