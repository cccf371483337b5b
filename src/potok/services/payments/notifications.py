"""ЮKassa's notifications (``payment.waiting_for_capture``, ``payment.succeeded``,
``payment.canceled``, ``refund.succeeded``), taken at Potok's endpoint.

ЮKassa signs nothing. A notification is believed only so far as to say *which* payment or
refund to look at: the endpoint takes it only from ЮKassa's published networks (a setting),
and the object is then read back from ЮKassa's API with the shop's own credentials - what
that answer says is applied, never what the notification says. So a forged notification
(from outside the networks, about an unknown object, or claiming a status the API does not
confirm) changes nothing, and a repeated one (ЮKassa retries until it gets a 200) applies
nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from potok.connectors.payments import GatewayDown, GatewayRefused
from potok.connectors.payments.yookassa import CODE as YOOKASSA
from potok.domain.payments import NotificationMalformed
from potok.services.outside import Outside
from potok.services.payments.applying import apply_payment_seen, apply_refund_seen
from potok.services.payments.flow import Plan
from potok.services.unit_of_work import UnitOfWork, atomically, reading

PAYMENT_EVENTS = frozenset({"payment.waiting_for_capture", "payment.succeeded", "payment.canceled"})
REFUND_EVENTS = frozenset({"refund.succeeded"})
MAX_ID = 64


@dataclass(frozen=True, slots=True)
class Notification:
    event: str
    object_id: str
    payment_id: str  # the payment's id (a refund's payment for refund events)


@dataclass(frozen=True, slots=True)
class Taken:
    """What came of a notification: ``applied`` (something moved), ``unchanged`` (old or
    repeated news), ``ignored`` (not about a payment of Potok's), or ``unavailable`` (ЮKassa
    could not be asked back: answered so that ЮKassa sends it again)."""

    outcome: str
    order_id: int | None = None
    detail: str = ""


def read_notification(body: Any) -> Notification:
    """The parts of a notification Potok needs; NotificationMalformed otherwise."""
    if not isinstance(body, dict) or body.get("type") != "notification":
        raise NotificationMalformed(why='not a notification: "type" must be "notification"')
    event = body.get("event")
    found = body.get("object")
    if not isinstance(event, str) or not isinstance(found, dict):
        raise NotificationMalformed(why='a notification carries an "event" and an "object"')
    object_id = found.get("id")
    if not isinstance(object_id, str) or not 1 <= len(object_id) <= MAX_ID:
        raise NotificationMalformed(why='the notification\'s object has no "id"')
    payment_id = found.get("payment_id") if event in REFUND_EVENTS else object_id
    if not isinstance(payment_id, str) or not 1 <= len(payment_id) <= MAX_ID:
        raise NotificationMalformed(why='the refund\'s object has no "payment_id"')
    return Notification(event, object_id, payment_id)


def take_notification(outside: Outside, notification: Notification) -> Taken:
    """Read the object back from ЮKassa and apply what it says, once."""
    if notification.event not in PAYMENT_EVENTS | REFUND_EVENTS:
        return Taken("ignored", detail=f"Potok does not follow {notification.event}")

    def look(uow: UnitOfWork) -> tuple[int, Plan] | None:
        payment = uow.payments.by_gateway_id(YOOKASSA, notification.payment_id)
        if payment is None:
            return None
        order = uow.orders.get(payment.order_id)
        account = uow.payments.account(order.channel_id) if order is not None else None
        if order is None or account is None:
            return None
        key = uow.payments.key(order.channel_id)
        return payment.order_id, Plan(account, key, payment.amount, payment.currency, payment)

    found = reading(outside.uow(), look)
    if found is None:
        return Taken("ignored", detail="no payment of Potok's has this id")
    order_id, plan = found
    payment = plan.payment
    assert payment is not None
    gateway = outside.gateways.get(plan.account.gateway, plan.key)
    at = outside.clock()
    try:
        if notification.event in REFUND_EVENTS:
            refund = next(
                (r for r in payment.refunds if r.gateway_id == notification.object_id), None
            )
            if refund is None:
                return Taken("ignored", order_id, "no refund of Potok's has this id")
            seen_refund = gateway.get_refund(notification.object_id)
            if seen_refund.payment_id != notification.payment_id:
                return Taken("ignored", order_id, "the refund belongs to another payment")
            number = refund.return_number
            changed = atomically(
                outside.uow(),
                lambda uow: apply_refund_seen(uow, order_id, number, seen_refund, at),
            )
        else:
            seen = gateway.get_payment(notification.payment_id)
            changed = atomically(
                outside.uow(), lambda uow: apply_payment_seen(uow, order_id, seen, at)
            )
    except GatewayDown as error:
        return Taken("unavailable", order_id, error.reason)
    except GatewayRefused as error:  # ЮKassa does not know it for this shop: not ours
        return Taken("ignored", order_id, error.reason)
    return Taken("applied" if changed else "unchanged", order_id)
