"""Picking: matching a scan to the units it confirms, and a wave's lines merged per bin.

A scan names a product (by barcode or SKU) and, as the picker's scanner gives them, the
bin, the lot and the serial number, with a quantity. It confirms units of the open items
that fit it, in walking order and then in the order the wave's shipments were sorted (their
slot on the cart); a scan that fits nothing says what was expected instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from potok.domain.fulfilment.errors import (
    AlreadyPicked,
    SerialRequired,
    WrongBin,
    WrongLot,
    WrongProduct,
    WrongSerial,
)
from potok.domain.fulfilment.model import ShipmentItem
from potok.domain.kernel import ProductId

MAX_SCAN_QUANTITY = 100_000


@dataclass(frozen=True, slots=True)
class Scan:
    """What the picker's scanner read."""

    product_id: ProductId
    scanned: str  # the barcode or SKU as scanned, for messages
    quantity: int = 1
    bin: str | None = None
    lot: str | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """An item of one shipment of a wave, with the shipment's place on the cart."""

    shipment_id: int
    order_id: int
    slot: int  # 1.. in the wave; 1 for a single order's pick
    item: ShipmentItem


@dataclass(frozen=True, slots=True)
class Take:
    """Units a scan confirms for one item: put them into this slot."""

    shipment_id: int
    order_id: int
    slot: int
    item_no: int
    quantity: int
    serial: str | None = None


def walking_key(slot: Slot) -> tuple[int, int, str, str, str, str, int, int]:
    """Bins in pick sequence, zone and code (items without a bin last), then SKU, lot, slot."""
    item = slot.item
    return (
        1 if item.location is None else 0,
        item.pick_sequence or 0,
        item.zone,
        item.location or "",
        item.sku,
        item.lot or "",
        slot.slot,
        item.item_no,
    )


def match_scan(slots: Sequence[Slot], scan: Scan) -> list[Take]:
    """The units a scan confirms; refused with what was expected when it fits nothing."""
    open_slots = [s for s in slots if s.item.left > 0]
    product = [s for s in open_slots if s.item.product_id == scan.product_id]
    if not product:
        done = [s for s in slots if s.item.product_id == scan.product_id]
        if done:  # on the list, and picked already
            raise AlreadyPicked(sku=done[0].item.sku, scanned=scan.quantity, expected=0)
        expected = sorted({s.item.sku for s in open_slots})
        raise WrongProduct(scanned=scan.scanned, expected=", ".join(expected[:20]) or "nothing")
    sku = product[0].item.sku
    if scan.bin is not None:
        here = [s for s in product if (s.item.location or "").upper() == scan.bin.upper()]
        if not here:
            bins = sorted({s.item.location or "(no bin)" for s in product})
            raise WrongBin(sku=sku, scanned=scan.bin, expected=", ".join(bins))
        product = here
    if scan.lot is not None:
        of_lot = [s for s in product if s.item.lot == scan.lot]
        if not of_lot:
            lots = sorted({s.item.lot or "(none)" for s in product})
            raise WrongLot(sku=sku, scanned=scan.lot, expected=", ".join(lots))
        product = of_lot
    serialised = [s for s in product if s.item.serials]
    if serialised:
        left = [
            serial
            for s in serialised
            for serial in s.item.serials
            if serial not in s.item.picked_serials
        ]
        if scan.serial is None:
            raise SerialRequired(sku=sku, expected=", ".join(left[:10]))
        for s in sorted(serialised, key=walking_key):
            if scan.serial in s.item.serials and scan.serial not in s.item.picked_serials:
                if scan.quantity != 1:
                    raise AlreadyPicked(sku=sku, scanned=scan.quantity, expected=1)
                return [Take(s.shipment_id, s.order_id, s.slot, s.item.item_no, 1, scan.serial)]
        raise WrongSerial(sku=sku, scanned=scan.serial, expected=", ".join(left[:10]) or "none")
    left_total = sum(s.item.left for s in product)
    if scan.quantity > left_total:
        raise AlreadyPicked(sku=sku, scanned=scan.quantity, expected=left_total)
    takes: list[Take] = []
    wanted = scan.quantity
    for s in sorted(product, key=walking_key):
        if wanted == 0:
            break
        units = min(wanted, s.item.left)
        takes.append(Take(s.shipment_id, s.order_id, s.slot, s.item.item_no, units))
        wanted -= units
    return takes


@dataclass(frozen=True, slots=True)
class SortTo:
    """Where a wave line's units go: the slot of one order on the cart."""

    slot: int
    order_id: int
    shipment_id: int
    item_no: int
    quantity: int
    picked: int


@dataclass(frozen=True, slots=True)
class WaveLine:
    """Units of one product (one lot) in one bin, summed over a wave's orders."""

    location: str | None
    zone: str
    pick_sequence: int | None
    sku: str
    name: str
    lot: str | None
    quantity: int
    picked: int
    serialised: bool
    sort: tuple[SortTo, ...]

    @property
    def left(self) -> int:
        return self.quantity - self.picked


def merge(slots: Sequence[Slot]) -> list[WaveLine]:
    """A wave's lines: items of every shipment merged per bin, product and lot, in walking
    order, each with the slots its units are sorted into."""
    groups: dict[tuple[str | None, str, str | None], list[Slot]] = {}
    for s in sorted(slots, key=walking_key):
        if s.item.quantity == 0:
            continue
        groups.setdefault((s.item.location, s.item.sku, s.item.lot), []).append(s)
    lines = []
    for (location, sku, lot), members in groups.items():
        first = members[0].item
        lines.append(
            WaveLine(
                location=location,
                zone=first.zone,
                pick_sequence=first.pick_sequence,
                sku=sku,
                name=first.name,
                lot=lot,
                quantity=sum(m.item.quantity for m in members),
                picked=sum(m.item.picked for m in members),
                serialised=bool(first.serials),
                sort=tuple(
                    SortTo(
                        m.slot,
                        m.order_id,
                        m.shipment_id,
                        m.item.item_no,
                        m.item.quantity,
                        m.item.picked,
                    )
                    for m in members
                ),
            )
        )
    return lines
