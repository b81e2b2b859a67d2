"""--vary specs, the grid of variants, validation and the sweep id (no simulation)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from twosided.experiments.grid import (
    SweepError,
    grid,
    normalize_tie,
    normalize_vary,
    parse_spec,
    value_range,
)
from twosided.experiments.sweep import plan_sweep

from .conftest import ADS, SMALL


def test_range_spec_gives_evenly_spaced_values_with_both_ends() -> None:
    assert parse_spec(f"{ADS}=0:1:3") == (ADS, [0.0, 0.5, 1.0])
    assert parse_spec("x=0:1:4")[1] == [0.0, 0.333333333333, 0.666666666667, 1.0]


def test_whole_spacing_keeps_integers() -> None:
    key, values = parse_spec("market.buyers=1000:3000:3")
    assert values == [1000, 2000, 3000]
    assert all(isinstance(v, int) for v in values)


def test_lists_single_values_and_words() -> None:
    assert parse_spec("a=1,2.5,4")[1] == [1, 2.5, 4]
    assert parse_spec("a=[0.1, 0.2]")[1] == [0.1, 0.2]
    assert parse_spec("a=7")[1] == [7]
    assert parse_spec("platforms.0.escrow.dispute_policy=buyer_first,evidence")[1] == [
        "buyer_first",
        "evidence",
    ]


@pytest.mark.parametrize(
    "spec, words",
    [
        ("ranking", "expected key.path=START:STOP:STEPS"),
        ("=0:1:3", "empty key"),
        ("a=", "no values"),
        ("a=0:1", "expected key.path=START:STOP:STEPS"),
        ("a=0:x:3", "STOP 'x' is not a number"),
        ("a=0:1:0", "STEPS must be a whole number"),
        ("a=0:1:2.5", "STEPS must be a whole number"),
        ("days=10:20:2", "set it with --days"),
        ("seed=1:3:3", "set it with --seeds"),
    ],
)
def test_bad_specs_fail_with_one_line_naming_the_flag(spec: str, words: str) -> None:
    with pytest.raises(SweepError) as err:
        normalize_vary([spec])
    message = str(err.value)
    assert message.startswith("--vary") and words in message and "\n" not in message


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(SweepError, match="given twice"):
        normalize_vary(["a=1,2", "a=3"])


def test_grid_is_every_combination_first_key_slowest() -> None:
    variants = grid(normalize_vary({"a": [1, 2], "b": "0:1:3"}))
    assert [v.index for v in variants] == list(range(6))
    assert [(v.labels["a"], v.labels["b"]) for v in variants] == [
        (1, 0.0),
        (1, 0.5),
        (1, 1.0),
        (2, 0.0),
        (2, 0.5),
        (2, 1.0),
    ]
    assert all(v.labels == v.overrides for v in variants)


def test_every_variant_is_validated_before_anything_runs() -> None:
    with pytest.raises(
        SweepError, match=r"--vary platforms\.0\.ranking\.ads=-1: platforms\.0\.ranking\.ads"
    ):
        plan_sweep("taobao", [f"{ADS}=-1:1:3"], seeds=1, days=5, overrides=SMALL)
    with pytest.raises(SweepError, match="unknown key"):
        plan_sweep("taobao", ["market.nonsense=1,2"], seeds=1, days=5)


def test_the_same_sweep_has_the_same_id_and_any_change_makes_a_new_one() -> None:
    def plan_id(**changes: object) -> str:
        args = {"vary": [f"{ADS}=0:1:2"], "seeds": 2, "days": 5, "overrides": SMALL} | changes
        return plan_sweep("taobao", **args).sweep_id

    same = plan_id()
    assert plan_id() == same
    assert plan_id(seeds=3) != same
    assert plan_id(days=6) != same
    assert plan_id(vary=[f"{ADS}=0:1:3"]) != same
    assert plan_id(overrides={"market.buyers": 6000}) != same


@given(
    start=st.floats(-100, 100, allow_nan=False),
    stop=st.floats(-100, 100, allow_nan=False),
    steps=st.integers(1, 50),
)
@example(start=0.0, stop=5e-324, steps=3)  # a step below the smallest float: found by CI
def test_value_range_has_steps_values_from_start_to_stop(
    start: float, stop: float, steps: int
) -> None:
    values = value_range(start, stop, steps)
    assert len(values) == steps
    assert values[0] == pytest.approx(start, rel=1e-9, abs=1e-9)
    if steps > 1:
        assert values[-1] == pytest.approx(stop, rel=1e-9, abs=1e-9)
        gaps = [b - a for a, b in zip(values, values[1:])]
        assert all(g * (stop - start) >= 0 for g in gaps)


def test_a_changed_engine_gets_a_new_sweep_id(monkeypatch: pytest.MonkeyPatch) -> None:
    import twosided.experiments.grid as grid_module

    args = {"vary": [f"{ADS}=0:1:2"], "seeds": 2, "days": 5, "overrides": SMALL}
    before = plan_sweep("taobao", **args).sweep_id
    real = grid_module.engine_fingerprint()
    assert len(real) == 64 and real == grid_module.engine_fingerprint()
    monkeypatch.setattr(grid_module, "engine_fingerprint", lambda: "edited engine")
    assert plan_sweep("taobao", **args).sweep_id != before


def test_the_number_of_variants_is_capped_before_any_list_is_built() -> None:
    from twosided.experiments.grid import MAX_VARIANTS

    with pytest.raises(SweepError, match=f"a sweep runs at most {MAX_VARIANTS:,}"):
        normalize_vary([f"{ADS}=0:1:{10**12}"])  # would need terabytes if built
    just = [f"{ADS}=0:1:{MAX_VARIANTS}"]
    assert len(grid(normalize_vary(just))) == MAX_VARIANTS
    with pytest.raises(SweepError, match=r"--vary: 10,100 variants \(101 x 100\)"):
        grid(normalize_vary({"a": list(range(101)), "b": "0:1:100"}))


def test_seeds_are_capped_and_stay_within_the_schema() -> None:
    from twosided.experiments.grid import MAX_SEED, MAX_SEEDS

    with pytest.raises(SweepError, match=f"at most {MAX_SEEDS:,} seeds"):
        plan_sweep("taobao", [], seeds=MAX_SEEDS + 1, days=5, overrides=SMALL)
    with pytest.raises(SweepError, match=f"at most {MAX_SEEDS:,} per variant"):
        plan_sweep("taobao", [], seeds=list(range(MAX_SEEDS + 1)), days=5, overrides=SMALL)
    with pytest.raises(SweepError, match=f"seeds go up to {MAX_SEED:,}"):
        plan_sweep("taobao", [], seeds=3, seed=MAX_SEED - 1, days=5, overrides=SMALL)
    assert plan_sweep("taobao", [], seeds=2, seed=MAX_SEED - 1, days=5, overrides=SMALL).seeds == [
        MAX_SEED - 1,
        MAX_SEED,
    ]


@pytest.mark.parametrize("spec", [f"{ADS}=inf:1:3", f"{ADS}=0:-inf:3", f"{ADS}=nan:1:3"])
def test_ranges_need_finite_ends(spec: str) -> None:
    with pytest.raises(SweepError, match="is not a finite number"):
        normalize_vary([spec])


def test_a_range_too_wide_for_floating_point_fails_without_warnings() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SweepError, match="too wide for floating point"):
            normalize_vary([f"{ADS}=-1e308:1e308:3"])


def test_a_range_narrower_than_the_smallest_normal_float_is_not_an_error() -> None:
    """Underflow is rounding, not failure: the steps become subnormal numbers or zero, in
    order, and the ends stay exact."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert value_range(0.0, 5e-324, 3) == [0.0, 0.0, 5e-324]
        values = value_range(0.0, 1e-310, 6)
    assert values[0] == 0.0 and values[-1] == 1e-310
    assert all(a < b for a, b in zip(values, values[1:]))


def test_whole_ends_keep_whole_values_whole() -> None:
    """A range between two whole numbers whose steps are not all whole keeps its whole
    values as integers, so that an integer field fails on the first value that is not
    whole (and names it), not on its first end."""
    assert value_range(1000, 2000, 4) == [1000, 1333.33333333, 1666.66666667, 2000]
    assert [type(v) for v in value_range(1000, 2000, 4)] == [int, float, float, int]
    with pytest.raises(SweepError, match=r"market.buyers=1333.33333333: .*integer"):
        plan_sweep("taobao", vary=["market.buyers=1000:2000:4"], seeds=1, days=2, overrides=SMALL)


# --------------------------------------------------------------------------- tied axis

QUALITY = "platforms.0.ranking.quality"


def test_tied_keys_are_one_axis_of_n_points_with_the_ith_values_together() -> None:
    tied = normalize_tie([f"{ADS}=0:2:5", f"{QUALITY}=2:0:5"])
    variants = grid({}, tied)
    assert len(variants) == 5  # not 25
    assert [(v.labels[ADS], v.labels[QUALITY]) for v in variants] == [
        (0, 2),
        (0.5, 1.5),
        (1, 1),
        (1.5, 0.5),
        (2, 0),
    ]
    assert all(v.labels == v.overrides for v in variants)
    assert [v.index for v in variants] == list(range(5))


def test_a_tied_axis_crossed_with_a_varied_key_is_the_product_tied_axis_slowest() -> None:
    tied = normalize_tie({ADS: [0, 2], QUALITY: [2, 0]})
    varied = normalize_vary({"market.buyers": [4000, 5000, 6000]})
    variants = grid(varied, tied)
    assert len(variants) == 6
    assert [(v.labels[ADS], v.labels[QUALITY], v.labels["market.buyers"]) for v in variants] == [
        (0, 2, 4000),
        (0, 2, 5000),
        (0, 2, 6000),
        (2, 0, 4000),
        (2, 0, 5000),
        (2, 0, 6000),
    ]
    with pytest.raises(SweepError, match=r"--tie/--vary: 10,100 variants \(101 x 100\)"):
        grid(normalize_vary({"b": "0:1:100"}), normalize_tie({"a": list(range(101))}))


@pytest.mark.parametrize(
    "tie, vary, words",
    [
        ([f"{ADS}=0:2:5", f"{QUALITY}=2:0:4"], [], f"--tie {QUALITY}: 4 values, but {ADS} has 5"),
        ([f"{ADS}=0:1:2"], [f"{ADS}=0,1"], f"--tie {ADS}: also given with --vary"),
        ([f"{ADS}="], [], "--tie 'platforms.0.ranking.ads=': no values after '='"),
        ([ADS], [], "--tie 'platforms.0.ranking.ads': expected key.path=START:STOP:STEPS"),
        ([f"{ADS}=1,1", f"{QUALITY}=0,1"], [], f"--tie {ADS}: a value is repeated"),
        (["days=1,2"], [], "--tie days: set it with --days, not --tie"),
        ([f"{ADS}=1,2", f"{ADS}=3,4"], [], f"--tie {ADS}: given twice"),
    ],
)
def test_bad_tied_keys_fail_with_one_line_naming_the_flag(
    tie: list[str], vary: list[str], words: str
) -> None:
    with pytest.raises(SweepError) as err:
        plan_sweep("taobao", vary, seeds=1, days=5, overrides=SMALL, tie=tie)
    message = str(err.value)
    assert message.startswith(words) and "\n" not in message, message


def test_tied_values_are_validated_and_the_error_names_the_tied_key() -> None:
    with pytest.raises(SweepError, match=r"^--tie platforms\.0\.ranking\.quality=-1: "):
        plan_sweep("taobao", [], seeds=1, days=5, tie=[f"{ADS}=0,1", f"{QUALITY}=0,-1"])
    with pytest.raises(SweepError, match=r"^--tie market\.nonsense=1: .*unknown key"):
        plan_sweep("taobao", [], seeds=1, days=5, tie=[f"{ADS}=0,1", "market.nonsense=1,2"])
    with pytest.raises(SweepError, match=r"^--vary platforms\.0\.ranking\.price=-1: "):
        plan_sweep("taobao", ["platforms.0.ranking.price=-1"], seeds=1, days=5, tie=[f"{ADS}=0,1"])


def test_a_tied_plan_knows_its_tied_keys_and_has_its_own_id() -> None:
    args = {"seeds": 2, "days": 5, "overrides": SMALL}
    tied = plan_sweep("taobao", [], tie=[f"{ADS}=0,2", f"{QUALITY}=2,0"], **args)
    assert tied.tied == [ADS, QUALITY] and tied.keys == [ADS, QUALITY]
    assert len(tied.variants) == 2
    again = plan_sweep("taobao", [], tie={ADS: [0, 2], QUALITY: [2, 0]}, **args)
    assert again.sweep_id == tied.sweep_id
    crossed = plan_sweep("taobao", [f"{ADS}=0,2", f"{QUALITY}=2,0"], **args)
    assert len(crossed.variants) == 4 and crossed.tied == []
    assert crossed.sweep_id != tied.sweep_id
    # one key tied alone is the same sweep as that key varied (same runs, same folder)
    single = plan_sweep("taobao", [], tie=[f"{ADS}=0,1"], **args)
    assert single.sweep_id == plan_sweep("taobao", [f"{ADS}=0,1"], **args).sweep_id
