"""The stream registry (``twosided.sim.streams``): the one declaration of every money
stream, which the ledger, the tables and the roles derive their lists from."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from twosided.roles.streams import LUMP_SUM_STREAMS, PER_USE_STREAMS
from twosided.sim import ledger, streams
from twosided.sim.ledger import flow_record


def test_the_ledger_and_the_roles_follow_the_registry():
    assert tuple(ledger.STREAMS) == streams.STREAM_NAMES
    assert ledger.STREAMS["commission"] == ("sellers", "platform")
    assert ledger.REVENUE_STREAMS["service_fee"] == ("service_fee", "-service_fee_refund")
    assert set(PER_USE_STREAMS) == {"ads", "commission", "affiliate"}
    assert set(LUMP_SUM_STREAMS) == {"service_fee", "forfeits"}
    assert streams.revenue_columns("per_use") == (
        "revenue_ads_cents",
        "revenue_commission_cents",
        "revenue_affiliate_cents",
    )


def test_revenue_is_the_platforms_streams_net_of_its_refunds():
    flows = ledger.zero_flows(2)
    flows = ledger.add(flows, "service_fee", jnp.asarray([500, 0]))
    flows = ledger.add(flows, "service_fee_refund", jnp.asarray([200, 0]))
    flows = ledger.add(flows, "ads", jnp.asarray([0, 7]))
    flows = ledger.add(flows, "release", jnp.asarray([1000, 1000]))  # not revenue
    revenue = {k: v.tolist() for k, v in ledger.revenue(flows).items()}
    assert revenue == {
        "ads": [0, 7],
        "commission": [0, 0],
        "service_fee": [300, 0],
        "affiliate": [0, 0],
        "forfeits": [0, 0],
    }


def test_a_flow_record_naming_no_stream_fails_when_declared():
    with pytest.raises(TypeError, match="comission name no stream"):

        @flow_record
        class Typo:
            comission: jax.Array


def test_flow_records_post_to_their_streams():
    @flow_record
    class Two:
        ads: jax.Array
        release: jax.Array

    flows = ledger.record_flows(2, Two(ads=jnp.asarray([1, 2]), release=jnp.asarray([3, 4])))
    assert flows[ledger.S["ads"]].tolist() == [1, 2]
    assert flows[ledger.S["release"]].tolist() == [3, 4]
    assert int(flows.sum()) == 10
