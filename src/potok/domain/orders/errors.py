"""Errors of the orders area."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected


class OrderNotFound(NotFound):
    code = "order-not-found"
    title = "Order not found"
    template = "There is no order {order_id}."


class OrderOnHold(Conflict):
    code = "order-on-hold"
    title = "The order is on hold"
    template = "Order {order_id} has an active {holds} hold; release it first."


class HoldNotFound(NotFound):
    code = "hold-not-found"
    title = "Hold not found"
    template = "Order {order_id} has no hold number {hold_no}."


class HoldAlreadyActive(Conflict):
    code = "hold-already-active"
    title = "The order already has this kind of hold"
    template = "Order {order_id} already has an active {hold_type} hold (number {hold_no})."


class OrderClosed(Conflict):
    code = "order-closed"
    title = "The order is closed"
    template = "Order {order_id} is {order_status}; it can no longer be {action}."


class OrderNotReserved(Conflict):
    code = "order-not-reserved"
    title = "The order holds no reservations"
    template = "Order {order_id} is {order_status}; only a reserved order can be re-planned."


class NetworkCannotCover(Rejected):
    """The channel refuses orders it cannot reserve, and the network is short."""

    code = "insufficient-stock"
    title = "Not enough stock for this order"
    template = "The network cannot cover {short_lines} of the order's lines: {summary}."


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"
    title = "The Idempotency-Key was used for a different request"
    template = (
        "Idempotency-Key '{key}' was first used with a different request body; "
        "use a new key for a new request."
    )
