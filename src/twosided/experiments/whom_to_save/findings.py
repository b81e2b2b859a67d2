"""The whom-to-save study's findings: plain-words sentences computed from its numbers.

Each finding judges every claim of a winner or a difference against seed noise (the paired
comparisons of ``study``): which policy earns most at each horizon; whether the answer changes
with the horizon (only when both horizons have a clear winner); what the service fee is of
first-quarter revenue; what the policy does to buyers, sellers and consumer surplus; why the
long-run answer comes out as it does (buyers kept against revenue per buyer); and whether
the answer differs with and without rivals. A claim resting on several comparisons at once
(a best policy ahead of every other one; the outcomes of the users and the why findings;
the two worlds compared at the ends of the axis) judges them as one family with Holm's
correction (``study.holm_family``), and its sentences give the adjusted p-values. The
sentences are plain text: escape them before putting them in HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from twosided.experiments.page import number
from twosided.experiments.whom_to_save.study import (
    REVENUE_FIRST,
    USER_FIRST,
    Gap,
    Leader,
    Regime,
    holm_family,
    leader,
    overtaking_day,
    paired_gap,
    policy_row,
)
from twosided.scenario.compare import ABSENT, FieldDifference, scenario_differences


def policy_name(t: float) -> str:
    """A policy's name in sentences."""
    if t == 0:
        return "revenue-first ranking (t = 0)"
    if t == 1:
        return "user-first ranking (t = 1)"
    return f"the blend t = {t:g}"


def signed(value: float) -> str:
    """A difference with its sign: ``+962`` or ``-901``."""
    return ("+" if value > 0 else "") + number(value)


def percent(value: float) -> str:
    """A share as a percentage (a dash when unknown)."""
    return "–" if math.isnan(value) else f"{value:.1%}"


def points(value: float) -> str:
    """A difference of shares in percentage points (the unit is said once, after it)."""
    pts = value * 100
    return f"{pts:+.1f}" if abs(pts) >= 0.1 or pts == 0 else f"{pts:+.2g}"


def p_value(p: float) -> str:
    """``p = 0.034``, or ``p < 0.001``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def interval_words(gap: Gap, fmt: Callable[[float], str] = signed, unit: str = " yuan") -> str:
    """``+962 yuan (95% interval -150 to +2,074)``, or a warning from a single seed; a gap
    judged in a family of several comparisons adds its Holm-adjusted p-value."""
    if math.isnan(gap.lo):
        return f"{fmt(gap.mean)}{unit} from a single seed, which cannot be told from noise"
    holm = (
        f"; Holm-adjusted {p_value(gap.p_adjusted)} over {gap.family} comparisons"
        if gap.family > 1
        else ""
    )
    return f"{fmt(gap.mean)}{unit} (95% interval {fmt(gap.lo)} to {fmt(gap.hi)}{holm})"


def noise_words(gap: Gap) -> str:
    """Why a gap is not clear: its interval includes zero, or it is clear alone but not
    once the family's comparisons are corrected for (Holm)."""
    if not gap.interval_excludes_zero:
        return "an interval that includes zero"
    return f"clear alone, but not after Holm's correction for {gap.family} comparisons"


def leader_words(reg: Regime, lead: Leader) -> str:
    """Which policy leads a yuan measure, and whether by more than seed noise."""
    value = f"{number(policy_row(reg, lead.best)[lead.key])} yuan"
    if lead.clear:
        nearest = lead.gaps[0]
        return (
            f"is highest under {policy_name(lead.best)} ({value}), ahead of the next best, "
            f"{policy_name(nearest.b)}, by {interval_words(nearest)}"
        )
    tied = lead.tied[0]
    others = " or ".join(policy_name(g.b) for g in lead.tied)
    return (
        f"shows no clear difference: its highest mean is under {policy_name(lead.best)} "
        f"({value}), but these seeds cannot tell that apart from {others} (against "
        f"{policy_name(tied.b)}: {interval_words(tied)}, {noise_words(tied)})"
    )


def horizon_finding(reg: Regime) -> str:
    """Which policy earns most in the short run, the long run and in total, each judged
    against seed noise; the answer "changes with the horizon" only when both horizons have
    a clear winner and the two differ."""
    short, long_ = reg.windows["short"], reg.windows["long"]
    q, l_, c = (
        leader(reg, k) for k in ("revenue_first_quarter", "revenue_long_run", "revenue_cumulative")
    )
    text = (
        f"{reg.name.capitalize()} ({reg.sweep.plan.base.name}): the incumbent's revenue in the "
        f"{short.label} {leader_words(reg, q)}; in the {long_.label} it "
        f"{leader_words(reg, l_)}; over the whole run it {leader_words(reg, c)}."
    )
    unclear = [w.name for w, lead in ((short, q), (long_, l_)) if not lead.clear]
    if q.best == l_.best:
        if not unclear:
            return text + " The same policy leads clearly at both horizons."
        return text + (
            f" The same policy has the highest mean at both horizons, but not clearly in the "
            f"{' and the '.join(unclear)}."
        )
    if unclear:
        return text + (
            f" The policies with the highest means differ ({policy_name(q.best)} in the "
            f"{short.name}, {policy_name(l_.best)} in the {long_.name}), but the lead in the "
            f"{' and the '.join(unclear)} is within seed noise, so these seeds do not show "
            "that the answer changes with the horizon."
        )
    gap = next(g for g in l_.gaps if g.b == q.best)  # judged in the leader's family
    text += (
        f" The answer changes with the horizon: over the {long_.name}, {policy_name(l_.best)} "
        f"beats {policy_name(q.best)} by {interval_words(gap)}."
    )
    day = overtaking_day(reg, q.best, l_.best)
    if day is None:
        return (
            text + " In cumulative revenue it has not caught up by the end of the run "
            f"(day {reg.sweep.plan.days - 1})."
        )
    return text + f" Its cumulative revenue overtakes for good on day {day}."


def fee_finding(reg: Regime) -> str:
    """How much of first-quarter revenue is the annual service fee (a lump sum sellers pay
    when they list, so on day 0 for every seller there), whether the ranking moves it, and
    which policy earns most from the streams the ranking can move."""
    short = reg.windows["short"]
    low, high = (f(reg.summary["service_fee_day0"]) for f in (np.min, np.max))
    day0 = (
        f"{number(low)} yuan under every policy"
        if number(low) == number(high)
        else f"{number(low)} to {number(high)} yuan, depending on the policy"
    )
    ends = [policy_row(reg, t) for t in (REVENUE_FIRST, USER_FIRST)]
    shares = [
        r["service_fee_first_quarter"] / r["revenue_first_quarter"]
        if r["revenue_first_quarter"]
        else math.nan
        for r in ends
    ]
    fee = paired_gap(reg, "service_fee_first_quarter", REVENUE_FIRST, USER_FIRST)
    moved = (
        f"the ranking moves it by {interval_words(fee)} (revenue-first minus user-first)"
        if fee.clear
        else "the ranking does not clearly move it (revenue-first minus user-first: "
        f"{interval_words(fee)})"
    )
    return (
        f"{reg.name.capitalize()}: the annual service fee is a lump sum that sellers pay when "
        f"they list, so it falls on day 0 for every seller present ({day0}) and again when new "
        f"sellers join or a fee year starts. It is {percent(shares[0])} of the incumbent's "
        f"revenue in the {short.name} under revenue-first ranking and {percent(shares[1])} under "
        f"user-first, and {moved}. Leaving it out, revenue in the {short.name} from the streams "
        f"the ranking can move (ads, commission and affiliate) "
        f"{leader_words(reg, leader(reg, 'revenue_first_quarter_ranked'))}."
    )


def _change(
    reg: Regime,
    gap: Gap,
    fmt: Callable[[float], str],
    diff: Callable[[float], str],
    unit: str = "",
) -> str:
    """``a → b (difference, 95% interval)`` from revenue-first to user-first."""
    a, b = policy_row(reg, REVENUE_FIRST)[gap.key], policy_row(reg, USER_FIRST)[gap.key]
    words = interval_words(gap, diff, unit)
    end = "" if unit == " points" else unit
    if gap.clear:
        return f"{fmt(a)} → {fmt(b)}{end} ({words})"
    return f"{fmt(a)} → {fmt(b)}{end} (no clear difference: {words})"


def users_finding(reg: Regime) -> str:
    """What the policy does to buyers, sellers and consumer surplus: the two ends of the
    axis compared seed by seed, the three outcomes judged as one family (Holm)."""
    long_ = reg.windows["long"]
    share, sellers, surplus = holm_family(
        [
            paired_gap(reg, key, USER_FIRST, REVENUE_FIRST)
            for key in ("buyer_share", "sellers", "consumer_surplus")
        ]
    )
    return (
        f"{reg.name.capitalize()}, moving from revenue-first to user-first over the {long_.name}: "
        f"buyer share {_change(reg, share, percent, points, ' points')}; active sellers "
        f"{_change(reg, sellers, number, signed)}; consumer surplus of the incumbent's "
        f"buyers {_change(reg, surplus, number, signed, ' yuan')}."
    )


def why_finding(reg: Regime) -> str:
    """Why the long-run answer comes out as it does: what each end of the axis does to the
    incumbent's buyers and sellers over time, what it earns per buyer, and which of the two
    weighs more in its long-run revenue."""
    short, long_ = reg.windows["short"], reg.windows["long"]
    ends = {t: policy_row(reg, t) for t in (REVENUE_FIRST, USER_FIRST)}

    def path(r: pd.Series) -> str:
        return (
            f"buyer share {percent(r['buyer_share_first_quarter'])} in the {short.name} → "
            f"{percent(r['buyer_share'])} in the {long_.name}, active sellers "
            f"{number(r['sellers_first_quarter'])} → {number(r['sellers'])}"
        )

    def earns(r: pd.Series) -> str:
        return (
            f"{number(r['revenue_ranked_per_buyer'])} yuan "
            f"({number(r['revenue_ads_per_buyer'])} from ads)"
        )

    text = (
        f"Why, {reg.name}: under revenue-first ranking the incumbent's "
        f"{path(ends[REVENUE_FIRST])}; "
        f"under user-first ranking {path(ends[USER_FIRST])}. Per monthly active buyer over the "
        f"{long_.name}, ads, commission and affiliate bring {earns(ends[REVENUE_FIRST])} under "
        f"revenue-first against {earns(ends[USER_FIRST])} under user-first."
    )
    return text + " " + why_conclusion(reg)


def _revenue_words(revenue: Gap, window: str) -> str:
    if not revenue.clear:
        return f"no clear difference in {window} revenue ({interval_words(revenue)})"
    direction = "higher" if revenue.mean > 0 else "lower"
    return (
        f"its {window} revenue is {number(abs(revenue.mean))} yuan {direction} (difference "
        f"{interval_words(revenue)})"
    )


def _sign(gap: Gap) -> int:
    """+1 or -1 for a clear difference, 0 for none."""
    return 0 if not gap.clear else (1 if gap.mean > 0 else -1)


def _buyers_words(share: Gap, sellers: Gap) -> str:
    share_words = interval_words(share, points, " points")
    if _sign(share) == 0:
        return f"keeps as many buyers (no clear difference in buyer share: {share_words})"
    words = f"{'keeps more' if share.mean > 0 else 'loses'} buyers ({share_words} of buyer share)"
    if _sign(sellers) == _sign(share):
        words += f" and sellers ({interval_words(sellers, signed, '')})"
    return words


def _per_buyer_words(per_buyer: Gap) -> str:
    gap = interval_words(per_buyer)
    if _sign(per_buyer) == 0:
        return f"earns no clearly different amount per buyer ({gap})"
    return f"earns {'more' if per_buyer.mean > 0 else 'less'} per buyer ({gap})"


def why_conclusion(reg: Regime) -> str:
    """The sentence that weighs buyers kept against revenue per buyer, revenue-first minus
    user-first, each difference judged against seed noise, the four as one family (Holm)."""
    long_ = reg.windows["long"].name
    share, sellers, per_buyer, revenue = holm_family(
        [
            paired_gap(reg, key, REVENUE_FIRST, USER_FIRST)
            for key in ("buyer_share", "sellers", "revenue_ranked_per_buyer", "revenue_long_run")
        ]
    )
    buyers, earns, outcome = (
        _buyers_words(share, sellers),
        _per_buyer_words(per_buyer),
        _revenue_words(revenue, long_),
    )
    head = f"Revenue-first {buyers} and {earns}"
    signs = (_sign(share), _sign(per_buyer), _sign(revenue))
    connector = {
        (-1, 1, -1): "; the extra it earns per buyer does not make up for the buyers it loses",
        (-1, 1, 1): "; the extra it earns per buyer more than makes up for the buyers it loses",
        (-1, 1, 0): "; the two about offset",
        (0, 1, 1): "; so it keeps its buyers and its extra ad and commission revenue",
    }.get(signs, "")
    return f"{head}{connector}: {outcome}."


def ends_words(regimes: Sequence[Regime], key: str, words: str) -> str:
    """The study's question at the two ends of the axis: does user-first or revenue-first
    earn more, in each world? The worlds' paired gaps are one family (Holm); a reversal is
    claimed only when both are clear."""
    gaps = holm_family([paired_gap(reg, key, USER_FIRST, REVENUE_FIRST) for reg in regimes])
    said = [
        f"{reg.name} {'user-first' if g.mean > 0 else 'revenue-first'} ranking earns more "
        f"({interval_words(g)}, user-first minus revenue-first)"
        if g.clear
        else f"{reg.name} neither end clearly earns more ({interval_words(g)})"
        for reg, g in zip(regimes, gaps)
    ]
    signs = {_sign(g) for g in gaps}
    if 0 in signs:
        verdict = "these seeds do not show whether competition reverses it"
    elif len(signs) == 2:
        verdict = "competition reverses the answer"
    else:
        verdict = "competition does not reverse it"
    return f"between revenue-first and user-first, for {words} {'; '.join(said)}: {verdict}"


def competition_finding(regimes: Sequence[Regime]) -> str:
    """Whether rivals change which policy earns most in the long run and in total: first
    between the two ends of the policy axis, then over the whole axis; a change is claimed
    only where the paired differences are clear."""
    with_, without = regimes
    parts = []
    for key, words in (
        ("revenue_long_run", "long-run revenue"),
        ("revenue_cumulative", "cumulative revenue"),
    ):
        parts.append(ends_words(regimes, key, words))
        a, b = leader(with_, key), leader(without, key)
        unclear = [r.name for r, lead in ((with_, a), (without, b)) if not lead.clear]
        noise = f"not clearly ahead {' or '.join(unclear)}" if unclear else ""
        if a.best == b.best:
            parts.append(
                f"for {words} both worlds clearly favour {policy_name(a.best)}"
                if not unclear
                else f"for {words} {policy_name(a.best)} has the highest mean in both worlds "
                f"({noise})"
            )
        elif not unclear:
            parts.append(
                f"for {words} the answer depends on competition: {policy_name(a.best)} "
                f"{with_.name}, {policy_name(b.best)} {without.name} (each clearly ahead of "
                "every other policy in its world)"
            )
        else:
            parts.append(
                f"for {words} the highest means differ ({policy_name(a.best)} {with_.name}, "
                f"{policy_name(b.best)} {without.name}), but the leader is {noise}, so these "
                "seeds do not show that competition changes which point of the axis is best"
            )
    return "Where the answer changes: " + "; ".join(parts) + "."


def answer_line(regimes: Sequence[Regime], key: str = "revenue_long_run") -> str:
    """The study's answer in one line: which policy earns the incumbent most in the long
    run in each world, and whether it is clearly ahead of every other policy."""
    parts = []
    for reg in regimes:
        lead = leader(reg, key)
        how = "clearly" if lead.clear else "not clearly (within seed noise)"
        parts.append(f"{reg.name}, {policy_name(lead.best)} earns most, {how}")
    window = regimes[0].windows["long"].label
    return f"The answer in one line: in the {window}, " + "; ".join(parts) + "."


VALUE_WIDTH = 40  # a longer value (a list of rates) is cut to this many characters


def _value(text: str) -> str:
    text = "absent" if text == ABSENT else text
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def differences_sentence(diffs: Sequence[FieldDifference], a: str, b: str) -> str:
    """One sentence naming each differing scenario field with its value in world ``a``
    and in world ``b`` (``scenario.compare.scenario_differences``)."""
    if not diffs:
        return f"The worlds {a} and {b} have the same resolved scenario: no field differs."
    fields = "; ".join(f"{d.key} ({_value(d.a)} → {_value(d.b)})" for d in diffs)
    count = f"{len(diffs)} field{'s' if len(diffs) > 1 else ''}"
    return f"The worlds differ in {count} of their resolved scenarios ({a} → {b}): {fields}."


def world_differences(regimes: Sequence[Regime]) -> str:
    """Which scenario fields differ between the two worlds, field by field, as one
    sentence. The worlds are compared at the first point of the policy axis: every point
    sets the incumbent's four ranking weights alike in both, so the fields that differ are
    the same at every point."""
    a, b = regimes
    diffs = scenario_differences(a.sweep.plan.scenarios[0], b.sweep.plan.scenarios[0])
    return differences_sentence(diffs, a.name, b.name)


def study_findings(regimes: Sequence[Regime]) -> list[str]:
    """The report's plain-words findings, computed from the numbers (plain text: escape
    before putting them in HTML)."""
    out = []
    for reg in regimes:
        out += [horizon_finding(reg), fee_finding(reg), users_finding(reg), why_finding(reg)]
    out.append(competition_finding(regimes))
    return out
