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
