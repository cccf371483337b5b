"""What may change in an order in which status - as data, in one table - and the errors of
edits that the table or the order's shipments refuse."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.errors import Conflict
from potok.domain.orders.status import OrderStatus


class Change(StrEnum):
    LINES = "lines"  # add or remove lines, change quantities
    DELIVERY = "delivery"  # the address or the pickup point
    CANCEL_LINES = "cancel_lines"  # cancel units of lines (those no shipment has started)
    CANCEL_SHIPMENT = "cancel_shipment"  # cancel a shipment's units before it leaves
    CANCEL = "cancel"  # the whole order
    CONTACT = "contact"  # the customer's name, phone and e-mail on the order


_BEFORE_PICKING = frozenset(Change)
ALLOWED: dict[OrderStatus, frozenset[Change]] = {
    OrderStatus.NEW: _BEFORE_PICKING,
    OrderStatus.CONFIRMED: _BEFORE_PICKING,
    OrderStatus.ON_HOLD: _BEFORE_PICKING,
    OrderStatus.BACKORDERED: _BEFORE_PICKING,
    OrderStatus.RESERVED: _BEFORE_PICKING,
    # picking has started: only what no shipment holds, or a whole shipment, may go
    OrderStatus.IN_FULFILMENT: frozenset(
        {Change.CANCEL_LINES, Change.CANCEL_SHIPMENT, Change.CANCEL, Change.CONTACT}
    ),
    # something has left: the order stays, what has not left may still be called off
    OrderStatus.PARTIALLY_SHIPPED: frozenset(
        {Change.CANCEL_LINES, Change.CANCEL_SHIPMENT, Change.CONTACT}
    ),
    OrderStatus.SHIPPED: frozenset({Change.CONTACT}),  # tracking, returns, the courier's call
    OrderStatus.DELIVERED: frozenset(),
    # everything came back: the order may be closed
    OrderStatus.RETURNED_TO_SENDER: frozenset({Change.CANCEL}),
    OrderStatus.PARTIALLY_RETURNED: frozenset(),  # returns only
    OrderStatus.RETURNED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
"""Statuses not listed allow nothing."""


def allows(status: OrderStatus, change: Change) -> bool:
    return change in ALLOWED.get(status, frozenset())


class OrderNotEditable(Conflict):
    code = "order-not-editable"
    title = "This change is not allowed in the order's status"
    template = "Order {order_id} is {order_status}: its {change} can no longer change."


class LineInFulfilment(Conflict):
    """Units of a line are in a started shipment: picked, packed or shipped."""

    code = "line-in-fulfilment"
    title = "The line's units are being picked or have left"
    template = (
        "Order {order_id}, line {line_no} ({sku}): {settled} of its units are in a started "
        "shipment, {free} may still change."
    )
