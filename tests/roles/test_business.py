"""Business-model files: for every shipped example the derived customers and users are the
ones the example is about; changing a flow changes the answer; the rule's invariants hold
for any model; malformed files get one line naming the field."""

from __future__ import annotations

import copy
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twosided.roles.business import (
    BusinessModelError,
    business_model_from_dict,
    derive_roles,
    example_names,
    example_path,
    load_business_model,
)

EXPECTED = {  # example -> (customers, users)
    "self_media": (["advertiser"], ["reader"]),
    "dance_school": (["mother"], ["child"]),
    "flower_seller": (["boyfriend"], ["girlfriend"]),
    "mall": (["seller"], ["buyer"]),
    "business_magazine": (["advertiser"], ["reader"]),
}


def example_data(name: str) -> dict:
    return tomllib.loads(example_path(name).read_text(encoding="utf-8"))


def roles_of(data: dict):
    return derive_roles(business_model_from_dict(data))


def test_every_example_is_checked():
    assert sorted(EXPECTED) == example_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_roles_are_the_named_ones(name):
    roles = derive_roles(load_business_model(name))
    customers, users = EXPECTED[name]
    assert roles.customers == customers
    assert sorted(roles.users) == users


def test_examples_load_from_their_files():
    for name in EXPECTED:
        assert load_business_model(example_path(name)).name == load_business_model(name).name


def test_magazine_readers_stay_users_while_the_ads_are_pulled_and_pay_only_a_little():
    roles = derive_roles(load_business_model("business_magazine"))
    assert roles.minor_payers == ["reader"]
    assert 0 < roles.payer("reader").share < roles.model.min_customer_share
    phases = [m.when for m in roles.payer("advertiser").flows]
    assert any("pulled" in w for w in phases) and any("return" in w for w in phases)
    # the user's reason is the advertiser paying for the readers' attention
    reason = roles.users["reader"][0]
    assert reason.customer == "advertiser" and reason.value.giver == "reader"


def test_readers_who_pay_directly_are_customers():
    data = example_data("self_media")
    data["money"] = [{"from": "reader", "to": "outlet", "amount": 10, "for": "articles"}]
    roles = roles_of(data)
    assert roles.customers == ["reader"]
    assert sorted(roles.users) == ["reader"]  # they pay for what they receive themselves


def test_readers_paying_most_of_a_magazine_become_customers_beside_the_advertiser():
    data = example_data("business_magazine")
    for flow in data["money"]:
        if flow["from"] == "reader":
            flow["amount"] = 400_000
    roles = roles_of(data)
    assert roles.customers == ["reader", "advertiser"]
    assert sorted(roles.users) == ["reader"]


def test_a_lower_customer_share_makes_the_cover_price_a_customer_payment():
    data = example_data("business_magazine")
    data["min_customer_share"] = 0.05
    assert roles_of(data).customers == ["advertiser", "reader"]


def test_a_rose_he_keeps_makes_the_boyfriend_the_user():
    data = example_data("flower_seller")
    data["value"][0]["to"] = "boyfriend"
    roles = roles_of(data)
    assert roles.customers == ["boyfriend"]
    assert sorted(roles.users) == ["boyfriend"]


def test_a_mall_whose_buyers_pay_the_entry_is_paid_by_both_sides():
    data = example_data("mall")
    data["money"].append(
        {"from": "buyer", "to": "mall", "amount": 20000, "for": "a place to find good, cheap goods"}
    )
    roles = roles_of(data)
    assert sorted(roles.customers) == ["buyer", "seller"]
    assert sorted(roles.users) == ["buyer"]


# --------------------------------------------------------------------------- properties

PARTIES = ["focal", "a", "b", "c"]
THINGS = ["x", "y", "z"]


@st.composite
def business_models(draw):
    values = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PARTIES), st.sampled_from(PARTIES), st.sampled_from(THINGS)
            ).filter(lambda t: t[0] != t[1]),
            min_size=1,
            max_size=6,
        )
    )
    whats = sorted({w for _, _, w in values})
    money = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PARTIES[1:]),
                st.floats(min_value=0.01, max_value=1e6),
                st.sampled_from(whats),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return {
        "name": "random",
        "focal": "focal",
        "parties": {p: "" for p in PARTIES},
        "money": [{"from": p, "to": "focal", "amount": a, "for": w} for p, a, w in money],
        "value": [{"from": g, "to": r, "what": w} for g, r, w in values],
    }


@settings(max_examples=150, deadline=None)
@given(business_models(), st.floats(min_value=1e-3, max_value=1e3))
def test_rule_invariants(data, scale):
    roles = roles_of(data)
    assert abs(sum(p.share for p in roles.payers) - 1.0) < 1e-9
    assert all(roles.payer(c).share >= roles.model.min_customer_share for c in roles.customers)
    assert roles.customers, "someone pays at least the largest share"
    for user, reasons in roles.users.items():
        assert user != "focal"
        for r in reasons:
            assert r.customer in roles.customers and r.payment.payer == r.customer
            assert r.value.what == r.payment.paid_for
            assert user in (r.value.giver, r.value.receiver)
    scaled = copy.deepcopy(data)
    for flow in scaled["money"]:
        flow["amount"] *= scale
    again = roles_of(scaled)
    assert again.customers == roles.customers and set(again.users) == set(roles.users)


# --------------------------------------------------------------------------- malformed

GOOD = example_path("self_media").read_text(encoding="utf-8")
MORE_ADS = (
    '\n[[money]]\nfrom = "advertiser"\nto = "outlet"\namount = 1e308\nfor = "readers\' attention"\n'
)
MALFORMED = [
    ("name = \n", "invalid TOML"),
    (GOOD.replace('focal = "outlet"', ""), "focal: Field required"),
    (GOOD.replace('focal = "outlet"', 'focal = "newspaper"'), "focal: unknown party 'newspaper'"),
    (
        GOOD.replace('from = "advertiser"', 'from = "advertizer"'),
        "money.0.from: unknown party 'advertizer'",
    ),
    (
        GOOD.replace("amount = 30000", "amount = -5"),
        "money.0.amount: Input should be greater than or equal to 0",
    ),
    (
        GOOD.replace("amount = 30000", 'amount = "lots"'),
        "money.0.amount: Input should be a valid number",
    ),
    (
        GOOD.replace('for = "readers\' attention"', 'for = "clicks"'),
        "money.0.for: 'clicks' is not the 'what'",
    ),
    (
        GOOD.replace('what = "articles"', 'what = "articles"\nprice = 3'),
        "value.0.price: unknown key",
    ),
    (GOOD.replace("amount = 30000", "amount = 0"), "nobody pays the focal business"),
    (
        GOOD.replace('to = "reader"', 'to = "outlet"', 1),
        "value.0: 'from' and 'to' are the same party",
    ),
    (GOOD.replace('focal = "outlet"', 'focal = "x\\ny"'), "focal: unknown party 'x\\ny'"),
    # overflowing money: refused, not an empty roles table from inf totals and NaN shares
    (
        GOOD.replace("amount = 30000", "amount = 1e308\nperiods = 10"),
        "money.0: amount × periods (1e+308 × 10) is not a finite number",
    ),
    (
        GOOD.replace("amount = 30000", "amount = 1e308") + MORE_ADS,
        "money.1: the total 'advertiser' pays the focal business is not a finite",
    ),
    (
        GOOD.replace("amount = 30000", "amount = 1e308")
        + MORE_ADS.replace('"advertiser"', '"reader"'),
        "money.1: the focal business's total income is not a finite",
    ),
    # strict types: no strings or booleans for numbers, no NaN or inf
    (
        GOOD.replace("amount = 30000", 'amount = "30000"'),
        "money.0.amount: Input should be a valid number",
    ),
    (
        GOOD.replace("amount = 30000", "amount = true"),
        "money.0.amount: Input should be a valid number",
    ),
    (
        GOOD.replace("amount = 30000", "amount = 30000\nperiods = inf"),
        "money.0.periods: Input should be a finite number",
    ),
    (
        GOOD.replace('focal = "outlet"', 'focal = "outlet"\nmin_customer_share = nan'),
        "min_customer_share: Input should be a finite number",
    ),
    (GOOD.replace('focal = "outlet"', "focal = 3"), "focal: Input should be a valid string"),
    # ids and routes that mean nothing
    (
        GOOD.replace('reader = "Readers"', 'reader = "Readers"\n"" = "Nobody"'),
        "parties: a party id is empty",
    ),
    (
        GOOD.replace('via = "outlet"', 'via = "reader"'),
        "value.1.via: 'reader' is the flow's own 'from' or 'to'",
    ),
]


@pytest.mark.parametrize("text,message", MALFORMED)
def test_malformed_file_gets_one_line_naming_the_field(tmp_path, text, message):
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BusinessModelError) as err:
        load_business_model(path)
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(str(path))
    assert message in line


def test_missing_file_is_one_line():
    with pytest.raises(BusinessModelError, match="no such business-model file"):
        load_business_model("/nonexistent/model.toml")


def test_folder_is_one_line(tmp_path):
    folder = tmp_path / "model.toml"
    folder.mkdir()
    with pytest.raises(
        BusinessModelError, match="model.toml: is a folder, not a business-model file"
    ):
        load_business_model(folder)


def test_scenario_file_is_one_line_saying_what_it_is(tmp_path):
    from twosided.scenario import load_scenario

    path = tmp_path / "scenario.toml"
    path.write_text(load_scenario("taobao").to_toml(), encoding="utf-8")
    with pytest.raises(BusinessModelError) as err:
        load_business_model(path)
    line = str(err.value)
    assert line.startswith(f"{path}: this is a twosided scenario file, not a business model")
    assert "twosided run" in line and "\n" not in line
