"""Why a candidate was not chosen, in words an operator can check against the record: it
was left out by a rule, it does not cover the order (and which lines it lacks), it costs
more, it arrives later than promised, or what it loses on the rules' scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from potok.domain.quick_init import quick_init
from potok.domain.sourcing.explanation import PARTS, CandidateNote

TIE = 0.005
"""Differences below half a kopeck are a tie."""

_WORSE_ON = {
    "cost": "dearer to ship",
    "distance": "farther from the destination",
    "time": "slower",
    "last_units": "it would take units a store keeps for its walk-in customers",
    "priority": "lower warehouse priority",
    "needed_later": "its units are worth more to the orders still to come",
}


@quick_init
@dataclass(frozen=True, slots=True)
class ChosenPlan:
    """The figures of the plan that won, as every loser is compared with it."""

    codes: tuple[str, ...]
    cost: float
    days: int
    late: int
    score: float
    parts: tuple[float, ...]
    promised_on: date | None
    promise_days: int | None
    express: bool


def rub(amount: float | Decimal) -> str:
    """'1 200.00 ₽'."""
    return f"{amount:,.2f} ₽".replace(",", " ")


def days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def why_not(note: CandidateNote, plan: ChosenPlan | None, lacks: str = "") -> str:
    """The reason a candidate that is not part of the chosen plan lost."""
    if note.excluded is not None:
        return note.excluded
    if not note.covers:
        text = "does not cover the order"
        return f"{text}: {lacks}" if lacks else text
    if plan is None or note.score is None:
        return "has every line, but no plan could be made"  # a shortfall: not reached
    reasons: list[str] = []
    if (
        note.days is not None
        and plan.promise_days is not None
        and plan.promised_on is not None
        and note.days > plan.promise_days
        and plan.late == 0
    ):
        reasons.append(
            f"later than promised: {days(note.days)}, the promised "
            f"{plan.promised_on.isoformat()} allows {days(plan.promise_days)}"
        )
    elif plan.express and note.days is not None and note.days > plan.days:
        reasons.append(f"slower for an express order: {days(note.days)} against {days(plan.days)}")
    if note.cost_rub is not None and note.cost_rub > plan.cost + TIE:
        reasons.append(f"costs more: {rub(note.cost_rub)} against {rub(plan.cost)}")
    if reasons:
        return "; ".join(reasons)
    behind = note.score - plan.score
    chosen = ", ".join(plan.codes)
    if behind <= TIE:
        return f"ties with {chosen} on the rules' scale; the first by code was taken"
    gaps = [
        (mine - theirs, name)
        for name, mine, theirs in zip(PARTS, note.parts, plan.parts, strict=False)
    ]
    gap, part = max(gaps)
    where = f": {_WORSE_ON[part]}" if gap > TIE else ""
    return f"{rub(behind)} worse on the rules' scale than {chosen}{where}"


def lacking(short: list[tuple[str, int, int]]) -> str:
    """'lacks SKU-2 (has 1 of 3), SKU-5 (has 0 of 1)'."""
    return "lacks " + ", ".join(f"{sku} (has {have} of {need})" for sku, have, need in short)


def coverage(covered: int, lines: int) -> str:
    """'all 3 lines', '2 of 3 lines', '1 of 1 line'."""
    if covered == lines and lines > 1:
        return f"all {lines} lines"
    return f"{covered} of {lines} line{'s' if lines != 1 else ''}"
