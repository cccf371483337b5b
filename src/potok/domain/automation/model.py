"""Automation rules as data: when an order event arrives (the trigger), if the order meets
the condition, do the actions - in the rules' order, until one says stop.

A rule is checked whole when it is saved (:func:`check_rule`): an unknown field, a type
mismatch, a condition that can never be true, an action its trigger cannot take are
refused with the place named. Each save is a new version; firings name the version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from potok.domain.automation.expressions import (
    Condition,
    Mistake,
    compile_condition,
    named_values,
)
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.notifications import Topic
from potok.domain.orders import HoldType
from potok.domain.tasks import SKILL_PATTERN
from potok.domain.validation import CODE_PATTERN

MAX_ACTIONS = 10
MAX_PRIORITY = 9
"""An order's priority runs 0-9 (the orders table's CHECK): a rule may set no other."""
SCHEDULE = "schedule"
"""The trigger of a rule that runs on a schedule rather than on an order event."""


class Do(StrEnum):
    """What a rule may do to the order it matched."""

    HOLD = "hold"  # place a hold of a type
    RELEASE = "release"  # release the active hold of a type
    CONFIRM = "confirm"
    CANCEL = "cancel"  # with a reason
    SET_PRIORITY = "set_priority"
    ADD_TAG = "add_tag"
    REMOVE_TAG = "remove_tag"
    COMMENT = "comment"  # a note in the order's history
    ASSIGN = "assign"  # a task in a queue (to an operator, when named)
    NOTIFY = "notify"  # the customer gets a message of a template, after the commit
    WEBHOOK = "webhook"  # a webhook subscription gets the order's event, after the commit


CHANGES_STATE = frozenset({Do.HOLD, Do.RELEASE, Do.CONFIRM, Do.CANCEL, Do.SET_PRIORITY, Do.ASSIGN})
"""Actions that change what happens to the order, not only what is noted about it."""

TOUCHES: Mapping[Do, frozenset[str]] = {
    Do.ADD_TAG: frozenset({"tags"}),
    Do.REMOVE_TAG: frozenset({"tags"}),
    Do.SET_PRIORITY: frozenset({"priority"}),
    Do.ASSIGN: frozenset({"queues"}),
    Do.COMMENT: frozenset(),
    Do.NOTIFY: frozenset(),
    Do.WEBHOOK: frozenset(),
}
"""The condition fields (``fields.FIELDS``) each of these actions may change; an action
not named here (a hold, a release, confirming, cancelling) may change any of them. After
a rule acted, the fields it cannot have changed are not read again, and the rules after it
are not looked up again when none of the fields their guards name changed."""


def touched_by(actions: Sequence[Action]) -> frozenset[str] | None:
    """The condition fields these actions may change together (None: any of them)."""
    found: set[str] = set()
    for action in actions:
        fields = TOUCHES.get(action.do)
        if fields is None:
            return None
        found |= fields
    return frozenset(found)


TRIGGERS: Mapping[str, frozenset[Do]] = {
    "order.created": frozenset(Do),
    "order.payment_changed": frozenset(Do),
    "order.status_changed": frozenset(Do),
    "order.confirmed": frozenset(Do) - {Do.CONFIRM},
    "order.hold_placed": frozenset(Do) - {Do.CONFIRM},
    "order.hold_ended": frozenset(Do),
    "order.backordered": frozenset(Do),
    "order.reserved": frozenset(Do),
    "order.edited": frozenset(Do),
    "order.tagged": frozenset(Do),
    "order.note_added": frozenset(Do),
    "order.priority_changed": frozenset(Do),
    "order.cancelled": frozenset(Do) - CHANGES_STATE,
    SCHEDULE: frozenset(Do),
}
"""The order events a rule may wait for (or ``schedule``: every ``every_minutes`` over the
open orders), and what it may do on each (nothing but notes, tags, messages and webhooks
on a cancelled order; no confirming an order that was just confirmed or held)."""

MIN_EVERY_MINUTES, MAX_EVERY_MINUTES = 5, 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class Action:
    do: Do
    hold_type: HoldType | None = None
    reason: str | None = None
    priority: int | None = None
    tag: str | None = None
    text: str | None = None
    queue: str | None = None
    operator: str | None = None
    template: str | None = None  # notify: the notification topic whose template is sent
    subscription: int | None = None  # webhook: the subscription that gets the event
    skill: str | None = None  # assign: what whoever takes the task must be able to do

    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = {"do": self.do.value}
        for name in _NAMES:
            value = getattr(self, name)
            if value is not None:
                found[name] = value.value if isinstance(value, StrEnum) else value
        return found


_NAMES = (
    "hold_type",
    "reason",
    "priority",
    "tag",
    "text",
    "queue",
    "operator",
    "template",
    "subscription",
    "skill",
)


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule as its author writes it."""

    name: str
    trigger: str
    condition: str
    actions: Sequence[Mapping[str, Any]]
    stop: bool = False
    active: bool = True
    position: int | None = None  # where among the rules (the end when omitted)
    every_minutes: int | None = None  # a ``schedule`` rule: how often it runs


@dataclass(slots=True)
class Rule:
    id: int
    name: str
    version: int
    position: int
    trigger: str
    condition: Condition
    actions: tuple[Action, ...]
    stop: bool
    active: bool
    created_at: datetime
    updated_at: datetime
    updated_by: str
    disabled_reason: str | None = None
    every_minutes: int | None = None  # a ``schedule`` rule: how often it runs

    @property
    def touches(self) -> frozenset[str] | None:
        """The condition fields the rule's actions may change (None: any)."""
        return touched_by(self.actions)

    @property
    def label(self) -> str:
        """How the order's history names the rule: ``rule 3 v2 'Risky new orders'``."""
        return f"rule {self.id} v{self.version} '{self.name}'"

    def body(self) -> dict[str, Any]:
        """The rule as stored in its version row."""
        return {
            "name": self.name,
            "trigger": self.trigger,
            "condition": self.condition.text,
            "actions": [a.summary() for a in self.actions],
            "stop": self.stop,
            "active": self.active,
        } | ({"every_minutes": self.every_minutes} if self.every_minutes is not None else {})


@dataclass(frozen=True, slots=True)
class CheckedRule:
    name: str
    trigger: str
    condition: Condition
    actions: tuple[Action, ...]
    stop: bool
    active: bool
    position: int | None
    every_minutes: int | None = None


TOPICS = frozenset(t.value for t in Topic)
"""The notification templates (by topic) a rule may send."""

_ACTION_FIELDS: Mapping[Do, tuple[str, ...]] = {
    Do.HOLD: ("hold_type", "reason"),
    Do.RELEASE: ("hold_type",),
    Do.CONFIRM: (),
    Do.CANCEL: ("reason",),
    Do.SET_PRIORITY: ("priority",),
    Do.ADD_TAG: ("tag",),
    Do.REMOVE_TAG: ("tag",),
    Do.COMMENT: ("text",),
    Do.ASSIGN: ("queue",),
    Do.NOTIFY: ("template",),
    Do.WEBHOOK: ("subscription",),
}
_OPTIONAL: Mapping[Do, tuple[str, ...]] = {
    Do.ASSIGN: ("operator", "reason", "skill"),
    Do.CONFIRM: ("reason",),
}


CATEGORIES_FIELD = "items.categories"
"""The field whose values name categories (checked against the tree on save)."""


@dataclass(frozen=True, slots=True)
class Known:
    """What a rule may name that lives in the database: queues, webhook subscriptions,
    categories, operators (None: not checked)."""

    queues: frozenset[str] | None = None
    subscriptions: frozenset[int] | None = None
    categories: frozenset[str] | None = None  # those of the ones the condition names
    operators: frozenset[str] | None = None  # the active users a task may be given to


def check_rule(draft: RuleDraft, known: Known | None = None) -> CheckedRule:
    """The rule, checked whole; every mistake is listed with its place."""
    known = known or Known()
    errors: list[FieldError] = []
    name = draft.name.strip()
    if not name or len(name) > 120:
        errors.append(FieldError("name", "give the rule a name of 1-120 characters", "required"))
    allowed = TRIGGERS.get(draft.trigger)
    if allowed is None:
        errors.append(
            FieldError(
                "trigger",
                f"'{draft.trigger}' is not an event a rule may wait for; use one of "
                + ", ".join(sorted(TRIGGERS)),
                "unknown-trigger",
            )
        )
    _check_schedule(draft, errors)
    condition: Condition | None = None
    try:
        condition = compile_condition(draft.condition)
    except Mistake as mistake:
        e = mistake.error
        errors.append(
            FieldError(
                "condition", f"column {e.column}: {e.message}", e.code, at=e.column, end=e.end
            )
        )
    if condition is not None and known.categories is not None:
        for code, column, end in named_values(draft.condition, CATEGORIES_FIELD):
            if code not in known.categories:
                errors.append(
                    FieldError(
                        "condition",
                        f"column {column}: there is no category '{code}'",
                        "unknown-category",
                        at=column,
                        end=end,
                    )
                )
    actions: list[Action] = []
    if not draft.actions:
        errors.append(FieldError("actions", "a rule does at least one thing", "required"))
    if len(draft.actions) > MAX_ACTIONS:
        errors.append(FieldError("actions", f"at most {MAX_ACTIONS} actions", "too-many"))
    for index, raw in enumerate(draft.actions[:MAX_ACTIONS]):
        action = _action(f"actions[{index}]", raw, allowed, draft.trigger, known, errors)
        if action is not None:
            actions.append(action)
    _check_together(actions, errors)
    if errors:
        raise InvalidInput(errors)
    assert condition is not None
    return CheckedRule(
        name,
        draft.trigger,
        condition,
        tuple(actions),
        draft.stop,
        draft.active,
        draft.position,
        draft.every_minutes,
    )


def _check_schedule(draft: RuleDraft, errors: list[FieldError]) -> None:
    every = draft.every_minutes
    if draft.trigger != SCHEDULE:
        if every is not None:
            errors.append(
                FieldError(
                    "every_minutes",
                    f"only a rule on '{SCHEDULE}' runs every so many minutes",
                    "not-on-trigger",
                )
            )
        return
    if every is None:
        errors.append(
            FieldError("every_minutes", "say how often the rule runs, in minutes", "required")
        )
    elif isinstance(every, bool) or not MIN_EVERY_MINUTES <= every <= MAX_EVERY_MINUTES:
        errors.append(
            FieldError(
                "every_minutes",
                f"from {MIN_EVERY_MINUTES} minutes to {MAX_EVERY_MINUTES} (a week)",
                "out-of-range",
            )
        )


def _action(
    where: str,
    raw: Mapping[str, Any],
    allowed: frozenset[Do] | None,
    trigger: str,
    known: Known,
    errors: list[FieldError],
) -> Action | None:
    try:
        do = Do(str(raw.get("do")))
    except ValueError:
        errors.append(
            FieldError(
                f"{where}.do",
                f"'{raw.get('do')}' is not an action; use one of {', '.join(d.value for d in Do)}",
                "unknown-action",
            )
        )
        return None
    if allowed is not None and do not in allowed:
        errors.append(
            FieldError(f"{where}.do", f"a rule on {trigger} cannot {do.value}", "not-on-trigger")
        )
    needed, optional = _ACTION_FIELDS[do], _OPTIONAL.get(do, ())
    extra = sorted(set(raw) - {"do", *needed, *optional})
    for name in extra:
        errors.append(
            FieldError(f"{where}.{name}", f"{do.value} takes no '{name}'", "unknown-field")
        )
    for name in needed:
        if raw.get(name) in (None, ""):
            errors.append(FieldError(f"{where}.{name}", f"{do.value} needs '{name}'", "required"))
    values: dict[str, Any] = {}
    for name in (*needed, *optional):
        value = raw.get(name)
        if value is None:
            continue
        checked = _value(f"{where}.{name}", name, value, known, errors)
        if checked is not None:
            values[name] = checked
    if len(errors) and any(e.field.startswith(where) for e in errors):
        return None
    return Action(do, **values)


def _value(where: str, name: str, value: Any, known: Known, errors: list[FieldError]) -> Any:
    if name == "hold_type":
        try:
            return HoldType(value)
        except ValueError:
            types = ", ".join(t.value for t in HoldType)
            errors.append(FieldError(where, f"use one of {types}", "unknown-hold-type"))
            return None
    if name == "priority":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRIORITY:
            errors.append(FieldError(where, f"a whole number 0-{MAX_PRIORITY}", "out-of-range"))
            return None
        return value
    if name == "subscription":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(FieldError(where, "a webhook subscription's id", "out-of-range"))
            return None
        if known.subscriptions is not None and value not in known.subscriptions:
            errors.append(
                FieldError(where, f"no webhook subscription {value}", "unknown-subscription")
            )
            return None
        return value
    if name == "template":
        if value not in TOPICS:
            errors.append(
                FieldError(where, f"use one of {', '.join(sorted(TOPICS))}", "unknown-template")
            )
            return None
        return value
    if not isinstance(value, str) or len(value) > 500 or not value.strip():
        errors.append(FieldError(where, "text of 1-500 characters", "bad-text"))
        return None
    if name == "skill":
        if not SKILL_PATTERN.fullmatch(value):
            errors.append(
                FieldError(
                    where,
                    "a skill is 1-80 letters, digits, '.', '_', ':', '-' or '/', e.g. en",
                    "bad-skill",
                )
            )
            return None
        return value
    if name in ("tag", "queue", "operator") and not CODE_PATTERN.fullmatch(value):
        errors.append(FieldError(where, "1-64 letters, digits, '.', '_', '-' or '/'", "bad-code"))
        return None
    operators = known.operators
    if name == "operator" and operators is not None and value not in operators:
        errors.append(FieldError(where, f"no active user '{value}'", "unknown-user"))
        return None
    queues = known.queues
    if name == "queue" and queues is not None and value not in queues:
        named = ", ".join(sorted(queues)) or "none yet"
        errors.append(FieldError(where, f"no queue '{value}' (queues: {named})", "unknown-queue"))
        return None
    return value


def _check_together(actions: list[Action], errors: list[FieldError]) -> None:
    """Actions that undo each other in one rule are a mistake."""
    dos = {a.do for a in actions}
    if Do.CANCEL in dos and (dos & {Do.CONFIRM, Do.HOLD, Do.RELEASE}):
        errors.append(
            FieldError(
                "actions",
                "a rule that cancels cannot also confirm, hold or release",
                "contradictory",
            )
        )
    if Do.CONFIRM in dos and Do.HOLD in dos:
        errors.append(FieldError("actions", "a rule cannot both hold and confirm", "contradictory"))
    for tag in {a.tag for a in actions if a.do is Do.ADD_TAG}:
        if any(a.do is Do.REMOVE_TAG and a.tag == tag for a in actions):
            errors.append(
                FieldError("actions", f"the rule adds and removes the tag '{tag}'", "contradictory")
            )


@dataclass(frozen=True, slots=True)
class Firing:
    """What one rule did (or would do) to one order on one event."""

    rule_id: int
    rule_version: int
    order_id: int
    event_id: str
    fired_at: datetime
    actions: tuple[dict[str, Any], ...]
    outcome: str  # done, skipped (nothing to do), failed, loop-stopped
    chain: tuple[int, ...] = field(default_factory=tuple)  # rules whose firings led here
