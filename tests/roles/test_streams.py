"""Every revenue stream the ledger reports is classed once: per use (in the elasticity
behind the users, earned with or against users in the alignment) or a lump sum (left out of
the elasticity, fixed in the alignment). A new stream fails here until it is classed."""

from __future__ import annotations

from twosided.roles.streams import LUMP_SUM_STREAMS, PER_USE_STREAMS, is_per_use, why_left_out
from twosided.sim.ledger import REVENUE_STREAMS


def test_every_revenue_stream_is_classed_once():
    assert set(PER_USE_STREAMS).isdisjoint(LUMP_SUM_STREAMS)
    assert set(PER_USE_STREAMS) | set(LUMP_SUM_STREAMS) == set(REVENUE_STREAMS)


def test_the_annual_fee_is_a_lump_sum_and_clicks_and_sales_are_per_use():
    assert is_per_use("ads") and is_per_use("commission") and not is_per_use("service_fee")
    assert why_left_out("service_fee").startswith("a lump sum: an annual fee")
    assert why_left_out("listing_fee") == "not classified as a per-use stream"
