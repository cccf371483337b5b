"""Automation rules run on order events after the commit (the after-commit reaction
``reaction:apply_automation_rules`` in ``services/reactions.py``).

For each event, the active rules waiting for its type run in their order; each rule that
matches acts in a transaction of its own that also writes its firing (unique per rule and
event, so a second run of the same event does nothing twice) and ``rule.fired`` for the
audit trail. A rule that stops further rules ends the run when it matched.

Loops are cut: a firing remembers the chain of rules whose firings led to it (found from
the firings that made the event), and a rule never fires on an event its own firing - or
one further up its chain - caused, nor deeper than :data:`MAX_CHAIN` rules.

A rule that fails while it runs is switched off with an alert; the order goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime

from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.automation.events import RuleFired, RuleSwitchedOff
from potok.domain.automation.model import Firing, Rule
from potok.domain.errors import PotokError, Unavailable
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
    rules = reading(outside.uow(), lambda uow: uow.automation.rules_for(event.type))
    order_id = int(event.aggregate_id)
    for rule in rules:
        outcome = _run_one(outside, rule, order_id, event)
        if outcome == "done" and rule.stop:
            break
    return None


def _run_one(outside: Outside, rule: Rule, order_id: int, event: StoredEvent) -> str:
    def fire(uow: UnitOfWork) -> str:
        return _fire(uow, rule, order_id, event, outside)

    try:
        return atomically(outside.uow(), fire)
    except Unavailable:
        raise  # the database: the cursor stays and the event is tried again
    except Exception as error:  # the rule's own fault: off with it, the order goes on
        log.warning("rule %s failed on event %s: %s", rule.id, event.event_id, error)
        failure = error

        def switch_off(uow: UnitOfWork) -> None:
            _switch_off(uow, rule, order_id, failure, outside)

        atomically(outside.uow(), switch_off)
        return "failed"


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
    uow: UnitOfWork, rule: Rule, order_id: int, error: Exception, outside: Outside
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
