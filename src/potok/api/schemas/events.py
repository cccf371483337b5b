"""Bodies of the change feed and of webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from potok.api.schemas.common import Code, Out, Page, Schema
from potok.domain.webhooks import Delivery, Subscription


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


class DeliveryPageOut(Page):
    items: list[DeliveryOut]


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
    )
