"""Fuzzing the loaders: random and mutated TOML, overrides and command lines either load
or fail with one clear line (status 2 on the command line); never a traceback, never a
hang. Covers the scenario loader (`twosided.load_scenario`, `apply_overrides`, `twosided
run FILE`, `--set`) and the business-model loader (`twosided.roles`, `twosided roles
FILE`). A scenario that loads must also turn into engine inputs and a memory estimate
(what `twosided run` does before compiling) without an error of another kind."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twosided
from twosided import cli, memory, roles
from twosided.roles.business import example_path
from twosided.scenario import ScenarioError, apply_overrides, dump_toml, load_scenario
from twosided.sim.params import build

from .test_cli import cli_env, command  # noqa: F401 (cli_env is a fixture)

EXAMPLES = int(
    os.environ.get("TWOSIDED_FUZZ_EXAMPLES", "150")
)  # per loader test: milliseconds each
CLI_EXAMPLES = 60
HANG_S = 20  # an example that takes this long is a hang

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
CLI_FUZZ = settings(FUZZ, max_examples=CLI_EXAMPLES)


class Hang(Exception):
    """An example ran longer than HANG_S."""


@contextlib.contextmanager
def no_hang(seconds: float = HANG_S) -> Iterator[None]:
    """Fail (instead of waiting forever) if the block runs longer than ``seconds``."""

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def one_line(err: BaseException) -> str:
    message = str(err)
    assert message.strip() and "\n" not in message, repr(message)
    return message


# --------------------------------------------------------------------------- inputs

SCENARIO_TEXTS = [load_scenario(p).to_toml() for p in twosided.preset_names()]
BUSINESS_TEXTS = [example_path(n).read_text(encoding="utf-8") for n in roles.example_names()]

# strings that mean something to a terminal (Rich markup), a web page or a file system
nasty_strings = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "[/]",
        "[bold]x",
        "[/x] y",
        "[link=http://x]z",
        "x\ny",
        "../../etc",
        "\x1b[31mred",
        "",
        " ",
        "\u202e",
        "a" * 300,
    ]
)
toml_scalars = st.one_of(
    nasty_strings,
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2**31, 2**31 - 1, 2**63 - 1, 32_767, 32_768, 10**12 + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 1e-300, 1e300, float("inf"), float("nan")]),
    st.text(max_size=30),
    st.sampled_from(["gsp", "evidence", "buyers", "\x00"]),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in nested dicts and lists."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


def _replace(data: Any, path: tuple, value: Any, delete: bool = False) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@st.composite
def mutated_dicts(draw: st.DrawFn, texts: list[str]) -> dict[str, Any]:
    """A parsed valid file with a few values replaced, keys deleted or keys added."""
    data = tomllib.loads(draw(st.sampled_from(texts)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        try:
            if action == "delete":
                _replace(data, path, None, delete=True)
            elif action == "add":
                _replace(
                    data, (*path[:-1], draw(st.text(min_size=1, max_size=10))), draw(toml_values)
                )
            else:
                node = data
                for part in path:
                    node = node[part]
                value = (
                    draw(nasty_strings)
                    if isinstance(node, str) and draw(st.booleans())
                    else draw(toml_values)
                )
                _replace(data, path, value)
        except (TypeError, KeyError, IndexError):
            pass  # the path runs through a list being added to: keep the document
    return data


def to_toml(data: dict[str, Any]) -> str | None:
    """The document as TOML, or None when our writer cannot express it (NUL keys...)."""
    try:
        text = dump_toml(data)
        tomllib.loads(text)
        return text
    except (TypeError, ValueError, tomllib.TOMLDecodeError):
        return None


@st.composite
def mutated_texts(draw: st.DrawFn, texts: list[str]) -> str:
    """A valid file with characters or lines cut, repeated, swapped or inserted."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True)
        kind = draw(st.sampled_from(["cut", "insert", "duplicate", "swap", "truncate"]))
        i = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "cut":
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        elif kind == "insert":
            text = text[:i] + draw(st.text(max_size=8)) + text[i:]
        elif kind == "truncate":
            text = text[:i]
        elif lines:
            j, k = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate":
                lines.insert(j, lines[k])
            else:
                lines[j], lines[k] = lines[k], lines[j]
            text = "".join(lines)
    return text


def documents(texts: list[str]) -> st.SearchStrategy[str]:
    """Random, mutated-value and mutated-text TOML documents."""
    return st.one_of(
        mutated_texts(texts),
        mutated_dicts(texts).map(to_toml).filter(lambda t: t is not None),
        st.dictionaries(st.text(min_size=1, max_size=10), toml_values, max_size=6)
        .map(to_toml)
        .filter(lambda t: t is not None),
        st.text(max_size=200),
        st.sampled_from(
            [
                "a = " + "[" * 5000 + "]" * 5000,
                "[" * 3000,
                "\ufeffdays = 3",
                "days = 3\ndays = 4",
                "[[platforms]]\n" * 6,
            ]
        ),
    )


# --------------------------------------------------------------------------- scenarios


def load_or_one_line(loader: Callable[[], Any], error: type[Exception]) -> Any:
    """The loaded value, or None after checking that the error is one clear line."""
    try:
        with no_hang():
            return loader()
    except error as err:
        one_line(err)
        return None


def usable(scenario: twosided.Scenario) -> None:
    """What `twosided run` does with a scenario before compiling: engine inputs, the memory
    estimate (a refusal is a one-line ScenarioError), and the TOML it writes."""
    build(scenario)
    with contextlib.suppress(memory.TooLargeError):
        memory.check_scenario(scenario, 1)
    assert load_scenario_text(scenario.to_toml()) == scenario


def load_scenario_text(text: str) -> twosided.Scenario:
    from twosided.scenario import parse_toml, scenario_from_dict

    return scenario_from_dict(parse_toml(text, "text"))


@FUZZ
@given(text=documents(SCENARIO_TEXTS))
def test_scenario_files_load_or_fail_in_one_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "scenario.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    scenario = load_or_one_line(lambda: load_scenario(path), ScenarioError)
    if scenario is not None:
        usable(scenario)


KEYS = sorted(
    {".".join(map(str, p)) for text in SCENARIO_TEXTS for p in _paths(tomllib.loads(text))}
)
override_keys = st.one_of(
    st.sampled_from(KEYS),
    st.text(max_size=30),
    st.sampled_from(
        [
            "platforms.Taobao.fees.commission",
            "platforms.9.brand",
            "platforms..brand",
            ".",
            "days.x",
            "market",
        ]
    ),
)
override_values = st.one_of(st.text(max_size=30), toml_values.map(lambda v: to_toml({"v": v})))


@FUZZ
@given(items=st.lists(st.tuples(override_keys, override_values), min_size=1, max_size=3))
def test_overrides_apply_or_fail_in_one_line(items):
    base = load_scenario("taobao")
    overrides = [
        f"{key}={value.removeprefix('v = ').strip() if value else value}" for key, value in items
    ]
    scenario = load_or_one_line(lambda: apply_overrides(base, overrides), ScenarioError)
    if scenario is not None:
        usable(scenario)


def cli_call(*args: str) -> tuple[int, str, str]:
    """`twosided ARGS` in this process: status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with no_hang(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.run_app(list(args))
    return status, out.getvalue(), err.getvalue()


def assert_cli_error(status: int, stdout: str, stderr: str) -> None:
    assert status == 2, (status, stderr)
    assert stdout == "" and "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twosided: error: "), stderr


@CLI_FUZZ
@given(
    text=documents(SCENARIO_TEXTS),
    sets=st.lists(st.tuples(override_keys, st.text(max_size=12)), max_size=2),
)
def test_the_command_line_runs_shows_or_refuses_in_one_line(tmp_path_factory, text, sets):
    """Invalid: `twosided run FILE --set ...` is one line and status 2, and nothing is
    written; valid: `twosided show FILE --set ...` (the same loading, no simulation)
    prints it, and what it prints loads back as the same scenario."""
    work = tmp_path_factory.mktemp("cli")
    path = work / "scenario.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    flags = [arg for key, value in sets for arg in ("--set", f"{key}={value}")]
    try:
        expected = cli.scenario_from(str(path), [f for f in flags if f != "--set"])
    except ScenarioError:
        expected = None
    if expected is None:
        status, stdout, stderr = cli_call("run", str(path), *flags, "--out", str(work / "runs"))
        assert_cli_error(status, stdout, stderr)
        assert not (work / "runs").exists()
    else:
        status, stdout, stderr = cli_call("show", str(path), *flags)
        assert status == 0, stderr
        assert load_scenario_text(stdout) == expected


# --------------------------------------------------------------------------- business models


@FUZZ
@given(text=documents(BUSINESS_TEXTS))
def test_business_model_files_load_and_print_or_fail_in_one_line(tmp_path_factory, text):
    """`twosided roles FILE`: a valid model prints its roles (status 0), anything else is
    one line and status 2; the API raises a one-line RolesError."""
    path = tmp_path_factory.mktemp("roles") / "model.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    model = load_or_one_line(lambda: roles.load_business_model(path), roles.RolesError)
    if model is not None:
        load_or_one_line(lambda: roles.derive_roles(model), roles.RolesError)
    status, stdout, stderr = cli_call("roles", str(path))
    if status == 0:
        assert model is not None and "customers and users" in stdout, stderr
    else:
        assert_cli_error(status, stdout, stderr)


# --------------------------------------------------------------------------- the console script

NASTY = {
    "binary.toml": b"\x00\xff\xfe garbage \x89PNG",
    "latin1.toml": 'name = "caf\xe9"'.encode("latin-1"),
    "deep.toml": b"days = " + b"[" * 100_000 + b"]" * 100_000,
    "huge_int.toml": b'[[platforms]]\nname = "A"\nentry_day = 99999999999999999\n',
    "inf.toml": b"[sellers]\nimitation_scale_cents = inf\n",
    "nan.toml": b"[buyers]\nswitching_cost = nan\n",
    # a byte-order mark is accepted (tests/test_scenario.py); what follows it is still checked
    "bom.toml": b"\xef\xbb\xbfdays = 0\n",
}


@pytest.mark.parametrize("name", sorted(NASTY))
@pytest.mark.parametrize("verb", ["run", "roles"])
def test_the_console_script_never_shows_a_traceback(tmp_path, cli_env, name, verb):  # noqa: F811
    path = tmp_path / name
    path.write_bytes(NASTY[name])
    proc = subprocess.run(
        [*command(), verb, str(path), "--out", str(tmp_path / "runs")],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert_cli_error(proc.returncode, proc.stdout, proc.stderr)
    assert not (tmp_path / "runs").exists()
