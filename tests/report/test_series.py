"""Chart series: computed per seed and platform (windows never mix seeds or platforms),
then summarized as the mean and the range over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twosided.report import series as S


def synthetic_daily(days: int = 10) -> pd.DataFrame:
    """Two seeds, two platforms: seed 1 sells twice what seed 0 sells; B sells nothing."""
    rows = []
    for seed in (0, 1):
        for day in range(days):
            for pid, name in enumerate(["A", "B"]):
                gmv = (day + 1) * 100 * (seed + 1) if name == "A" else 0
                rows.append(
                    {
                        "seed": seed,
                        "day": day,
                        "platform_id": pid,
                        "platform": name,
                        "gmv_cents": gmv,
                        "revenue_cents": gmv // 10,
                        "share_sessions": 0.25 + 0.05 * day if name == "A" else 0.75 - 0.05 * day,
                    }
                )
    return pd.DataFrame(rows)


def test_mean_and_range_over_seeds():
    out = S.series(synthetic_daily(), S.level("gmv_cents"))
    a = out[out["platform"] == "A"].set_index("day")
    days = np.arange(10)
    np.testing.assert_allclose(a["lo"], (days + 1) * 100)
    np.testing.assert_allclose(a["hi"], (days + 1) * 200)
    np.testing.assert_allclose(a["mean"], (days + 1) * 150)


def test_a_trailing_window_stays_within_one_seed_and_platform():
    out = S.series(synthetic_daily(), S.smoothed("gmv_cents", window=3))
    a = out[out["platform"] == "A"].set_index("day")
    # seed 0 on day 0: only its own day 0 (100), seed 1: 200
    assert a.loc[0, "lo"] == 100 and a.loc[0, "hi"] == 200
    # day 2: mean of days 0..2 = 200 for seed 0
    assert a.loc[2, "lo"] == pytest.approx(200)
    assert (out[out["platform"] == "B"]["mean"] == 0).all()


def test_ratio_of_sums_is_undefined_where_nothing_was_sold():
    out = S.series(synthetic_daily(), S.ratio_of_sums("revenue_cents", "gmv_cents"))
    np.testing.assert_allclose(out[out["platform"] == "A"]["mean"], 0.1)
    assert out[out["platform"] == "B"]["mean"].isna().all()


def test_cumulative_and_totals():
    daily = synthetic_daily()
    out = S.series(daily, S.cumulative("gmv_cents"))
    last = out[(out["platform"] == "A") & (out["day"] == 9)].iloc[0]
    assert last["lo"] == 100 * 55 and last["hi"] == 200 * 55
    totals = S.totals_by_platform(daily, ["gmv_cents"]).set_index("platform")
    assert totals.loc["A", "mean"] == 150 * 55 and totals.loc["B", "hi"] == 0


def test_share_change_between_first_and_last_week():
    change = S.share_change(synthetic_daily(days=20)).set_index("platform")
    assert change.loc["A", "start"] == pytest.approx(0.25 + 0.05 * 3)
    assert change.loc["A", "end"] == pytest.approx(0.25 + 0.05 * 16)
    assert change.loc["B", "change"] == pytest.approx(-change.loc["A", "change"])
