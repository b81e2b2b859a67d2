"""A run (``twosided.sim.run``): chunks of a scan, traced and compiled once per shape
(the memory check and the CLI included), the same arrays whatever the chunking, the day
keys the same inside the chunk as ``day_keys`` gives."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import twosided
from twosided import cli
from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import day, run
from twosided.sim.params import build
from twosided.sim.precision import x64

TINY = {"market.buyers": 300, "market.seller_capacity": 8, "market.initial_sellers": 4}

_compiled: list[list[str]] = []  # the lists being filled, innermost last


def _on_compile(event: str, duration: float, fun_name: str = "", **kwargs: object) -> None:
    if event == "/jax/core/compile/backend_compile_duration" and _compiled:
        _compiled[-1].append(fun_name)


jax.monitoring.register_event_duration_secs_listener(_on_compile)


@contextlib.contextmanager
def compiles() -> Iterator[list[str]]:
    """The names of the programs XLA compiles (or loads from the persistent cache) inside."""
    names: list[str] = []
    _compiled.append(names)
    try:
        yield names
    finally:
        _compiled.remove(names)


@pytest.fixture
def fresh_programs():
    """The engine's jitted programs with no trace or executable cached (before and after)."""
    run._run_chunk.clear_cache()
    run._init_states.clear_cache()
    yield
    run._run_chunk.clear_cache()
    run._init_states.clear_cache()


def _dims_params():
    return build(apply_overrides(load_scenario("taobao"), TINY))


def test_the_day_step_is_traced_once_for_a_multi_chunk_run(monkeypatch):
    dims, params = _dims_params()
    counted = chex.assert_max_traces(day.step, n=1)
    monkeypatch.setattr(run, "step", counted)
    run._run_chunk.clear_cache()  # trace anew, through the counted step
    chunks = [done for done, _, _ in run.iterate(dims, params, [1, 2], days=6, chunk_days=2)]
    assert chunks == [2, 4, 6]  # three chunks, one trace (chex raises on a second)
    run._run_chunk.clear_cache()


def test_a_new_shape_is_a_second_trace_and_the_guard_says_so(monkeypatch):
    dims, params = _dims_params()
    counted = chex.assert_max_traces(day.step, n=1)
    monkeypatch.setattr(run, "step", counted)
    run._run_chunk.clear_cache()
    list(run.iterate(dims, params, [1], days=2, chunk_days=2))
    try:
        list(run.iterate(dims, params, [1], days=3, chunk_days=3))  # another chunk length
    except AssertionError as err:
        assert "traced" in str(err).lower() or "trace" in str(err).lower()
    else:
        raise AssertionError("a second chunk shape must retrace the step")
    finally:
        run._run_chunk.clear_cache()


def test_chunking_gives_the_same_arrays_as_one_chunk():
    dims, params = _dims_params()
    _, whole = run.simulate_arrays(dims, params, [4, 5], days=6, chunk_days=6)
    _, parts = run.simulate_arrays(dims, params, [4, 5], days=6, chunk_days=2)
    assert whole.keys() == parts.keys()
    for name in whole:
        np.testing.assert_array_equal(whole[name], parts[name], err_msg=name)


def test_day_keys_depend_on_the_seed_and_the_day_only():
    a = jax.random.key_data(run.day_keys(7, 3, 4))
    b = jax.random.key_data(run.day_keys(7, 5, 2))
    np.testing.assert_array_equal(a[2:], b)  # days 5 and 6, whatever the start
    assert not np.array_equal(jax.random.key_data(run.day_keys(8, 3, 4)), a)


def test_day_keys_inside_the_chunk_are_day_keys(monkeypatch, fresh_programs):
    """The chunk derives each day's key itself; it is ``day_keys``'s (the draws of a run
    did not change when the keys moved into the compiled chunk)."""
    dims, params = _dims_params()

    def spy(state, params, key, dims, log_sessions=False):  # a day that shows its key
        return state, {"key": jax.random.key_data(key)}

    monkeypatch.setattr(run, "step", spy)
    seeds = np.asarray([7, 1_000_003], np.uint32)
    states = run.init_states(seeds, dims, params)
    _, metrics = run.run_chunk(states, params, seeds, 5, 3, dims)
    with x64():
        want = np.stack([jax.random.key_data(run.day_keys(s, 5, 3)) for s in seeds])
    assert want.shape[:2] == (2, 3)
    np.testing.assert_array_equal(np.asarray(metrics["key"]), want)


def test_day_keys_take_a_traced_start_day():
    with x64():
        direct = jax.random.key_data(run.day_keys(3, 10, 4))
        traced = jax.jit(lambda s: jax.random.key_data(run.day_keys(3, s, 4)))(jnp.int32(10))
        np.testing.assert_array_equal(traced, direct)


def test_a_simulation_with_its_memory_check_traces_the_day_once_and_compiles_two_programs(
    monkeypatch, fresh_programs
):
    """``twosided.simulate``: the memory check traces the run's own programs (shapes only)
    and the run reuses that trace; three chunks, one compiled chunk, one compiled init."""
    counted = chex.assert_max_traces(day.step, n=1)
    monkeypatch.setattr(run, "step", counted)
    monkeypatch.delenv("TWOSIDED_MEMORY_CHECK", raising=False)
    scenario = apply_overrides(load_scenario("taobao"), {**TINY, "chunk_days": 2})
    with compiles() as names:
        result = twosided.simulate(scenario, days=6, seeds=2)
    assert sorted(result.daily["day"].unique()) == list(range(6))
    assert names == ["jit(_init_states)", "jit(_run_chunk)"], names
    assert run._run_chunk._cache_size() == 1


def test_the_cli_run_traces_the_day_once_and_compiles_two_programs(
    monkeypatch, fresh_programs, tmp_path, capsys
):
    """``twosided run`` (in process): its memory check, ``simulate``'s and the report add no
    trace of the day and no compiled program."""
    counted = chex.assert_max_traces(day.step, n=1)
    monkeypatch.setattr(run, "step", counted)
    monkeypatch.delenv("TWOSIDED_MEMORY_CHECK", raising=False)
    sets = [f"--set={k}={v}" for k, v in {**TINY, "chunk_days": 2}.items()]
    with compiles() as names:
        status = cli.run_app(["run", "--days", "4", "-o", str(tmp_path), *sets])
    assert status == 0, capsys.readouterr().err
    assert names == ["jit(_init_states)", "jit(_run_chunk)"], names


def test_blocks_of_sessions_change_no_count_or_cent_of_a_run(monkeypatch):
    # 20 days of 3,000 buyers (600 sessions a day) in one block and in 10 blocks of 64
    sc = apply_overrides(load_scenario("taobao"), {"market.buyers": 3000})
    dims, params = build(apply_overrides(sc, {"session_block": 0}))
    blocked_dims, _ = build(apply_overrides(sc, {"session_block": 64}))
    assert (dims.session_blocks, blocked_dims.session_blocks) == (1, 10)
    _, whole = run.simulate_arrays(dims, params, [4, 5], days=20, chunk_days=10)
    counted = chex.assert_max_traces(day.step, n=1)  # the blocked day is still traced once
    monkeypatch.setattr(run, "step", counted)
    run._run_chunk.clear_cache()
    try:
        _, blocked = run.simulate_arrays(blocked_dims, params, [4, 5], days=20, chunk_days=10)
    finally:
        run._run_chunk.clear_cache()
    assert whole.keys() == blocked.keys()
    for name in whole:
        a, b = np.asarray(whole[name]), np.asarray(blocked[name])
        if a.dtype.kind == "f":  # float32 per-session values may round differently
            np.testing.assert_allclose(b, a, rtol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(b, a, err_msg=name)
