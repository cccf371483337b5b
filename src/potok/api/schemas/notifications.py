"""Bodies of the customer-notification endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from potok.api.schemas.common import Flag, Out, Page, Schema
from potok.services.notification_ports import SentRecord


class OptOutIn(Schema):
    email: str = Field(min_length=3, max_length=254, examples=["anna@example.ru"])
    opted_out: Flag = Field(
        default=True, description="`false` takes an earlier opt-out back (messages resume)."
    )


class OptOutOut(Out):
    email: str = Field(description="The address, masked.")
    opted_out: bool
    changed: bool = Field(description="Whether this request changed anything.")


class SentOut(Out):
    id: int
    event_id: str
    event_type: str
    topic: str
    medium: str
    order_id: int | None
    recipient: str | None = Field(description="The address, masked.")
    language: str
    template: str
    subject: str
    outcome: str = Field(description="sent, failed (tried again), dead (given up) or skipped")
    attempt: int
    error: str | None = Field(description="Why it failed, or why it was skipped.")
    created_at: datetime


class SentPageOut(Page):
    items: list[SentOut]


class TrackingLinkOut(Out):
    token: str
    path: str = Field(description="The page, relative to Potok's public address.")


class PreviewOut(Out):
    topic: str
    language: str
    subject: str
    text: str
    html: str


def render_sent(record: SentRecord) -> SentOut:
    return SentOut(
        id=record.id or 0,
        event_id=record.event_id,
        event_type=record.event_type,
        topic=record.topic,
        medium=record.medium,
        order_id=record.order_id,
        recipient=record.recipient,
        language=record.language,
        template=record.template,
        subject=record.subject,
        outcome=record.outcome,
        attempt=record.attempt,
        error=record.error,
        created_at=record.created_at,
    )
