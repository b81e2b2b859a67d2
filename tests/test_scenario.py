"""The scenario schema: presets load and validate, every field is documented, overrides
address fields by path (platforms by index or name), and bad input gives one clear line
naming the field."""

from __future__ import annotations

import tomllib

import pytest

from twosided import scenario as sc
from twosided.docgen import SECTIONS


@pytest.mark.parametrize("name", sc.preset_names())
def test_presets_load_and_round_trip_through_toml(name):
    s = sc.load_scenario(name)
    assert s.name == name and s.description
    again = sc.scenario_from_dict(tomllib.loads(s.to_toml()))
    assert again == s


def test_every_field_has_a_description():
    for _, model in SECTIONS:
        for field_name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{field_name}"


def test_overrides_by_path_index_and_name():
    s = sc.apply_overrides(
        sc.load_scenario("taobao"),
        [
            "platforms.JD.fees.commission=0.07",
            "platforms.0.ranking.ads=2",
            "market.buyers=1000",
            "platforms.1.name=PDD",
        ],
    )
    assert s.platforms[2].fees.commission == 0.07
    assert s.platforms[0].ranking.ads == 2.0
    assert s.market.buyers == 1000
    assert s.platforms[1].name == "PDD"


@pytest.mark.parametrize(
    "override, message",
    [
        (
            "platforms.0.fees.commission=1.5",
            "platforms.0.fees.commission: commission rate 1.5 is outside [0, 1]",
        ),
        ("market.buyerz=3", "market.buyerz: unknown key"),
        ("market.buyers=many", "market.buyers: Input should be a valid integer"),
        ("market.buyers=0", "market.buyers: Input should be greater than or equal to 1"),
        # no silent conversions: a typo never becomes a number or a switch
        ("market.buyers=true", "market.buyers: Input should be a valid integer"),
        ('market.buyers="2000"', "market.buyers: Input should be a valid integer"),
        ("market.buyers=2000.0", "market.buyers: Input should be a valid integer"),
        (
            "platforms.0.fees.commission=true",
            "platforms.0.fees.commission: Input should be a valid number",
        ),
        (
            'platforms.0.fees.commission="0.05"',
            "platforms.0.fees.commission: Input should be a valid",
        ),
        (
            "platforms.0.escrow.enabled=1",
            "platforms.0.escrow.enabled: Input should be a valid boolean",
        ),
        ("platforms.7.brand=1", "platforms.7: index out of range"),
        ("platforms.Amazon.brand=1", "platforms.Amazon: no entry named 'Amazon'"),
        ("market", "expected key.path=value"),
        (
            "platforms.0.seller_types.honest_share=0.5",
            "platforms.0.seller_types is not set, so platforms.0.seller_types.honest_share cannot "
            "be set alone: set the whole table",
        ),
        ("market.buyers.x=1", "market.buyers.x: cannot set a field inside a value"),
        # only ASCII digits are an index: other digits are names, never a crash or index 3
        ("platforms.².brand=1", "platforms.²: no entry named '²'"),
        ("platforms.0.fees.commission.¹=0.1", "platforms.0.fees.commission.¹: no entry named '¹'"),
        ("platforms.٣.brand=1", "platforms.٣: no entry named '٣'"),
        ("platforms." + "1" * 5000 + ".brand=1", "index out of range (there are 3)"),
    ],
)
def test_bad_overrides_name_the_field_in_one_line(override, message):
    with pytest.raises(sc.ScenarioError) as err:
        sc.apply_overrides(sc.load_scenario("taobao"), [override])
    text = str(err.value)
    assert message in text and "\n" not in text


def test_a_number_where_a_list_is_allowed_is_named_once():
    """``commission`` takes a rate or a list of rates per category; a value that fits
    neither is one problem of one field, not one per union member."""
    with pytest.raises(sc.ScenarioError) as err:
        sc.apply_overrides(sc.load_scenario("taobao"), ["platforms.0.fees.commission=true"])
    assert str(err.value) == "platforms.0.fees.commission: Input should be a valid number"


def test_whole_numbers_are_accepted_for_rates():
    s = sc.apply_overrides(sc.load_scenario("taobao"), ["platforms.0.fees.commission=0"])
    assert s.platforms[0].fees.commission == 0.0


def test_missing_preset_and_file(tmp_path):
    with pytest.raises(sc.ScenarioError, match="preset 'tmall' not found"):
        sc.load_scenario("tmall")
    with pytest.raises(sc.ScenarioError, match="not found"):
        sc.load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[market\nbuyers = 3")
    with pytest.raises(sc.ScenarioError, match="invalid TOML"):
        sc.load_scenario(bad)


@pytest.mark.parametrize("name", ["../examples/mall", "..\\examples\\mall", "presets/taobao", ".."])
def test_a_preset_name_is_a_plain_name(name):
    """A name with a path in it does not reach outside the presets folder."""
    with pytest.raises(sc.ScenarioError) as err:
        sc.load_scenario(name)
    assert str(err.value).startswith(f"preset '{name}' not found (presets: ")


def test_a_scenario_file_in_a_folder_is_still_a_file(tmp_path, monkeypatch):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "my.toml").write_text("days = 10\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert sc.load_scenario("dir/my.toml").days == 10


def test_a_byte_order_mark_at_the_start_of_a_file_is_accepted(tmp_path):
    path = tmp_path / "windows.toml"
    path.write_bytes(b"\xef\xbb\xbfdays = 10\n")
    assert sc.load_scenario(path).days == 10


def test_an_invalid_scenario_from_a_file_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("market = 5\n", encoding="utf-8")
    with pytest.raises(sc.ScenarioError) as err:
        sc.load_scenario(path)
    assert (
        str(err.value)
        == f"{path}: market: Input should be a valid dictionary or instance of Market"
    )


def test_consistency_rules():
    with pytest.raises(sc.ScenarioError, match="initial_sellers"):
        sc.apply_overrides(sc.load_scenario("monopoly"), {"market.initial_sellers": 999})
    with pytest.raises(sc.ScenarioError, match="entry_day = 0"):
        sc.apply_overrides(sc.load_scenario("monopoly"), {"platforms.0.entry_day": 5})
    with pytest.raises(sc.ScenarioError, match="unique"):
        sc.apply_overrides(sc.load_scenario("taobao"), {"platforms.1.name": "Taobao"})


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
@pytest.mark.parametrize(
    "key", ["sellers.imitation_scale_cents", "buyers.switching_cost", "platforms.0.brand"]
)
def test_infinity_and_nan_are_refused_in_one_line(key, value):
    with pytest.raises(sc.ScenarioError) as err:
        sc.apply_overrides(sc.load_scenario("taobao"), [f"{key}={value}"])
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_days_and_entry_days_stay_within_what_buyers_can_remember():
    base = sc.load_scenario("taobao")
    assert sc.apply_overrides(base, {"days": sc.MAX_DAYS}).days == 32_767
    for key in ("days", "platforms.1.entry_day"):
        with pytest.raises(sc.ScenarioError, match=f"{key}: Input should be less than"):
            sc.apply_overrides(base, {key: sc.MAX_DAYS + 1})


def test_toml_nested_too_deeply_is_one_line(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("days = " + "[" * 50_000 + "]" * 50_000)
    with pytest.raises(sc.ScenarioError, match="deep.toml: invalid TOML: nested too deeply"):
        sc.load_scenario(deep)
    with pytest.raises(sc.ScenarioError, match="days: Input should be a valid integer"):
        sc.apply_overrides(sc.load_scenario("taobao"), ["days=" + "[" * 50_000 + "]" * 50_000])


def test_control_characters_from_a_file_are_escaped_in_the_message(tmp_path):
    path = tmp_path / "newline.toml"
    path.write_text('[market]\n"buy\\ners" = 5\n')
    with pytest.raises(sc.ScenarioError) as err:
        sc.load_scenario(path)
    assert "\n" not in str(err.value) and "market.buy\\ners: unknown key" in str(err.value)


@pytest.mark.parametrize(
    "name",
    [
        "back\bspace",
        "bell\a",
        "new\nline",
        'quote" and \\',
        "tab\t",
        "del\x7f",
        "nul\x00",
        "é 中 🙂",
    ],
)
def test_every_name_survives_the_toml_it_is_written_to(name):
    s = sc.apply_overrides(sc.load_scenario("taobao"), {"platforms.1.name": name, "name": name})
    again = sc.scenario_from_dict(tomllib.loads(s.to_toml()))
    assert again == s and again.platforms[1].name == name


def test_undecodable_bytes_from_a_command_line_are_refused():
    with pytest.raises(sc.ScenarioError, match="platforms.0.name: Input should be a valid string"):
        sc.apply_overrides(sc.load_scenario("taobao"), ["platforms.0.name=ab\udcff"])


@pytest.mark.parametrize(
    "override, message",
    [
        ("market.buyer=5", "market.buyer: unknown key (did you mean 'market.buyers'?)"),
        (
            "platforms.Taobao.rankin.ads=1",
            "platforms.Taobao.rankin: unknown key (did you mean 'platforms.Taobao.ranking'?)",
        ),
        ("dayz=3", "dayz: unknown key (did you mean 'days'?)"),
    ],
)
def test_an_unknown_override_key_names_the_nearest_valid_one(override, message):
    with pytest.raises(sc.ScenarioError) as err:
        sc.apply_overrides(sc.load_scenario("taobao"), [override])
    assert str(err.value) == message


def test_an_unknown_key_far_from_any_gets_no_guess():
    with pytest.raises(sc.ScenarioError) as err:
        sc.apply_overrides(sc.load_scenario("taobao"), ["qqqqq=3"])
    assert str(err.value) == "qqqqq: unknown key"


def test_an_unknown_key_in_a_file_names_the_nearest_valid_one(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(
        '[market]\nbuyer = 5\n\n[[platforms]]\nname = "A"\n\n[platforms.fees]\ncommision = 0.02\n'
    )
    with pytest.raises(sc.ScenarioError) as err:
        sc.load_scenario(path)
    assert "market.buyer: unknown key (did you mean 'market.buyers'?)" in str(err.value)
    path.write_text('[[platforms]]\nname = "A"\n\n[platforms.fees]\ncommision = 0.02\n')
    with pytest.raises(sc.ScenarioError) as err:
        sc.load_scenario(path)
    assert (
        "platforms.0.fees.commision: unknown key (did you mean "
        "'platforms.0.fees.commission'?)" in str(err.value)
    )


def test_the_commented_toml_loads_back_to_the_same_scenario():
    for name in sc.preset_names():
        scenario = sc.load_scenario(name)
        text = scenario.to_toml(comments=True)
        assert "# Number of buyers (users)." in text
        assert sc.scenario_from_dict(tomllib.loads(text)) == scenario


def test_an_unset_optional_number_is_a_comment_and_a_set_one_round_trips():
    scenario = sc.load_scenario("taobao")
    text = scenario.to_toml(comments=True)
    assert "# daily_sessions_per_category (a number) is unset: Markets that scale" in text
    scaled = sc.apply_overrides(scenario, ["market.daily_sessions_per_category=250"])
    again = sc.scenario_from_dict(tomllib.loads(scaled.to_toml(comments=True)))
    assert again == scaled and again.market.daily_sessions_per_category == 250.0
