"""What happens to gateway payments, as facts for the outbox (``payment.*``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "payment"
    order_id: int
    gateway: str
    gateway_payment_id: str | None

    def aggregate_id(self) -> str:
        return str(self.order_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentCreated(PaymentEvent):
    """The gateway took the payment: the customer pays at ``confirmation_url``."""

    amount: Decimal
    currency: str
    confirmation_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentStatusChanged(PaymentEvent):
    """The gateway moved the payment (authorised, captured, cancelled)."""

    from_status: str
    to_status: str
    amount: Decimal
    captured_amount: Decimal
    currency: str
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRefundChanged(PaymentEvent):
    """A refund at the gateway, tied to a Potok return, was asked for or moved."""

    return_number: str
    gateway_refund_id: str | None
    status: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentActionFailed(PaymentEvent):
    """The gateway refused what Potok asked (create, capture, cancel, refund): an operator
    must look (``potok payments show``)."""

    action: str
    reason: str
