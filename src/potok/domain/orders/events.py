"""What happens to orders, as facts for the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from potok.domain.events import DomainEvent
from potok.domain.quick_init import quick_init


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "order"
    order_id: int

    def aggregate_id(self) -> str:
        return str(self.order_id)


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreated(OrderEvent):
    channel: str
    external_id: str | None
    status: str
    allocation: str
    payment_status: str
    currency: str
    total: Decimal
    lines: list[dict[str, Any]]
    reservations: list[dict[str, Any]]
    payment_method: str | None = None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusChanged(OrderEvent):
    from_status: str
    to_status: str
    reason: str | None


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderConfirmed(OrderEvent):
    automatically: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(OrderEvent):
    reason: str
    released: list[dict[str, Any]]


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReserved(OrderEvent):
    reservations: list[dict[str, Any]]
    explanation: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBackordered(OrderEvent):
    shortages: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAllocationReleased(OrderEvent):
    reason: str
    released: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReplanned(OrderEvent):
    """The order's reservations moved to a cheaper plan that keeps its promised date."""

    released: list[dict[str, Any]]
    reservations: list[dict[str, Any]]
    explanation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderHoldPlaced(OrderEvent):
    hold_no: int
    hold_type: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderHoldEnded(OrderEvent):
    hold_no: int
    hold_type: str
    outcome: str
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPaymentChanged(OrderEvent):
    from_status: str
    to_status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderShortageReported(OrderEvent):
    """A picker did not find units reserved for the order on the shelf."""

    warehouse: str
    sku: str
    missing: int
    lot: str | None
    note: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEdited(OrderEvent):
    """Lines, quantities, the delivery or cancelled units changed; only the difference was
    released or reserved."""

    reason: str | None
    lines_before: list[dict[str, Any]] | None = None
    lines_after: list[dict[str, Any]] | None = None
    delivery: dict[str, Any] | None = None
    cancelled: list[dict[str, Any]] | None = None
    released: list[dict[str, Any]] | None = None
    reserved: list[dict[str, Any]] | None = None
    shipment_id: int | None = None
    contact: list[str] | None = None  # which of name, phone, email changed (never their values)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPriorityChanged(OrderEvent):
    from_priority: int
    to_priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderNoteAdded(OrderEvent):
    """Someone (or a rule) left a note for the people who handle the order."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTagged(OrderEvent):
    """Tags were put on or taken off the order."""

    added: list[str]
    removed: list[str]
