"""The status an operator sees, derived from the state machines and never set by hand."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.fulfilment.states import FulfilmentProgress
from potok.domain.orders.states import AllocationState, OrderState
from potok.domain.returns.states import ReturnProgress


class OrderStatus(StrEnum):
    """What the operator's window shows.

    Returns slot in after the fulfilment ones: once units are back from the customer the
    order is ``partially_returned`` or ``returned``.
    """

    NEW = "new"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"
    RESERVED = "reserved"
    IN_FULFILMENT = "in_fulfilment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED_TO_SENDER = "returned_to_sender"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"
    CANCELLED = "cancelled"


NEEDS_ACTION = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.BACKORDERED)
"""Statuses an operator has to move on: confirm by hand, release or settle, find stock (the
dashboard counts them over every day; a partial index keeps that count off the rest)."""


_BY_PROGRESS = {
    FulfilmentProgress.IN_FULFILMENT: OrderStatus.IN_FULFILMENT,
    FulfilmentProgress.PARTIALLY_SHIPPED: OrderStatus.PARTIALLY_SHIPPED,
    FulfilmentProgress.SHIPPED: OrderStatus.SHIPPED,
    FulfilmentProgress.DELIVERED: OrderStatus.DELIVERED,
    FulfilmentProgress.RETURNED_TO_SENDER: OrderStatus.RETURNED_TO_SENDER,
}


def derive_status(
    state: OrderState,
    allocation: AllocationState,
    *,
    on_hold: bool,
    progress: FulfilmentProgress = FulfilmentProgress.NONE,
    returned: ReturnProgress = ReturnProgress.NONE,
) -> OrderStatus:
    """The one rule from machine states to the operator's status, most decisive first;
    ``progress`` is rolled up from the order's shipments, ``returned`` from its returns."""
    if state is OrderState.CANCELLED:
        return OrderStatus.CANCELLED
    if on_hold:
        return OrderStatus.ON_HOLD
    if progress is not FulfilmentProgress.RETURNED_TO_SENDER:
        if returned is ReturnProgress.ALL:
            return OrderStatus.RETURNED
        if returned is ReturnProgress.PARTIAL:
            return OrderStatus.PARTIALLY_RETURNED
    if progress is not FulfilmentProgress.NONE:
        return _BY_PROGRESS[progress]
    if state is OrderState.NEW:
        return OrderStatus.NEW
    if allocation is AllocationState.RESERVED:
        return OrderStatus.RESERVED
    if allocation is AllocationState.BACKORDERED:
        return OrderStatus.BACKORDERED
    return OrderStatus.CONFIRMED
