"""Automation rules on a schedule: every ``every_minutes`` a ``schedule`` rule looks at
the open orders (not cancelled, delivered or returned) and acts on those its condition
holds for - at most once per order and version of the rule, as an event rule fires at
most once per event, so "unpaid for a day: cancel" cancels once and "late: tell the
customer" tells once.

Run by the timed jobs (``worker/jobs.py``). Each rule's run is claimed first with a
compare-and-set of its next run's moment, so that of several processes running the jobs
only one runs it; the orders are then taken a chunk at a time, each chunk in one
transaction as a window of events is (``running.py``), the firings recorded with the key
``schedule-v<version>-<order>``. A rule that fails is switched off with an alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from potok.domain.automation.model import SCHEDULE, Rule
from potok.domain.kernel import Clock, utc_now
from potok.domain.orders import OrderStatus
from potok.services.automation.running import Cause, RuleFailed, apply_rules, switch_off
from potok.services.unit_of_work import UnitOfWork, atomically, reading

log = logging.getLogger("potok.automation")

CLOSED = frozenset(
    {
        OrderStatus.CANCELLED,
        OrderStatus.DELIVERED,
        OrderStatus.RETURNED_TO_SENDER,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.RETURNED,
    }
)
"""Orders a schedule rule no longer looks at."""

CHUNK = 200
"""Orders acted on in one transaction."""


@dataclass(slots=True)
class ScheduledRun:
    """What the scheduled rules did in one round of the jobs."""

    rules: list[int] = field(default_factory=list)  # the rules this process ran
    looked_at: int = 0  # orders looked at
    switched_off: list[int] = field(default_factory=list)  # rules that failed


def schedule_key(rule: Rule, order_id: int) -> str:
    """The key of a scheduled rule's firing on an order: once per order and version."""
    return f"{SCHEDULE}-v{rule.version}-{order_id}"


def run_scheduled_rules(uow: UnitOfWork, *, clock: Clock = utc_now) -> ScheduledRun:
    """Run the schedule rules whose time has come (see the module's docstring)."""
    report = ScheduledRun()
    now = clock()
    due = reading(uow, lambda uow: uow.automation.due_schedules(now))
    mine: list[Rule] = []
    for rule, was_due in due:
        assert rule.every_minutes is not None
        next_run = now + timedelta(minutes=rule.every_minutes)
        claimed = atomically(
            uow,
            partial(_claim, rule=rule, due=was_due, next_run=next_run),
        )
        if claimed:
            mine.append(rule)
    if not mine:
        return report
    report.rules = [r.id for r in mine]
    after = 0
    while mine:
        ids = reading(uow, partial(_open_orders, after=after))
        if not ids:
            break
        report.looked_at += len(ids)
        mine = _run_chunk(uow, ids, mine, clock, report)
        after = ids[-1]
    return report


def _open_orders(uow: UnitOfWork, *, after: int) -> list[int]:
    return uow.automation.open_order_ids(after=after, limit=CHUNK, closed=[s.value for s in CLOSED])


def _claim(uow: UnitOfWork, *, rule: Rule, due: datetime | None, next_run: datetime) -> bool:
    return uow.automation.claim_schedule(rule.id, rule.version, due, next_run)


def _run_chunk(
    uow: UnitOfWork, ids: list[int], rules: list[Rule], clock: Clock, report: ScheduledRun
) -> list[Rule]:
    """The rules on these orders in one transaction; a rule that fails is switched off and
    the chunk run again without it. Returns the rules still running."""
    while rules:
        plan = [
            (Cause(order_id, schedule_key(rule, order_id), SCHEDULE), [rule])
            for order_id in ids
            for rule in rules
        ]
        plan = _by_order(plan)
        try:
            atomically(uow, partial(apply_rules, plan=plan, clock=clock))
            return rules
        except RuleFailed as failed:
            log.warning("scheduled rule failed on order %s: %s", failed.order_id, failed)
            atomically(
                uow,
                partial(
                    switch_off,
                    rule=failed.rule,
                    order_id=failed.order_id,
                    error=failed.error,
                    clock=clock,
                ),
            )
            report.switched_off.append(failed.rule.id)
            rules = [r for r in rules if r.id != failed.rule.id]
    return rules


def _by_order(plan: list[tuple[Cause, list[Rule]]]) -> list[tuple[Cause, list[Rule]]]:
    """The plan in order id order, each order's rules in their order (they are already)."""
    return sorted(plan, key=lambda item: item[0].order_id)
