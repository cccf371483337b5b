"""What the notification use cases need from storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from potok.domain.notifications.switches import NotificationSwitch, SwitchKind
from potok.domain.notifications.templates import TemplateVersion


@dataclass(frozen=True, slots=True)
class SentRecord:
    """One attempt at one message: to whom (masked), which template, what became of it."""

    event_id: str
    event_type: str
    topic: str
    medium: str
    order_id: int | None
    recipient: str | None
    language: str
    template: str
    subject: str
    outcome: str
    attempt: int
    error: str | None
    created_at: datetime
    id: int | None = None


class NotificationStore(Protocol):
    def log(self, record: SentRecord) -> None: ...
    def was_sent(self, event_id: str, medium: str) -> bool: ...
    def opted_out(self, address: str) -> bool: ...
    def opt_out(self, address: str, at: datetime, by: str) -> bool: ...
    def opt_in(self, address: str) -> bool: ...
    def preferred_media(self, customer_id: int) -> tuple[str, ...] | None: ...
    def set_preference(
        self, customer_id: int, media: tuple[str, ...], at: datetime, by: str
    ) -> None: ...
    def list_page(
        self, *, order_id: int | None, outcome: str | None, cursor: str | None, limit: int
    ) -> tuple[list[SentRecord], str | None]: ...


class TrackingLinkStore(Protocol):
    def token_of(self, order_id: int) -> str | None: ...
    def add(self, order_id: int, token: str, at: datetime) -> None: ...
    def order_of(self, token: str) -> int | None: ...


class TemplateStore(Protocol):
    """Administrators' message templates: every version kept, the newest in force."""

    def current(self, topic: str, language: str, medium: str) -> TemplateVersion | None: ...
    def all_current(self) -> list[TemplateVersion]: ...
    def history(self, topic: str, language: str, medium: str) -> list[TemplateVersion]: ...
    def add(self, version: TemplateVersion) -> None: ...


class SwitchStore(Protocol):
    """Administrators' notification switches: every change kept, the newest in force."""

    def current(self, kind: SwitchKind, code: str) -> NotificationSwitch | None: ...
    def all_current(self) -> list[NotificationSwitch]: ...
    def history(self, kind: SwitchKind, code: str) -> list[NotificationSwitch]: ...
    def add(self, switch: NotificationSwitch) -> None: ...
