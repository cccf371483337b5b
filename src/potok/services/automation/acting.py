"""What a rule's actions do to an order, through the same steps the operators' use cases
take (``services/orders.py``), inside the transaction that records the rule's firing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from potok.domain.automation.events import OrderNotificationRequested, OrderWebhookRequested
from potok.domain.automation.fields import OrderFacts
from potok.domain.automation.model import Action, Do, Rule
from potok.domain.orders import Order
from potok.domain.orders.actions import Action as Allowed
from potok.domain.orders.actions import available_actions
from potok.services.automation_ports import OrderContext
from potok.services.orders import cancel_loaded, release_loaded
from potok.services.tasks import create_task_loaded
from potok.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Done:
    """One action and what became of it: ``done`` or ``skipped`` (with why)."""

    action: Action
    outcome: str
    why: str | None = None

    def summary(self) -> dict[str, Any]:
        found = self.action.summary() | {"outcome": self.outcome}
        if self.why:
            found["why"] = self.why
        return found


def facts_of(uow: UnitOfWork, order: Order, at: datetime) -> OrderFacts:
    """The order and what a condition may ask about around it."""
    assert order.id is not None
    return facts_with(order, at, uow.automation.contexts([order.id])[order.id])


def facts_with(order: Order, at: datetime, context: OrderContext) -> OrderFacts:
    """The order and its context (read for many orders at once) as a condition sees them."""
    return OrderFacts(
        order,
        at,
        context.customer_orders,
        context.customer_returns,
        context.tags,
        context.queues,
        context.categories,
    )


def plan(action: Action, facts: OrderFacts) -> Done:
    """What the action would do to the order as it is: done, or skipped and why."""
    order = facts.order
    # what the order's states allow is asked only by the actions that change its state
    # (a tag, a note or a priority does not need it: most rules do only those)
    if action.do is Do.HOLD:
        if any(h.type is action.hold_type for h in order.active_holds):
            return Done(action, "skipped", "the order has this hold already")
        if Allowed.HOLD not in available_actions(order):
            return Done(action, "skipped", f"a {order.status.value} order cannot be held")
    elif action.do is Do.RELEASE:
        if not any(h.type is action.hold_type for h in order.active_holds):
            return Done(action, "skipped", "the order has no such hold")
    elif action.do is Do.CONFIRM:
        if Allowed.CONFIRM not in available_actions(order):
            return Done(action, "skipped", f"a {order.status.value} order cannot be confirmed")
    elif action.do is Do.CANCEL:
        if Allowed.CANCEL not in available_actions(order):
            return Done(action, "skipped", f"a {order.status.value} order cannot be cancelled")
    elif action.do is Do.SET_PRIORITY:
        if order.priority == action.priority:
            return Done(action, "skipped", "the order has this priority already")
    elif action.do is Do.ADD_TAG:
        if action.tag in facts.tags:
            return Done(action, "skipped", "the order has this tag already")
    elif action.do is Do.REMOVE_TAG:
        if action.tag not in facts.tags:
            return Done(action, "skipped", "the order has no such tag")
    elif action.do is Do.ASSIGN and action.queue in facts.queues:
        return Done(action, "skipped", "the order has an unfinished task in this queue")
    return Done(action, "done")


def act(
    uow: UnitOfWork, rule: Rule, facts: OrderFacts, at: datetime, actor: str
) -> tuple[list[Done], OrderFacts]:
    """Do the rule's actions to the (locked) order; each change goes into its history with
    the rule named, and its events into the outbox, in the caller's transaction - a tag's
    and a note's without an audit row of their own: the firing's ``rule.fired`` row lists
    them with the rule and its version. Returns
    what each action did and the facts as they are after it (the tags there are the
    caller's to write: see ``AutomationStore.retag``)."""
    order = facts.order
    assert order.id is not None
    tags = set(facts.tags)
    queues = facts.queues
    results: list[Done] = []
    for action in rule.actions:
        now = OrderFacts(
            order,
            at,
            facts.customer_orders,
            facts.customer_returns,
            frozenset(tags),
            queues,
            facts.categories,
        )
        step = plan(action, now)
        results.append(step)
        if step.outcome != "done":
            continue
        why = f"{rule.label}" + (f": {action.reason}" if action.reason else "")
        if action.do is Do.HOLD:
            assert action.hold_type is not None
            order.place_hold(action.hold_type, why, at, actor)
        elif action.do is Do.RELEASE:
            hold = next(h for h in order.active_holds if h.type is action.hold_type)
            release_loaded(uow, order, hold.hold_no, at, actor, why)
        elif action.do is Do.CONFIRM:
            order.confirm(at, actor, automatically=True, reason=why)
        elif action.do is Do.CANCEL:
            cancel_loaded(uow, order, at, actor, why)
        elif action.do is Do.SET_PRIORITY:
            assert action.priority is not None
            order.set_priority(action.priority, at, actor, why)
        elif action.do is Do.ADD_TAG:
            assert action.tag is not None
            tags.add(action.tag)  # written with the window's other tags (``running.py``)
            uow.unaudited(order.note_tags([action.tag], [], at, actor, rule_id=rule.id))
        elif action.do is Do.REMOVE_TAG:
            assert action.tag is not None
            tags.discard(action.tag)
            uow.unaudited(order.note_tags([], [action.tag], at, actor, rule_id=rule.id))
        elif action.do is Do.ASSIGN:
            assert action.queue is not None
            create_task_loaded(
                uow,
                action.queue,
                order.id,
                action.reason or rule.name,
                at,
                actor,
                operator=action.operator,
                skills=(action.skill,) if action.skill else (),
                channel=order.channel_code,
            )
            queues = queues | {action.queue}
        elif action.do is Do.COMMENT:
            assert action.text is not None
            note = order.add_note(
                action.text, at, actor, rule_id=rule.id, rule_version=rule.version
            )
            uow.unaudited(note)
        elif action.do is Do.NOTIFY:
            assert action.template is not None
            uow.record(
                OrderNotificationRequested(
                    occurred_at=at,
                    order_id=order.id,
                    rule_id=rule.id,
                    rule_version=rule.version,
                    template=action.template,
                )
            )
        elif action.do is Do.WEBHOOK:
            assert action.subscription is not None
            uow.record(
                OrderWebhookRequested(
                    occurred_at=at,
                    order_id=order.id,
                    rule_id=rule.id,
                    rule_version=rule.version,
                    subscription_id=action.subscription,
                    status=order.status.value,
                    total=str(order.total.amount),
                    tags=sorted(tags),
                )
            )
    after = OrderFacts(
        order,
        facts.at,
        facts.customer_orders,
        facts.customer_returns,
        frozenset(tags),
        queues,
        facts.categories,
    )
    return results, after
