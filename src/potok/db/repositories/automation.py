"""Automation rules, their versions and firings, and orders' tags."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from potok.db.tables import (
    automation_firings,
    automation_rule_versions,
    automation_rules,
    order_tags,
    orders,
    returns,
)
from potok.domain.automation.expressions import Condition, stored_condition
from potok.domain.automation.model import Action, CheckedRule, Do, Firing, Rule
from potok.domain.orders import HoldType
from potok.services.automation_ports import RuleVersion


@lru_cache(maxsize=4096)
def _condition(text: str) -> Condition:
    """A stored condition, compiled once per process (it was checked when it was saved)."""
    return stored_condition(text)


_KEPT: dict[tuple[str, str], tuple[tuple[Any, ...], tuple[Rule, ...]]] = {}
"""The rules of each trigger as last read, by database and trigger, with their stamp."""


def _action(raw: dict[str, Any]) -> Action:
    values = dict(raw)
    do = Do(values.pop("do"))
    if "hold_type" in values:
        values["hold_type"] = HoldType(values["hold_type"])
    return Action(do, **values)


def _rule(row: sa.Row[Any]) -> Rule:
    return Rule(
        id=int(row.id),
        name=row.name,
        version=row.version,
        position=row.position,
        trigger=row.trigger,
        condition=_condition(row.condition),
        actions=tuple(_action(a) for a in row.actions),
        stop=bool(row.stop),
        active=bool(row.active),
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        disabled_reason=row.disabled_reason,
    )


def _firing(row: sa.Row[Any]) -> Firing:
    return Firing(
        rule_id=int(row.rule_id),
        rule_version=row.rule_version,
        order_id=int(row.order_id),
        event_id=row.event_id,
        fired_at=row.fired_at,
        actions=tuple(row.actions),
        outcome=row.outcome,
        chain=tuple(row.chain),
    )


class AutomationRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------------ rules

    def rules_for(self, trigger: str) -> list[Rule]:
        """The active rules of a trigger, in order; kept per process while the rules'
        stamp (how many, the sum of their versions, the last change) stays the same - every
        change of a rule raises its version."""
        rules = automation_rules.c
        stamp = tuple(
            self.connection.execute(
                sa.select(
                    sa.func.count(), sa.func.sum(rules.version), sa.func.max(rules.updated_at)
                )
            ).one()
        )
        key = (str(self.connection.engine.url), trigger)
        kept = _KEPT.get(key)
        if kept is not None and kept[0] == stamp:
            return list(kept[1])
        rows = self.connection.execute(
            sa.select(automation_rules)
            .where(rules.trigger == trigger, rules.active.is_(True))
            .order_by(rules.position, rules.id)
        ).all()
        found = [_rule(r) for r in rows]
        _KEPT[key] = (stamp, tuple(found))
        return found

    def triggers_in_use(self) -> set[str]:
        """The triggers that have at least one active rule."""
        rules = automation_rules.c
        return set(
            self.connection.execute(
                sa.select(rules.trigger).where(rules.active.is_(True)).distinct()
            ).scalars()
        )

    def all_rules(self) -> list[Rule]:
        rows = self.connection.execute(
            sa.select(automation_rules).order_by(automation_rules.c.position, automation_rules.c.id)
        ).all()
        return [_rule(r) for r in rows]

    def get(self, rule_id: int, *, lock: bool = False) -> Rule | None:
        query = sa.select(automation_rules).where(automation_rules.c.id == rule_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _rule(row) if row is not None else None

    def add(self, rule: CheckedRule, at: datetime, actor: str) -> Rule:
        position = rule.position
        if position is None:
            last = self.connection.execute(
                sa.select(sa.func.max(automation_rules.c.position))
            ).scalar()
            position = (last or 0) + 10
        rule_id = self.connection.execute(
            sa.insert(automation_rules)
            .values(
                name=rule.name,
                version=1,
                position=position,
                trigger=rule.trigger,
                condition=rule.condition.text,
                actions=[a.summary() for a in rule.actions],
                stop=rule.stop,
                active=rule.active,
                created_at=at,
                updated_at=at,
                updated_by=actor,
            )
            .returning(automation_rules.c.id)
        ).scalar_one()
        stored = Rule(
            id=int(rule_id),
            name=rule.name,
            version=1,
            position=position,
            trigger=rule.trigger,
            condition=rule.condition,
            actions=rule.actions,
            stop=rule.stop,
            active=rule.active,
            created_at=at,
            updated_at=at,
            updated_by=actor,
        )
        self._keep_version(stored, at, actor)
        return stored

    def save(self, rule: Rule, at: datetime, actor: str) -> None:
        """Write the rule as its next version (its number already raised by the caller)."""
        self.connection.execute(
            sa.update(automation_rules)
            .where(automation_rules.c.id == rule.id)
            .values(
                name=rule.name,
                version=rule.version,
                position=rule.position,
                trigger=rule.trigger,
                condition=rule.condition.text,
                actions=[a.summary() for a in rule.actions],
                stop=rule.stop,
                active=rule.active,
                disabled_reason=rule.disabled_reason,
                updated_at=at,
                updated_by=actor,
            )
        )
        self._keep_version(rule, at, actor)

    def _keep_version(self, rule: Rule, at: datetime, actor: str) -> None:
        body = rule.body() | {"position": rule.position, "disabled_reason": rule.disabled_reason}
        self.connection.execute(
            sa.insert(automation_rule_versions).values(
                rule_id=rule.id, version=rule.version, body=body, saved_at=at, saved_by=actor
            )
        )

    def versions(self, rule_id: int) -> list[RuleVersion]:
        rows = self.connection.execute(
            sa.select(automation_rule_versions)
            .where(automation_rule_versions.c.rule_id == rule_id)
            .order_by(automation_rule_versions.c.version.desc())
        ).all()
        return [
            RuleVersion(int(r.rule_id), r.version, dict(r.body), r.saved_at, r.saved_by)
            for r in rows
        ]

    # ------------------------------------------------------------------ firings

    def fired(self, rule_id: int, event_id: str) -> bool:
        found = self.connection.execute(
            sa.select(automation_firings.c.id).where(
                automation_firings.c.rule_id == rule_id, automation_firings.c.event_id == event_id
            )
        ).first()
        return found is not None

    def add_firing(self, firing: Firing) -> None:
        self.connection.execute(
            sa.insert(automation_firings).values(
                rule_id=firing.rule_id,
                rule_version=firing.rule_version,
                order_id=firing.order_id,
                event_id=firing.event_id,
                fired_at=firing.fired_at,
                outcome=firing.outcome,
                actions=list(firing.actions),
                chain=list(firing.chain),
            )
        )

    def firings_at(self, order_id: int, at: datetime) -> list[Firing]:
        rows = self.connection.execute(
            sa.select(automation_firings).where(
                automation_firings.c.order_id == order_id, automation_firings.c.fired_at == at
            )
        ).all()
        return [_firing(r) for r in rows]

    def firings_for_order(self, order_id: int) -> list[Firing]:
        rows = self.connection.execute(
            sa.select(automation_firings)
            .where(automation_firings.c.order_id == order_id)
            .order_by(automation_firings.c.id)
        ).all()
        return [_firing(r) for r in rows]

    # ------------------------------------------------------------------ tags and context

    def tags(self, order_id: int) -> frozenset[str]:
        found = self.connection.execute(
            sa.select(order_tags.c.tag).where(order_tags.c.order_id == order_id)
        ).scalars()
        return frozenset(found)

    def tag(self, order_id: int, tags: Iterable[str], at: datetime) -> None:
        rows = [{"order_id": order_id, "tag": t, "tagged_at": at} for t in sorted(set(tags))]
        if rows:
            self.connection.execute(sa.insert(order_tags), rows)

    def untag(self, order_id: int, tags: Iterable[str]) -> None:
        wanted = sorted(set(tags))
        if wanted:
            self.connection.execute(
                sa.delete(order_tags).where(
                    order_tags.c.order_id == order_id, order_tags.c.tag.in_(wanted)
                )
            )

    def order_ids(self, *, since: datetime | None, until: datetime | None, limit: int) -> list[int]:
        """Orders taken in ``[since, until]`` (either open), newest first, at most ``limit``."""
        query = sa.select(orders.c.id).order_by(orders.c.created_at.desc(), orders.c.id.desc())
        if since is not None:
            query = query.where(orders.c.created_at >= since)
        if until is not None:
            query = query.where(orders.c.created_at <= until)
        return [int(i) for i in self.connection.execute(query.limit(limit)).scalars()]

    def customer_counts(self, customer_id: int | None) -> tuple[int, int]:
        """The customer's orders and returns (an order of nobody known: its own, and none)."""
        if customer_id is None:
            return 1, 0
        placed = self.connection.execute(
            sa.select(sa.func.count())
            .select_from(orders)
            .where(orders.c.customer_id == customer_id)
        ).scalar_one()
        returned = self.connection.execute(
            sa.select(sa.func.count())
            .select_from(returns.join(orders, returns.c.order_id == orders.c.id))
            .where(orders.c.customer_id == customer_id)
        ).scalar_one()
        return int(placed), int(returned)
