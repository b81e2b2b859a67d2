"""One simulated day: a pure function ``step(state, params, key, dims) -> (state, metrics)``.

A day is a list of stages, each a mechanism in its own module (docs/model.md §1.3). A
stage takes the state, its parameters, its key (when it draws) and the static sizes, in
that order, plus the records of earlier stages it reads (by keyword), and returns the new
state and its own typed record:

1. ``governance.stage``: punishes the harmful listings it catches (deposits forfeited);
2. ``fees.stage``: charges or refunds the annual service fee at the fee year's turn;
3. ``ranking.stage``: every platform builds its results pages (auction + organic ranking);
4. ``shopping.stage``: the day's sessions (platform choice, examination, clicks, purchase,
   price comparison, each order's path through fulfilment and escrow);
5. ``escrow.stage``: buyers pay, orders are booked by terminal day, today's settle;
   ``ranking.charge_clicks``: paid positions are charged for their clicks;
6. ``buyers.stage``: buyers remember what happened (trust);
7. ``sellers.account``: sellers record sales, ratings and profit and pay their costs;
   ``sellers.turnover``: revisions (adapt, multi-home, exit), then entry where traffic is;
8. ``ledger.stage``: every cent of the day is posted; ``collect.daily`` gathers the
   day's metrics.
"""

from __future__ import annotations

import jax

from twosided.sim import (
    buyers,
    collect,
    escrow,
    fees,
    governance,
    ledger,
    ranking,
    sellers,
    shopping,
)
from twosided.sim.params import Dims, Params
from twosided.sim.pytree import replace
from twosided.sim.state import State

Metrics = collect.Metrics


def stages(
    state: State, params: Params, key: jax.Array, dims: Dims
) -> tuple[State, collect.DayRecords]:
    """Run the day's stages in order: the state after them (its day not yet advanced)
    and every stage's record."""
    # one key per drawing stage, in a fixed order (governance, sessions, revision, entry,
    # pages): changing it changes every draw, and the golden digests with it
    keys = jax.random.split(key, 5)
    k_gov, k_shop, k_rank, k_sellers = keys[0], keys[1], keys[4], keys[2:4]
    state, policing = governance.stage(state, params, k_gov, dims)
    state, annual_fee = fees.stage(state, params, dims)
    state, pages = ranking.stage(state, params, k_rank, dims)
    state, session = shopping.stage(state, params, k_shop, dims, pages=pages)
    state, orders = escrow.stage(state, params, dims, session=session)
    state, clicks = ranking.charge_clicks(state, params, dims, pages=pages, session=session)
    state, _ = buyers.stage(state, params, dims, session=session)
    state, accounts = sellers.account(
        state, params, dims, session=session, pages=pages, clicks=clicks
    )
    state, turnover = sellers.turnover(state, params, k_sellers, dims, session=session)
    state, flows = ledger.stage(
        state,
        dims,
        policing.changes,
        annual_fee,
        orders.payments,
        orders.settlement,
        clicks.flows,
        accounts.costs,
        turnover.revised,
        turnover.entered,
    )
    return state, collect.DayRecords(
        policing=policing,
        annual_fee=annual_fee,
        pages=pages,
        session=session,
        orders=orders,
        clicks=clicks,
        accounts=accounts,
        turnover=turnover,
        flows=flows,
    )


def step(
    state: State, params: Params, key: jax.Array, dims: Dims, log_sessions: bool = False
) -> tuple[State, Metrics]:
    """Advance the world by one day. Pure: same inputs, same outputs."""
    day = state.day
    state, records = stages(state, params, key, dims)
    metrics = collect.daily(state, params, dims, day=day, r=records).columns()
    if log_sessions:
        metrics["log"] = collect.session_log(records, dims)
    return replace(state, day=day + 1), metrics
