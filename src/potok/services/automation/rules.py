"""Writing, reading and trying automation rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from potok.domain.automation import Rule, RuleDraft, RuleNotFound, check_rule
from potok.domain.automation.events import RuleSaved
from potok.domain.automation.expressions import named_values
from potok.domain.automation.model import CATEGORIES_FIELD, SCHEDULE, Firing, Known
from potok.domain.errors import InvalidInput, StaleVersion
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import Order, OrderNotFound
from potok.domain.validation import Problems
from potok.services.automation.acting import Done, facts_of, facts_with, plan
from potok.services.automation_ports import RuleVersion
from potok.services.idempotency import Once, atomically_once
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def known_to_rules(uow: UnitOfWork, draft: RuleDraft | None = None) -> Known:
    """The queues, webhook subscriptions and operators a rule may name, and which of the
    categories the draft's condition names exist."""
    named = {v for v, _, _ in named_values(draft.condition, CATEGORIES_FIELD)} if draft else set()

    def work(uow: UnitOfWork) -> Known:
        queues = frozenset(q.code for q in uow.tasks.queues())
        categories = frozenset(uow.categories.known(named)) if named else frozenset()
        operators = frozenset(u.username for u in uow.users.list() if u.active)
        return Known(queues, frozenset(s.id for s in uow.webhooks.all()), categories, operators)

    return reading(uow, work)


def add_rule(
    uow: UnitOfWork,
    draft: RuleDraft,
    actor: Actor,
    *,
    once: Once[Rule] | None = None,
    clock: Clock = utc_now,
) -> Rule:
    """Check the rule whole and keep it as version 1."""
    checked = check_rule(draft, known_to_rules(uow, draft))

    def work(uow: UnitOfWork) -> Rule:
        at = clock()
        rule = uow.automation.add(checked, at, str(actor))
        uow.record(_saved(rule, at))
        return rule

    return atomically_once(uow, once, work)


def change_rule(
    uow: UnitOfWork,
    rule_id: int,
    draft: RuleDraft,
    actor: Actor,
    *,
    expected_version: int | None = None,
    clock: Clock = utc_now,
) -> Rule:
    """A new version of the rule; the firings of older versions keep naming theirs."""
    checked = check_rule(draft, known_to_rules(uow, draft))

    def work(uow: UnitOfWork) -> Rule:
        rule = uow.automation.get(rule_id, lock=True)
        if rule is None:
            raise RuleNotFound(rule_id=rule_id)
        if expected_version is not None and expected_version != rule.version:
            raise StaleVersion(expected=expected_version, actual=rule.version)
        at = clock()
        rule.name, rule.trigger, rule.condition = checked.name, checked.trigger, checked.condition
        rule.actions, rule.stop, rule.active = checked.actions, checked.stop, checked.active
        rule.every_minutes = checked.every_minutes
        if checked.position is not None:
            rule.position = checked.position
        rule.disabled_reason = None
        rule.version += 1
        uow.automation.save(rule, at, str(actor))
        uow.record(_saved(rule, at))
        return rule

    return atomically(uow, work)


def _saved(rule: Rule, at: object) -> RuleSaved:
    return RuleSaved(
        occurred_at=at,  # type: ignore[arg-type]
        rule_id=rule.id,
        version=rule.version,
        name=rule.name,
        trigger=rule.trigger,
        active=rule.active,
    )


def get_rule(uow: UnitOfWork, rule_id: int) -> Rule:
    def work(uow: UnitOfWork) -> Rule:
        rule = uow.automation.get(rule_id)
        if rule is None:
            raise RuleNotFound(rule_id=rule_id)
        return rule

    return reading(uow, work)


def list_rules(uow: UnitOfWork) -> list[Rule]:
    """Every rule, in the order they run."""
    return reading(uow, lambda uow: uow.automation.all_rules())


def rule_versions(uow: UnitOfWork, rule_id: int) -> list[RuleVersion]:
    def work(uow: UnitOfWork) -> list[RuleVersion]:
        if uow.automation.get(rule_id) is None:
            raise RuleNotFound(rule_id=rule_id)
        return uow.automation.versions(rule_id)

    return reading(uow, work)


def order_firings(uow: UnitOfWork, order_id: int) -> list[Firing]:
    """What rules did to the order, oldest first."""
    return reading(uow, lambda uow: uow.automation.firings_for_order(order_id))


@dataclass(frozen=True, slots=True)
class Seen:
    """The order a trial looked at, as a person recognises it in a list."""

    external_id: str | None
    channel: str
    status: str
    total: Decimal
    currency: str
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> Seen:
        return cls(
            order.external_id,
            order.channel_code,
            order.status.value,
            order.total.amount,
            order.currency,
            order.created_at,
        )


@dataclass(frozen=True, slots=True)
class Trial:
    """What a rule would do to an order now: whether it matches, and each action's fate."""

    order_id: int
    matches: bool
    actions: list[Done]
    seen: Seen | None = None


def try_rule(uow: UnitOfWork, draft: RuleDraft, order_id: int, *, clock: Clock = utc_now) -> Trial:
    """Check a draft rule and say what it would do to the order, changing nothing."""
    checked = check_rule(draft, known_to_rules(uow, draft))

    def work(uow: UnitOfWork) -> Trial:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id=order_id)
        facts = facts_of(uow, order, clock())
        if not checked.condition.holds(facts.values(checked.condition.fields)):
            return Trial(order_id, False, [], Seen.of(order))
        return Trial(order_id, True, [plan(a, facts) for a in checked.actions], Seen.of(order))

    return reading(uow, work)


MAX_DRY_RUN = 1000
"""The most orders one dry run looks at."""


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a draft rule would have done: how many orders it looked at, and for each
    order it matched, each action's fate."""

    looked_at: int
    matched: list[Trial]


def dry_run(
    uow: UnitOfWork,
    draft: RuleDraft,
    *,
    last: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    clock: Clock = utc_now,
) -> DryRun:
    """Run a draft rule over the last ``last`` orders, or those taken in a period, without
    changing anything. Each order is seen as it is now, with the time of day (``hour``,
    ``weekday``), ``promised_in_hours`` and ``age_hours`` of the moment it was taken - or,
    for a rule on a schedule, of now."""
    problems = Problems()
    if (last is None) == (since is None and until is None):
        problems.add("last", "give either the last N orders or a period (since/until)", "required")
    if last is not None and not 1 <= last <= MAX_DRY_RUN:
        problems.add("last", f"from 1 to {MAX_DRY_RUN} orders", "out-of-range")
    if since is not None and until is not None and since > until:
        problems.add("until", "the period ends before it starts", "never-true")
    if problems:
        raise InvalidInput(problems.errors)
    checked = check_rule(draft, known_to_rules(uow, draft))

    now = clock()

    def work(uow: UnitOfWork) -> DryRun:
        ids = uow.automation.order_ids(
            since=since, until=until, limit=last if last is not None else MAX_DRY_RUN
        )
        matched: list[Trial] = []
        found = uow.orders.get_many(ids)  # a few statements for them all, not a few each
        contexts = uow.automation.contexts([int(o.id) for o in found if o.id is not None])
        for order in found:
            order_id = int(order.id) if order.id is not None else 0
            # a schedule rule looks at the order as it is now; an event rule as it was taken
            at = now if checked.trigger == SCHEDULE else order.created_at
            facts = facts_with(order, at, contexts[order_id])
            if checked.condition.holds(facts.values(checked.condition.fields)):
                actions = [plan(a, facts) for a in checked.actions]
                matched.append(Trial(order_id, True, actions, Seen.of(order)))
        return DryRun(len(ids), matched)

    return reading(uow, work)
