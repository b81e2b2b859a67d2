"""The memory check: a run that would not fit is refused at once, with the estimate, by the
API (a ScenarioError) and by `twosided run` (one line, status 2, nothing written); the
estimate's exact parts are exact and its calibrated part covers what XLA reports."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import twosided
from twosided import memory
from twosided.sim.params import build
from twosided.sim.precision import x64
from twosided.sim.run import START_DAY, init_states, run_chunk
from twosided.simulation import prepare

from .test_cli import assert_one_line_error, cli_env, command, in_process  # noqa: F401

ABSURD = {"market.buyers": 2_000_000_000}


def test_the_state_part_is_the_engine_states_exact_size_twice_per_seed():
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    states = init_states(jnp.asarray([0, 1], jnp.uint32), dims, params)
    exact = sum(x.nbytes for x in jax.tree_util.tree_leaves(states))
    need = memory.estimate(dims, params, seeds=2, days=30, chunk=10)
    assert need.state == 2 * exact
    # every part grows with the seeds
    one = memory.estimate(dims, params, seeds=1, days=30, chunk=10)
    assert (need.temporaries, need.metrics_chunk, need.host) == (
        2 * one.temporaries,
        2 * one.metrics_chunk,
        2 * one.host,
    )
    # the host part grows with the days, the device part does not
    longer = memory.estimate(dims, params, seeds=1, days=60, chunk=10)
    assert longer.host == 2 * one.host and longer.device == one.device


def test_the_session_log_is_counted_per_session():
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    plain = memory.estimate(dims, params, seeds=1, days=1, chunk=1)
    logged = memory.estimate(dims, params, seeds=1, days=1, chunk=1, log_sessions=True)
    per_session = (logged.metrics_chunk - plain.metrics_chunk) / dims.sessions
    assert per_session >= dims.page_length * 4  # at least a listing index per position


def test_temporaries_cover_what_xla_reports_for_a_compiled_day():
    """Calibration: XLA's own memory analysis of one compiled day (sessions dominate)."""
    sc = prepare("taobao", {"market.buyers": 10_000, "market.sessions_per_buyer_per_day": 10})
    dims, params = build(sc)
    seeds = jnp.asarray([0], jnp.uint32)
    with x64():  # the engine's mode (twosided.sim.precision), for shapes and lowering alike
        states = jax.eval_shape(lambda s: init_states(s, dims, params), seeds)
        compiled = run_chunk.lower(states, params, seeds, START_DAY, 1, dims, False).compile()
    measured = compiled.memory_analysis().temp_size_in_bytes
    need = memory.estimate(dims, params, seeds=1, days=1, chunk=1)
    assert measured <= need.temporaries <= 2 * measured, (measured, need.temporaries)
    # the metric part is exact: the shapes of the run's own chunk (traced, not compiled)
    _, metrics = compiled(init_states(seeds, dims, params), params, seeds, np.int32(0))
    assert need.metrics_chunk == sum(x.nbytes for x in jax.tree_util.tree_leaves(metrics))


def test_the_api_refuses_an_absurd_scenario_before_compiling():
    started = time.monotonic()
    with pytest.raises(memory.TooLargeError) as err:
        twosided.simulate("taobao", days=30, seeds=4, overrides=ABSURD)
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert isinstance(err.value, twosided.ScenarioError)
    assert "\n" not in message
    assert "2,000,000,000 buyers" in message and "4 seed(s)" in message
    assert "GiB" in message and "available" in message


def test_the_cli_refuses_an_absurd_scenario_in_one_line_and_writes_nothing(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = in_process(
        capsys, "run", "--set", "market.buyers=2000000000", "--seeds", "3"
    )
    assert_one_line_error(status, stdout, stderr, "need about")
    assert "2,000,000,000 buyers" in stderr and "GiB" in stderr
    assert list(tmp_path.iterdir()) == []


def test_the_console_script_refuses_it_at_once(tmp_path, cli_env):  # noqa: F811
    started = time.monotonic()
    proc = subprocess.run(
        [*command(), "run", "--set", "market.buyers=2000000000"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, "too large for")
    assert elapsed < 30, elapsed  # start-up and the estimate; no compile
    assert not (tmp_path / "twosided-runs").exists()


def test_a_gpu_is_checked_against_its_free_memory(monkeypatch):
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    need = memory.estimate(dims, params, seeds=1, days=10, chunk=10)
    engine = memory.with_margin(need.device)
    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: engine - 1)
    with pytest.raises(memory.TooLargeError, match="of device memory"):
        memory.check(dims, params, seeds=1, days=10, chunk=10)
    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: engine)
    monkeypatch.setattr(memory, "resident_bytes", lambda: 0)
    monkeypatch.setattr(
        memory, "available_host_bytes", lambda: memory.with_margin(need.host_total) - 1
    )
    with pytest.raises(memory.TooLargeError, match="tables"):
        memory.check(dims, params, seeds=1, days=10, chunk=10)
    monkeypatch.setattr(memory, "available_host_bytes", lambda: memory.with_margin(need.host_total))
    memory.check(dims, params, seeds=1, days=10, chunk=10)


def test_the_estimate_counts_the_process_and_the_check_adds_a_margin(monkeypatch):
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    need = memory.estimate(dims, params, seeds=1, days=10, chunk=10)
    assert need.process == memory.PROCESS_BYTES + memory.PROGRAM_BYTES
    assert (
        need.total == need.state + need.temporaries + need.metrics_chunk + need.host + need.process
    )
    assert memory.SAFETY_MARGIN >= 0.1
    ask = memory.with_margin(need.total)
    assert ask >= need.total * (1 + memory.SAFETY_MARGIN) - 1
    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: None)
    monkeypatch.setattr(memory, "resident_bytes", lambda: 0)
    monkeypatch.setattr(memory, "available_host_bytes", lambda: ask - 1)
    with pytest.raises(memory.TooLargeError, match="process .* plus a 20% margin"):
        memory.check(dims, params, seeds=1, days=10, chunk=10)
    monkeypatch.setattr(memory, "available_host_bytes", lambda: ask)
    assert memory.check(dims, params, seeds=1, days=10, chunk=10) == need


def test_what_this_process_holds_counts_as_available_and_workers_each_need_it_all(monkeypatch):
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    ask = memory.with_margin(memory.estimate(dims, params, seeds=1, days=10, chunk=10).total)
    held = 300 * 2**20
    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: None)
    monkeypatch.setattr(memory, "resident_bytes", lambda: held)
    monkeypatch.setattr(memory, "available_host_bytes", lambda: 2 * ask - held)
    memory.check(dims, params, seeds=1, days=10, chunk=10)  # in this process: fits
    memory.check(dims, params, seeds=1, days=10, chunk=10, processes=1)
    with pytest.raises(memory.TooLargeError, match="^too large for this machine: 2 workers at"):
        memory.check(dims, params, seeds=1, days=10, chunk=10, processes=2)  # 2 * ask > free
    monkeypatch.setattr(memory, "available_host_bytes", lambda: 2 * ask)
    memory.check(dims, params, seeds=1, days=10, chunk=10, processes=2)


LOADED_COMMAND = """
import jax, jax.numpy as jnp
import twosided.cli, twosided.report, twosided.store  # what the command loads
jnp.zeros(8).block_until_ready()  # JAX's runtime up
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(int(peak.split()[1]) * 1024)  # this program's own high-water mark (not its parent's)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_process_part_covers_the_loaded_command():
    """The measured part of the estimate: the command loaded, before any simulation."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADED_COMMAND], capture_output=True, text=True, check=True
    )
    peak = int(proc.stdout.split()[-1])
    assert 0.5 * memory.PROCESS_BYTES < peak <= memory.PROCESS_BYTES, peak / 2**20


TINY_RUN = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)  # the run's peak
"""  # a small parent of its own: a child's peak would include the pytest process it forked


def test_a_tiny_run_compiled_from_scratch_peaks_below_the_estimate(tmp_path, cli_env):  # noqa: F811
    """The whole estimate (no margin) against the peak of a real `twosided run`, compiled
    from scratch (about 25 s on 2 cores): process, compile and report included."""
    env = {**cli_env, "JAX_COMPILATION_CACHE_DIR": ""}  # cold: compiling is the peak
    args = ["run", "--set", "market.buyers=2000", "--days", "3", "--out", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, "-c", TINY_RUN, *command(), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    peak = int(proc.stdout.split()[-1])
    dims, params = build(prepare("taobao", {"market.buyers": 2000}, 3))
    need = memory.estimate(dims, params, seeds=1, days=3, chunk=3)
    assert peak <= need.total, (peak / 2**30, need.total / 2**30)
    assert need.total < 1.5 * peak  # and not far above it


def test_a_run_that_fits_passes_and_the_check_can_be_turned_off(monkeypatch):
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    need = memory.check(dims, params, seeds=1, days=10, chunk=10)
    assert need.total < memory.available_host_bytes()
    huge, huge_params = build(prepare("taobao", ABSURD))
    monkeypatch.setenv(memory.CHECK_ENV, "off")
    assert memory.check(huge, huge_params, seeds=1, days=10, chunk=10).total > 2e9 * 28


def test_free_memory_is_read_on_a_cpu():
    assert memory.available_device_bytes(jax.devices("cpu")[0]) is None
    free = memory.available_host_bytes()
    assert free is not None and free > 0


def test_free_memory_is_read_without_proc(monkeypatch):
    # macOS and Windows have no /proc: the check must still see the machine's memory
    import pathlib

    real_read = pathlib.Path.read_text

    def no_proc(self, *args, **kwargs):
        if str(self).startswith("/proc"):
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", no_proc)
    import psutil

    free = memory.available_host_bytes()
    assert free is not None and abs(free - psutil.virtual_memory().available) < 2**30
    assert memory.resident_bytes() > 50 * 2**20  # this process holds JAX and NumPy


def test_a_batch_of_variants_needs_the_seeds_share_per_variant_and_one_process():
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))
    one = memory.estimate(dims, params, seeds=2, days=10, chunk=5)
    three = memory.estimate(dims, params, seeds=2, days=10, chunk=5, variants=3)
    assert three == memory.estimate(dims, params, seeds=6, days=10, chunk=5)  # 3 x 2 seeds
    assert three.state == 3 * one.state and three.host == 3 * one.host
    assert three.process == one.process  # one process runs the batch


def test_the_variants_that_fit_are_the_most_whose_batch_passes_the_check(monkeypatch):
    dims, params = build(prepare("taobao", {"market.buyers": 3000}))

    def ask(n: int) -> int:
        return memory.with_margin(
            memory.estimate(dims, params, seeds=2, days=10, chunk=5, variants=n).total
        )

    monkeypatch.setattr(memory, "available_device_bytes", lambda device=None: None)
    monkeypatch.setattr(memory, "resident_bytes", lambda: 0)
    for free, fit in ((ask(1) - 1, 1), (ask(3), 3), (ask(5) - 1, 4), (ask(9), 8)):
        monkeypatch.setattr(memory, "available_host_bytes", lambda free=free: free)
        assert memory.variants_that_fit(dims, params, 2, 10, 5, variants=8) == fit
    monkeypatch.setattr(memory, "available_host_bytes", lambda: ask(9) - 1)
    with pytest.raises(memory.TooLargeError, match="^too large for this machine: 9 variants"):
        memory.check(dims, params, seeds=2, days=10, chunk=5, variants=9)
