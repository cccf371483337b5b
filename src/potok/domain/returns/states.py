"""The return's state machine, what inspection decides for a unit, the refund's machine and
how far an order has come back - each a table or a rule in one place."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.machine import StateMachine


class ReturnStatus(StrEnum):
    """Where one return (RMA) is."""

    REQUESTED = "requested"  # the customer (or support) asked; nothing has come back yet
    APPROVED = "approved"  # the customer may send the units; they are expected
    DECLINED = "declined"  # refused: nothing will be taken back
    RECEIVED = "received"  # the units are at a warehouse, set aside until inspected
    INSPECTED = "inspected"  # each unit's fate decided: sellable, unavailable or written off
    CLOSED = "closed"  # nothing left to do


R = ReturnStatus

RETURN = StateMachine[ReturnStatus](
    "return",
    {
        R.REQUESTED: frozenset({R.APPROVED, R.DECLINED}),
        R.APPROVED: frozenset({R.RECEIVED}),
        R.DECLINED: frozenset(),
        R.RECEIVED: frozenset({R.INSPECTED}),
        R.INSPECTED: frozenset({R.CLOSED}),
        R.CLOSED: frozenset(),
    },
)

OPEN = frozenset({R.REQUESTED, R.APPROVED, R.RECEIVED, R.INSPECTED})
"""Returns still under way."""
COUNTED = frozenset(ReturnStatus) - {R.DECLINED}
"""Returns whose units are no longer the customer's to return again."""
BACK = frozenset({R.RECEIVED, R.INSPECTED, R.CLOSED})
"""Returns whose units are back in Potok's hands."""


class Outcome(StrEnum):
    """What inspection decides for a returned unit."""

    RESTOCK = "restock"  # as new: back to sellable stock
    UNAVAILABLE = "unavailable"  # damaged or in quality check: kept aside
    WRITE_OFF = "write_off"  # worthless: out of the books


class ReturnSource(StrEnum):
    """Why the return exists."""

    CUSTOMER = "customer"  # the customer sends units back
    UNCLAIMED = "unclaimed"  # the parcel came back undelivered (returned to sender)


class RefundStatus(StrEnum):
    """What happened to the money owed for a return."""

    NONE = "none"  # nothing owed yet (not received, or declined)
    PENDING = "pending"  # owed, not paid yet
    PAID = "paid"
    FAILED = "failed"  # the payment provider refused; may be tried again


REFUND = StateMachine[RefundStatus](
    "refund",
    {
        RefundStatus.NONE: frozenset({RefundStatus.PENDING}),
        RefundStatus.PENDING: frozenset({RefundStatus.PAID, RefundStatus.FAILED}),
        RefundStatus.FAILED: frozenset({RefundStatus.PENDING, RefundStatus.PAID}),
        RefundStatus.PAID: frozenset(),
    },
)


class ReturnProgress(StrEnum):
    """How much of an order's shipped units came back, as its status shows it."""

    NONE = "none"
    PARTIAL = "partial"
    ALL = "all"


def returned_progress(shipped: dict[int, int], returned: dict[int, int]) -> ReturnProgress:
    """The order's return progress from its units shipped and back, per order line."""
    if not any(returned.values()):
        return ReturnProgress.NONE
    if sum(shipped.values()) and all(returned.get(n, 0) >= q for n, q in shipped.items()):
        return ReturnProgress.ALL
    return ReturnProgress.PARTIAL
