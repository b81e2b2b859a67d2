"""The money streams, declared once: the registry every list of streams derives from.

A *stream* is one kind of movement of money: a fixed pair of accounts (source,
destination), one pair per platform (``"platform"``, ``"escrow"`` and ``"deposits"`` name
that account of the platform the flow belongs to). The ledger (``sim/ledger.py``) posts
streams; the flows table (``metrics.py``) names their accounts; the daily table has one
``revenue_<name>_cents`` column per *revenue stream*, the platform's income as the report
names it, which adds (or, for a refund, subtracts) one or more ledger streams. Each revenue
stream is charged per use (a click, a sale: it can follow buyer traffic within days) or as
a lump sum (on a calendar or an event of the payer's own); the roles' elasticity and the
alignment figure (``twosided.roles``) read that class from here.

Adding a fee stream: declare it in ``STREAMS`` (and, if it is platform revenue, in
``REVENUE``), add a field of that name to the flow record of the stage that charges it,
and add its schema field (docs/model.md, "Adding a mechanism").
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Charge = Literal["per_use", "lump_sum"]


@dataclasses.dataclass(frozen=True)
class Stream:
    """One ledger stream: where its money comes from and goes to.

    ``revenue`` names the revenue stream it counts toward (``None``: not platform revenue),
    with ``sign`` -1 for money the platform pays back (a refund of its own fee).
    """

    name: str
    source: str
    destination: str
    revenue: str | None = None
    sign: int = 1


@dataclasses.dataclass(frozen=True)
class RevenueStream:
    """One of the platform's revenue streams as reports show it."""

    name: str
    charge: Charge
    shown_as: str  # how it is charged, in words ("paid per click")


STREAMS: tuple[Stream, ...] = (
    Stream("payment_escrow", "households", "escrow"),
    Stream("payment_direct", "households", "sellers"),
    Stream("release", "escrow", "sellers"),
    Stream("refund_escrow", "escrow", "households"),
    Stream("refund_seller", "sellers", "households"),
    Stream("commission", "sellers", "platform", revenue="commission"),
    Stream("ads", "sellers", "platform", revenue="ads"),
    Stream("service_fee", "sellers", "platform", revenue="service_fee"),
    Stream("service_fee_refund", "platform", "sellers", revenue="service_fee", sign=-1),
    Stream("affiliate_platform", "sellers", "platform", revenue="affiliate"),
    Stream("affiliate_payout", "sellers", "affiliates"),
    Stream("cost_of_goods", "sellers", "suppliers"),
    Stream("fixed_costs", "sellers", "suppliers"),
    Stream("fake_reviews", "sellers", "suppliers"),
    Stream("deposit_paid", "sellers", "deposits"),
    Stream("deposit_returned", "deposits", "sellers"),
    Stream("forfeit_to_buyers", "deposits", "households"),
    Stream("forfeit_to_platform", "deposits", "platform", revenue="forfeits"),
)

REVENUE: tuple[RevenueStream, ...] = (
    RevenueStream("ads", "per_use", "paid per click"),
    RevenueStream("commission", "per_use", "paid per sale"),
    RevenueStream("service_fee", "lump_sum", "an annual fee per listing"),
    RevenueStream("affiliate", "per_use", "paid per affiliate sale"),
    RevenueStream("forfeits", "lump_sum", "a whole deposit, forfeited for a misdeed"),
)

STREAM_NAMES: tuple[str, ...] = tuple(s.name for s in STREAMS)
BY_NAME: dict[str, Stream] = {s.name: s for s in STREAMS}
REVENUE_NAMES: tuple[str, ...] = tuple(r.name for r in REVENUE)


def revenue_parts(revenue: str) -> tuple[tuple[Stream, int], ...]:
    """The ledger streams that make up a revenue stream, each with its sign."""
    return tuple((s, s.sign) for s in STREAMS if s.revenue == revenue)


def revenue_column(revenue: str) -> str:
    """The daily table's column of a revenue stream: ``revenue_<name>_cents``."""
    return f"revenue_{revenue}_cents"


def revenue_columns(charge: Charge | None = None) -> tuple[str, ...]:
    """The daily columns of the revenue streams (of one charge class, if given)."""
    return tuple(revenue_column(r.name) for r in REVENUE if charge in (None, r.charge))


def _check() -> None:
    """The registry is consistent: unique names, every revenue stream has a ledger part."""
    assert len(set(STREAM_NAMES)) == len(STREAMS), "stream names must be unique"
    assert len(set(REVENUE_NAMES)) == len(REVENUE), "revenue stream names must be unique"
    for s in STREAMS:
        assert s.revenue is None or s.revenue in REVENUE_NAMES, f"{s.name}: unknown revenue"
        assert s.sign in (1, -1), f"{s.name}: sign must be 1 or -1"
    for r in REVENUE:
        assert revenue_parts(r.name), f"revenue stream {r.name} has no ledger stream"


_check()
