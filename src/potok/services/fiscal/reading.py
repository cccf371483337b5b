"""Reading fiscal receipts: an order's, one, or a filtered list."""

from __future__ import annotations

from potok.domain.fiscal import Receipt, ReceiptNotFound
from potok.domain.orders import OrderNotFound
from potok.services.fiscal_ports import ReceiptFilter, ReceiptPage
from potok.services.unit_of_work import UnitOfWork, reading


def receipts_of_order(uow: UnitOfWork, order_id: int) -> list[Receipt]:
    """The order's receipts, oldest first."""

    def work(uow: UnitOfWork) -> list[Receipt]:
        if uow.orders.get(order_id) is None:
            raise OrderNotFound(order_id=order_id)
        return uow.fiscal.of_order(order_id)

    return reading(uow, work)


def get_receipt(uow: UnitOfWork, receipt_id: int) -> Receipt:
    found = reading(uow, lambda uow: uow.fiscal.get(receipt_id))
    if found is None:
        raise ReceiptNotFound(receipt=receipt_id)
    return found


def list_receipts(
    uow: UnitOfWork, where: ReceiptFilter, *, cursor: str | None, limit: int
) -> ReceiptPage:
    """Newest first."""
    return reading(uow, lambda uow: uow.fiscal.page(where, cursor, limit))


def receipt_counts(uow: UnitOfWork) -> dict[str, int]:
    """How many receipts stand in each state."""
    return reading(uow, lambda uow: uow.fiscal.counts())
