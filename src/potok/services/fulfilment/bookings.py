"""Carrier bookings called off after the fact: a shipment cancelled while a carrier had it
booked is cancelled with the carrier too - after the commit, from the dispatcher, never
inside the transaction that cancelled it."""

from __future__ import annotations

from potok.connectors.carriers.interface import Tracked
from potok.domain.kernel import Actor
from potok.domain.webhooks import StoredEvent
from potok.services.outside import Outside, Settle
from potok.services.unit_of_work import UnitOfWork, reading

REACTOR = str(Actor.system("reactions"))


def call_off_carrier_booking(outside: Outside, event: StoredEvent) -> Settle | None:
    """A cancelled shipment that a carrier had booked is called off with that carrier, and
    its history says so. Run at least once per event: carriers take a second call-off of
    the same booking as a no-op."""
    shipment_id = int(event.payload["shipment_id"])
    shipment = reading(outside.uow(), lambda uow: uow.shipments.get(shipment_id))
    if shipment is None or not shipment.tracking_number or shipment.carrier is None:
        return None  # never booked: nothing to call off
    if shipment.carrier not in outside.carriers:
        return None  # recorded by hand at hand-over (a courier of one's own)
    carrier, tracking = shipment.carrier, shipment.tracking_number
    outside.carriers.get(carrier).cancel(Tracked(tracking, shipment.carrier_ref))

    def settle(uow: UnitOfWork) -> None:
        found = uow.shipments.get(shipment_id, lock=True)
        if found is None:
            return
        found.note(
            outside.clock(),
            REACTOR,
            "booking_called_off",
            f"booking {tracking} called off with {carrier}",
            carrier=carrier,
            tracking_number=tracking,
            event_id=event.event_id,
        )
        uow.shipments.save(found)

    return settle
