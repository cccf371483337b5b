"""A gateway payment: the one card payment an own-shop order is paid with, as the gateway
(ЮKassa) holds it, and the refunds given back through it - each tied to a Potok return.

The gateway is the authority on where a payment stands; Potok follows it: a status it
reports moves the payment forward only along the table in ``states.py``, so news that is
old or repeated (a retried notification, a poll that lost a race) changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from potok.domain.events import DomainEvent
from potok.domain.payments import events as ev
from potok.domain.payments.errors import (
    CaptureAboveAuthorised,
    PaymentNotCancellable,
    PaymentNotCapturable,
)
from potok.domain.payments.states import (
    GATEWAY,
    GATEWAY_REFUND,
    IN_FLIGHT,
    GatewayStatus,
    RefundState,
)

ZERO = Decimal("0.00")
MAX_ERROR = 1000


@dataclass(slots=True)
class GatewayRefund:
    """Money given back through the gateway for one Potok return."""

    return_number: str
    amount: Decimal
    status: RefundState
    created_at: datetime
    updated_at: datetime
    gateway_id: str | None = None
    id: int | None = None
    last_error: str | None = None


@dataclass(slots=True, eq=False)
class GatewayPayment:
    """The gateway's payment of one order; its methods record what changed as events."""

    order_id: int
    channel_code: str
    gateway: str
    amount: Decimal  # what the customer is asked for (the order's total at intake)
    currency: str
    status: GatewayStatus
    created_at: datetime
    updated_at: datetime
    id: int | None = None
    gateway_id: str | None = None
    confirmation_url: str | None = None
    captured_amount: Decimal = ZERO
    authorized_at: datetime | None = None
    captured_at: datetime | None = None
    canceled_at: datetime | None = None
    cancel_reason: str | None = None
    last_error: str | None = None
    refunds: list[GatewayRefund] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    # ----------------------------------------------------------------- reading

    @property
    def in_flight(self) -> bool:
        """Whether the payment may still move on its own (the poller reads it back)."""
        return self.status in IN_FLIGHT or any(
            r.status is RefundState.PENDING for r in self.refunds
        )

    @property
    def refunded_amount(self) -> Decimal:
        return sum((r.amount for r in self.refunds if r.status is RefundState.SUCCEEDED), ZERO)

    @property
    def refundable(self) -> Decimal:
        """What may still be given back: captured, less refunds paid or on their way."""
        asked = sum((r.amount for r in self.refunds if r.status is not RefundState.CANCELED), ZERO)
        return max(ZERO, self.captured_amount - asked)

    def refund_for(self, return_number: str) -> GatewayRefund | None:
        return next((r for r in self.refunds if r.return_number == return_number), None)

    # ----------------------------------------------------------------- created

    @classmethod
    def created(
        cls,
        *,
        order_id: int,
        channel_code: str,
        gateway: str,
        gateway_id: str,
        amount: Decimal,
        currency: str,
        confirmation_url: str | None,
        at: datetime,
    ) -> GatewayPayment:
        """The gateway answered a new payment: the customer is to pay at the URL."""
        payment = cls(
            order_id=order_id,
            channel_code=channel_code,
            gateway=gateway,
            amount=amount,
            currency=currency,
            status=GatewayStatus.PENDING,
            created_at=at,
            updated_at=at,
            gateway_id=gateway_id,
            confirmation_url=confirmation_url,
        )
        payment._emit(
            ev.PaymentCreated(
                occurred_at=at,
                order_id=order_id,
                gateway=gateway,
                gateway_payment_id=gateway_id,
                amount=amount,
                currency=currency,
                confirmation_url=confirmation_url,
            )
        )
        return payment

    @classmethod
    def refused(
        cls,
        *,
        order_id: int,
        channel_code: str,
        gateway: str,
        amount: Decimal,
        currency: str,
        reason: str,
        at: datetime,
    ) -> GatewayPayment:
        """The gateway refused to create the payment: kept (cancelled, with the reason) for
        an operator to see, and announced."""
        payment = cls(
            order_id=order_id,
            channel_code=channel_code,
            gateway=gateway,
            amount=amount,
            currency=currency,
            status=GatewayStatus.CANCELED,
            created_at=at,
            updated_at=at,
            canceled_at=at,
            cancel_reason="refused",
        )
        payment.failed("create", reason, at)
        return payment

    # ----------------------------------------------------------------- following the gateway

    def follow(
        self,
        seen: GatewayStatus,
        at: datetime,
        *,
        captured: Decimal | None = None,
        reason: str | None = None,
    ) -> bool:
        """The gateway says the payment is ``seen``: move there if that is a step forward.
        Returns whether anything changed (old or repeated news changes nothing)."""
        if seen is self.status or not GATEWAY.allows(self.status, seen):
            return False
        before = self.status
        self.status = seen
        self.updated_at = at
        if seen is GatewayStatus.WAITING_FOR_CAPTURE:
            self.authorized_at = at
        elif seen is GatewayStatus.SUCCEEDED:
            self.authorized_at = self.authorized_at or at
            self.captured_at = at
            self.captured_amount = captured if captured is not None else self.amount
        elif seen is GatewayStatus.CANCELED:
            self.canceled_at = at
            self.cancel_reason = reason
        self.last_error = None
        self._emit(
            ev.PaymentStatusChanged(
                occurred_at=at,
                order_id=self.order_id,
                gateway=self.gateway,
                gateway_payment_id=self.gateway_id,
                from_status=before.value,
                to_status=seen.value,
                amount=self.amount,
                captured_amount=self.captured_amount,
                currency=self.currency,
                reason=reason,
            )
        )
        return True

    def capture_amount(self, owed: Decimal) -> Decimal:
        """What to capture for an order that owes ``owed`` now: all of it, never more than
        was authorised (lines cancelled since make it less - a partial capture)."""
        if self.status is not GatewayStatus.WAITING_FOR_CAPTURE:
            raise PaymentNotCapturable(order_id=self.order_id, status=self.status.value)
        if owed > self.amount:
            raise CaptureAboveAuthorised(
                order_id=self.order_id,
                owed=owed,
                authorised=self.amount,
                currency=self.currency,
            )
        return owed

    def check_cancellable(self) -> None:
        if self.status is not GatewayStatus.WAITING_FOR_CAPTURE:
            raise PaymentNotCancellable(order_id=self.order_id, status=self.status.value)

    def failed(self, action: str, reason: str, at: datetime) -> None:
        """The gateway refused what Potok asked; kept for operators, and announced."""
        self.last_error = f"{action}: {reason}"[:MAX_ERROR]
        self.updated_at = at
        self._emit(
            ev.PaymentActionFailed(
                occurred_at=at,
                order_id=self.order_id,
                gateway=self.gateway,
                gateway_payment_id=self.gateway_id,
                action=action,
                reason=reason[:MAX_ERROR],
            )
        )

    # ----------------------------------------------------------------- refunds

    def follow_refund(
        self,
        return_number: str,
        amount: Decimal,
        seen: RefundState,
        at: datetime,
        *,
        gateway_id: str | None,
        error: str | None = None,
    ) -> GatewayRefund | None:
        """The gateway took (or moved) the refund for this return; returns it when anything
        changed. A refund is tied to one return: a second one for it is the same refund."""
        refund = self.refund_for(return_number)
        if refund is None:
            refund = GatewayRefund(
                return_number=return_number,
                amount=amount,
                status=seen,
                created_at=at,
                updated_at=at,
                gateway_id=gateway_id,
                last_error=error,
            )
            self.refunds.append(refund)
        elif seen is refund.status or not GATEWAY_REFUND.allows(refund.status, seen):
            return None
        else:
            if refund.status is RefundState.CANCELED:  # asked again: a new refund
                refund.amount = amount
            refund.status = seen
            refund.updated_at = at
            refund.gateway_id = gateway_id or refund.gateway_id
            refund.last_error = error
        self.updated_at = at
        self._emit(
            ev.PaymentRefundChanged(
                occurred_at=at,
                order_id=self.order_id,
                gateway=self.gateway,
                gateway_payment_id=self.gateway_id,
                return_number=return_number,
                gateway_refund_id=refund.gateway_id,
                status=refund.status.value,
                amount=refund.amount,
                currency=self.currency,
            )
        )
        return refund

    # ----------------------------------------------------------------- persistence

    def take_events(self) -> list[DomainEvent]:
        taken, self.events = self.events, []
        return taken

    def _emit(self, event: DomainEvent) -> None:
        self.events.append(event)
