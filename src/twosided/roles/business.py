"""Business-model files: who pays the focal business, and for whom.

A business-model file (TOML) lists the **parties**, the **money** that flows between them
(who pays whom, how much, for what, and when) and the **value** that flows between them
(who gives what to whom, optionally through the focal business). From these the roles of
the focal business are *derived*, never declared:

* **Customers** pay the focal business: every party whose payments to it make up at least
  ``min_customer_share`` of its income. Parties that pay it something but less are listed
  as paying little.
* **Users** are the reason the customers pay. A customer's payment is *for* something
  (its ``for``), and the value flows say where that thing goes: a party is a user when a
  customer pays the focal business for a thing that the party *receives* (the child gets the
  dance lessons the mother pays for; the girlfriend gets the roses) or that the party
  *gives* to the customer (the reader's attention that the advertiser pays for; the buyers'
  visits that the mall's sellers pay for). A customer that pays for what it receives itself
  is its own user (a subscriber). Users typically pay nothing or little; a party can be both.

The file format is documented in ``docs/roles.md``; shipped examples are in
``twosided/examples/``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from twosided.roles.errors import RolesError
from twosided.scenario import format_error

Name = Annotated[str, Field(min_length=1, max_length=200)]
Note = Annotated[str, Field(max_length=2000)]


class BusinessModelError(RolesError):
    """A business-model file that cannot be used; the message is one clear line."""


class _Model(BaseModel):
    # strict like the scenario: "30000" and true are not amounts; no field means inf or NaN
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Money(_Model):
    """A flow of money: ``from`` pays ``to`` an ``amount`` per period, ``for`` something."""

    payer: Name = Field(alias="from", description="The party that pays.")
    payee: Name = Field(alias="to", description="The party that is paid.")
    amount: float = Field(
        ge=0.0, allow_inf_nan=False, description="Money per period, in the file's currency."
    )
    paid_for: Name = Field(
        alias="for", description="What the money buys: the 'what' of a value flow."
    )
    periods: float = Field(
        1.0,
        gt=0.0,
        allow_inf_nan=False,
        description="How many periods the flow lasts (weights it against the others).",
    )
    when: Note = Field("", description="A time or condition note, e.g. 'after readers complain'.")

    @property
    def total(self) -> float:
        """Money over the flow's whole duration."""
        return self.amount * self.periods


class Value(_Model):
    """A flow of value: ``from`` gives ``what`` to ``to``, possibly through the focal business."""

    giver: Name = Field(alias="from", description="The party that gives the value.")
    receiver: Name = Field(alias="to", description="The party that benefits.")
    what: Name = Field(description="What is given (matched by money flows' 'for').")
    via: Name | None = Field(None, description="A party the value passes through.")
    when: Note = Field("", description="A time or condition note.")


class BusinessModel(_Model):
    """A small business model: parties, money flows, value flows and the focal business."""

    name: Name
    description: Note = ""
    focal: Name = Field(description="The party whose customers and users are derived.")
    currency: Annotated[str, Field(max_length=20)] = ""
    period: Annotated[str, Field(max_length=40)] = Field(
        "", description="The period of every amount, e.g. 'month'."
    )
    min_customer_share: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        description="A payer is a customer when it pays at least this share of the focal "
        "business's income; 0.1 keeps a token cover price from making readers customers.",
    )
    parties: dict[str, Note] = Field(
        min_length=2, description="Party ids and a one-line description of each."
    )
    money: list[Money] = Field(min_length=1)
    value: list[Value] = Field(min_length=1)

    @field_validator("parties")
    @classmethod
    def _party_ids_not_empty(cls, parties: dict[str, str]) -> dict[str, str]:
        if "" in parties:
            raise ValueError('a party id is empty (write each party as id = "description")')
        return parties

    def label(self, party: str) -> str:
        """A party's description, or its id when it has none."""
        return self.parties.get(party) or party

    def income(self) -> list[Money]:
        """The money flows into the focal business."""
        return [m for m in self.money if m.payee == self.focal]


def _check_party(model: BusinessModel, where: str, party: str | None) -> None:
    if party is not None and party not in model.parties:
        known = ", ".join(model.parties)
        raise BusinessModelError(f"{where}: unknown party '{party}' (parties: {known})")


def _check_references(model: BusinessModel) -> None:
    """Cross-field checks pydantic cannot see: parties exist, payments are explained."""
    _check_party(model, "focal", model.focal)
    for i, m in enumerate(model.money):
        _check_party(model, f"money.{i}.from", m.payer)
        _check_party(model, f"money.{i}.to", m.payee)
        if m.payer == m.payee:
            raise BusinessModelError(f"money.{i}: 'from' and 'to' are the same party")
        if not math.isfinite(m.total):
            raise BusinessModelError(
                f"money.{i}: amount × periods ({m.amount:g} × {m.periods:g}) is not a finite number"
            )
    for i, v in enumerate(model.value):
        _check_party(model, f"value.{i}.from", v.giver)
        _check_party(model, f"value.{i}.to", v.receiver)
        _check_party(model, f"value.{i}.via", v.via)
        if v.giver == v.receiver:
            raise BusinessModelError(f"value.{i}: 'from' and 'to' are the same party")
        if v.via is not None and v.via in (v.giver, v.receiver):
            raise BusinessModelError(
                f"value.{i}.via: '{v.via}' is the flow's own 'from' or 'to' (via names a third "
                "party the value passes through)"
            )
    whats = {v.what for v in model.value}
    for i, m in enumerate(model.money):
        if m.payee == model.focal and m.paid_for not in whats:
            raise BusinessModelError(
                f"money.{i}.for: '{m.paid_for}' is not the 'what' of any value flow "
                "(say who gives it to whom in a [[value]] table)"
            )
    paid: dict[str, float] = {}  # running totals: the flow that overflows one is named
    for i, m in enumerate(model.money):
        if m.payee != model.focal:
            continue
        paid[m.payer] = paid.get(m.payer, 0.0) + m.total
        if not math.isfinite(paid[m.payer]):
            raise BusinessModelError(
                f"money.{i}: the total '{m.payer}' pays the focal business is not a finite number"
            )
        if not math.isfinite(sum(paid.values())):
            raise BusinessModelError(
                f"money.{i}: the focal business's total income is not a finite number"
            )
    if sum(m.total for m in model.income()) <= 0:
        raise BusinessModelError(
            f"money: nobody pays the focal business '{model.focal}' (no flow with to = "
            f"'{model.focal}' and amount > 0)"
        )


def business_model_from_dict(data: dict[str, Any]) -> BusinessModel:
    """Validate a parsed file into a BusinessModel (BusinessModelError with one line)."""
    if "focal" not in data and ("market" in data or "platforms" in data):
        raise BusinessModelError(
            "this is a twosided scenario file, not a business model (run it with `twosided run`, "
            "then `twosided roles RUN`)"
        )
    try:
        model = BusinessModel.model_validate(data)
    except ValidationError as err:
        raise BusinessModelError(format_error(err)) from None
    _check_references(model)
    return model


def load_business_model(path: str | Path) -> BusinessModel:
    """Read and validate a business-model TOML file (a path or a shipped example's name)."""
    ref = str(path)
    file = Path(ref)
    if not file.is_file() and ref in example_names():
        return _load_text(_example_text(ref), f"example {ref}")
    if file.is_dir():
        raise BusinessModelError(f"{ref}: is a folder, not a business-model file")
    if not file.is_file():
        raise BusinessModelError(f"{ref}: no such business-model file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BusinessModelError(f"{ref}: cannot read: {err}") from None
    return _load_text(text, ref)


def _load_text(text: str, source: str) -> BusinessModel:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BusinessModelError(f"{source}: invalid TOML: {err}") from None
    except RecursionError:
        raise BusinessModelError(f"{source}: invalid TOML: nested too deeply") from None
    try:
        return business_model_from_dict(data)
    except BusinessModelError as err:
        raise BusinessModelError(f"{source}: {err}") from None


def example_names() -> list[str]:
    """Names of the business-model examples shipped with twosided."""
    folder = resources.files("twosided") / "examples"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _example_text(name: str) -> str:
    return (resources.files("twosided") / "examples" / f"{name}.toml").read_text(encoding="utf-8")


def example_path(name: str) -> Path:
    """The file of a shipped example (for copying and editing)."""
    return Path(str(resources.files("twosided") / "examples" / f"{name}.toml"))


# --------------------------------------------------------------------------- derivation


@dataclasses.dataclass(frozen=True)
class Payer:
    """A party that pays the focal business: how much, what share, through which flows."""

    party: str
    total: float
    share: float
    flows: tuple[Money, ...]


@dataclasses.dataclass(frozen=True)
class Reason:
    """Why a party is a user: a customer's payment and the value flow it pays for."""

    customer: str
    payment: Money
    value: Value


@dataclasses.dataclass(frozen=True)
class BusinessRoles:
    """The derived roles of a business model's focal business."""

    model: BusinessModel
    payers: tuple[Payer, ...]  # every party that pays the focal business, largest first
    users: dict[str, tuple[Reason, ...]]  # user -> the payments and value flows naming it

    @property
    def income(self) -> float:
        """The focal business's income over all flows."""
        return sum(p.total for p in self.payers)

    @property
    def customers(self) -> list[str]:
        """Parties paying at least ``min_customer_share`` of the income, largest first."""
        return [p.party for p in self.payers if p.share >= self.model.min_customer_share]

    @property
    def minor_payers(self) -> list[str]:
        """Parties that pay the focal business, but less than a customer's share."""
        return [p.party for p in self.payers if p.share < self.model.min_customer_share]

    def payer(self, party: str) -> Payer | None:
        """The payment record of a party, if it pays."""
        return next((p for p in self.payers if p.party == party), None)


def _payers(model: BusinessModel) -> tuple[Payer, ...]:
    income = model.income()
    total = sum(m.total for m in income)
    by_party: dict[str, list[Money]] = {}
    for m in income:
        by_party.setdefault(m.payer, []).append(m)
    payers = [
        Payer(party, paid, paid / total, tuple(flows))
        for party, flows in by_party.items()
        if (paid := sum(m.total for m in flows)) > 0
    ]
    return tuple(sorted(payers, key=lambda p: -p.total))


def _beneficiary(model: BusinessModel, customer: str, value: Value) -> str | None:
    """The party whose benefit or activity a customer's payment for ``value`` is for.

    The receiver when the value goes to someone else than the customer (the child); the
    giver when the customer receives it from a third party (the reader's attention); the
    customer itself when it receives the focal business's own offering (a subscriber).
    """
    if value.receiver != customer:
        return None if value.receiver == model.focal else value.receiver
    return customer if value.giver == model.focal else value.giver


def _users(model: BusinessModel, customers: Iterable[str]) -> dict[str, tuple[Reason, ...]]:
    reasons: dict[str, list[Reason]] = {}
    for customer in customers:
        for payment in model.income():
            if payment.payer != customer or payment.total <= 0:
                continue
            for value in model.value:
                if value.what != payment.paid_for:
                    continue
                user = _beneficiary(model, customer, value)
                if user is not None:
                    reasons.setdefault(user, []).append(Reason(customer, payment, value))
    return {user: tuple(r) for user, r in reasons.items()}


def derive_roles(model: BusinessModel) -> BusinessRoles:
    """Customers and users of the focal business, derived from its money and value flows.

    Customers are the parties paying at least ``min_customer_share`` of the focal business's
    income (amount × periods summed over every flow, whatever its ``when``). Users are the
    parties for whose benefit or activity the customers' payments are made, found by
    following each payment's ``for`` to the value flows with that ``what`` (see the module
    docstring for the rule).
    """
    payers = _payers(model)
    roles = BusinessRoles(model, payers, {})
    return dataclasses.replace(roles, users=_users(model, roles.customers))
