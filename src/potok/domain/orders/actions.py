"""What an operator may do with an order now, derived from its state machines.

The console offers exactly these actions; the use cases check the same tables again when
an action arrives, so an order that changed meanwhile is still refused with a typed error.
"""

from __future__ import annotations

from enum import StrEnum

from potok.domain.orders.edits import Change, allows
from potok.domain.orders.model import Order
from potok.domain.orders.states import (
    ORDER,
    PAYMENT,
    HoldType,
    OrderState,
    PaymentStatus,
)


class Action(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    PAYMENT = "payment"


def available_actions(order: Order) -> frozenset[Action]:
    """The actions the order's current states allow."""
    found: set[Action] = set()
    on_hold = bool(order.active_holds)
    if ORDER.allows(order.state, OrderState.CONFIRMED) and not on_hold:
        found.add(Action.CONFIRM)
    if ORDER.allows(order.state, OrderState.CANCELLED) and allows(order.status, Change.CANCEL):
        found.add(Action.CANCEL)  # until a shipment has left
    if order.state is not OrderState.CANCELLED:
        if hold_types_free(order):
            found.add(Action.HOLD)
        if on_hold:
            found.add(Action.RELEASE_HOLD)
        if payment_targets(order):
            found.add(Action.PAYMENT)
    return frozenset(found)


def hold_types_free(order: Order) -> list[HoldType]:
    """The kinds of hold the order does not have active yet (one of each at a time)."""
    active = {h.type for h in order.active_holds}
    return [t for t in HoldType if t not in active]


def payment_targets(order: Order) -> list[PaymentStatus]:
    """The payment states the order's payment may move to from where it is."""
    allowed = PAYMENT.transitions.get(order.payment_status, frozenset())
    return [s for s in PaymentStatus if s in allowed]
