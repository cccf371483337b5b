"""The status an operator sees, derived from the state machines and never set by hand."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.fulfilment.states import FulfilmentProgress
from potok.domain.orders.states import AllocationState, OrderState


class OrderStatus(StrEnum):
    """What the operator's window shows.

    Returns add their statuses when they arrive; they slot in with the fulfilment ones
    in :func:`derive_status`.
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
    CANCELLED = "cancelled"


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
) -> OrderStatus:
    """The one rule from machine states to the operator's status, most decisive first;
    ``progress`` is rolled up from the order's shipments."""
    if state is OrderState.CANCELLED:
        return OrderStatus.CANCELLED
    if on_hold:
        return OrderStatus.ON_HOLD
    if progress is not FulfilmentProgress.NONE:
        return _BY_PROGRESS[progress]
    if state is OrderState.NEW:
        return OrderStatus.NEW
    if allocation is AllocationState.RESERVED:
        return OrderStatus.RESERVED
    if allocation is AllocationState.BACKORDERED:
        return OrderStatus.BACKORDERED
    return OrderStatus.CONFIRMED
