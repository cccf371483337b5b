"""Customer notifications as a reaction after commit: for an outbox event a customer should
hear about, the message to send (rendered from its topic's template in the customer's
language), or why none is sent; the record of every attempt; opt-outs; the log.

Nothing here sends: the dispatcher (``worker/dispatcher.py``) reads the events, asks for
the message, sends it outside any transaction, and records the attempt with its cursor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from potok.domain.customers import CustomerNotFound, normalise_phone
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, CustomerId, utc_now
from potok.domain.notifications import Language, Medium, Message, Outcome, Topic, topic_for
from potok.domain.notifications.switches import SwitchKind
from potok.domain.orders import Order
from potok.domain.webhooks import StoredEvent
from potok.renderers.message_templates import render, render_short
from potok.security.masking import mask_email, mask_phone
from potok.services.notification_ports import SentRecord
from potok.services.notification_switches import switch_off_reason, switched_on
from potok.services.notification_templates import stored_source
from potok.services.pickup_places import pickup_place
from potok.services.public_tracking import ensure_token
from potok.services.unit_of_work import UnitOfWork, atomically, reading

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
    media: tuple[str, ...] = ("email",)  # how customers are reached unless they chose
    available: frozenset[str] = frozenset({"email"})  # the media a provider is set up for

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
    medium: Medium = Medium.EMAIL

    @property
    def template(self) -> str:
        name = f"{self.language.value}/{self.topic.value}"
        return name if self.medium is Medium.EMAIL else f"{self.medium.value}/{name}"


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
            place = pickup_place(uow, code, payload.get("carrier") or None)
            context["pickup_point"] = place.name if place else code
            context["pickup_address"] = place.where if place else ""
            context["pickup_hours"] = place.hours if place else ""
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


def _media(uow: UnitOfWork, order: Order, policy: NotificationPolicy) -> tuple[Medium, ...]:
    """The customer's chosen media the shop can send by, else the shop's own choice."""
    chosen = (
        uow.notifications.preferred_media(order.customer_id)
        if order.customer_id is not None
        else None
    )
    if chosen is not None:
        usable = tuple(Medium(m) for m in chosen if m in policy.available)
        if usable or not chosen:
            return usable
    return tuple(Medium(m) for m in policy.media if m in policy.available)


def compose(uow: UnitOfWork, event: StoredEvent, policy: NotificationPolicy) -> list[Draft]:
    """The messages an event calls for, one per medium the customer is reached by (each
    a draft saying why none is sent where none is); empty when the event is not for
    customers at all. (A write transaction: the order's tracking token may be made for
    the link.)"""
    topic = topic_for(event.type, event.payload)
    if topic is None:
        return []

    def work(uow: UnitOfWork) -> list[Draft]:
        order_id = event.payload.get("order_id")
        order = uow.orders.get(int(order_id)) if order_id is not None else None
        return _drafts(uow, event, topic, order, policy)

    return atomically(uow, work)


@dataclass(frozen=True, slots=True)
class Composed:
    """An event's messages as :func:`compose` makes them, and the media whose message went
    out already (a round repeated after a failure)."""

    drafts: list[Draft]
    sent_before: frozenset[Medium]


def compose_window(
    uow: UnitOfWork, events: Sequence[StoredEvent], policy: NotificationPolicy
) -> list[Composed]:
    """:func:`compose` for each of a window's events in one transaction, their orders read
    at once (a transaction and four statements a message fewer than one at a time)."""
    topics = [topic_for(event.type, event.payload) for event in events]

    def work(uow: UnitOfWork) -> list[Composed]:
        wanted = [
            int(event.payload["order_id"])
            for event, topic in zip(events, topics, strict=True)
            if topic is not None and event.payload.get("order_id") is not None
        ]
        orders = {int(order.id or 0): order for order in uow.orders.get_many(wanted)}
        composed = []
        for event, topic in zip(events, topics, strict=True):
            if topic is None:
                composed.append(Composed([], frozenset()))
                continue
            order_id = event.payload.get("order_id")
            order = orders.get(int(order_id)) if order_id is not None else None
            drafts = _drafts(uow, event, topic, order, policy)
            sent = frozenset(
                d.medium
                for d in drafts
                if d.message is not None
                and uow.notifications.was_sent(event.event_id, d.medium.value)
            )
            composed.append(Composed(drafts, sent))
        return composed

    return atomically(uow, work)


def _drafts(
    uow: UnitOfWork,
    event: StoredEvent,
    topic: Topic,
    order: Order | None,
    policy: NotificationPolicy,
) -> list[Draft]:
    """The messages of one event about ``order`` (None: the order is gone)."""
    language = policy.language_for(order.channel_code if order else "")
    known = order.id if order else None

    def skip(why: str, medium: Medium = Medium.EMAIL) -> Draft:
        return Draft(event, topic, language, known, None, why, medium)

    if order is None:
        return [skip("the order is gone")]
    switched_off = switch_off_reason(uow, topic.value, order.channel_code)
    if switched_off is not None:  # an administrator's stored "off" wins
        return [skip(switched_off)]
    if topic.value in policy.topics_off and not switched_on(uow, SwitchKind.TOPIC, topic.value):
        return [skip(f"{topic.value} is turned off")]
    if order.channel_code in policy.channels_off and not switched_on(
        uow, SwitchKind.CHANNEL, order.channel_code
    ):
        return [skip(f"channel {order.channel_code} sends no notifications")]
    media = _media(uow, order, policy)
    if not media:
        return [skip("the customer asked for no messages")]
    context = _context(uow, order, topic, event.payload, policy)
    drafts = []
    for medium in media:
        if medium is Medium.SMS:
            address = normalise_phone(order.contact.phone or "")
            missing = "the order has no phone number"
        else:
            address = order.contact.email
            missing = "the order has no e-mail address"
        if not address:
            drafts.append(skip(missing, medium))
            continue
        if uow.notifications.opted_out(address):
            drafts.append(skip("the customer opted out", medium))
            continue
        stored = stored_source(uow, topic, language, medium)
        if medium is Medium.SMS:
            text = render_short(topic, language, context, source=stored)
            message = Message(topic, language, address, "", text, "", medium, event.event_id)
        else:
            subject, text, html = render(topic, language, context, source=stored)
            message = Message(topic, language, address, subject, text, html, medium, event.event_id)
        drafts.append(Draft(event, topic, language, order.id, message, None, medium))
    return drafts


def attempt_record(
    draft: Draft, outcome: Outcome, attempt: int, at: datetime, error: str | None = None
) -> SentRecord:
    """The log entry of one attempt, the address masked."""
    message = draft.message
    masked = None
    if message is not None:
        masked = mask_phone(message.to) if draft.medium is Medium.SMS else mask_email(message.to)
    return SentRecord(
        event_id=draft.event.event_id,
        event_type=draft.event.type,
        topic=draft.topic.value,
        medium=draft.medium.value,
        order_id=draft.order_id,
        recipient=masked,
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
    """An e-mail address as written, or a phone number in its international form."""
    address = address.strip()
    if "@" not in address:
        phone = normalise_phone(address) if len(address) <= 40 else None
        if phone is not None:
            return phone
    if not 3 <= len(address) <= MAX_ADDRESS or "@" not in address:
        raise InvalidInput(
            [FieldError("email", "an e-mail address or a phone number", "invalid-email")]
        )
    return address


def set_preference(
    uow: UnitOfWork,
    customer_id: int,
    media: Sequence[str],
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> tuple[str, ...]:
    """How a customer wants to hear from the shop (``email``, ``sms``, both; none: no
    messages at all); it wins over the shop's default wherever a provider is set up."""
    unknown = [m for m in media if m not in {v.value for v in Medium}]
    if unknown:
        raise InvalidInput([FieldError("media", "email or sms", "unknown-medium")])
    chosen = tuple(m.value for m in Medium if m.value in media)

    def work(uow: UnitOfWork) -> tuple[str, ...]:
        if uow.customers.get(CustomerId(customer_id)) is None:
            raise CustomerNotFound(customer_id=customer_id)
        uow.notifications.set_preference(customer_id, chosen, clock(), str(actor))
        return chosen

    return atomically(uow, work)


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
