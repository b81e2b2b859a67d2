"""Shopping promises the textbook choice models: position-based clicks whose rates follow
the examination curve, and multinomial-logit purchases (with an outside option) whose
empirical shares match the closed form within sampling error."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twosided.scenario import load_scenario
from twosided.sim import shopping
from twosided.sim.draws import categorical, uniform16
from twosided.sim.params import build
from twosided.sim.state import NEVER

N = 200_000
Z = 4.5  # tolerance in standard errors: a false alarm about once in 150,000 checks


def _close(empirical: np.ndarray, expected: np.ndarray, n: int) -> None:
    se = np.sqrt(np.maximum(expected * (1 - expected), 1e-12) / n)
    assert np.all(np.abs(empirical - expected) <= Z * se + 1e-4), (empirical, expected)


def test_uniform16_is_uniform_and_never_zero_or_one():
    u = np.asarray(uniform16(jax.random.key(1), (N,)))
    assert u.min() > 0.0 and u.max() < 1.0
    counts, _ = np.histogram(u, bins=10, range=(0, 1))
    _close(counts / N, np.full(10, 0.1), N)


def test_purchase_shares_match_closed_form_logit():
    utilities = jnp.asarray([[1.0, 0.2, -0.5, 2.0, 0.0]], jnp.float32)
    clicked = jnp.asarray([[True, True, True, False, True]])
    outside = jnp.float32(0.5)
    util = jnp.broadcast_to(utilities, (N, 5))
    click = jnp.broadcast_to(clicked, (N, 5))
    weights = shopping.purchase_weights(util, click, outside)
    u = uniform16(jax.random.key(7), (N,))
    bought, position = shopping.choose_listing(u, weights)
    bought, position = np.asarray(bought), np.asarray(position)
    shares = np.array([np.mean(bought & (position == k)) for k in range(5)] + [np.mean(~bought)])
    # closed form: exp(u_j) / (exp(u_0) + sum over clicked exp(u_k)), computed independently
    e = np.exp(np.array([1.0, 0.2, -0.5, 0.0]))
    denom = np.exp(0.5) + e.sum()
    expected = np.array([e[0], e[1], e[2], 0.0, e[3], np.exp(0.5)]) / denom
    _close(shares, expected, N)
    probs = np.asarray(shopping.purchase_probabilities(utilities, clicked, outside))[0]
    assert probs == pytest.approx(expected, rel=1e-5)


def test_nothing_clicked_means_nothing_bought():
    w = jnp.zeros((1000, 4))
    bought, _ = shopping.choose_listing(uniform16(jax.random.key(3), (1000,)), w)
    assert not np.any(np.asarray(bought))


def test_click_rates_by_position_follow_the_examination_curve():
    _, params = build(load_scenario("taobao"))
    e = np.asarray(params.buyers.examination)
    L = e.shape[0]
    for attract in (1.0, 0.35):
        a = jnp.full((N, L), attract, jnp.float32)
        u = uniform16(jax.random.key(11), (N, L))
        clicks = np.asarray(
            shopping.clicks(u, params.buyers.examination, a, jnp.ones((N, L), bool))
        )
        _close(clicks.mean(axis=0), e * attract, N)
    # the curve is the power law (k + 1)^(-decay) of the scenario
    decay = load_scenario("taobao").buyers.examination_decay
    assert e == pytest.approx((np.arange(L) + 1.0) ** (-decay), rel=1e-6)


def test_platform_choice_matches_closed_form_logit():
    _, params = build(load_scenario("taobao"))
    trust = jnp.asarray([[1.0, 0.3, 0.5]], jnp.float32)
    n_listed = jnp.asarray([[40, 20, 10]], jnp.int32)
    last = jnp.asarray([0], jnp.int8)
    open_ = jnp.asarray([True, True, True])
    v = np.asarray(shopping.platform_utilities(trust, n_listed, last, open_, params))[0]
    p, b = params.platform, params.buyers
    expected_v = np.array(
        [
            float(p.brand[i])
            + float(b.trust_weight) * t
            + float(b.assortment_weight) * np.log1p(n)
            + float(b.switching_cost) * (i == 0)
            for i, (t, n) in enumerate(zip([1.0, 0.3, 0.5], [40, 20, 10]))
        ]
        + [float(b.offline_utility)]
    )
    assert v == pytest.approx(expected_v, rel=1e-5)
    u = uniform16(jax.random.key(5), (N,))
    chosen = np.asarray(shopping.choose_platform(u, jnp.broadcast_to(jnp.asarray(v), (N, 4))))
    shares = np.bincount(chosen, minlength=4) / N
    expected = np.exp(expected_v) / np.exp(expected_v).sum()
    _close(shares, expected, N)


def test_closed_platforms_and_empty_markets_are_never_chosen():
    _, params = build(load_scenario("taobao"))
    trust = jnp.zeros((N, 3), jnp.float32)
    n_listed = jnp.broadcast_to(jnp.asarray([30, 0, 30], jnp.int32), (N, 3))
    open_ = jnp.asarray([True, True, False])
    v = shopping.platform_utilities(trust, n_listed, jnp.full((N,), -1, jnp.int8), open_, params)
    chosen = np.asarray(shopping.choose_platform(uniform16(jax.random.key(2), (N,)), v))
    assert set(np.unique(chosen)) <= {0, 3}


def test_categorical_draw_matches_softmax():
    logits = jnp.asarray([0.0, 1.0, -1.0, 2.0])
    draws = np.asarray(
        categorical(uniform16(jax.random.key(9), (N,)), jnp.broadcast_to(logits, (N, 4)))
    )
    expected = np.exp(np.asarray(logits)) / np.exp(np.asarray(logits)).sum()
    _close(np.bincount(draws, minlength=4) / N, expected, N)


def test_trust_fades_toward_the_buyers_general_trust():
    """Unused, trust in a platform drifts back to the mean over the platforms used."""
    _, params = build(load_scenario("taobao"))
    trust = jnp.asarray([[3.0, -2.0, 0.5]], jnp.float32)
    last_visit = jnp.asarray([[0, 0, 0]], jnp.int16)
    later = np.asarray(shopping.decayed_trust(trust, last_visit, jnp.int32(100), params))[0]
    keep = (1 - float(params.buyers.trust_decay_per_day)) ** 100
    general = (3.0 - 2.0 + 0.5) / 3
    assert later == pytest.approx(general + (np.array([3.0, -2.0, 0.5]) - general) * keep, rel=1e-4)
    # visited today: exactly what was learned
    today = np.asarray(shopping.decayed_trust(trust, last_visit, jnp.int32(0), params))[0]
    assert today == pytest.approx([3.0, -2.0, 0.5], rel=1e-6)


def test_a_platform_never_used_is_expected_to_be_like_the_ones_known():
    """No bonus for novelty: an untried platform gets the buyer's general trust, so a buyer
    disappointed everywhere it shopped does not flock to a platform it has never seen."""
    _, params = build(load_scenario("taobao"))
    trust = jnp.asarray([[-0.6, 0.0, -0.2], [0.0, 0.0, 0.0]], jnp.float32)
    last_visit = jnp.asarray([[5, NEVER, 5], [NEVER, NEVER, NEVER]], jnp.int16)
    now = np.asarray(shopping.decayed_trust(trust, last_visit, jnp.int32(5), params))
    assert now[0] == pytest.approx([-0.6, -0.4, -0.2], rel=1e-5)
    assert now[1] == pytest.approx([0.0, 0.0, 0.0])  # no experience at all: no opinion


def test_extremely_sensitive_buyers_keep_finite_logit_weights_with_exact_ratios():
    """A buyer whose best listing beats the outside option by thousands of logit units
    (β_price in the hundreds of thousands) gets finite weights whose ratios are the
    logit's, an exact inclusive value, and still buys the best listing most often."""
    util = jnp.asarray([[3000.0, 2999.0, -5.0], [2.0, 1.0, 0.5]], jnp.float32)
    clicked = jnp.asarray([[True, True, True], [True, True, False]])
    shift = shopping.weight_shift(util, clicked, jnp.float32(0.0))
    w = np.asarray(shopping.purchase_weights(util, clicked, jnp.float32(0.0), shift))
    assert np.isfinite(w).all()
    assert w[0, 0] / w[0, 1] == pytest.approx(np.e, rel=1e-5)
    inclusive = np.asarray(shopping.inclusive_value(jnp.asarray(w), shift))
    assert inclusive[0] == pytest.approx(3000.0 + np.log1p(np.exp(-1.0)), rel=1e-6)
    # an ordinary buyer: no shift, the textbook weights exactly
    assert float(shift[1]) == 0.0
    assert np.array_equal(w[1], np.asarray(jnp.where(clicked[1], jnp.exp(util[1]), 0.0)))
    assert inclusive[1] == pytest.approx(np.log1p(np.exp(2.0) + np.exp(1.0)), rel=1e-6)
    shares = np.asarray(shopping.purchase_probabilities(util, clicked, jnp.float32(0.0)))
    assert np.isfinite(shares).all() and np.allclose(shares.sum(axis=1), 1.0)
    assert shares[0, 0] == pytest.approx(np.e / (1 + np.e), rel=1e-5) and shares[0, 3] == 0.0
    u = uniform16(jax.random.key(3), (N,))
    bought, position = shopping.choose_listing(u, jnp.broadcast_to(jnp.asarray(w[0]), (N, 3)))
    assert bool(bought.all())
    _close(
        np.bincount(np.asarray(position), minlength=3)[:2] / N,
        np.asarray([np.e, 1.0]) / (1 + np.e),
        N,
    )


def test_the_shopping_stage_buys_only_what_an_online_buyer_clicked_at_its_page_price():
    from .conftest import one_day

    dims, params, state, after, r = one_day("taobao")
    s, pages = r.session, r.pages
    bought = np.asarray(s.bought)
    assert bought.any()
    assert np.asarray(s.online)[bought].all()
    rows = np.arange(bought.size)[bought]
    position = np.asarray(s.position)[bought]
    assert np.asarray(s.clicked)[rows, position].all()
    market = np.asarray(s.market)[bought]
    np.testing.assert_array_equal(
        np.asarray(s.price)[bought], np.asarray(pages.price)[market, position]
    )
    np.testing.assert_array_equal(
        np.asarray(s.listing)[bought], np.asarray(pages.listing)[market, position]
    )
    assert not np.asarray(s.clicked)[~np.asarray(s.online)].any()


def test_ad_load_costs_each_session_its_expected_sponsored_examinations():
    """``sponsored_disutility`` takes ``d · Σ_k e_k · [k sponsored]`` off an online
    session's trust signal and ``ref / β_price`` times that off its surplus, and changes
    nothing else on the day (same pages, clicks and purchases); 0 is today's outcome."""
    from .conftest import one_day

    d = 0.4
    _, params, state, _, base = one_day("taobao")
    _, _, _, _, costly = one_day("taobao", {"buyers.sponsored_disutility": d})
    s, c = base.session, costly.session
    for field in ("clicked", "bought", "price", "listing", "platform", "online"):
        np.testing.assert_array_equal(np.asarray(getattr(s, field)), np.asarray(getattr(c, field)))
    examined = np.sum(
        np.asarray(params.buyers.examination)[None, :] * np.asarray(base.pages.sponsored), axis=1
    )
    online = np.asarray(s.online)
    nuisance = np.where(online, d * examined[np.asarray(s.market)], 0.0)
    # not a vacuous check: nearly every page a session sees carries ads (a page of one
    # listing may have none)
    assert (nuisance[online] > 0).mean() > 0.9
    np.testing.assert_allclose(
        np.asarray(s.signal) - np.asarray(c.signal), nuisance, rtol=1e-5, atol=1e-5
    )
    ref = np.exp(np.asarray(state.market.log_ref_price))[np.asarray(s.category)]
    np.testing.assert_allclose(
        np.asarray(s.surplus) - np.asarray(c.surplus),
        ref / np.asarray(s.price_sens) * nuisance,
        rtol=1e-3,
        atol=1e-2 * ref.max() / 100,
    )
    # the stage's own function, called with no cost, gives exactly the signal of today
    zero = shopping.ad_nuisance(base.pages, s.market, s.online, params)
    assert float(jnp.abs(zero).max()) == 0.0


def test_the_day_in_blocks_gives_each_session_the_same_outcome():
    # 80 sessions (400 buyers x 0.2): blocks of at most 24 are 4 blocks of 24 rows, the
    # last padded; integers and masks are bit-identical, floats to float32 rounding
    from .conftest import one_day

    dims, _, _, _, whole = one_day("taobao", {"session_block": 0})
    blocked_dims, _, _, _, blocked = one_day("taobao", {"session_block": 24})
    assert (dims.session_blocks, blocked_dims.session_blocks) == (1, 4)
    assert (blocked_dims.session_rows, dims.sessions) == (24, 80)
    flat_whole = jax.tree_util.tree_leaves_with_path(whole.session)
    flat_blocked = jax.tree_util.tree_leaves(blocked.session)
    assert len(flat_whole) == len(flat_blocked)
    for (path, a), b in zip(flat_whole, flat_blocked, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.shape[0] == dims.sessions
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6, err_msg=str(path))
        else:
            np.testing.assert_array_equal(b, a, err_msg=str(path))
    assert np.asarray(whole.session.last_of_day).any()
    # what the sessions did to the world is the same too: every cent of the day
    for a, b in zip(
        jax.tree_util.tree_leaves(whole.flows),
        jax.tree_util.tree_leaves(blocked.flows),
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
