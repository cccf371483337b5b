"""The status an operator sees, derived from the state machines and never set by hand."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.orders.states import AllocationState, OrderState


class OrderStatus(StrEnum):
    """What the operator's window shows.

    Shipments and returns add ``in_fulfilment``, ``partially_shipped``, ``shipped``,
    ``delivered`` and the return statuses when they arrive; they slot in between
    ``on_hold`` and ``new`` in :func:`derive_status`.
    """

    NEW = "new"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"
    RESERVED = "reserved"
    CANCELLED = "cancelled"


def derive_status(state: OrderState, allocation: AllocationState, *, on_hold: bool) -> OrderStatus:
    """The one rule from machine states to the operator's status, most decisive first."""
    if state is OrderState.CANCELLED:
        return OrderStatus.CANCELLED
    if on_hold:
        return OrderStatus.ON_HOLD
    if state is OrderState.NEW:
        return OrderStatus.NEW
    if allocation is AllocationState.RESERVED:
        return OrderStatus.RESERVED
    if allocation is AllocationState.BACKORDERED:
        return OrderStatus.BACKORDERED
    return OrderStatus.CONFIRMED
