"""What the returns area refuses, naming the return, the order and the line."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected


class ReturnNotFound(NotFound):
    code = "return-not-found"
    title = "No such return"
    template = "There is no return '{number}'."


class OrderNotReturnable(Rejected):
    """A cancelled order, or one nothing of which was handed over."""

    code = "order-not-returnable"
    title = "Nothing of this order can be returned"
    template = "Order {order_id} is {status}: {why}."


class ReturnExceedsShipped(Rejected):
    code = "return-exceeds-shipped"
    title = "More units than were shipped and not yet returned"
    template = (
        "Order {order_id}, line {line_no} ({sku}): {requested} unit(s) asked back, "
        "{returnable} shipped and not returned yet."
    )


class UnitNotInOrder(Rejected):
    """A serial or marking code named that did not leave with this order's line."""

    code = "unit-not-in-order"
    title = "A unit named was not shipped on this line"
    template = "Order {order_id}, line {line_no} ({sku}): {unit} did not ship with this order."


class UnknownReturnReason(Rejected):
    code = "unknown-return-reason"
    title = "A reason that is not on the list of return reasons"
    template = "Line {line_no}: '{reason}' is not a return reason; use one of: {allowed}."


class InspectionIncomplete(Rejected):
    """Every received unit needs exactly one decision."""

    code = "inspection-incomplete"
    title = "The inspection does not decide every received unit"
    template = "Return {number}, line {line_no} ({sku}): {received} received, {decided} decided."


class RefundAbovePaid(Rejected):
    code = "refund-above-paid"
    title = "A refund above what was paid"
    template = "Order {order_id}: {amount} {currency} to refund, {left} {currency} left to refund."


class RefundNotDue(Conflict):
    code = "refund-not-due"
    title = "No refund is owed for this return yet"
    template = "Return {number} is {status}: {why}."


class ExchangeNotPossible(Conflict):
    code = "exchange-not-possible"
    title = "This return cannot be exchanged now"
    template = "Return {number} cannot get a replacement order: {why}."
