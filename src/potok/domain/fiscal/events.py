"""What happens to fiscal receipts, as facts for the outbox (``fiscal_receipt.*``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalReceiptEvent(DomainEvent):
    """Every receipt event names the receipt, its order, kind, operation and step."""

    aggregate_type: ClassVar[str] = "fiscal"
    receipt_id: int | None
    order_id: int
    kind: str
    operation: str
    from_state: str | None
    to_state: str
    total: Decimal
    currency: str

    def aggregate_id(self) -> str:
        return str(self.receipt_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalReceiptQueued(FiscalReceiptEvent):
    """A receipt is stored and waits for the worker to send it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalReceiptSkipped(FiscalReceiptEvent):
    """Potok prints no receipt here (the marketplace issues it, or fiscalisation is off)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalReceiptRegistered(FiscalReceiptEvent):
    """The register printed it: its fiscal attributes."""

    fn_number: str
    fiscal_document_number: int
    fiscal_document_attribute: int
    registered_at: datetime
    register_number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FiscalReceiptFailed(FiscalReceiptEvent):
    """The provider refused the receipt for good; an operator corrects it."""

    reason: str
    error_code: int | None
