"""Bodies of the change feed and of webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from potok.api.schemas.common import JSON_INTEGER, AwareDatetime, Code, Out, Page, Schema
from potok.domain.webhooks import Delivery, Reader, Replay, Subscription

MAX_GRACE_S = 7 * 86_400

Sequence = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,18}$",
        max_length=18,
        description="An event's place in commit order: the envelope's `sequence`.",
        examples=["1187"],
    ),
]


class CloudEventOut(Out):
    """One event, as a CloudEvents 1.0 JSON document (the same on every road out)."""

    specversion: str = Field(examples=["1.0"])
    id: str = Field(description="Unique per event: deduplicate by it.")
    source: str = Field(examples=["urn:potok"])
    type: str = Field(examples=["order.created"])
    subject: str = Field(description="The aggregate: 'order/42', 'stock/MSK-1/SKU-1'.")
    time: str = Field(description="When it happened (UTC).")
    datacontenttype: str
    sequence: str = Field(description="Its place in commit order; the feed's cursor.")
    data: dict[str, Any]


class FeedOut(Out):
    items: list[CloudEventOut]
    next_cursor: str = Field(
        description="Pass as `after` next time; the same cursor when nothing was new."
    )


class SubscriptionIn(Schema):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="Where events are POSTed (https; private addresses are refused).",
        examples=["https://erp.example.com/potok/events"],
    )
    event_types: list[Code] = Field(
        min_length=1,
        max_length=50,
        description="'*', '<aggregate>.*' (such as 'order.*') or exact types.",
        examples=[["order.*", "stock.changed"]],
    )
    description: str | None = Field(default=None, max_length=200)
    channels: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="Only events about orders (and their shipments, returns, reservations) "
        "of these sales channels, and the channels' own events; empty: every event.",
        examples=[["web"]],
    )
    warehouses: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="Only events that name one of these locations (stock, reservations, "
        "shipments, transfers, ...); empty: every event.",
        examples=[["MSK-1"]],
    )


class SubscriptionChangeIn(Schema):
    """What to change; a field left out (or null) stays as it is."""

    event_types: list[Code] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="New patterns: '*', '<aggregate>.*' (such as 'order.*') or exact types.",
        examples=[["order.*"]],
    )
    channels: list[Code] | None = Field(
        default=None,
        max_length=50,
        description="A new channel filter; an empty list drops it.",
        examples=[["web"]],
    )
    warehouses: list[Code] | None = Field(
        default=None,
        max_length=50,
        description="A new warehouse filter; an empty list drops it.",
        examples=[[]],
    )


class ReaderOut(Out):
    name: str = Field(
        description="'webhook:<id>', 'replay:<id>', 'reaction:<name>', 'notifications', "
        "'marketplace-stock/<connection>', 'crm-orders/<connection>' or 'nats'."
    )
    position: str = Field(description="The last event it has dealt with, by its sequence.")
    behind: int = Field(description="Events placed after it.")
    oldest_waiting_at: datetime | None = Field(
        description="When the next event it has to deal with happened (null: none waits)."
    )
    moved_at: datetime = Field(description="When its cursor or lease last changed.")
    leased_by: str | None = Field(description="The worker moving it now, if any.")
    lease_expires_at: datetime | None
    failed_attempts: int = Field(description="Failed attempts at its next event.")
    next_attempt_at: datetime | None
    holds_retention: bool = Field(
        description="It is the slowest reader: retention keeps every event after it."
    )


def render_reader(reader: Reader) -> ReaderOut:
    return ReaderOut(
        name=reader.name,
        position=str(reader.position),
        behind=reader.behind,
        oldest_waiting_at=reader.oldest_waiting_at,
        moved_at=reader.moved_at,
        leased_by=reader.leased_by,
        lease_expires_at=reader.lease_expires_at,
        failed_attempts=reader.attempts,
        next_attempt_at=reader.next_attempt_at,
        holds_retention=reader.holds_retention,
    )


class SecretRotationIn(Schema):
    keep_old_for_s: Annotated[int, Field(ge=0, le=MAX_GRACE_S), JSON_INTEGER] = Field(
        default=86_400,
        description="Seconds the old secret keeps signing beside the new one (every delivery "
        "carries both signatures meanwhile); 0 drops it at once. At most 7 days.",
    )


class SecretRotationOut(Out):
    subscription: SubscriptionOut
    secret: str = Field(description="The new signing secret ('whsec_...'), shown once.")
    old_secret_until: datetime = Field(description="The old secret signs too until then.")


class SubscriptionOut(Out):
    id: int
    url: str
    event_types: list[str]
    description: str | None
    created_at: datetime
    created_by: str
    position: str | None = Field(description="The last event dealt with, by its sequence.")
    failed_attempts: int = Field(description="Failed attempts at the next event.")
    next_attempt_at: datetime | None
    paused_at: datetime | None = Field(
        description="When it was paused (nothing is delivered until it is resumed), or null."
    )
    paused_by: str | None
    paused_reason: str | None = Field(
        description="Why Potok paused it by itself (prolonged failure); null when a person did."
    )
    consecutive_failures: int = Field(
        description="Failed attempts in a row since the last delivery that went through."
    )
    failing_since: datetime | None
    replaying: bool = Field(description="A replay of past events is under way.")
    channels: list[str] = Field(description="Its channel filter (empty: none).")
    warehouses: list[str] = Field(description="Its warehouse filter (empty: none).")
    old_secret_until: datetime | None = Field(
        description="After a rotation: the old secret signs deliveries too until then."
    )


class NewSubscriptionOut(Out):
    subscription: SubscriptionOut
    secret: str = Field(
        description="The signing secret (Standard Webhooks, 'whsec_...'), shown once: keep it "
        "to verify the 'webhook-signature' of every delivery."
    )


class DeliveryOut(Out):
    id: int
    event_id: str
    event_type: str
    sequence: str
    attempt: int
    outcome: str = Field(description="delivered, failed (tried again) or dead (dead letter).")
    status_code: int | None
    latency_ms: int | None
    error: str | None
    attempted_at: datetime
    replay_id: int | None = Field(description="The replay that made this attempt, or null.")


class DeliveryPageOut(Page):
    items: list[DeliveryOut]


class ReplayIn(Schema):
    """Which past events to deliver again: name exactly one of ``event_id``,
    ``from_sequence`` or ``since`` (checked by the use case, which names the field to fix:
    a cross-field rule the OpenAPI document cannot state stays out of the request model)."""

    event_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="One event (a dead letter, say)."
    )
    from_sequence: Sequence | None = Field(
        default=None, description="The events from this sequence on (included)."
    )
    to_sequence: Sequence | None = Field(
        default=None, description="... up to this one (included); default: as far as delivered."
    )
    since: AwareDatetime | None = Field(
        default=None, description="The events that happened from this moment on."
    )
    until: AwareDatetime | None = Field(
        default=None, description="... up to this moment; default: as far as delivered."
    )


class ReplayOut(Out):
    id: int
    subscription_id: int
    from_sequence: str = Field(description="The first event it covers (by sequence).")
    to_sequence: str = Field(description="The last event it covers.")
    requested_at: datetime
    requested_by: str
    finished_at: datetime | None
    reached: str | None = Field(
        description="The last event it has dealt with (null once finished)."
    )


def render_replay(replay: Replay) -> ReplayOut:
    return ReplayOut(
        id=replay.id,
        subscription_id=replay.subscription_id,
        from_sequence=str(replay.after_position + 1),
        to_sequence=str(replay.until_position),
        requested_at=replay.requested_at,
        requested_by=replay.requested_by,
        finished_at=replay.finished_at,
        reached=None if replay.position is None else str(replay.position),
    )


def render_subscription(subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.id,
        url=subscription.url,
        event_types=list(subscription.event_types),
        description=subscription.description,
        created_at=subscription.created_at,
        created_by=subscription.created_by,
        position=None if subscription.position is None else str(subscription.position),
        failed_attempts=subscription.attempts,
        next_attempt_at=subscription.next_attempt_at,
        paused_at=subscription.paused_at,
        paused_by=subscription.paused_by,
        paused_reason=subscription.paused_reason,
        consecutive_failures=subscription.failures,
        failing_since=subscription.failing_since,
        replaying=subscription.replaying,
        channels=list(subscription.channels),
        warehouses=list(subscription.warehouses),
        old_secret_until=subscription.old_secret_until,
    )


def render_delivery(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        sequence=str(delivery.position),
        attempt=delivery.attempt,
        outcome=delivery.outcome.value,
        status_code=delivery.status_code,
        latency_ms=delivery.latency_ms,
        error=delivery.error,
        attempted_at=delivery.attempted_at,
        replay_id=delivery.replay_id,
    )
