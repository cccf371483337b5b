"""Changes to webhook subscriptions, for the audit trail (they stay inside Potok)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "webhook"
    subscription_id: int

    def aggregate_id(self) -> str:
        return str(self.subscription_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSubscribed(WebhookEvent):
    url: str
    event_types: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookUnsubscribed(WebhookEvent):
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookPaused(WebhookEvent):
    url: str
    reason: str | None = None  # set when Potok paused it after prolonged failure


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSecretRotated(WebhookEvent):
    url: str
    old_until: datetime  # the old secret signs too until then (never the secrets themselves)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookReplayRequested(WebhookEvent):
    replay_id: int
    after_sequence: int
    until_sequence: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookResumed(WebhookEvent):
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookFiltersChanged(WebhookEvent):
    """The event types or the channel or warehouse filters of a subscription changed; they
    hold from the next event it is handed on (``before`` and ``after``: the three lists)."""

    url: str
    before: dict[str, list[str]]
    after: dict[str, list[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookReaderForgotten(DomainEvent):
    """An operator forgot a reader of the outbox that no longer moved (its cursor is gone,
    so retention stops keeping events for it)."""

    aggregate_type: ClassVar[str] = "webhook"
    reader: str
    position: int  # where it stood
    behind: int  # events it had not dealt with
    by: str  # who forgot it
    reason: str | None = None

    def aggregate_id(self) -> str:
        return self.reader
