"""Saved optimizer results: kept per scenario and settings, found by scenario name, each
summarised in one line; a damaged file is left out, not fatal."""

from __future__ import annotations

from twosided.strategy import saved

OPTIMUM = {
    "optimum": {
        "platform": "Taobao",
        "fields": ["rank_ads"],
        "best": {"rank_ads": 4.9, "rank_quality": 1.0},
        "comparison": [
            {"metric": "objective", "difference": 1.0, "low": 0.5, "high": 1.5, "seeds": 2},
            {
                "metric": "revenue_cents",
                "difference": 123_400,
                "low": 100_000,
                "high": 150_000,
                "seeds": 2,
            },
        ],
    }
}


def test_saved_results_are_found_by_scenario_and_summarised(tmp_path):
    a = saved.save(tmp_path, "taobao", {"objective": "revenue"}, OPTIMUM)
    again = saved.save(tmp_path, "taobao", {"objective": "revenue"}, OPTIMUM)
    other = saved.save(tmp_path, "taobao", {"objective": "share"}, OPTIMUM)
    saved.save(tmp_path, "monopoly", {"objective": "revenue"}, OPTIMUM)
    assert a == again and a != other  # the same settings replace, others sit beside
    found = saved.find(tmp_path, {"taobao"})
    assert sorted(s.path for s in found) == sorted([a, other])
    assert found[0].summary == (
        "Taobao's best policy: rank_ads = 4.9; revenue vs the scenario's policy +1,234 yuan "
        "per episode [+1,000, +1,500] over 2 paired seeds"
    )


def test_an_equilibrium_is_summarised_and_a_damaged_file_left_out(tmp_path):
    eq = {"equilibrium": {"platforms": ["A", "B"], "converged": True}}
    path = saved.save(tmp_path, "duo", {}, eq)
    (tmp_path / saved.FOLDER / "broken.json").write_text("{not json")
    (found,) = saved.find(tmp_path, {"duo"})
    assert found.path == path and found.summary == "best responses between A, B: converged"
    assert saved.find(tmp_path / "nowhere", {"duo"}) == []
