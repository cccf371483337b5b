"""What happens to customer records, for the audit trail and the outbox: never their data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "customer"
    customer_id: int

    def aggregate_id(self) -> str:
        return str(self.customer_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerExported(CustomerEvent):
    """Someone was handed everything Potok keeps about the customer (a subject access
    request)."""

    orders: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerAnonymised(CustomerEvent):
    """The customer's personal data, and that of their orders, is gone for good."""

    order_ids: list[int]
