"""Bodies of the customer-notification endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from potok.api.schemas.common import Flag, Out, Page, Schema
from potok.domain.notifications.switches import NotificationSwitch
from potok.domain.notifications.templates import MAX_SOURCE, TemplateVersion
from potok.services.notification_ports import SentRecord
from potok.services.notification_switches import SwitchState
from potok.services.notification_templates import TemplateInForce


class OptOutIn(Schema):
    email: str | None = Field(
        default=None, min_length=3, max_length=254, examples=["anna@example.ru"]
    )
    phone: str | None = Field(
        default=None,
        min_length=5,
        max_length=40,
        examples=["+7 916 123-45-67"],
        description="Opts the number out of SMS and messenger messages.",
    )
    opted_out: Flag = Field(
        default=True, description="`false` takes an earlier opt-out back (messages resume)."
    )


class OptOutOut(Out):
    email: str | None = Field(description="The address, masked.")
    phone: str | None = Field(default=None, description="The number, masked.")
    opted_out: bool
    changed: bool = Field(description="Whether this request changed anything.")


class PreferenceIn(Schema):
    media: list[Literal["email", "sms"]] = Field(
        max_length=2,
        description="How the customer wants to hear from the shop; `[]`: no messages at all.",
    )


class PreferenceOut(Out):
    customer_id: int
    media: list[str]


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


class TemplateOut(Out):
    topic: str
    language: str
    medium: str = Field(description="email (subject, text, HTML) or sms (one text)")
    overridden: bool = Field(description="Whether an administrator's version is in force.")
    version: int = Field(description="The stored version in force; 0: never changed.")
    source: str = Field(description="The Jinja2 template in force (the shipped one if none).")
    changed_at: datetime | None
    changed_by: str | None


class TemplateIn(Schema):
    medium: Literal["email", "sms"] = "email"
    source: str | None = Field(
        max_length=MAX_SOURCE,
        description="The Jinja2 template; `null` goes back to the shipped one. Checked "
        "against a sample order before it is stored: a syntax error, an unknown variable or "
        "a sandbox breach is `422 template-refused` naming the line and column.",
    )


class DraftIn(Schema):
    medium: Literal["email", "sms"] = "email"
    source: str = Field(min_length=1, max_length=MAX_SOURCE)


class TemplateVersionOut(Out):
    version: int
    source: str | None = Field(description="`null`: back to the shipped template.")
    created_at: datetime
    created_by: str


def render_template(found: TemplateInForce) -> TemplateOut:
    stored = found.stored
    return TemplateOut(
        topic=found.topic.value,
        language=found.language.value,
        medium=found.medium.value,
        overridden=found.overridden,
        version=stored.version if stored else 0,
        source=found.source,
        changed_at=stored.created_at if stored else None,
        changed_by=stored.created_by if stored else None,
    )


def render_version(version: TemplateVersion) -> TemplateVersionOut:
    return TemplateVersionOut(
        version=version.version,
        source=version.source,
        created_at=version.created_at,
        created_by=version.created_by,
    )


class SwitchIn(Schema):
    enabled: Flag = Field(description="`false` turns the topic's or channel's messages off.")


class SwitchOut(Out):
    kind: str = Field(description="topic or channel")
    code: str = Field(description="The topic (order_shipped, ...) or the sales channel's code.")
    enabled: bool | None = Field(
        description="The administrator's switch in force; `null`: never switched, the "
        "deployment's settings decide (`POTOK_NOTIFICATIONS__TOPICS_OFF`, `CHANNELS_OFF`)."
    )
    changed_at: datetime | None
    changed_by: str | None


def render_switch(state: SwitchState) -> SwitchOut:
    stored = state.stored
    return SwitchOut(
        kind=state.kind.value,
        code=state.code,
        enabled=stored.enabled if stored else None,
        changed_at=stored.changed_at if stored else None,
        changed_by=stored.changed_by if stored else None,
    )


def render_change(switch: NotificationSwitch) -> SwitchOut:
    return SwitchOut(
        kind=switch.kind.value,
        code=switch.code,
        enabled=switch.enabled,
        changed_at=switch.changed_at,
        changed_by=switch.changed_by,
    )
