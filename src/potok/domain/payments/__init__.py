"""Payments through a gateway (ЮKassa) for orders of the retailer's own channels: one
two-stage payment per order (authorised at intake, captured at hand-over, cancelled with the
order) and refunds tied to Potok's returns."""

from potok.domain.payments.errors import (
    AccountNotFound,
    CaptureAboveAuthorised,
    GatewayPaymentNotFound,
    GatewayRefusedAction,
    GatewayUnreachable,
    MarketplaceTakesNoGateway,
    NotificationMalformed,
    NotificationNotFromGateway,
    PaymentNotCancellable,
    PaymentNotCapturable,
)
from potok.domain.payments.events import (
    PaymentActionFailed,
    PaymentCreated,
    PaymentRefundChanged,
    PaymentStatusChanged,
)
from potok.domain.payments.model import GatewayPayment, GatewayRefund
from potok.domain.payments.states import GatewayStatus, RefundState

__all__ = [
    "AccountNotFound",
    "CaptureAboveAuthorised",
    "GatewayPayment",
    "GatewayPaymentNotFound",
    "GatewayRefund",
    "GatewayRefusedAction",
    "GatewayStatus",
    "GatewayUnreachable",
    "MarketplaceTakesNoGateway",
    "NotificationMalformed",
    "NotificationNotFromGateway",
    "PaymentActionFailed",
    "PaymentCreated",
    "PaymentNotCancellable",
    "PaymentNotCapturable",
    "PaymentRefundChanged",
    "PaymentStatusChanged",
    "RefundState",
]
