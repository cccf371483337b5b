"""What happens to automation rules, and what they do to orders, as facts for the outbox
(and so for the audit trail)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSaved(DomainEvent):
    """An automation rule was written or changed: a new version of it is in force."""

    aggregate_type: ClassVar[str] = "rule"
    rule_id: int
    version: int
    name: str
    trigger: str
    active: bool

    def aggregate_id(self) -> str:
        return str(self.rule_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSwitchedOff(DomainEvent):
    """A rule failed while it ran and was switched off; the order went on without it."""

    aggregate_type: ClassVar[str] = "rule"
    rule_id: int
    version: int
    order_id: int
    error: str

    def aggregate_id(self) -> str:
        return str(self.rule_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleFired(DomainEvent):
    """A rule matched an order and did what it says (each change is in the order's history
    too, with the rule and its version)."""

    aggregate_type: ClassVar[str] = "order"
    order_id: int
    rule_id: int
    rule_version: int
    cause_event_id: str
    actions: list[dict[str, Any]]

    def aggregate_id(self) -> str:
        return str(self.order_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderNotificationRequested(DomainEvent):
    """A rule asked for the customer to get the message of a notification template (a
    topic); it is sent after the commit, as any customer notification is."""

    aggregate_type: ClassVar[str] = "order"
    order_id: int
    rule_id: int
    rule_version: int
    template: str

    def aggregate_id(self) -> str:
        return str(self.order_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderWebhookRequested(DomainEvent):
    """A rule called a webhook: this event goes to the one subscription the rule names
    (whatever event types it takes), signed and retried as every delivery is."""

    aggregate_type: ClassVar[str] = "order"
    order_id: int
    rule_id: int
    rule_version: int
    subscription_id: int
    status: str
    total: str
    tags: list[str]

    def aggregate_id(self) -> str:
        return str(self.order_id)
