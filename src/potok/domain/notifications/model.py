"""Customer notifications: which business events reach the customer (a topic each), what a
message is, and what became of each one sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Topic(StrEnum):
    """A customer-visible step, one template each."""

    ORDER_ACCEPTED = "order_accepted"
    ORDER_CONFIRMED = "order_confirmed"
    ORDER_SHIPPED = "order_shipped"  # with the carrier and tracking number
    READY_FOR_PICKUP = "ready_for_pickup"  # with the pickup point's storage deadline
    ORDER_DELIVERED = "order_delivered"
    ORDER_CANCELLED = "order_cancelled"
    RETURN_RECEIVED = "return_received"
    REFUND_PAID = "refund_paid"


class Medium(StrEnum):
    """How a message reaches the customer; each has its own templates."""

    EMAIL = "email"  # a subject, a plain-text part and an HTML part
    SMS = "sms"  # one short text (SMS and messengers, through the HTTP provider)


class Language(StrEnum):
    RU = "ru"
    EN = "en"


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"
    FAILED = "failed"  # this attempt failed; it is tried again
    DEAD = "dead"  # given up after the last attempt
    SKIPPED = "skipped"  # not sent: no address, opted out, topic or channel turned off


EVENT_TOPICS: Mapping[str, Topic] = {
    "order.created": Topic.ORDER_ACCEPTED,
    "order.confirmed": Topic.ORDER_CONFIRMED,
    "shipment.handed_over": Topic.ORDER_SHIPPED,
    "shipment.ready_for_pickup": Topic.READY_FOR_PICKUP,
    "shipment.delivered": Topic.ORDER_DELIVERED,
    "order.cancelled": Topic.ORDER_CANCELLED,
    "return.received": Topic.RETURN_RECEIVED,
    "return.refund_changed": Topic.REFUND_PAID,
}
"""The outbox events that may reach a customer, and their topics."""


RULE_NOTICE = "order.notification_requested"
"""The event of an automation rule's ``notify`` action: its payload names the topic."""


def topic_for(event_type: str, payload: Mapping[str, Any]) -> Topic | None:
    """The topic of an event, or None when this one is not for the customer (a refund that
    is not paid yet, a status change of intake)."""
    if event_type == RULE_NOTICE:
        try:
            return Topic(str(payload.get("template")))
        except ValueError:
            return None
    topic = EVENT_TOPICS.get(event_type)
    if topic is Topic.REFUND_PAID and payload.get("refund_status") != "paid":
        return None
    return topic


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one customer, rendered."""

    topic: Topic
    language: Language
    to: str
    subject: str  # empty for SMS
    text: str
    html: str  # empty for SMS
    medium: Medium = Medium.EMAIL
    key: str = ""  # the event it answers: the same on every attempt, for deduplication
