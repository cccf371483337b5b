"""The gateway payments as operators and the shop read them."""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.orders import OrderNotFound
from potok.domain.payments import GatewayPayment, GatewayPaymentNotFound, GatewayStatus
from potok.domain.validation import require_choice
from potok.services.unit_of_work import UnitOfWork, reading


@dataclass(frozen=True, slots=True)
class PaymentPage:
    items: list[GatewayPayment]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class OrderPayment:
    """An order's payment as the shop reads it: Potok's payment status and, for a channel
    that takes gateway payments, the gateway payment (``state``: ``none`` - the channel
    takes none; ``creating`` - asked for after the intake, not there yet; ``created``)."""

    order_id: int
    payment_status: str
    state: str
    payment: GatewayPayment | None


def order_payment(uow: UnitOfWork, order_id: int) -> OrderPayment:
    def work(uow: UnitOfWork) -> OrderPayment:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id=order_id)
        found = uow.payments.for_order(order_id)
        account = uow.payments.account(order.channel_id)
        if found is not None:
            state = "created"
        elif account is not None and account.active and order.payment_status.value == "pending":
            state = "creating"
        else:
            state = "none"
        return OrderPayment(order_id, order.payment_status.value, state, found)

    return reading(uow, work)


def payment_of_order(uow: UnitOfWork, order_id: int) -> GatewayPayment:
    """The order's gateway payment; a clear refusal while it is being created or when the
    order's channel takes no gateway payments."""

    def work(uow: UnitOfWork) -> GatewayPayment:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id=order_id)
        found = uow.payments.for_order(order_id)
        if found is not None:
            return found
        account = uow.payments.account(order.channel_id)
        if account is None or not account.active:
            why = f"channel '{order.channel_code}' takes no gateway payments"
        else:
            why = "it is being created at the gateway; ask again in a moment"
        raise GatewayPaymentNotFound(order_id=order_id, why=why)

    return reading(uow, work)


def payment_or_none(uow: UnitOfWork, order_id: int) -> GatewayPayment | None:
    """The order's gateway payment, if it has one (the console's order page)."""
    return reading(uow, lambda uow: uow.payments.for_order(order_id))


def list_payments(
    uow: UnitOfWork, *, status: str | None = None, cursor: int | None = None, limit: int = 50
) -> PaymentPage:
    """Newest first, optionally of one gateway status."""
    require_choice("status", status, GatewayStatus, "unknown-status")

    def work(uow: UnitOfWork) -> PaymentPage:
        items, after = uow.payments.list_page(status=status, cursor=cursor, limit=limit)
        return PaymentPage(items, after)

    return reading(uow, work)
