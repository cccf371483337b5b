"""Automation rules run on order events after the commit (the after-commit reaction
``reaction:apply_automation_rules`` in ``services/reactions.py``).

For each event, the active rules waiting for its type are evaluated in one read; those
that match act in their order, together in one transaction that also writes each one's
firing (unique per rule and event, so a second run of the same event does nothing twice)
and ``rule.fired`` for the audit trail. A rule that stops further rules ends the run when
it matched.

Loops are cut: a firing remembers the chain of rules whose firings led to it (found from
the firings that made the event), and a rule never fires on an event its own firing - or
one further up its chain - caused, nor deeper than :data:`MAX_CHAIN` rules.

A rule that fails while it runs is switched off with an alert, what the event's rules did
is undone and the others act again without it; the order goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.automation.events import RuleFired, RuleSwitchedOff
from potok.domain.automation.model import Firing, Rule
from potok.domain.errors import DuplicateRow, PotokError, Unavailable
from potok.domain.kernel import Actor
from potok.domain.webhooks import StoredEvent
from potok.services.automation.acting import act, facts_of
from potok.services.outside import Outside, Settle
from potok.services.unit_of_work import UnitOfWork, atomically, reading

log = logging.getLogger("potok.automation")

MAX_CHAIN = 5
"""The most rules one change may set off one after another (A's change fires B, B's C...)."""


def rule_actor(rule: Rule) -> str:
    return str(Actor.system(f"rule-{rule.id}"))


def apply_automation_rules(outside: Outside, event: StoredEvent) -> Settle | None:
    """Run the rules waiting for this order event (see the module's docstring)."""
    if event.aggregate_type != "order" or not event.aggregate_id.isdigit():
        return None
    order_id = int(event.aggregate_id)
    at = outside.clock()
    candidates = reading(outside.uow(), lambda uow: _candidates(uow, order_id, event, at))
    while candidates:
        try:
            atomically(
                outside.uow(),
                partial(_act, rules=candidates, order_id=order_id, event=event, outside=outside),
            )
            return None
        except RuleFailed as failed:
            # everything the rules did for this event is undone; the failing rule is
            # switched off and the others act again without it
            log.warning("rule failed on event %s: %s", event.event_id, failed)
            atomically(
                outside.uow(),
                partial(
                    _switch_off,
                    rule=failed.rule,
                    order_id=order_id,
                    error=failed.error,
                    outside=outside,
                ),
            )
            candidates = [r for r in candidates if r.id != failed.rule.id]
    return None


class RuleFailed(Exception):
    """A rule raised while it acted; the transaction of the event's rules is undone."""

    def __init__(self, rule: Rule, error: Exception) -> None:
        super().__init__(f"rule {rule.id} failed: {error}")
        self.rule, self.error = rule, error


def _act(
    uow: UnitOfWork, *, rules: list[Rule], order_id: int, event: StoredEvent, outside: Outside
) -> None:
    """The matching rules act, in their order, until one that stops the rest."""
    for rule in rules:
        try:
            outcome = _fire(uow, rule, order_id, event, outside)
        except (Unavailable, DuplicateRow):
            raise  # the database: tried again, or the cursor stays
        except Exception as error:  # the rule's own fault
            raise RuleFailed(rule, error) from error
        if outcome == "done" and rule.stop:
            return


def _candidates(uow: UnitOfWork, order_id: int, event: StoredEvent, at: datetime) -> list[Rule]:
    """The rules waiting for the event whose condition holds for the order as the event
    found it, in their order - read in one pass, so that only these open a transaction
    to act (each checks its condition again on the order as it is by then)."""
    rules = uow.automation.rules_for(event.type)
    if not rules:
        return []
    order = uow.orders.get(order_id)
    if order is None:
        return []
    facts = facts_of(uow, order, at)
    found: list[Rule] = []
    for rule in rules:
        try:
            holds = rule.condition.holds(facts.values(rule.condition.fields))
        except Exception:  # met again when it acts, and switched off there
            holds = True
        if holds:
            found.append(rule)
    return found


def _chain(uow: UnitOfWork, order_id: int, at: datetime) -> tuple[int, ...]:
    """The rules, one after another, whose firings made the event (a firing's events
    occur at the instant it fired)."""
    chains = [
        (*cause.chain, cause.rule_id)
        for cause in uow.automation.firings_at(order_id, at)
        if cause.outcome == "done"
    ]
    return max(chains, key=len, default=())


def _fire(uow: UnitOfWork, rule: Rule, order_id: int, event: StoredEvent, outside: Outside) -> str:
    if uow.automation.fired(rule.id, event.event_id):
        return "again"  # a second run of the same event
    current = uow.automation.get(rule.id, lock=True)
    if current is None or not current.active or current.version != rule.version:
        return "changed"  # switched off or changed since the run began: the next event sees it
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        return "gone"
    chain = _chain(uow, order_id, event.occurred_at)
    at = outside.clock()
    if rule.id in chain or len(chain) >= MAX_CHAIN:
        uow.automation.add_firing(
            Firing(rule.id, rule.version, order_id, event.event_id, at, (), "loop-stopped", chain)
        )
        return "loop-stopped"
    facts = facts_of(uow, order, at)
    if not rule.condition.holds(facts.values(rule.condition.fields)):
        return "no-match"
    actor = rule_actor(rule)
    done = act(uow, rule, facts, at, actor)
    summary = tuple(d.summary() for d in done)
    order.note_rule(
        at,
        actor,
        f"{rule.label} matched on {event.type}",
        rule_id=rule.id,
        rule_version=rule.version,
        event_id=event.event_id,
        actions=list(summary),
    )
    uow.orders.save(order)
    uow.automation.add_firing(
        Firing(rule.id, rule.version, order_id, event.event_id, at, summary, "done", chain)
    )
    uow.record(
        RuleFired(
            occurred_at=at,
            order_id=order_id,
            rule_id=rule.id,
            rule_version=rule.version,
            cause_event_id=event.event_id,
            actions=list(summary),
        )
    )
    return "done"


def _switch_off(
    uow: UnitOfWork, *, rule: Rule, order_id: int, error: Exception, outside: Outside
) -> None:
    current = uow.automation.get(rule.id, lock=True)
    if current is None or not current.active:
        return
    at = outside.clock()
    why = f"{type(error).__name__}: {error}"[:400]
    if isinstance(error, PotokError):
        why = f"{error.code}: {error.detail}"[:400]
    current.active = False
    current.version += 1
    current.disabled_reason = f"failed on order {order_id}: {why}"
    uow.automation.save(current, at, rule_actor(rule))
    uow.record(
        RuleSwitchedOff(
            occurred_at=at, rule_id=rule.id, version=current.version, order_id=order_id, error=why
        )
    )
    message = f"{rule.label} was switched off: it failed on order {order_id} ({why})"
    alert = uow.alerts.add(AlertKind.RULE_SWITCHED_OFF, order_id, message, at)
    uow.record(
        AlertRaised(
            occurred_at=at,
            alert_id=alert.id,
            kind=alert.kind.value,
            order_id=order_id,
            message=message,
        )
    )
