"""A run (``twosided.sim.run``): chunks of a scan, traced once, the same arrays whatever
the chunking."""

from __future__ import annotations

import chex
import jax
import numpy as np

from twosided.scenario import apply_overrides, load_scenario
from twosided.sim import day, run
from twosided.sim.params import build

TINY = {"market.buyers": 300, "market.seller_capacity": 8, "market.initial_sellers": 4}


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
