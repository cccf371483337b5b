"""Automation rules run on order events after the commit (the after-commit reaction
``reaction:apply_automation_rules`` in ``services/reactions.py``), a window of the
outbox at a time, as the worker hands it over.

The worker hands over only the events some active rule waits for (the reaction's
selection, before any lease is taken). One transaction serves the whole window: the
rules (kept per process while their stamp holds: one statement), the orders (locked, in
id order) and what conditions ask about them (customer's orders and returns, tags,
queues) each come in one statement for all of them; every condition is evaluated in
memory, rule after rule in their order, each seeing what the rules before it did; the
rules that match act, each firing is written (unique per rule and event, so a second run
of the same window does nothing twice) with ``rule.fired`` for the audit trail, and each
order is saved once. What the window wrote does not grow statements with its orders: the
orders' rows go in one UPDATE run (the columns that changed), their history, tags and
the firings in one insert each (on PostgreSQL with the commit's own statement). A rule
that stops further rules ends its event's run when it matched.

Loops are cut: a firing remembers the chain of rules whose firings led to it (found from
the firings that made the event), and a rule never fires on an event its own firing - or
one further up its chain - caused, nor deeper than :data:`MAX_CHAIN` rules.

A rule that fails while it runs is switched off with an alert, what the window's rules did
is undone and the others act again without it; the order goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from potok.domain.alerts import AlertKind
from potok.domain.automation.events import RuleFired, RuleSwitchedOff
from potok.domain.automation.fields import LazyValues, OrderFacts
from potok.domain.automation.index import RuleIndex
from potok.domain.automation.model import Firing, Rule
from potok.domain.errors import DuplicateRow, PotokError, Unavailable
from potok.domain.kernel import Actor, Clock
from potok.domain.webhooks import StoredEvent
from potok.services.alerts import raise_alert
from potok.services.automation.acting import act, facts_with
from potok.services.outside import Outside, Settle
from potok.services.unit_of_work import UnitOfWork, atomically

log = logging.getLogger("potok.automation")

MAX_CHAIN = 5
"""The most rules one change may set off one after another (A's change fires B, B's C...)."""


def rule_actor(rule: Rule) -> str:
    return str(Actor.system(f"rule-{rule.id}"))


def apply_automation_rules(outside: Outside, events: Sequence[StoredEvent]) -> Settle | None:
    """Run the rules waiting for these order events (see the module's docstring)."""
    wanted = [e for e in events if e.aggregate_type == "order" and e.aggregate_id.isdigit()]
    if not wanted:
        return None
    failed_rules: set[int] = set()
    while True:
        try:
            atomically(
                outside.uow(),
                partial(_act, events=wanted, outside=outside, without=frozenset(failed_rules)),
            )
            return None
        except RuleFailed as failed:
            # everything the rules did for the window is undone; the failing rule is
            # switched off and the others act again without it
            log.warning("rule failed on order %s: %s", failed.order_id, failed)
            atomically(
                outside.uow(),
                partial(
                    switch_off,
                    rule=failed.rule,
                    order_id=failed.order_id,
                    error=failed.error,
                    clock=outside.clock,
                ),
            )
            failed_rules.add(failed.rule.id)


class RuleFailed(Exception):
    """A rule raised while it acted; the transaction of the window's rules is undone."""

    def __init__(self, rule: Rule, order_id: int, error: Exception) -> None:
        super().__init__(f"rule {rule.id} failed: {error}")
        self.rule, self.order_id, self.error = rule, order_id, error


@dataclass(frozen=True, slots=True)
class Cause:
    """What sets rules off for an order: one of its events, or a schedule's run."""

    order_id: int
    key: str  # the event's id, or the schedule's key for the order (one firing per rule and key)
    type: str  # the event's type, or ``schedule``
    occurred_at: datetime | None = None  # the event's instant (None: a schedule)


def _act(
    uow: UnitOfWork,
    *,
    events: list[StoredEvent],
    outside: Outside,
    without: frozenset[int],
) -> None:
    """Each event's rules (the active ones, read in this transaction: kept per process
    while their stamp holds, so one statement) on its order - see :func:`apply_rules`."""
    rules = uow.automation.active_rules()
    plan: list[tuple[Cause, Sequence[Rule]]] = []
    for event in events:
        waiting: Sequence[Rule] = rules.get(event.type, ())
        if without:
            waiting = [r for r in waiting if r.id not in without]
        if waiting:
            cause = Cause(int(event.aggregate_id), event.event_id, event.type, event.occurred_at)
            plan.append((cause, waiting))
    apply_rules(uow, plan, outside.clock)


def apply_rules(
    uow: UnitOfWork, plan: Sequence[tuple[Cause, Sequence[Rule]]], clock: Clock
) -> None:
    """Each cause's rules, in their order, on its order as it is (locked), each seeing
    what the rules before it did, until one that matched and stops the rest; each order
    is saved once."""
    if not plan:
        return
    # the orders are read whole only when a rule may cancel, confirm, hold or release
    # (its actions may change anything): a tag, a note, a priority, a task, a notice or a
    # webhook never needs their reservations, and neither they nor any condition field
    # reads the customer's contact or the address's sealed lines - left unopened
    lists = {id(waiting): waiting for _, waiting in plan}.values()
    whole = any(rule.touches is None for waiting in lists for rule in waiting)
    locked = uow.orders.get_many(
        sorted({c.order_id for c, _ in plan}), lock=True, reservations=whole, personal=whole
    )
    orders = {int(o.id): o for o in locked if o.id is not None}
    known = list(orders)
    contexts = uow.automation.contexts(known)
    fired, causes = uow.automation.firings_of(
        known,
        [c.key for c, _ in plan],
        [c.occurred_at for c, _ in plan if c.occurred_at is not None],
    )
    facts: dict[int, OrderFacts] = {}
    changed: set[int] = set()
    firings: list[Firing] = []
    for cause, waiting in plan:
        order_id = cause.order_id
        order = orders.get(order_id)
        if order is None:
            continue  # gone
        at = clock()
        now = facts.get(order_id)
        now = facts_with(order, at, contexts[order_id]) if now is None else replace(now, at=at)
        chain = _chain(causes.get((order_id, cause.occurred_at), [])) if cause.occurred_at else ()
        values = LazyValues(now)  # each field read once, again only after a rule acted
        index = rule_index(waiting)
        # only the rules whose guard holds are evaluated (``domain/automation/index.py``);
        # after a rule acted the order is not what it was: the fields its actions may have
        # changed are read again, and the rules are found again if a guard names one
        pending, next_one = index.candidates(values), 0
        while next_one < len(pending):
            position = pending[next_one]
            next_one += 1
            rule = waiting[position]
            if (rule.id, cause.key) in fired:
                continue  # a second run of the same event (or the order seen by the schedule)
            try:
                if not rule.condition.holds(values):
                    continue
                firing, now = _fire(uow, rule, now, cause, chain)
            except (Unavailable, DuplicateRow):
                raise  # the database: tried again, or the cursor stays
            except Exception as error:  # the rule's own fault
                raise RuleFailed(rule, order_id, error) from error
            firings.append(firing)
            if firing.outcome == "done":
                changed.add(order_id)
                touched = rule.touches  # what its actions may have changed (None: anything)
                values = values.after(now, touched)
                if rule.stop:
                    break
                if not index.same_after(touched):
                    pending, next_one = index.candidates(values, after=position), 0
        facts[order_id] = now
    uow.automation.retag(
        {
            i: (contexts[i].tags, facts[i].tags)
            for i in sorted(changed)
            if contexts[i].tags != facts[i].tags
        },
        clock(),
    )
    uow.orders.save_many([orders[i] for i in sorted(changed)])
    uow.automation.add_firings(firings)


_INDEXES: dict[int, tuple[Sequence[Rule], RuleIndex]] = {}
"""The index of each trigger's rules, kept with the rules it was made of while they are
the ones read (the active rules are kept per process while their stamp holds)."""


def rule_index(rules: Sequence[Rule]) -> RuleIndex:
    """The rules under their guards, made once per list of rules read (a few rules are
    simply all evaluated)."""
    if len(rules) < 8:
        return RuleIndex(rules, always=list(range(len(rules))))
    kept = _INDEXES.get(id(rules))
    if kept is not None and kept[0] is rules:
        return kept[1]
    if len(_INDEXES) > 64:
        _INDEXES.clear()  # rules read again since: the old lists are gone
    index = RuleIndex.of(rules)
    _INDEXES[id(rules)] = (rules, index)
    return index


def _chain(causes: list[Firing]) -> tuple[int, ...]:
    """The rules, one after another, whose firings made the event (a firing's events
    occur at the instant it fired)."""
    chains = [(*cause.chain, cause.rule_id) for cause in causes if cause.outcome == "done"]
    return max(chains, key=len, default=())


def _fire(
    uow: UnitOfWork, rule: Rule, facts: OrderFacts, cause: Cause, chain: tuple[int, ...]
) -> tuple[Firing, OrderFacts]:
    """The rule, whose condition holds, on the order as it is now: its firing and the
    facts after it acted."""
    order = facts.order
    assert order.id is not None
    at = facts.at
    if rule.id in chain or len(chain) >= MAX_CHAIN:
        stopped = Firing(rule.id, rule.version, order.id, cause.key, at, (), "loop-stopped", chain)
        return stopped, facts
    actor = rule_actor(rule)
    done, after = act(uow, rule, facts, at, actor)
    summary = tuple(d.summary() for d in done)
    order.note_rule(
        at,
        actor,
        f"{rule.label} matched on {cause.type}",
        rule_id=rule.id,
        rule_version=rule.version,
        event_id=cause.key,
        actions=list(summary),
    )
    uow.record(
        RuleFired(
            occurred_at=at,
            order_id=order.id,
            rule_id=rule.id,
            rule_version=rule.version,
            cause_event_id=cause.key,
            actions=list(summary),
        )
    )
    return Firing(rule.id, rule.version, order.id, cause.key, at, summary, "done", chain), after


def switch_off(
    uow: UnitOfWork, *, rule: Rule, order_id: int, error: Exception, clock: Clock
) -> None:
    """Switch the rule off (a new version saying why) with an alert for the operators."""
    current = uow.automation.get(rule.id, lock=True)
    if current is None or not current.active:
        return
    at = clock()
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
    raise_alert(uow, AlertKind.RULE_SWITCHED_OFF, order_id, message, at)
