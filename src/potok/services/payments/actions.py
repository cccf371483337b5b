"""An operator's hand on a gateway payment: capture (all that is owed, or less) or cancel
it now, read it back from the gateway - for a capture that failed at hand-over, a hold to
let go, or a payment whose notification never came."""

from __future__ import annotations

from decimal import Decimal

from potok.connectors.payments import GatewayDown, GatewayRefused, PaymentGateway
from potok.domain.kernel import Actor
from potok.domain.orders import OrderNotFound
from potok.domain.payments import (
    AccountNotFound,
    GatewayPayment,
    GatewayPaymentNotFound,
    GatewayRefusedAction,
    GatewayUnreachable,
    RefundState,
)
from potok.services.outside import Outside
from potok.services.payments.applying import (
    GATEWAY_ACTOR,
    apply_payment_seen,
    apply_refund_seen,
)
from potok.services.payments.flow import Plan
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def _plan(outside: Outside, order_id: int) -> Plan:
    def look(uow: UnitOfWork) -> Plan:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id=order_id)
        payment = uow.payments.for_order(order_id)
        if payment is None or payment.gateway_id is None:
            raise GatewayPaymentNotFound(order_id=order_id, why="none was created")
        account = uow.payments.account(order.channel_id)
        if account is None:
            raise AccountNotFound(channel=order.channel_code)
        owed = order.total.amount
        key = uow.payments.key(order.channel_id)
        return Plan(account, key, owed, payment.currency, payment)

    return reading(outside.uow(), look)


def _gateway(outside: Outside, plan: Plan) -> PaymentGateway:
    return outside.gateways.get(plan.account.gateway, plan.key)


def capture_payment(
    outside: Outside, order_id: int, actor: Actor, *, amount: Decimal | None = None
) -> GatewayPayment:
    """Capture the order's authorised payment now: what the order owes, or ``amount``."""
    plan = _plan(outside, order_id)
    payment = plan.payment
    assert payment is not None
    assert payment.gateway_id is not None
    wanted = payment.capture_amount(amount if amount is not None else plan.amount)
    key = f"potok-capture-{order_id}-{int(wanted * 100)}"
    try:
        seen = _gateway(outside, plan).capture(payment.gateway_id, wanted, plan.currency, key=key)
    except GatewayRefused as error:
        raise GatewayRefusedAction(
            gateway=error.gateway, action="capture", reason=error.reason
        ) from None
    except GatewayDown as error:
        raise GatewayUnreachable(gateway=error.gateway, reason=error.reason) from None
    at = outside.clock()
    atomically(outside.uow(), lambda uow: apply_payment_seen(uow, order_id, seen, at, str(actor)))
    return _reread(outside, order_id)


def cancel_payment(outside: Outside, order_id: int, actor: Actor) -> GatewayPayment:
    """Let the order's authorised payment go now (the customer's money is released)."""
    plan = _plan(outside, order_id)
    payment = plan.payment
    assert payment is not None
    assert payment.gateway_id is not None
    payment.check_cancellable()
    try:
        seen = _gateway(outside, plan).cancel(
            payment.gateway_id, key=f"potok-cancel-{order_id}-{payment.gateway_id}"[:64]
        )
    except GatewayRefused as error:
        raise GatewayRefusedAction(
            gateway=error.gateway, action="cancel", reason=error.reason
        ) from None
    except GatewayDown as error:
        raise GatewayUnreachable(gateway=error.gateway, reason=error.reason) from None
    at = outside.clock()
    atomically(outside.uow(), lambda uow: apply_payment_seen(uow, order_id, seen, at, str(actor)))
    return _reread(outside, order_id)


def check_payment(outside: Outside, order_id: int, actor: Actor | None = None) -> bool:
    """Read the order's payment and its pending refunds back from the gateway and apply
    what moved; returns whether anything changed."""
    plan = _plan(outside, order_id)
    payment = plan.payment
    assert payment is not None
    assert payment.gateway_id is not None
    gateway = _gateway(outside, plan)
    who = str(actor) if actor is not None else GATEWAY_ACTOR
    try:
        seen = gateway.get_payment(payment.gateway_id)
        refunds = [
            (r.return_number, gateway.get_refund(r.gateway_id))
            for r in payment.refunds
            if r.status is RefundState.PENDING and r.gateway_id
        ]
    except GatewayRefused as error:
        raise GatewayRefusedAction(
            gateway=error.gateway, action="read", reason=error.reason
        ) from None
    except GatewayDown as error:
        raise GatewayUnreachable(gateway=error.gateway, reason=error.reason) from None
    at = outside.clock()

    def work(uow: UnitOfWork) -> bool:
        changed = apply_payment_seen(uow, order_id, seen, at, who)
        for number, refund in refunds:
            changed = apply_refund_seen(uow, order_id, number, refund, at, actor=who) or changed
        uow.payments.mark_checked([order_id], at)
        return changed

    return atomically(outside.uow(), work)


def _reread(outside: Outside, order_id: int) -> GatewayPayment:
    def look(uow: UnitOfWork) -> GatewayPayment:
        found = uow.payments.for_order(order_id)
        assert found is not None
        return found

    return reading(outside.uow(), look)
