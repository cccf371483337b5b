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


def list_payments(
    uow: UnitOfWork, *, status: str | None = None, cursor: int | None = None, limit: int = 50
) -> PaymentPage:
    """Newest first, optionally of one gateway status."""
    require_choice("status", status, GatewayStatus, "unknown-status")

    def work(uow: UnitOfWork) -> PaymentPage:
        items, after = uow.payments.list_page(status=status, cursor=cursor, limit=limit)
        return PaymentPage(items, after)

    return reading(uow, work)
