"""Customers and users, shown: Rich tables for the terminal and an HTML report section.

Every role is printed with what justifies it: for a business model, the payments and the
value flows they pay for; for a run, each group's share of the platform's revenue, the
streams it pays through, and how its payments follow the other side's activity.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from twosided.roles.alignment import Alignment, AlignmentError, alignment
from twosided.roles.business import BusinessRoles, Reason
from twosided.roles.run import GROUPS, Follow, PlatformRoles, RunRoles, derive_run_roles
from twosided.roles.streams import why_left_out
from twosided.safe_text import plain
from twosided.scenario import CENTS_PER_YUAN

RUN_CURRENCY = "yuan"


def money(cents: float) -> str:
    """A run's cents as whole yuan with thousands separators and the unit (``1,235 yuan``)."""
    return f"{cents / CENTS_PER_YUAN:,.0f} {RUN_CURRENCY}"


def _amount(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _plain(*cells: str) -> list[Text]:
    """Cells shown as typed: names from files and runs are never read as Rich markup."""
    return [plain(cell) for cell in cells]


# --------------------------------------------------------------------------- business


def reason_text(roles: BusinessRoles, reason: Reason) -> str:
    """One user's justification: who pays for what, and where that value comes and goes."""
    m, v, label = reason.payment, reason.value, roles.model.label
    via = f" via {label(v.via)}" if v.via else ""
    return (
        f"{label(reason.customer)} → {label(m.payee)}: money for '{m.paid_for}'; "
        f"'{v.what}': {label(v.giver)} → {label(v.receiver)}{via}"
    )


def reason_texts(roles: BusinessRoles, reasons: Iterable[Reason]) -> list[str]:
    """The distinct justifications, in order (phases of one payment say the same thing)."""
    return list(dict.fromkeys(reason_text(roles, r) for r in reasons))


def business_lines(roles: BusinessRoles) -> list[str]:
    """The derived roles as plain sentences (for logs and tests)."""
    model = roles.model
    lines = [f"{model.name}: the focal business is {model.label(model.focal)}"]
    for party in roles.customers:
        payer = roles.payer(party)
        assert payer is not None
        lines.append(f"customer: {model.label(party)} pays {payer.share:.0%} of its income")
    for party, reasons in roles.users.items():
        both = " (also a customer)" if party in roles.customers else ""
        lines.append(f"user: {model.label(party)}{both}: {reason_text(roles, reasons[0])}")
    for party in roles.minor_payers:
        payer = roles.payer(party)
        assert payer is not None
        lines.append(f"pays little: {model.label(party)} ({payer.share:.1%} of its income)")
    return lines


def business_renderable(roles: BusinessRoles) -> RenderableType:
    """Rich tables: roles with their reasons, then the money flows into the focal business."""
    model = roles.model
    unit = f" {model.currency}" if model.currency else ""
    head = Table(
        title=plain(f"{model.name}: customers and users of {model.label(model.focal)}"),
        title_justify="left",
    )
    head.add_column("role")
    head.add_column("party")
    head.add_column("why", overflow="fold")
    for party in roles.customers:
        payer = roles.payer(party)
        assert payer is not None
        head.add_row(
            *_plain(
                "customer",
                model.label(party),
                f"pays {payer.share:.0%} of the income ({_amount(payer.total)}{unit})",
            )
        )
    for party, reasons in roles.users.items():
        role = "user (and customer)" if party in roles.customers else "user"
        head.add_row(*_plain(role, model.label(party), "\n".join(reason_texts(roles, reasons))))
    for party in roles.minor_payers:
        payer = roles.payer(party)
        assert payer is not None
        head.add_row(
            *_plain(
                "pays little",
                model.label(party),
                f"{payer.share:.1%} of the income, below the customer share "
                f"{model.min_customer_share:.0%}",
            )
        )
    per = f" (amounts per {model.period})" if model.period else ""
    flows = Table(title=plain(f"money into the focal business{per}"), title_justify="left")
    for column in ("from", "amount", "periods", "for", "when"):
        flows.add_column(column, justify="right" if column in ("amount", "periods") else "left")
    for m in model.income():
        flows.add_row(
            *_plain(model.label(m.payer), _amount(m.amount), _amount(m.periods), m.paid_for, m.when)
        )
    return RichGroup(head, flows)


# --------------------------------------------------------------------------- runs


def _stream_figure(f: Follow, stream: str) -> str:
    e = f.by_stream.get(stream)
    return f"{stream} {e.describe() if e is not None else 'n/a'}"


def follow_text(f: Follow) -> str:
    """How one group's per-use payments follow another's activity, with the figures: the
    elasticity, each per-use stream's own, which of them carry the evidence on their own,
    and the lump sums left out (with their own figures, and why)."""
    if f.elasticity is None:
        return f"{f.payer}' payments vs {f.activity_label}: {f.note}"
    e = f.elasticity
    left_out = "; ".join(f"{_stream_figure(f, s)} ({why_left_out(s)})" for s in f.left_out)
    left = f"; not counted: {left_out}" if left_out else ""
    streams = ", ".join(_stream_figure(f, s) for s in f.per_use)
    carried = ", ".join(f.carried_by) or "none on its own"
    return (
        f"{f.payer}' per-use payments ({', '.join(f.per_use)}) vs {f.activity_label}: "
        f"elasticity {e.describe()} ({e.level:.0%} interval over {e.seeds} seeds; by stream: "
        f"{streams}; following on their own: {carried}){left}"
    )


def probe_command(run_id: str | None) -> str:
    """The command that runs a run's probe (``RUN`` stands for the id when it is unknown)."""
    return f"twosided roles {run_id or 'RUN'} --probe"


def user_text(p: PlatformRoles, user: str, run_id: str | None = None) -> str:
    """Why a group is a user of the platform (``run_id`` names the run in the command that
    would run its probe)."""
    paid = f"pays {p.share(user):.1%} of {p.platform}'s revenue"
    if p.users[user] == "follows":
        fits = [p.follow(c, user) for c in p.customers]
        return f"{paid}; " + "; ".join(follow_text(f) for f in fits if f is not None)
    routed = sum(p.routed_cents.get((user, c), 0.0) for c in p.customers)
    return (
        f"{paid}; its money reaches {', '.join(p.customers)} through {p.platform} "
        f"({money(routed)}); whether their payments follow its activity needs a probe run "
        f"(the same scenario and seeds with half the buyers): '{probe_command(run_id)}'"
    )


def customer_text(p: PlatformRoles, customer: str) -> str:
    """Why a group is a customer of the platform."""
    streams = ", ".join(
        f"{s} {money(c)}"
        for s, c in sorted(p.streams.get(customer, {}).items(), key=lambda x: -x[1])
    )
    return f"pays {p.share(customer):.1%} of {p.platform}'s revenue ({streams})"


def platform_rows(p: PlatformRoles, run_id: str | None = None) -> list[tuple[str, str, str]]:
    """(role, group, why) rows for one platform (``run_id``: see ``user_text``)."""
    rows = [("customer", c, customer_text(p, c)) for c in p.customers]
    rows += [("user", u, user_text(p, u, run_id)) for u in p.users]
    for group in GROUPS:
        if group.name in p.customers or group.name in p.users:
            continue
        fits = [f for c in p.customers if (f := p.follow(c, group.name)) is not None]
        why = [f"pays {p.share(group.name):.1%} of {p.platform}'s revenue"]
        rows.append(("neither", group.name, "; ".join(why + [follow_text(f) for f in fits])))
    return rows


def alignment_text(a: Alignment) -> str:
    """The alignment figure and the revenue classes behind it."""
    if not a.revenue_cents > 0:
        return "no revenue over these days"
    return (
        f"alignment {a.describe()}: of revenue {money(a.revenue_cents)}, "
        f"{money(a.at_expense_cents)} at users' expense (misaligned ads "
        f"{money(a.ads_misaligned_cents)}, commission {money(a.commission_misaligned_cents)}), "
        f"{money(a.with_users_cents)} with users, {money(a.fixed_cents)} fixed"
    )


def run_renderable(roles: RunRoles, alignments: Sequence[Alignment] = ()) -> RenderableType:
    """One Rich table per platform: roles, the figures behind them, and alignment."""
    by_name = {a.platform: a for a in alignments}
    tables = []
    for p in roles.platforms:
        table = Table(title=plain(f"{p.platform}: customers and users"), title_justify="left")
        table.add_column("role")
        table.add_column("group")
        table.add_column("why", overflow="fold")
        for row in platform_rows(p, roles.run_id):
            table.add_row(*_plain(*row))
        if p.platform in by_name:
            table.add_row(*_plain("alignment", "", alignment_text(by_name[p.platform])))
        tables.append(table)
    return RichGroup(*tables, plain(basis_text(roles)))


def basis_text(roles: RunRoles) -> str:
    """What the figures rest on."""
    return (
        f"{roles.runs} run(s), {roles.seeds} seed(s), {roles.periods} periods of "
        f"{roles.period_days} days after a {roles.warmup_days}-day warm-up"
    )


# --------------------------------------------------------------------------- HTML

REPORT_TITLE = "Customers and users"
REPORT_INTRO = (
    "Who pays each platform (its customers) and whose activity those payments follow (its "
    "users), derived from the run's ledger; and how much of its revenue was not earned at its "
    "users' expense (alignment)."
)
ROLES_DOC = "docs/roles.md"


def docs_link(doc: str = ROLES_DOC) -> str:
    """An HTML link to a page of the docs: to the file in this source checkout when it has
    one (an editable install), else the page's path in the twosided source."""
    path = Path(__file__).resolve().parents[3] / doc
    target = path.as_uri() if path.is_file() else doc
    return f'<a href="{html.escape(target, quote=True)}">{html.escape(doc)}</a>'


def report_intro() -> str:
    """The section's first paragraph (HTML), with the link to the definitions."""
    return f"<p>{html.escape(REPORT_INTRO)} Definitions: {docs_link()}.</p>"


def _html_table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table of escaped plain-text cells in the report's style, every cell left-aligned.
    (The report imports this module, so this module does not import the report.)"""
    head = "".join(f"<th class=label>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td class=label>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f'<table class="figures"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def report_body(roles: RunRoles, alignments: Sequence[Alignment] = ()) -> str:
    """The "Customers and users" section's HTML body: one table per platform."""
    by_name = {a.platform: a for a in alignments}
    parts = [report_intro()]
    for p in roles.platforms:
        rows = platform_rows(p, roles.run_id)
        if p.platform in by_name:
            rows.append(("alignment", "", alignment_text(by_name[p.platform])))
        parts.append(f"<h3>{html.escape(p.platform)}</h3>")
        parts.append(_html_table(("role", "group", "why"), rows))
    parts.append(f'<p class="caption">{html.escape(basis_text(roles))}</p>')
    return "\n".join(parts)


def report_section(run: object) -> tuple[str, str]:
    """The run report's section as ``(title, html body)``, from a Result or a loaded run.

    A run from an engine without the misalignment columns gets the roles without the
    alignment figure, and a line that says why.
    """
    roles = derive_run_roles(run)
    try:
        return REPORT_TITLE, report_body(roles, alignment(run.daily))
    except AlignmentError as err:
        return REPORT_TITLE, report_body(roles) + f"<p>{html.escape(f'No alignment: {err}')}</p>"
