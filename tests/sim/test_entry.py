"""A late entrant (the ``pdd_entry`` preset) opens small: no sessions before its entry day,
a small buyer base and few sellers on the day it opens (only the sellers who signed up
before launch), because buyers expect an untried platform to be like the ones they know
and see only its weak brand and thin assortment."""

from __future__ import annotations

from ..conftest import cached_run

ENTRY_DAY = 40
DAYS = 70
SMALL = {"market.buyers": 20_000, "platforms.2.entry_day": ENTRY_DAY}


def test_the_low_price_rival_enters_with_a_small_buyer_base_and_few_sellers():
    d = cached_run("pdd_entry", DAYS, seeds=2, overrides=SMALL).daily
    pdd = d[d["platform"] == "Pinduoduo"].set_index(["seed", "day"])
    taobao = d[d["platform"] == "Taobao"].set_index(["seed", "day"])
    before = pdd.xs(ENTRY_DAY - 1, level="day")
    assert (before["sessions"] == 0).all()
    opening = pdd[pdd.index.get_level_values("day").isin(range(ENTRY_DAY, ENTRY_DAY + 7))]
    share = opening.groupby("seed")["share_sessions"].mean()
    assert ((share > 0.002) & (share < 0.06)).all(), share
    sellers = opening.groupby("seed")["active_sellers"].mean()
    incumbent = taobao.xs(ENTRY_DAY, level="day")["active_sellers"]
    assert (sellers < 0.15 * incumbent).all(), (sellers, incumbent)
