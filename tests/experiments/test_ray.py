"""The Ray executor: a local Ray instance with 2 CPUs gives exactly the local results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twosided.experiments.grid import SweepError
from twosided.experiments.sweep import plan_sweep, run_sweep

from .conftest import ADS, DAYS, SEEDS, SMALL

ray = pytest.importorskip("ray")


@pytest.fixture
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


# Ray starts its own processes by fork + exec, which JAX's fork warning cannot tell apart
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:os.fork")
def test_ray_and_local_executors_give_identical_tables(local_ray: None, tmp_path: Path) -> None:
    plan = plan_sweep("taobao", {ADS: [0.0, 1.0, 2.0]}, seeds=SEEDS, days=DAYS, overrides=SMALL)
    on_ray = run_sweep(plan, executor="ray", out=tmp_path / "ray")
    local = run_sweep(plan, executor="local", workers=1, out=tmp_path / "local")
    assert on_ray.ran == [0, 1, 2]
    assert on_ray.table.equals(local.table)
    assert on_ray.table["variant"].nunique() == 3


def test_address_without_ray_executor_is_refused(tmp_path: Path) -> None:
    plan = plan_sweep("taobao", {ADS: [0.0]}, seeds=1, days=DAYS, overrides=SMALL)
    with pytest.raises(SweepError, match="--address: only used with --executor ray"):
        run_sweep(plan, executor="local", address="auto", out=tmp_path)


@pytest.mark.parametrize(
    "address, words",
    [
        ("127.0.0.1:1", "--address 127.0.0.1:1: cannot reach a Ray head there"),
        ("headnode", "--address headnode: expected 'auto' or host:port"),
    ],
)
def test_an_unreachable_head_fails_at_once_with_nothing_written(
    tmp_path: Path, address: str, words: str
) -> None:
    plan = plan_sweep("taobao", {ADS: [0.0]}, seeds=1, days=DAYS, overrides=SMALL)
    with pytest.raises(SweepError, match=words):
        run_sweep(plan, executor="ray", address=address, out=tmp_path)
    assert not tmp_path.joinpath("sweeps").exists()
    assert not ray.is_initialized()


def test_unknown_executor_is_refused(tmp_path: Path) -> None:
    plan = plan_sweep("taobao", {ADS: [0.0]}, seeds=1, days=DAYS, overrides=SMALL)
    with pytest.raises(SweepError, match="--executor dask: expected one of local, ray"):
        run_sweep(plan, executor="dask", out=tmp_path)
    assert not tmp_path.joinpath("sweeps").exists()  # refused before anything was written
