"""Platform revenue streams by how they are charged: per use, or as lump sums.

A **per-use** stream is charged for an act of the other side within the day: a click on a
sponsored listing (ads), a sale (commission, affiliate fees). What a seller pays through it
can answer to buyer traffic within days, so these are the payments whose elasticity to
buyer activity says whether buyers are the reason sellers pay.

A **lump-sum** stream is charged on a calendar or on an event of the payer's own, whatever
the traffic of those days: the technical-service fee is an annual fee per listing, paid
when a seller lists (day 0 for the initial sellers) and refunded at the fee year's end when
the year's sales reached the threshold; a forfeited deposit is a whole deposit, taken for a
seller's misdeed. Their following of traffic, if any, shows only across years (whether a
seller lists again), so they are shown but left out of the elasticity; the alignment figure
counts them as *fixed* revenue for the same reason.

Names, classes and descriptions come from the stream registry, ``twosided.sim.streams``.
"""

from __future__ import annotations

from twosided.sim.streams import REVENUE

PER_USE_STREAMS: dict[str, str] = {r.name: r.shown_as for r in REVENUE if r.charge == "per_use"}
LUMP_SUM_STREAMS: dict[str, str] = {r.name: r.shown_as for r in REVENUE if r.charge == "lump_sum"}


def is_per_use(stream: str) -> bool:
    """Whether payments through ``stream`` can answer to activity within days."""
    return stream in PER_USE_STREAMS


def why_left_out(stream: str) -> str:
    """Why a stream's payments are not in the elasticity (a lump sum, or not classified)."""
    if stream in LUMP_SUM_STREAMS:
        return f"a lump sum: {LUMP_SUM_STREAMS[stream]}"
    return "not classified as a per-use stream"
