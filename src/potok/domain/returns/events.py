"""What happens to returns, as facts for the outbox (``return.*``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnEvent(DomainEvent):
    """Every return event names the return, its order and the step."""

    aggregate_type: ClassVar[str] = "return"
    number: str
    order_id: int
    from_status: str | None
    to_status: str

    def aggregate_id(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRequested(ReturnEvent):
    """A return was asked for (``source``: customer, or an unclaimed parcel)."""

    source: str
    lines: list[dict[str, Any]]
    refund_amount: str
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnApproved(ReturnEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnDeclined(ReturnEvent):
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnReceived(ReturnEvent):
    """The units arrived at ``warehouse`` and wait, set aside, for inspection."""

    warehouse: str
    lines: list[dict[str, Any]]
    refund_amount: str
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnInspected(ReturnEvent):
    """Each unit's fate: restocked, kept unavailable, or written off, per line."""

    lines: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnExchanged(ReturnEvent):
    """A replacement order takes the returned units' place; its worth leaves the refund."""

    exchange_order_id: int
    exchange_value: str
    refund_amount: str
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnClosed(ReturnEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRefundChanged(ReturnEvent):
    """The refund owed for the return moved (pending, paid, failed)."""

    refund_status: str
    refund_amount: str
    currency: str
