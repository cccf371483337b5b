"""Customer notifications as a reaction after commit: for an outbox event a customer should
hear about, the message to send (rendered from its topic's template in the customer's
language), or why none is sent; the record of every attempt; opt-outs; the log.

Nothing here sends: the dispatcher (``worker/dispatcher.py``) reads the events, asks for
the message, sends it outside any transaction, and records the attempt with its cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.notifications import Language, Message, Outcome, Topic, topic_for
from potok.domain.notifications.templates import Medium
from potok.domain.orders import Order
from potok.domain.webhooks import StoredEvent
from potok.renderers.message_templates import render
from potok.security.masking import mask_email
from potok.services.notification_ports import SentRecord
from potok.services.notification_templates import stored_source
from potok.services.public_tracking import ensure_token
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MEDIUM = "email"
MAX_ADDRESS = 254


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    """What the shop sends: the language per channel, topics and channels turned off."""

    language: Language = Language.RU
    by_channel: Mapping[str, Language] = field(default_factory=dict)
    topics_off: frozenset[str] = frozenset()
    channels_off: frozenset[str] = frozenset()
    shop: str = "Potok"
    tracking_url: str | None = None  # the public base address, for tracking links

    def language_for(self, channel: str) -> Language:
        return self.by_channel.get(channel, self.language)


@dataclass(frozen=True, slots=True)
class Draft:
    """What to do about one event: a message to send, or why there is none."""

    event: StoredEvent
    topic: Topic
    language: Language
    order_id: int | None
    message: Message | None
    skipped: str | None = None

    @property
    def template(self) -> str:
        return f"{self.language.value}/{self.topic.value}"


def _money(amount: Any) -> str:
    return f"{Decimal(str(amount)):.2f}"


def _moment(text: Any) -> str:
    if not text:
        return ""
    moment = datetime.fromisoformat(str(text))
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _context(
    uow: UnitOfWork,
    order: Order,
    topic: Topic,
    payload: Mapping[str, Any],
    policy: NotificationPolicy,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "order_id": order.id,
        "first_name": (order.contact.name or "").split(" ")[0],
        "total": _money(order.total.amount),
        "currency": order.currency,
        "shop": policy.shop,
        "reason": payload.get("reason") or "",
        "tracking_url": tracking_link(uow, order, policy),
    }
    if topic in (Topic.ORDER_SHIPPED, Topic.READY_FOR_PICKUP):
        context["carrier"] = payload.get("carrier") or ""
        context["tracking_number"] = payload.get("tracking_number") or ""
        shipment = uow.shipments.get(int(payload["shipment_id"]))
        if shipment is not None and shipment.eta_on is not None:
            context["eta_on"] = shipment.eta_on.isoformat()
        context["storage_until"] = _moment(payload.get("storage_until"))
        code = order.delivery.pickup_point_code
        if code:
            point = uow.warehouses.get_by_code(code)
            context["pickup_point"] = point.name if point else code
            context["pickup_address"] = (
                ", ".join(p for p in (point.city, point.address) if p) if point else ""
            )
    if topic in (Topic.RETURN_RECEIVED, Topic.REFUND_PAID):
        context["return_number"] = payload.get("number") or ""
        context["refund_amount"] = _money(payload.get("refund_amount") or 0)
    return context


def tracking_link(uow: UnitOfWork, order: Order, policy: NotificationPolicy) -> str:
    """The order's public tracking page, when Potok's public address is set (its token is
    made on first use)."""
    if not policy.tracking_url or order.id is None:
        return ""
    token = ensure_token(uow, order.id, utc_now())
    return f"{policy.tracking_url.rstrip('/')}/track/{token}"


def compose(uow: UnitOfWork, event: StoredEvent, policy: NotificationPolicy) -> Draft | None:
    """The message an event calls for, a draft saying why none is sent, or None when the
    event is not for customers at all. (A write transaction: the order's tracking token may
    be made for the link.)"""
    topic = topic_for(event.type, event.payload)
    if topic is None:
        return None

    def work(uow: UnitOfWork) -> Draft:
        order_id = event.payload.get("order_id")
        order = uow.orders.get(int(order_id)) if order_id is not None else None
        language = policy.language_for(order.channel_code if order else "")
        draft = Draft(event, topic, language, order.id if order else None, None)

        def skip(why: str) -> Draft:
            return Draft(event, topic, language, draft.order_id, None, why)

        if order is None:
            return skip("the order is gone")
        if topic.value in policy.topics_off:
            return skip(f"{topic.value} is turned off")
        if order.channel_code in policy.channels_off:
            return skip(f"channel {order.channel_code} sends no notifications")
        address = order.contact.email
        if not address:
            return skip("the order has no e-mail address")
        if uow.notifications.opted_out(address):
            return skip("the customer opted out")
        stored = stored_source(uow, topic, language, Medium.EMAIL)
        subject, text, html = render(
            topic, language, _context(uow, order, topic, event.payload, policy), source=stored
        )
        return Draft(
            event, topic, language, order.id, Message(topic, language, address, subject, text, html)
        )

    return atomically(uow, work)


def attempt_record(
    draft: Draft, outcome: Outcome, attempt: int, at: datetime, error: str | None = None
) -> SentRecord:
    """The log entry of one attempt, the address masked."""
    message = draft.message
    return SentRecord(
        event_id=draft.event.event_id,
        event_type=draft.event.type,
        topic=draft.topic.value,
        medium=MEDIUM,
        order_id=draft.order_id,
        recipient=mask_email(message.to) if message else None,
        language=draft.language.value,
        template=draft.template,
        subject=message.subject if message else "",
        outcome=outcome.value,
        attempt=attempt,
        error=error or draft.skipped,
        created_at=at,
    )


# ---------------------------------------------------------------------- opt-outs and the log


def _address(address: str) -> str:
    address = address.strip()
    if not 3 <= len(address) <= MAX_ADDRESS or "@" not in address:
        raise InvalidInput([FieldError("email", "an e-mail address", "invalid-email")])
    return address


def opt_out(uow: UnitOfWork, address: str, actor: Actor, *, clock: Clock = utc_now) -> bool:
    """The customer wants no more messages at this address; False if already so."""
    checked = _address(address)
    return atomically(uow, lambda uow: uow.notifications.opt_out(checked, clock(), str(actor)))


def opt_in(uow: UnitOfWork, address: str) -> bool:
    """Messages may go to this address again; False if it had not opted out."""
    checked = _address(address)
    return atomically(uow, lambda uow: uow.notifications.opt_in(checked))


def list_sent(
    uow: UnitOfWork,
    *,
    order_id: int | None = None,
    outcome: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[SentRecord], str | None]:
    """Message attempts, newest first."""
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise InvalidInput(
            [FieldError("outcome", "sent, failed, dead or skipped", "unknown-outcome")]
        )
    return reading(
        uow,
        lambda uow: uow.notifications.list_page(
            order_id=order_id, outcome=outcome, cursor=cursor, limit=limit
        ),
    )
