"""What the gateway says, applied to Potok once: a payment's status (and the order's payment
status that follows it), a refund's status (and the return's refund that follows it).

Every path that learns something from the gateway - the reaction's own call, a
notification, the poller, an operator's command - comes through here. Each runs in one
transaction that locks the order first and then its gateway payment, and moves only
forward along the payment's table: two of them learning the same news at once apply it
once, and news that is old or repeated changes nothing."""

from __future__ import annotations

from datetime import datetime

from potok.connectors.payments import PaymentSeen, RefundSeen
from potok.domain.alerts import AlertKind
from potok.domain.kernel import Actor
from potok.domain.orders import OrderState, PaymentStatus
from potok.domain.orders.states import PAYMENT
from potok.domain.payments import GatewayStatus, RefundState
from potok.domain.returns import RefundStatus
from potok.services.alerts import raise_alert
from potok.services.orders import record_loaded_payment
from potok.services.unit_of_work import UnitOfWork

GATEWAY_ACTOR = str(Actor.system("payments"))

ORDER_PAYMENT = {
    GatewayStatus.WAITING_FOR_CAPTURE: PaymentStatus.AUTHORIZED,
    GatewayStatus.SUCCEEDED: PaymentStatus.PAID,
    GatewayStatus.CANCELED: PaymentStatus.FAILED,
}
WORDS = {
    GatewayStatus.WAITING_FOR_CAPTURE: "authorised at {gateway}: {amount} {currency} held",
    GatewayStatus.SUCCEEDED: "captured at {gateway}: {amount} {currency}",
    GatewayStatus.CANCELED: "cancelled at {gateway} ({reason})",
}


def apply_payment_seen(
    uow: UnitOfWork, order_id: int, seen: PaymentSeen, at: datetime, actor: str = GATEWAY_ACTOR
) -> bool:
    """The gateway holds the order's payment as ``seen``: follow it, and move the order's
    payment status with it. Returns whether anything changed."""
    order = uow.orders.get(order_id, lock=True)
    payment = uow.payments.for_order(order_id, lock=True)
    if order is None or payment is None or payment.gateway_id != seen.id:
        return False
    status = GatewayStatus(seen.status)
    captured = seen.amount if status is GatewayStatus.SUCCEEDED else None
    if not payment.follow(status, at, captured=captured, reason=seen.cancellation_reason):
        return False
    uow.payments.save(payment)
    target = ORDER_PAYMENT.get(status)
    if target is not None and PAYMENT.allows(order.payment_status, target):
        if order.state is OrderState.CANCELLED and target is PaymentStatus.AUTHORIZED:
            return True  # held for an order cancelled meanwhile: the poller lets it go
        reason = WORDS[status].format(
            gateway=payment.gateway,
            amount=captured if captured is not None else payment.amount,
            currency=payment.currency,
            reason=seen.cancellation_reason or "no reason given",
        )
        record_loaded_payment(uow, order, target, at, actor, reason)
        uow.orders.save(order)
    return True


def apply_refund_seen(
    uow: UnitOfWork,
    order_id: int,
    return_number: str,
    seen: RefundSeen | None,
    at: datetime,
    *,
    refused: str | None = None,
    actor: str = GATEWAY_ACTOR,
) -> bool:
    """The gateway holds the return's refund as ``seen`` (or refused it: ``refused``):
    follow it; a refund that succeeded pays the return's refund in Potok (the order's
    payment becomes partially refunded or refunded). Returns whether anything changed."""
    from potok.services.returns.common import locked
    from potok.services.returns.requests import settle_loaded_refund

    order, ret = locked(uow, return_number)
    payment = uow.payments.for_order(order_id, lock=True)
    if payment is None or ret.order_id != order_id:
        return False
    state = RefundState(seen.status) if seen is not None else RefundState.CANCELED
    refund = payment.follow_refund(
        return_number,
        seen.amount if seen is not None else ret.refund_amount,
        state,
        at,
        gateway_id=seen.id if seen is not None else None,
        error=refused or (seen.cancellation_reason if seen is not None else None),
    )
    if refund is None and not (refused and ret.refund_status is RefundStatus.PENDING):
        return False  # nothing new (a refusal of a refund asked again is news, though)
    if refused:
        payment.failed("refund", refused, at)
    uow.payments.save(payment)
    if (
        refund is not None
        and state is RefundState.SUCCEEDED
        and ret.refund_status is not RefundStatus.PAID
    ):
        note = f"refunded at {payment.gateway} (refund {refund.gateway_id})"
        settle_loaded_refund(uow, order, ret, RefundStatus.PAID, at, actor, note)
    elif state is RefundState.CANCELED and ret.refund_status is RefundStatus.PENDING:
        why = refused or (seen.cancellation_reason if seen is not None else None) or "cancelled"
        note = f"{payment.gateway} did not refund: {why}"[:500]
        settle_loaded_refund(uow, order, ret, RefundStatus.FAILED, at, actor, note)
        _still_owed(uow, order_id, return_number, f"{ret.refund_amount} {ret.currency}", note, at)
    return True


def _still_owed(
    uow: UnitOfWork, order_id: int, number: str, amount: str, why: str, at: datetime
) -> None:
    """Operators are told (an alert, and a task in the connector errors' queue) that a
    refund was not paid: the customer is still owed, and what to do."""
    message = (
        f"the refund of return {number} ({amount}) was not paid - {why}. The customer is "
        f"still owed: ask again (potok returns refund {number} pending) or pay it another "
        f"way and record it (potok returns refund {number} paid)"
    )
    raise_alert(uow, AlertKind.REFUND_REFUSED, order_id, message, at)
