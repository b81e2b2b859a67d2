"""The keyword auction promises textbook GSP and VCG outcomes, the Taobao quality rule,
a working reserve price, and VCG revenue no higher than GSP revenue under truthful bids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twosided.sim.auction import position_auction


def test_edelman_ostrovsky_schwarz_example_gsp():
    # EOS (2007), section 2: values $10, $4, $2; two slots of 200 and 100 clicks.
    # Under truthful bids GSP charges each winner the next bid: $4 and $2 per click.
    winners, prices = position_auction([10, 4, 2], [1, 1, 1], [200, 100])
    assert winners.tolist() == [0, 1]
    assert prices.tolist() == pytest.approx([4.0, 2.0])


def test_edelman_ostrovsky_schwarz_example_vcg():
    # VCG in the same example: the second pays 100 × $2 = $200 ($2 a click); the first pays
    # (200 − 100) × $4 + 100 × $2 = $600 for 200 clicks, $3 a click (EOS 2007, section 2).
    winners, prices = position_auction([10, 4, 2], [1, 1, 1], [200, 100], mechanism="vcg")
    assert winners.tolist() == [0, 1]
    assert prices.tolist() == pytest.approx([3.0, 2.0])


def test_varian_three_slot_vcg_formula():
    # Varian (2007): with CTRs x1 > x2 > x3 the VCG price per click of slot s is
    # sum_{t>=s} (x_t - x_{t+1}) b_{t+1} / x_s. Bids 5, 4, 3, 1 and CTRs 0.5, 0.3, 0.1.
    bids, ctr = [4.0, 1.0, 5.0, 3.0], [0.5, 0.3, 0.1]
    winners, prices = position_auction(bids, [1, 1, 1, 1], ctr, mechanism="vcg")
    assert winners.tolist() == [2, 0, 3]
    expected = [
        ((0.5 - 0.3) * 4 + (0.3 - 0.1) * 3 + 0.1 * 1) / 0.5,
        ((0.3 - 0.1) * 3 + 0.1 * 1) / 0.3,
        (0.1 * 1) / 0.1,
    ]
    assert prices.tolist() == pytest.approx(expected)
    winners, prices = position_auction(bids, [1, 1, 1, 1], ctr, mechanism="gsp")
    assert prices.tolist() == pytest.approx([4.0, 3.0, 1.0])


def test_quality_score_reorders_and_reprices_by_taobao_rule():
    # A bids 3 with quality 0.5 (rank score 1.5); B bids 2 with quality 1.0 (rank 2.0).
    # B wins the top slot despite the lower bid and pays A's bid × A's quality / B's quality
    # plus one cent: 3 × 0.5 / 1.0 + 0.01 = 1.51. A pays the reserve (nobody below).
    winners, prices = position_auction(
        [3.0, 2.0], [0.5, 1.0], [1.0, 0.5], reserve=0.1, increment=0.01
    )
    assert winners.tolist() == [1, 0]
    assert prices.tolist() == pytest.approx([1.51, 0.1])


def test_price_is_capped_at_own_bid():
    # Same rank score, so next/own quality ratio makes the price equal the bid; the one-cent
    # increment must not push it above the bid.
    winners, prices = position_auction([2.0, 1.0], [0.5, 1.0], [1.0], increment=0.01)
    assert winners.tolist() == [0]
    assert prices[0] == pytest.approx(2.0)


def test_reserve_excludes_low_bids_and_sets_the_floor():
    winners, prices = position_auction([0.05, 0.5, 0.3], [1, 1, 1], [1.0, 0.6, 0.3], reserve=0.2)
    assert winners.tolist() == [1, 2, -1]  # the 0.05 bid is below the reserve
    assert prices.tolist() == pytest.approx([0.3, 0.2, 0.0])


def test_slots_without_clicks_are_not_sold():
    winners, prices = position_auction([5.0, 4.0, 3.0], [1, 1, 1], [1.0, 0.0])
    assert winners.tolist() == [0, -1]
    assert prices[0] == pytest.approx(4.0)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        position_auction([1.0], [1.0], [1.0], mechanism="first-price")
    with pytest.raises(ValueError):
        position_auction([1.0, 2.0], [1.0], [1.0])
    with pytest.raises(ValueError):
        position_auction([1.0], [1.0], [0.2, 0.5])


@settings(max_examples=60, deadline=None)
@given(
    bids=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=8),
    ctr=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4),
    data=st.data(),
)
def test_vcg_revenue_never_exceeds_gsp_under_truthful_bids(bids, ctr, data):
    quality = data.draw(st.lists(st.floats(0.05, 1.0), min_size=len(bids), max_size=len(bids)))
    slot_clicks = sorted(ctr, reverse=True)
    revenue = {}
    for mech in ("gsp", "vcg"):
        winners, prices = position_auction(bids, quality, slot_clicks, mechanism=mech)
        sold = winners >= 0
        clicks = np.asarray(slot_clicks)[sold] * np.asarray(quality)[winners[sold]]
        revenue[mech] = float(np.sum(clicks * prices[sold]))
        # both mechanisms allocate by rank score, and nobody pays above its bid
        assert np.all(prices[sold] <= np.asarray(bids)[winners[sold]] + 1e-9)
    assert revenue["vcg"] <= revenue["gsp"] + 1e-9 * max(1.0, revenue["gsp"])


@settings(max_examples=40, deadline=None)
@given(bids=st.lists(st.floats(0.01, 50.0), min_size=2, max_size=8))
def test_unit_quality_reduces_to_textbook_gsp(bids):
    winners, prices = position_auction(bids, [1.0] * len(bids), [1.0, 0.7, 0.4])
    order = np.argsort(-np.asarray(bids), kind="stable")
    ranked = np.asarray(bids)[order]
    for k, w in enumerate(winners):
        if w < 0:
            continue
        assert bids[w] == pytest.approx(ranked[k])
        next_bid = ranked[k + 1] if k + 1 < len(ranked) else 0.0
        assert prices[k] == pytest.approx(next_bid)


def test_no_bidders_at_all_leaves_every_slot_unsold():
    for mech in ("gsp", "vcg"):
        winners, prices = position_auction([], [], [1.0, 0.5, 0.2], reserve=0.1, mechanism=mech)
        assert winners.tolist() == [-1, -1, -1]
        assert prices.tolist() == [0.0, 0.0, 0.0]


def test_vcg_treats_the_reserve_as_a_phantom_bidder():
    # Bids 10 and 6, slot clicks 1 and 0.5, quality 1, reserve 5. Removing the top bidder
    # moves the 6 up a slot and gives the second slot to the seller's reserve of 5, so the
    # top pays 6·(1 − 0.5) + 5·0.5 = 5.5 a click (not max(5, 6·0.5) = 5); the second pays
    # the reserve it displaces, 5.
    winners, prices = position_auction(
        [10.0, 6.0], [1, 1], [1.0, 0.5], reserve=5.0, mechanism="vcg"
    )
    assert winners.tolist() == [0, 1]
    assert prices.tolist() == pytest.approx([5.5, 5.0])


def _brute_force_vcg(bids, quality, slot_clicks, reserve):
    """VCG from its definition: the welfare-maximising assignment of slots to bidders and
    to the seller, who values a click of an unsold slot at the reserve (as many such
    phantom bidders as slots); each winner pays the others' welfare without it minus their
    welfare with it, per click it receives."""
    alpha = [a for a in slot_clicks if a > 0]

    def best(values):  # the others' welfare, largest values in the best slots
        ranked = sorted(values, reverse=True)
        ranked += [reserve] * len(alpha)  # the seller's phantom bids fill what is left
        ranked = sorted(ranked, reverse=True)[: len(alpha)]
        return sum(a * v for a, v in zip(alpha, ranked))

    scores = [b * q if b >= reserve else 0.0 for b, q in zip(bids, quality)]
    order = sorted(range(len(bids)), key=lambda i: -scores[i])
    prices = {}
    for k, i in enumerate(order[: len(alpha)]):
        if bids[i] < reserve or scores[i] <= 0:
            break
        others = [scores[j] for j in range(len(bids)) if j != i and bids[j] >= reserve]
        with_i = best([scores[j] for j in range(len(bids)) if bids[j] >= reserve])
        others_with_i = with_i - alpha[k] * scores[i]
        prices[i] = (best(others) - others_with_i) / (alpha[k] * quality[i])
    return prices


@settings(max_examples=80, deadline=None)
@given(
    bids=st.lists(st.floats(0.5, 20.0), min_size=0, max_size=6),
    ctr=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4),
    reserve=st.floats(0.0, 8.0),
    data=st.data(),
)
def test_vcg_agrees_with_the_definition_on_small_random_auctions(bids, ctr, reserve, data):
    # quality 1 (textbook values: bid per click) or, without a reserve, any quality
    unit = reserve > 0
    quality = (
        [1.0] * len(bids)
        if unit
        else data.draw(st.lists(st.floats(0.1, 1.0), min_size=len(bids), max_size=len(bids)))
    )
    slot_clicks = sorted(ctr, reverse=True)
    winners, prices = position_auction(bids, quality, slot_clicks, reserve=reserve, mechanism="vcg")
    expected = _brute_force_vcg(bids, quality, slot_clicks, reserve)
    got = {int(w): float(p) for w, p in zip(winners, prices) if w >= 0}
    assert got.keys() == expected.keys()
    for i, price in expected.items():
        assert got[i] == pytest.approx(price, rel=1e-9, abs=1e-9)


def test_repeated_calls_of_one_shape_reuse_one_compiled_program():
    from twosided.sim import auction

    position_auction([3.0, 2.0, 1.0], [1, 1, 1], [1.0, 0.5])
    before = auction._compiled._cache_size()
    for k in range(5):
        position_auction(
            [3.0 + k, 2.0, 1.0],
            [1, 1, 1],
            [1.0, 0.5],
            reserve=0.1 * k,
            mechanism="vcg" if k % 2 else "gsp",
        )
    assert auction._compiled._cache_size() == before
