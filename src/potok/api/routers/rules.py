"""Automation rules: write them (each change a new version), list them, try one on an
order, and see what rules did to an order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.rules import (
    DryRunIn,
    DryRunOut,
    FiringOut,
    RuleIn,
    RuleOut,
    RuleTrialIn,
    RuleVersionOut,
    TrialOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.automation import RuleNotFound
from potok.domain.errors import InvalidInput, StaleVersion
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services.automation import rules

router = APIRouter(prefix="/api/v1", tags=["automation"])

RuleIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The rule's number.")]
OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's order number.")]


@router.post(
    "/rules",
    status_code=201,
    response_model=RuleOut,
    summary="Write an automation rule",
    description=(
        "When the order event `trigger` arrives and `condition` holds, the rule does its "
        "`actions`, in order, as the operator's own actions would (history, outbox). The "
        "whole rule is checked first: an unknown field, a type mismatch, a condition that "
        "is never true or an action the trigger cannot take is refused with the place "
        "named (`at`/`end`: the columns in the condition)."
    ),
    responses=responses(InvalidInput, IdempotencyKeyReused),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def add_rule(
    body: RuleIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "rule",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: rules.add_rule(uow, body.draft(), caller.actor, once=once),
        lambda rule: (201, RuleOut.of(rule).model_dump(mode="json")),
    )


@router.get(
    "/rules",
    response_model=list[RuleOut],
    summary="Every automation rule, in the order they run",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def list_rules(uow: Uow) -> list[RuleOut]:
    return [RuleOut.of(r) for r in rules.list_rules(uow)]


@router.get(
    "/rules/{rule_id}",
    response_model=RuleOut,
    summary="An automation rule as it is now",
    responses=responses(RuleNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def get_rule(rule_id: RuleIdPath, uow: Uow) -> RuleOut:
    return RuleOut.of(rules.get_rule(uow, rule_id))


@router.put(
    "/rules/{rule_id}",
    response_model=RuleOut,
    summary="Change an automation rule: a new version",
    description="The whole rule, checked as when it was written; firings of older versions "
    "keep naming theirs. `If-Match` with the version refuses a change made meanwhile (412). "
    "Switch a rule off with `active: false`.",
    responses=responses(RuleNotFound, InvalidInput, StaleVersion),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def change_rule(
    rule_id: RuleIdPath,
    body: RuleIn,
    uow: Uow,
    caller: Caller,
    if_match: Annotated[str | None, Header(max_length=32)] = None,
) -> RuleOut:
    expected = None
    if if_match is not None:
        digits = if_match.strip().strip('W/"')
        if not digits.isdigit():
            raise InvalidInput([], detail='If-Match takes the rule\'s version, e.g. "3"')
        expected = int(digits)
    found = rules.change_rule(uow, rule_id, body.draft(), caller.actor, expected_version=expected)
    return RuleOut.of(found)


@router.get(
    "/rules/{rule_id}/versions",
    response_model=list[RuleVersionOut],
    summary="Every version of a rule, newest first, with who saved it",
    responses=responses(RuleNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def rule_versions(rule_id: RuleIdPath, uow: Uow) -> list[RuleVersionOut]:
    return [
        RuleVersionOut(version=v.version, body=v.body, saved_at=v.saved_at, saved_by=v.saved_by)
        for v in rules.rule_versions(uow, rule_id)
    ]


@router.post(
    "/rule-trials",
    response_model=TrialOut,
    summary="Try a rule on an order: what it would do, changing nothing",
    description="The rule is checked as if it were saved, then its condition is evaluated "
    "on the order as it is now; each action says whether it would be done or skipped (and "
    "why). Nothing is stored.",
    responses=responses(InvalidInput, OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def try_rule(body: RuleTrialIn, uow: Uow) -> TrialOut:
    with _in_rule():
        return TrialOut.of(rules.try_rule(uow, body.rule.draft(), body.order_id))


@router.post(
    "/rule-dry-runs",
    response_model=DryRunOut,
    summary="Run a draft rule over the last N orders or a period: what it would have done",
    description="Give `last` (up to 1000) or `since`/`until`. Each order is seen as it is "
    "now, with the time of day and `promised_in_hours` of the moment it was taken; `matched` "
    "lists the orders the condition holds for, with each action done or skipped (and why). "
    "Nothing is stored or changed.",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def dry_run(body: DryRunIn, uow: Uow) -> DryRunOut:
    with _in_rule():
        found = rules.dry_run(
            uow, body.rule.draft(), last=body.last, since=body.since, until=body.until
        )
    return DryRunOut(looked_at=found.looked_at, matched=[TrialOut.of(t) for t in found.matched])


_OUTSIDE_THE_RULE = frozenset({"last", "since", "until", "order_id"})


@contextmanager
def _in_rule() -> Iterator[None]:
    """A mistake in the rule of a trial or a dry run is named where it is in the body:
    ``rule.condition``, ``rule.actions[0].queue``."""
    try:
        yield
    except InvalidInput as mistake:
        raise InvalidInput(
            [
                e if e.field in _OUTSIDE_THE_RULE else replace(e, field=f"rule.{e.field}")
                for e in mistake.errors
            ]
        ) from mistake


@router.get(
    "/orders/{order_id}/rule-firings",
    response_model=list[FiringOut],
    summary="What automation rules did to an order, oldest first",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER, "order_id")],
)
def order_firings(order_id: OrderIdPath, uow: Uow) -> list[FiringOut]:
    return [
        FiringOut(
            rule_id=f.rule_id,
            rule_version=f.rule_version,
            event_id=f.event_id,
            fired_at=f.fired_at,
            outcome=f.outcome,
            actions=list(f.actions),
            chain=list(f.chain),
        )
        for f in rules.order_firings(uow, order_id)
    ]
