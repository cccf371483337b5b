"""Automation rules, their versions and firings, and orders' tags."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from potok.db.arrays import TEXTS, array_parameter
from potok.db.engine import is_sqlite
from potok.db.pg import Section, int_array, text_array
from potok.db.tables import (
    automation_firings,
    automation_rule_versions,
    automation_rules,
    order_lines,
    order_tags,
    orders,
    product_categories,
    product_category_links,
    returns,
    task_queues,
    tasks,
)
from potok.domain.automation.expressions import Condition, stored_condition
from potok.domain.automation.model import SCHEDULE, Action, CheckedRule, Do, Firing, Rule
from potok.domain.catalogue.categories import with_ancestors
from potok.domain.orders import HoldType
from potok.services.automation_ports import OrderContext, RuleVersion

_UNFINISHED = ("open", "claimed")
Among = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]
"""Chooses the rows of the orders asked for, by a column holding their ids."""


def _contexts(among: Among) -> sa.CompoundSelect[Any]:
    """Rows of (order, what, name, count) for the orders ``among`` chooses: its
    customer's orders and returns, its tags, the queues of its unfinished tasks (built
    once: the statement runs on every order event that some rule waits for)."""
    mine, theirs = orders.alias("mine"), orders.alias("theirs")
    same_customer = theirs.c.customer_id == mine.c.customer_id
    no_name = sa.cast(sa.null(), sa.String(64))
    zero = sa.cast(sa.literal_column("0"), sa.Integer())
    placed = (
        sa.select(mine.c.id, sa.literal_column("'orders'"), no_name, sa.func.count())
        .select_from(mine.join(theirs, same_customer))
        .where(among(mine.c.id))
        .group_by(mine.c.id)
    )
    returned = (
        sa.select(mine.c.id, sa.literal_column("'returns'"), no_name, sa.func.count())
        .select_from(
            mine.join(theirs, same_customer).join(returns, returns.c.order_id == theirs.c.id)
        )
        .where(among(mine.c.id))
        .group_by(mine.c.id)
    )
    tagged = sa.select(
        order_tags.c.order_id, sa.literal_column("'tag'"), order_tags.c.tag, zero
    ).where(among(order_tags.c.order_id))
    queued = (
        sa.select(tasks.c.order_id, sa.literal_column("'queue'"), task_queues.c.code, zero)
        .select_from(tasks.join(task_queues, task_queues.c.id == tasks.c.queue_id))
        .where(
            among(tasks.c.order_id),
            tasks.c.state.in_(_UNFINISHED),
        )
    )
    categorised = (
        sa.select(
            order_lines.c.order_id,
            sa.literal_column("'category'"),
            product_categories.c.path,
            zero,
        )
        .select_from(
            order_lines.join(
                product_category_links,
                product_category_links.c.product_id == order_lines.c.product_id,
            ).join(
                product_categories,
                product_categories.c.code == product_category_links.c.category,
            )
        )
        .where(among(order_lines.c.order_id))
    )
    return sa.union_all(placed, returned, tagged, queued, categorised)


# SQLite: the ids as one expanding parameter; PostgreSQL: as one array (``= ANY``), the
# statement's text the same whatever the count, so the driver prepares it once and the
# server keeps its plan (``db/repositories/orders.py`` reads orders the same way)
_CONTEXTS = _contexts(lambda column: column.in_(sa.bindparam("ids", expanding=True)))
_CONTEXTS_ARRAY = _contexts(lambda column: column == sa.any_(array_parameter("ids")))
_FIRINGS = sa.select(automation_firings).where(
    automation_firings.c.order_id.in_(sa.bindparam("orders", expanding=True)),
    sa.or_(
        automation_firings.c.event_id.in_(sa.bindparam("events", expanding=True)),
        automation_firings.c.fired_at.in_(sa.bindparam("instants", expanding=True)),
    ),
)
_FIRINGS_ARRAY = sa.select(automation_firings).where(
    automation_firings.c.order_id == sa.any_(array_parameter("orders")),
    sa.or_(
        automation_firings.c.event_id == sa.any_(array_parameter("events", TEXTS)),
        automation_firings.c.fired_at
        == sa.any_(sa.bindparam("instants", type_=ARRAY(sa.DateTime(timezone=True)))),
    ),
)
_STAMP = sa.select(  # what changes whenever a rule does (every change raises its version)
    sa.func.count(),
    sa.func.sum(automation_rules.c.version),
    sa.func.max(automation_rules.c.updated_at),
)
_INSERT_TAGS = sa.insert(order_tags)
_INSERT_FIRINGS = sa.insert(automation_firings)


@lru_cache(maxsize=4096)
def _condition(text: str) -> Condition:
    """A stored condition, compiled once per process (it was checked when it was saved)."""
    return stored_condition(text)


_KEPT: dict[str, tuple[tuple[Any, ...], dict[str, tuple[Rule, ...]]]] = {}
"""The active rules by trigger as last read, by database, with their stamp."""


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
        every_minutes=row.every_minutes,
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
    def __init__(self, connection: sa.Connection, staged: list[Section] | None = None) -> None:
        self.connection = connection
        self.staged = staged  # PostgreSQL: rows written with the commit's own statement
        self._active: dict[str, tuple[Rule, ...]] | None = None  # as read in this transaction

    # ------------------------------------------------------------------ rules

    def active_rules(self) -> dict[str, tuple[Rule, ...]]:
        """The active rules by trigger, each trigger's in order; kept per process while
        the rules' stamp (how many, the sum of their versions, the last change) stays the
        same - every change of a rule raises its version. One statement while it holds,
        none when asked again in the same transaction (unless it changed a rule)."""
        if self._active is None:
            self._active = self._active_rules()
        return self._active

    def _active_rules(self) -> dict[str, tuple[Rule, ...]]:
        rules = automation_rules.c
        stamp = tuple(self.connection.execute(_STAMP).one())
        key = str(self.connection.engine.url)
        kept = _KEPT.get(key)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        rows = self.connection.execute(
            sa.select(automation_rules)
            .where(rules.active.is_(True))
            .order_by(rules.position, rules.id)
        ).all()
        found: dict[str, list[Rule]] = {}
        for row in rows:
            found.setdefault(row.trigger, []).append(_rule(row))
        by_trigger = {trigger: tuple(each) for trigger, each in found.items()}
        _KEPT[key] = (stamp, by_trigger)
        return by_trigger

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
        self._active = None
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
                every_minutes=rule.every_minutes,
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
            every_minutes=rule.every_minutes,
        )
        self._keep_version(stored, at, actor)
        return stored

    def save(self, rule: Rule, at: datetime, actor: str) -> None:
        """Write the rule as its next version (its number already raised by the caller)."""
        self._active = None
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
                every_minutes=rule.every_minutes,
                next_run_at=None,  # a changed schedule runs at the next round of the jobs
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

    def due_schedules(self, now: datetime) -> list[tuple[Rule, datetime | None]]:
        """The active schedule rules whose time has come, in their order, each with the
        moment it was due (None: never run since it was saved)."""
        rules = automation_rules.c
        rows = self.connection.execute(
            sa.select(automation_rules)
            .where(
                rules.active.is_(True),
                rules.trigger == SCHEDULE,
                sa.or_(rules.next_run_at.is_(None), rules.next_run_at <= now),
            )
            .order_by(rules.position, rules.id)
        ).all()
        return [(_rule(row), row.next_run_at) for row in rows]

    def claim_schedule(
        self, rule_id: int, version: int, due: datetime | None, next_run_at: datetime
    ) -> bool:
        """Move the rule's next run on, if it is still the version and the moment read
        (compare-and-set): of several processes only one wins each run."""
        rules = automation_rules.c
        was = rules.next_run_at.is_(None) if due is None else rules.next_run_at == due
        result = self.connection.execute(
            sa.update(automation_rules)
            .where(rules.id == rule_id, rules.version == version, rules.active.is_(True), was)
            .values(next_run_at=next_run_at)
        )
        return result.rowcount == 1

    def open_order_ids(self, *, after: int, limit: int, closed: Iterable[str]) -> list[int]:
        """Orders not in these (closed) statuses, by id after ``after``, at most ``limit``."""
        return [
            int(i)
            for i in self.connection.execute(
                sa.select(orders.c.id)
                .where(orders.c.id > after, orders.c.status.not_in(sorted(closed)))
                .order_by(orders.c.id)
                .limit(limit)
            ).scalars()
        ]

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

    def firings_of(
        self, order_ids: Iterable[int], event_ids: Iterable[str], times: Iterable[datetime]
    ) -> tuple[set[tuple[int, str]], dict[tuple[int, datetime], list[Firing]]]:
        """For these orders, in one statement: which rules fired on which of these events
        already, and the firings at these instants (by order and instant) - those that
        made the events."""
        wanted, events = sorted(set(order_ids)), sorted(set(event_ids))
        instants = sorted(set(times))
        if not wanted or not (events or instants):
            return set(), {}
        if is_sqlite(self.connection):
            rows = self.connection.execute(
                _FIRINGS, {"orders": wanted, "events": events, "instants": instants}
            )
        else:
            given = {"orders": int_array(wanted), "events": text_array(events)}
            rows = self.connection.execute(_FIRINGS_ARRAY, given | {"instants": instants})
        fired: set[tuple[int, str]] = set()
        around: dict[tuple[int, datetime], list[Firing]] = {}
        chosen, at = set(events), set(instants)
        for row in rows:
            firing = _firing(row)
            if firing.event_id in chosen:
                fired.add((firing.rule_id, firing.event_id))
            if firing.fired_at in at:
                around.setdefault((firing.order_id, firing.fired_at), []).append(firing)
        return fired, around

    def add_firings(self, firings: Iterable[Firing]) -> None:
        rows = [
            {
                "rule_id": f.rule_id,
                "rule_version": f.rule_version,
                "order_id": f.order_id,
                "event_id": f.event_id,
                "fired_at": f.fired_at,
                "outcome": f.outcome,
                "actions": list(f.actions),
                "chain": list(f.chain),
            }
            for f in firings
        ]
        if not rows:
            return
        if self.staged is not None:
            self.staged.append((automation_firings, rows))
        else:
            self.connection.execute(_INSERT_FIRINGS, rows)

    def firings_for_order(self, order_id: int) -> list[Firing]:
        rows = self.connection.execute(
            sa.select(automation_firings)
            .where(automation_firings.c.order_id == order_id)
            .order_by(automation_firings.c.id)
        ).all()
        return [_firing(r) for r in rows]

    # ------------------------------------------------------------------ tags and context

    def retag(self, tags: Mapping[int, tuple[Set[str], Set[str]]], at: datetime) -> None:
        """Each order's tags from what they were (first) to what they are (second): the
        tags gained in one insert - staged on PostgreSQL, to go with the commit -, those
        lost in one delete."""
        gained = [
            {"order_id": order_id, "tag": tag, "tagged_at": at}
            for order_id, (before, after) in sorted(tags.items())
            for tag in sorted(after - before)
        ]
        lost = [
            (order_id, tag)
            for order_id, (before, after) in sorted(tags.items())
            for tag in sorted(before - after)
        ]
        if lost:
            self.connection.execute(
                sa.delete(order_tags).where(
                    sa.tuple_(order_tags.c.order_id, order_tags.c.tag).in_(lost)
                )
            )
        if not gained:
            return
        if self.staged is not None:
            self.staged.append((order_tags, gained))
        else:
            self.connection.execute(_INSERT_TAGS, gained)

    def contexts(self, order_ids: Iterable[int]) -> dict[int, OrderContext]:
        """What conditions ask about each order beyond the order itself - its customer's
        orders and returns, its tags, the queues with an unfinished task of it - in one
        statement for all of them."""
        wanted = sorted(set(order_ids))
        if not wanted:
            return {}
        counts: dict[int, dict[str, int]] = {i: {} for i in wanted}
        names: dict[int, dict[str, set[str]]] = {
            i: {"tag": set(), "queue": set(), "category": set()} for i in wanted
        }
        if is_sqlite(self.connection):
            rows = self.connection.execute(_CONTEXTS, {"ids": wanted})
        else:
            rows = self.connection.execute(_CONTEXTS_ARRAY, {"ids": int_array(wanted)})
        for order_id, what, name, number in rows:
            if what in ("orders", "returns"):
                counts[int(order_id)][what] = int(number)
            else:
                names[int(order_id)][what].add(name)
        return {
            i: OrderContext(
                customer_orders=counts[i].get("orders", 1),
                customer_returns=counts[i].get("returns", 0),
                tags=frozenset(names[i]["tag"]),
                queues=frozenset(names[i]["queue"]),
                categories=with_ancestors(list(names[i]["category"])),
            )
            for i in wanted
        }

    def order_ids(self, *, since: datetime | None, until: datetime | None, limit: int) -> list[int]:
        """Orders taken in ``[since, until]`` (either open), newest first, at most ``limit``."""
        query = sa.select(orders.c.id).order_by(orders.c.created_at.desc(), orders.c.id.desc())
        if since is not None:
            query = query.where(orders.c.created_at >= since)
        if until is not None:
            query = query.where(orders.c.created_at <= until)
        return [int(i) for i in self.connection.execute(query.limit(limit)).scalars()]
