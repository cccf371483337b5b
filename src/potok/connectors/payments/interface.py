"""The one interface every payment gateway sits behind, and what it answers: payments and
refunds as the gateway sees them, amounts in Decimal roubles (the connector turns them into
the gateway's own form at the edge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class GatewayRefused(Exception):
    """The gateway answered and said no (a 4xx): trying again the same way will not help."""

    def __init__(self, gateway: str, reason: str, *, code: str = "", status: int = 0) -> None:
        self.gateway, self.reason, self.code, self.status = gateway, reason, code, status
        super().__init__(f"{gateway} refused ({status} {code}): {reason}")


class GatewayDown(Exception):
    """The gateway could not be asked (network, 5xx, rate limit): try again later."""

    def __init__(self, gateway: str, reason: str) -> None:
        self.gateway, self.reason = gateway, reason
        super().__init__(f"{gateway} is unavailable: {reason}")


@dataclass(frozen=True, slots=True)
class PaymentSeen:
    """A payment as the gateway holds it now."""

    id: str
    status: str  # pending, waiting_for_capture, succeeded, canceled
    amount: Decimal  # asked for; once captured, what was captured
    currency: str
    paid: bool
    confirmation_url: str | None = None
    refunded: Decimal = Decimal("0.00")
    cancellation_reason: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RefundSeen:
    """A refund as the gateway holds it now."""

    id: str
    payment_id: str
    status: str  # pending, succeeded, canceled
    amount: Decimal
    currency: str
    cancellation_reason: str | None = None


class PaymentGateway(Protocol):
    """One shop's account at a gateway. Every creating call carries the caller's
    idempotence key, so a call repeated after a failure is the same call."""

    @property
    def code(self) -> str: ...

    def create_payment(
        self,
        amount: Decimal,
        currency: str,
        *,
        key: str,
        description: str,
        return_url: str,
        metadata: Mapping[str, str],
    ) -> PaymentSeen: ...

    def get_payment(self, payment_id: str) -> PaymentSeen: ...

    def capture(
        self, payment_id: str, amount: Decimal, currency: str, *, key: str
    ) -> PaymentSeen: ...

    def cancel(self, payment_id: str, *, key: str) -> PaymentSeen: ...

    def create_refund(
        self, payment_id: str, amount: Decimal, currency: str, *, key: str, description: str
    ) -> RefundSeen: ...

    def get_refund(self, refund_id: str) -> RefundSeen: ...
