"""Errors of fulfilment: what a picker, packer or operator is told when a step is refused."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected


class ShipmentNotFound(NotFound):
    code = "shipment-not-found"
    title = "Shipment not found"
    template = "There is no shipment {shipment_id}."


class WaveNotFound(NotFound):
    code = "wave-not-found"
    title = "Wave not found"
    template = "There is no wave '{wave}'."


class WrongProduct(Rejected):
    """The scanned product is not on the list (or not where the scan says)."""

    code = "wrong-product"
    title = "This product is not to be picked here"
    template = "'{scanned}' is not on the pick list; expected one of: {expected}."


class WrongBin(Rejected):
    code = "wrong-bin"
    title = "Wrong bin"
    template = "'{sku}' is not picked from bin '{scanned}'; pick it from {expected}."


class WrongLot(Rejected):
    code = "wrong-lot"
    title = "Wrong lot"
    template = "Lot '{scanned}' of '{sku}' is not reserved for this pick; take lot {expected}."


class WrongSerial(Rejected):
    code = "wrong-serial"
    title = "Wrong serial number"
    template = (
        "Unit '{scanned}' of '{sku}' is not set aside for this pick (or was picked already); "
        "take one of: {expected}."
    )


class SerialRequired(Rejected):
    code = "serial-required"
    title = "Scan the unit's serial number"
    template = "'{sku}' is kept by serial number: scan each unit's serial ({expected})."


class AlreadyPicked(Conflict):
    """More units than are left to pick: another picker was faster, or a double scan."""

    code = "already-picked"
    title = "Nothing (or not that much) is left to pick"
    template = "{scanned} unit(s) of '{sku}' scanned, {expected} left to pick."


class PackExceedsPicked(Rejected):
    code = "pack-exceeds-picked"
    title = "More packed than picked"
    template = "{requested} unit(s) of '{sku}' to pack, but only {available} picked and not packed."


class IdentifierNotRequired(Rejected):
    code = "identifier-not-required"
    title = "This product takes no such identifier"
    template = "'{sku}' does not record {kind} codes; it records: {expected}."


class IdentifierMismatch(Rejected):
    code = "marking-code-other-product"
    title = "The code belongs to another product"
    template = "Marking code with GTIN {gtin} is not a code of '{sku}' (its GTINs: {expected})."


class CodeAlreadyUsed(Conflict):
    """A marking code, IMEI or UIN that is packed in another parcel or has shipped already."""

    code = "code-already-used"
    title = "This code is already packed or shipped"
    template = "{kind} '{key}' is in shipment {shipment_id} already; one unit never ships twice."


class IdentifiersMissing(Rejected):
    code = "identifiers-missing"
    title = "Units lack the identifiers their product requires"
    template = "Shipment {shipment_id} cannot leave: {summary}."


class ShipmentNotStarted(Conflict):
    code = "shipment-not-picking"
    title = "The shipment is not being picked"
    template = "Shipment {shipment_id} is {status}; {action}."


class NothingToPick(Conflict):
    code = "nothing-to-pick"
    title = "No reserved units here to pick"
    template = "Order {order_id} holds nothing at {warehouse} that is not being picked already."


class OrderNotReleasable(Conflict):
    code = "order-not-releasable"
    title = "The order cannot go to the warehouse yet"
    template = "Order {order_id} cannot be picked: {why}."


class ShipmentsLeftTheWarehouse(Conflict):
    """The order (or a line) cannot change any more: units have been handed over."""

    code = "order-shipped"
    title = "Part of the order has left the warehouse"
    template = "Order {order_id}: {why}."


class WaveClosed(Conflict):
    code = "wave-closed"
    title = "The wave is closed"
    template = "Wave {wave} is {status}."


class CarrierEventRefused(Rejected):
    code = "carrier-event-refused"
    title = "The tracking event does not fit the shipment"
    template = "Shipment {shipment_id} is {status}; a '{event}' event cannot apply to it."


class StockInFulfilment(Conflict):
    """Stock was corrected below what shipments being picked hold there."""

    code = "stock-in-fulfilment"
    title = "The units are being picked"
    template = (
        "{units} unit(s) of '{sku}' at {warehouse} are in shipments being picked, more than "
        "the new on-hand of {on_hand} leaves; report them missing on the shipment instead."
    )


class ShortageOnShipment(Conflict):
    code = "shortage-on-shipment"
    title = "Report the shortage on the shipment being picked"
    template = (
        "Order {order_id}'s units here are being picked in shipment {shipment_id}: report "
        "them with POST /api/v1/shipments/{shipment_id}/shortages."
    )


class ShipmentNotBooked(Conflict):
    """A carrier's label or refusal needs a shipment the carrier booked."""

    code = "shipment-not-booked"
    title = "The shipment is not booked with a carrier"
    template = "Shipment {shipment_id} has no booking with {carrier}; book it first."


class CarrierPrintsNoLabels(Rejected):
    code = "carrier-prints-no-labels"
    title = "This carrier prints no labels of its own"
    template = "{carrier} prints no labels: print Potok's label of the shipment instead."
