"""The shipment's state machine and the order's fulfilment progress rolled up from its
shipments, each a table in one place."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from potok.domain.machine import StateMachine


class ShipmentStatus(StrEnum):
    """Where one shipment (one warehouse, one parcel group of an order) is."""

    PENDING = "pending"  # released to the warehouse, nothing picked yet
    PICKING = "picking"  # picking or packing under way
    PACKED = "packed"  # every unit in a parcel, waiting for the carrier
    HANDED_OVER = "handed_over"  # the carrier (or the customer at the counter) took it
    IN_TRANSIT = "in_transit"
    READY_FOR_PICKUP = "ready_for_pickup"  # waiting at a pickup point until its deadline
    DELIVERED = "delivered"
    FAILED_DELIVERY = "failed_delivery"  # not delivered: refused, not collected, no one home
    RETURNING = "returning"  # on its way back to the warehouse
    RETURNED_TO_SENDER = "returned_to_sender"  # back at the warehouse, units in stock again
    CANCELLED = "cancelled"


S = ShipmentStatus

SHIPMENT = StateMachine[ShipmentStatus](
    "shipment",
    {
        S.PENDING: frozenset({S.PICKING, S.CANCELLED}),
        S.PICKING: frozenset({S.PACKED, S.CANCELLED}),
        # a parcel opened again goes back to picking; cancelled until it leaves
        S.PACKED: frozenset({S.PICKING, S.HANDED_OVER, S.CANCELLED}),
        # handed over at the counter of a store is delivered at once
        S.HANDED_OVER: frozenset({S.IN_TRANSIT, S.DELIVERED, S.FAILED_DELIVERY}),
        S.IN_TRANSIT: frozenset({S.READY_FOR_PICKUP, S.DELIVERED, S.FAILED_DELIVERY}),
        S.READY_FOR_PICKUP: frozenset({S.DELIVERED, S.FAILED_DELIVERY}),
        # another attempt, or back to the sender
        S.FAILED_DELIVERY: frozenset({S.IN_TRANSIT, S.RETURNING}),
        S.RETURNING: frozenset({S.RETURNED_TO_SENDER}),
        S.DELIVERED: frozenset(),
        S.RETURNED_TO_SENDER: frozenset(),
        S.CANCELLED: frozenset(),
    },
)

IN_WAREHOUSE = frozenset({S.PICKING, S.PACKED})
"""Being picked or packed: the order is in fulfilment."""
CANCELLABLE = frozenset({S.PENDING, S.PICKING, S.PACKED})
"""Until hand-over a shipment may be cancelled; its units go back on the shelf."""
WITH_CARRIER = frozenset(
    {S.HANDED_OVER, S.IN_TRANSIT, S.READY_FOR_PICKUP, S.FAILED_DELIVERY, S.RETURNING}
)
"""Out of the warehouse and not yet settled."""
SHIPPED = WITH_CARRIER | {S.DELIVERED, S.RETURNED_TO_SENDER}
"""Handed over at some point: its stock has left the books."""
CARRIER_STEPS = frozenset(
    {
        S.IN_TRANSIT,
        S.READY_FOR_PICKUP,
        S.DELIVERED,
        S.FAILED_DELIVERY,
        S.RETURNING,
        S.RETURNED_TO_SENDER,
    }
)
"""The moves a carrier's tracking events make."""


class FulfilmentProgress(StrEnum):
    """How far an order's shipments have come, as its status shows it."""

    NONE = "none"  # nothing picked yet (pending shipments do not count)
    IN_FULFILMENT = "in_fulfilment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED_TO_SENDER = "returned_to_sender"


def roll_up(statuses: Iterable[ShipmentStatus], *, outstanding: bool) -> FulfilmentProgress:
    """The order's progress from its shipments' statuses; ``outstanding`` says whether some
    of its units are in no started shipment yet (reserved elsewhere, or waiting for stock).

    Nothing started: ``none``. Some shipped while others (or outstanding units) wait:
    ``partially_shipped``. Everything shipped: ``shipped``, then ``delivered`` once every
    shipment is settled with at least one delivered, or ``returned_to_sender`` when all came
    back. Only picking or packing: ``in_fulfilment``."""
    live = [s for s in statuses if s is not S.CANCELLED and s is not S.PENDING]
    if not live:
        return FulfilmentProgress.NONE
    shipped = [s for s in live if s in SHIPPED]
    if not shipped:
        return FulfilmentProgress.IN_FULFILMENT
    if outstanding or len(shipped) < len(live):
        return FulfilmentProgress.PARTIALLY_SHIPPED
    if all(s is S.RETURNED_TO_SENDER for s in shipped):
        return FulfilmentProgress.RETURNED_TO_SENDER
    if all(s in (S.DELIVERED, S.RETURNED_TO_SENDER) for s in shipped):
        return FulfilmentProgress.DELIVERED
    return FulfilmentProgress.SHIPPED


class WaveStatus(StrEnum):
    """A batch of orders picked together at one warehouse."""

    OPEN = "open"  # made, nobody picks yet
    PICKING = "picking"
    DONE = "done"  # nothing left to pick
    CANCELLED = "cancelled"


WAVE = StateMachine[WaveStatus](
    "wave",
    {
        WaveStatus.OPEN: frozenset({WaveStatus.PICKING, WaveStatus.DONE, WaveStatus.CANCELLED}),
        WaveStatus.PICKING: frozenset({WaveStatus.DONE}),
        WaveStatus.DONE: frozenset(),
        WaveStatus.CANCELLED: frozenset(),
    },
)
