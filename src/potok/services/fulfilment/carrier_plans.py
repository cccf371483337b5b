"""The carrier a shipment is to be booked with, changed by an operator before it is booked:
sourcing's choice replaced (the shipment's steps say from which, by whom and why), nothing
asked of any carrier; the booking and the hand-over then use it."""

from __future__ import annotations

from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.fulfilment.errors import ShipmentNotStarted
from potok.domain.kernel import Actor, Clock, utc_now
from potok.services.fulfilment.common import locked
from potok.services.unit_of_work import UnitOfWork, atomically

BEFORE_BOOKING = frozenset({ShipmentStatus.PENDING, ShipmentStatus.PICKING, ShipmentStatus.PACKED})


def plan_carrier(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    shipment_id: int,
    carrier: str,
    actor: Actor,
    *,
    reason: str | None = None,
    clock: Clock = utc_now,
) -> Shipment:
    """Plan the shipment's carrier (one Potok knows) until it is booked; the same carrier
    again changes nothing. A booked shipment, or one that left, is refused: call the booking
    off (cancel the shipment) to book it elsewhere."""
    code = carriers.get(carrier).code  # an unknown carrier: 404 naming the known ones

    def work(uow: UnitOfWork) -> Shipment:
        _, shipment = locked(uow, shipment_id)  # the order first, as everywhere
        if shipment.status not in BEFORE_BOOKING:
            raise ShipmentNotStarted(
                shipment_id=shipment_id,
                status=shipment.status.value,
                action="its carrier is planned before it is handed over",
            )
        if shipment.tracking_number is not None:
            raise ShipmentNotStarted(
                shipment_id=shipment_id,
                status=f"booked with {shipment.carrier} ({shipment.tracking_number})",
                action="its carrier is planned before it is booked",
            )
        words = reason or f"planned by {actor}"
        shipment.plan_carrier(code, clock(), str(actor), words[:500], by="operator")
        uow.shipments.save(shipment)
        return shipment

    return atomically(uow, work)
