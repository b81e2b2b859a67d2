"""The Mesa baseline follows the engine's shopping rules, so that the speed comparison in
benchmarks/RESULTS.md is honest: its platform choice, clicks and purchases match the
engine's closed forms within sampling error, and its trust signal equals the engine's."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from twosided.sim import buyers as buyer_memory
from twosided.sim import shopping
from twosided.sim.params import build
from twosided.sim.state import Buyers

ROOT = Path(__file__).resolve().parents[2]
Z = 4.5  # tolerance in standard errors: a false alarm about once in 150,000 checks


def _load_mesa_model():
    spec = importlib.util.spec_from_file_location(
        "mesa_model", ROOT / "benchmarks" / "mesa_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["mesa_model"] = module
    spec.loader.exec_module(module)
    return module


mm = _load_mesa_model()


@pytest.fixture(scope="module")
def model():
    return mm.ShoppingModel("taobao", buyers=300, seed=3)


def _close(empirical: np.ndarray, expected: np.ndarray, n: int) -> None:
    se = np.sqrt(np.maximum(expected * (1 - expected), 1e-12) / n)
    assert np.all(np.abs(empirical - expected) <= Z * se + 1e-4), (empirical, expected)


def _discriminates(expected: np.ndarray, n: int) -> None:
    """The shares differ from uniform by far more than the tolerance: a wrong rule fails."""
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.max(np.abs(expected - expected.mean())) > 10 * Z * np.max(se)


def test_pages_are_the_engines_and_full(model):
    rules = model.rules
    assert len(model.pages) == rules.platforms == 3
    for row in model.pages:
        for page in row:
            assert [x.position for x in page.listings] == list(range(len(page.listings)))
            assert len(page.listings) == min(len(rules.examination), page.n_listed) > 0
            assert page.min_price == min(x.price for x in page.listings)


def test_purchase_shares_match_the_engines_closed_form_logit(model):
    page = model.pages[0][2]
    buyer = mm.Buyer(model, price_sens=2.5, quality_sens=4.0)
    clicked = [0, 1, 3, 4, 7]
    n = 60_000
    counts = np.zeros(len(page.listings) + 1)
    for _ in range(n):
        position, _ = buyer.choose_purchase(page, clicked)
        counts[-1 if position is None else position] += 1
    rating = jnp.asarray([[x.rating for x in page.listings]], jnp.float32)
    log_rel = jnp.asarray([[x.log_rel_price for x in page.listings]], jnp.float32)
    util = shopping.listing_utilities(
        jnp.asarray([2.5]),
        jnp.asarray([4.0]),
        rating,
        log_rel,
        jnp.float32(model.rules.reference_quality),
    )
    mask = jnp.asarray([[k in clicked for k in range(len(page.listings))]])
    outside = jnp.float32(model.rules.outside_utility)
    expected = np.asarray(shopping.purchase_probabilities(util, mask, outside))[0]
    _discriminates(expected[clicked + [-1]], n)
    _close(counts / n, expected, n)
    # the inclusive value the buyer remembers is the engine's log(1 + Σ weights)
    _, inclusive = buyer.choose_purchase(page, clicked)
    weights = shopping.purchase_weights(util, mask, outside)
    assert inclusive == pytest.approx(float(jnp.log1p(jnp.sum(weights))), rel=1e-5)


def test_nothing_clicked_buys_nothing(model):
    buyer = mm.Buyer(model, price_sens=1.0, quality_sens=1.0)
    assert buyer.choose_purchase(model.pages[1][0], []) == (None, 0.0)


def test_click_rates_follow_examination_times_attractiveness(model):
    page = model.pages[2][0]
    buyer = mm.Buyer(model, price_sens=1.0, quality_sens=1.0)
    n = 40_000
    counts = np.zeros(len(page.listings))
    for _ in range(n):
        for k in buyer.examine(page):
            counts[k] += 1
    e = np.asarray(model.rules.examination)[: len(page.listings)]
    a = np.asarray([x.attract for x in page.listings])
    _close(counts / n, e * a, n)


def test_platform_choice_matches_the_engines_logit(model, monkeypatch):
    buyer = mm.Buyer(model, price_sens=1.0, quality_sens=1.0)
    monkeypatch.setattr(model, "day", 20)
    buyer.trust = [1.6, -0.4, 0.9]
    buyer.last_visit = [18, 5, mm.NEVER]
    buyer.last_platform = 0
    category = 1
    v_mesa = np.asarray(buyer.platform_utilities(category))
    _, params = build(model.scenario)
    trust = shopping.decayed_trust(
        jnp.asarray([buyer.trust], jnp.float32),
        jnp.asarray([buyer.last_visit], jnp.int16),
        jnp.int32(20),
        params,
    )
    n_listed = jnp.asarray([[model.pages[p][category].n_listed for p in range(3)]], jnp.int32)
    v_engine = np.asarray(
        shopping.platform_utilities(
            trust, n_listed, jnp.asarray([0], jnp.int8), jnp.ones((3,), bool), params
        )
    )[0]
    assert v_mesa == pytest.approx(v_engine, rel=1e-5, abs=1e-6)
    n = 60_000
    counts = np.bincount([buyer.choose_platform(category) for _ in range(n)], minlength=4)
    expected = np.exp(v_engine - v_engine.max())
    expected /= expected.sum()
    _discriminates(expected, n)
    _close(counts / n, expected, n)


@pytest.mark.parametrize(
    "outcome",
    [
        {"bought": False, "inclusive_value": 0.7},
        {"bought": True, "inclusive_value": 1.3, "overpay": 0.4},
        {"bought": True, "inclusive_value": 0.9, "quality_gap": 0.5},
        {"bought": True, "inclusive_value": 0.9, "quality_gap": 0.5, "refunded": True},
        {"bought": True, "inclusive_value": 0.2, "quality_gap": 0.85, "lost_to_fraud": True},
    ],
)
def test_trust_signal_and_harm_equal_the_engines(model, outcome):
    buyer = mm.Buyer(model, price_sens=1.7, quality_sens=3.2)
    signal, harm = buyer.experience(mm.Outcome(**outcome))
    _, params = build(model.scenario)
    full = {
        "overpay": 0.0,
        "quality_gap": 0.0,
        "lost_to_fraud": False,
        "refunded": False,
        **outcome,
    }
    e_signal, e_harm = buyer_memory.experience(
        **{k: jnp.asarray([v]) for k, v in full.items()},
        price_sens=jnp.asarray([1.7], jnp.float32),
        quality_sens=jnp.asarray([3.2], jnp.float32),
        params=params,
    )
    assert signal == pytest.approx(float(e_signal[0]), rel=1e-5, abs=1e-6)
    assert harm == int(e_harm[0])


def test_a_day_runs_the_scenarios_sessions_and_moves_trust(model):
    before = [list(b.trust) for b in model.buyer_list]
    model.step()
    reached = sum(model.sessions_reached)
    assert model.day == 1
    assert 0.5 * model.sessions_per_day < reached <= model.sessions_per_day
    assert 0 < sum(model.orders) < reached
    moved = sum(b.trust != t for b, t in zip(model.buyer_list, before))
    assert 0 < moved <= reached
    assert not any(math.isnan(x) for b in model.buyer_list for x in b.trust)


def test_trust_update_equals_the_engines_memory(model):
    buyer = mm.Buyer(model, price_sens=1.0, quality_sens=1.0)
    _, params = build(model.scenario)
    engine_buyers = Buyers(
        price_sens=jnp.ones((1,), jnp.float32),
        quality_sens=jnp.ones((1,), jnp.float32),
        trust=jnp.zeros((1, 3), jnp.float32),
        last_visit=jnp.zeros((1, 3), jnp.int16),
        last_platform=jnp.zeros((1,), jnp.int8),
        last_harm=jnp.zeros((1,), jnp.int8),
    )
    for trust_now, signal in [(0.0, 1.5), (0.8, -2.0), (-0.4, 0.3)]:
        after = buyer_memory.remember(
            engine_buyers,
            jnp.asarray([0]),
            jnp.asarray([1]),
            jnp.asarray([True]),
            jnp.asarray([trust_now], jnp.float32),
            jnp.asarray([signal], jnp.float32),
            jnp.asarray([0], jnp.int8),
            jnp.int32(5),
            params,
        )
        expected = float(after.trust[0, 1])
        assert buyer.learned_trust(trust_now, signal) == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert expected != trust_now  # the rule moves trust, so a wrong rule fails


def test_price_comparison_rate_and_overpayment(model):
    rules = model.rules
    price_sens = 0.5 * rules.price_sens_median  # compares half as often as the median buyer
    buyer = mm.Buyer(model, price_sens=price_sens, quality_sens=1.0)
    category = 0
    cheapest = [model.pages[p][category].min_price for p in range(3)]
    assert cheapest[1] != cheapest[2]  # so that the two rivals' overpayments tell apart
    paid = 2.0 * max(cheapest)  # dearer than anything elsewhere: every comparison overpays
    n = 60_000
    overpay = np.array([buyer.compare_price(0, category, paid) for _ in range(n)])
    rate = rules.compare_probability * price_sens / rules.price_sens_median
    _close(np.array([np.mean(overpay > 0)]), np.array([rate]), n)
    # the other platform is drawn uniformly; the overpayment is log(paid / its cheapest)
    for p in (1, 2):
        share = np.mean(np.isclose(overpay, np.log(paid / cheapest[p]), rtol=1e-9))
        _close(np.array([share]), np.array([rate / 2]), n)
    assert buyer.compare_price(0, category, float("inf")) == 0.0  # nothing clicked
