"""Stopping fulfilment: shipments that have not left are cancelled, their units go back on
the shelf (the order's reservations are its own again) and their codes are free."""

from __future__ import annotations

from datetime import datetime

from potok.domain.fulfilment.errors import ShipmentsLeftTheWarehouse
from potok.domain.fulfilment.states import CANCELLABLE, SHIPPED, ShipmentStatus, roll_up
from potok.domain.orders import Order
from potok.services.unit_of_work import UnitOfWork


def stop_fulfilment(
    uow: UnitOfWork, order: Order, at: datetime, actor: str, reason: str
) -> list[int]:
    """Before the order is cancelled: refused once a shipment is with a carrier or
    delivered; otherwise every shipment still in the warehouse is cancelled. The order is
    locked by the caller. Returns the shipments cancelled."""
    assert order.id is not None
    shipments = uow.shipments.for_order(order.id, lock=True)
    gone = [
        s
        for s in shipments
        if s.status in SHIPPED and s.status is not ShipmentStatus.RETURNED_TO_SENDER
    ]
    if gone:
        numbers = ", ".join(s.number for s in gone)
        raise ShipmentsLeftTheWarehouse(
            order_id=order.id,
            why=f"shipment {numbers} has been handed over; it cannot be cancelled any more",
        )
    stopped = []
    for shipment in shipments:
        if shipment.status not in CANCELLABLE:
            continue
        assert shipment.id is not None
        shipment.cancel(at, actor, reason)
        order.unclaim(shipment.id)
        uow.shipments.save(shipment)
        uow.shipments.release_codes(shipment.id)
        stopped.append(shipment.id)
    if stopped:  # said by the cancellation's own history entry
        order.fulfilment = roll_up(
            uow.shipments.statuses(order.id).values(), outstanding=order.outstanding
        )
    return stopped
