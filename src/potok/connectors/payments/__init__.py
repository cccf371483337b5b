"""Payment gateways behind one interface (ЮKassa first)."""

from potok.connectors.payments.interface import (
    GatewayDown,
    GatewayRefused,
    PaymentGateway,
    PaymentSeen,
    RefundSeen,
)

__all__ = ["GatewayDown", "GatewayRefused", "PaymentGateway", "PaymentSeen", "RefundSeen"]
