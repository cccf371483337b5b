"""Carrier bookings called off after the fact: a shipment cancelled while a carrier had it
booked is cancelled with the carrier too - after the commit, from the dispatcher, never
inside the transaction that cancelled it."""

from __future__ import annotations

from potok.connectors.carriers import CarrierRefused
from potok.connectors.carriers.interface import Tracked
from potok.domain.fulfilment import ShipmentStatus
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
    if shipment.status is not ShipmentStatus.CANCELLED:
        return None  # cancelled and then booked again, or already on its way
    if shipment.carrier not in outside.carriers:
        return None  # recorded by hand at hand-over (a courier of one's own)
    carrier, tracking = shipment.carrier, shipment.tracking_number
    refused = ""
    try:
        outside.carriers.get(carrier).cancel(Tracked(tracking, shipment.carrier_ref))
    except CarrierRefused as error:  # too late (already moving) or unknown there: say why
        refused = str(error)
    # CarrierUnavailable propagates: the cursor stays and the call is tried again later

    def settle(uow: UnitOfWork) -> None:
        found = uow.shipments.get(shipment_id, lock=True)
        if found is None:
            return
        if refused:
            action, words = "booking_refused", f"{carrier} did not call off {tracking}: {refused}"
        else:
            action, words = "booking_called_off", f"booking {tracking} called off with {carrier}"
        found.note(
            outside.clock(),
            REACTOR,
            action,
            words[:500],
            carrier=carrier,
            tracking_number=tracking,
            event_id=event.event_id,
        )
        uow.shipments.save(found)

    return settle
