"""Alerts raised for operators and acknowledged by them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "alert"
    alert_id: int

    def aggregate_id(self) -> str:
        return str(self.alert_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(AlertEvent):
    kind: str
    order_id: int | None
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAcknowledged(AlertEvent):
    acknowledged_by: str
