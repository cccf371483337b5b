"""Warehouse papers: the pick list, the packing slip, the shipping label and the wave sheet.

Unlike invoices and УПД these are not numbered legal documents: each is drawn on request
from the shipment (or wave) as it stands, so a pick list shows what is picked so far and
a label the tracking number the carrier gave. The same state always draws the same bytes.
What each paper needs before it can be drawn is checked here, with the step to take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from potok.domain.documents.errors import PaperNotReady


class PaperKind(StrEnum):
    PICK_LIST = "pick-list"  # лист подбора (one shipment)
    PACKING_SLIP = "packing-slip"  # упаковочный лист (in the box)
    LABEL = "label"  # транспортная этикетка (one per parcel)
    WAVE_SHEET = "wave-sheet"  # лист волны (many shipments, one walk)


PAPER_TITLES = {
    PaperKind.PICK_LIST: "Лист подбора",
    PaperKind.PACKING_SLIP: "Упаковочный лист",
    PaperKind.LABEL: "Транспортная этикетка",
    PaperKind.WAVE_SHEET: "Лист волны",
}


class LabelSize(StrEnum):
    """The label printers' rolls: 100 mm (100 x 150 mm labels) and 58 mm (58 x 60 mm)."""

    LARGE = "100x150"
    SMALL = "58x60"

    @property
    def millimetres(self) -> tuple[int, int]:
        width, height = self.value.split("x")
        return int(width), int(height)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a shipment leaves from or goes to, as a paper prints it."""

    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class PickRow:
    """Units of one product (one lot) to take from one bin."""

    location: str | None
    zone: str
    sku: str
    name: str
    lot: str | None
    quantity: int
    picked: int
    serials: tuple[str, ...] = ()
    sort: tuple[tuple[int, int], ...] = ()  # (slot, units) on a wave's cart

    @property
    def left(self) -> int:
        return self.quantity - self.picked


@dataclass(frozen=True, slots=True)
class PickSheet:
    """A shipment's pick list: the bins in walking order with what to take from each."""

    shipment: str  # «42-1»
    order_id: int
    order_ref: str  # the channel's number of the order, when it has one
    channel: str
    warehouse: Place
    status: str
    released_on: date
    rows: tuple[PickRow, ...]
    wave: str | None = None

    @property
    def units(self) -> int:
        return sum(row.quantity for row in self.rows)


@dataclass(frozen=True, slots=True)
class SlipLine:
    """One order line as it is packed: units, price (VAT included), parcels and codes."""

    no: int
    sku: str
    name: str
    quantity: int
    price: Decimal
    parcels: tuple[tuple[int, int], ...]  # (parcel number, units in it)
    codes: tuple[str, ...] = ()  # the units' identifiers as printed (marking codes' ids)

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True, slots=True)
class SlipParcel:
    parcel_no: int
    weight_g: int
    dimensions_mm: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PackingSlip:
    """What is in the boxes of one shipment, for the recipient to check against."""

    shipment: str
    order_id: int
    order_ref: str
    order_on: date
    packed_on: date
    sender: Place
    recipient: Place
    warehouse: Place
    lines: tuple[SlipLine, ...]
    parcels: tuple[SlipParcel, ...]
    currency: str = "RUB"

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def weight_g(self) -> int:
        return sum(parcel.weight_g for parcel in self.parcels)


def check_packed(shipment: str, status: str, parcels: int) -> None:
    """A packing slip says what is in the boxes: it waits until they are packed."""
    if status in ("pending", "picking") or parcels == 0:
        raise PaperNotReady(
            paper=PAPER_TITLES[PaperKind.PACKING_SLIP],
            shipment=shipment,
            status=status,
            step="pack it first (POST /api/v1/shipments/{id}/parcels)",
        )
    if status == "cancelled":
        raise PaperNotReady(
            paper=PAPER_TITLES[PaperKind.PACKING_SLIP],
            shipment=shipment,
            status=status,
            step="nothing leaves with a cancelled shipment",
        )
