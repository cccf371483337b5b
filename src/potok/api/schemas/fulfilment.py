"""Bodies of the fulfilment endpoints: shipments, picking (one order or a wave), packing,
hand-over. Every field is bounded and strict (no "1" for 1, no true for 1)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from potok.api.schemas.common import JSON_INTEGER, JSON_SAFE_MAX, Out, Page, Schema
from potok.domain.fulfilment import (
    ParcelDraft,
    ParcelLine,
    Shipment,
    ShipmentStatus,
    ShipmentStep,
    UnitIdentifier,
)
from potok.domain.fulfilment.model import MAX_DIMENSION_MM, MAX_PARCEL_WEIGHT_G
from potok.domain.fulfilment.picking import MAX_SCAN_QUANTITY, Take, WaveLine
from potok.domain.fulfilment.waves import MAX_WAVE_ORDERS, Wave
from potok.services.carrier_label_ports import LabelJob
from potok.services.fulfilment.picking import ScanInput, ShortPick

MAX_ITEM_NO = 100_000
MAX_CODES = 10_000

OrderNumber = Annotated[int, Field(ge=1, le=JSON_SAFE_MAX), JSON_INTEGER]
Code = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------- requests


class ReleaseIn(Strict):
    warehouse: str = Field(min_length=1, max_length=64, examples=["MSK"])


class WaveIn(Strict):
    warehouse: str = Field(min_length=1, max_length=64, examples=["MSK"])
    max_orders: Annotated[int, Field(ge=1, le=MAX_WAVE_ORDERS), JSON_INTEGER] = Field(
        default=50, description="How many of the most urgent orders ready at the warehouse to take."
    )
    orders: list[OrderNumber] | None = Field(
        default=None,
        max_length=MAX_WAVE_ORDERS,
        description="These orders rather than the most urgent ones (each must be ready).",
    )


class ScanIn(Strict):
    code: str = Field(
        min_length=1,
        max_length=64,
        description="The product's barcode (any of its barcodes) or its SKU.",
        examples=["4601234567893"],
    )
    quantity: Annotated[int, Field(ge=1, le=MAX_SCAN_QUANTITY), JSON_INTEGER] = Field(default=1)
    bin: str | None = Field(default=None, min_length=1, max_length=64, examples=["A-01-03"])
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    serial: str | None = Field(
        default=None, min_length=1, max_length=100, description="For serialised goods."
    )

    def scan(self) -> ScanInput:
        return ScanInput(self.code, self.quantity, self.bin, self.lot, self.serial)


class ShortageIn(Strict):
    missing: Annotated[int, Field(ge=1, le=MAX_SCAN_QUANTITY), JSON_INTEGER] = Field(
        description="Units not on the shelf."
    )
    item_no: Annotated[int, Field(ge=1, le=MAX_ITEM_NO), JSON_INTEGER] | None = Field(default=None)
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    lot: str | None = Field(default=None, min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=500, examples=["пустая ячейка A-03-2"])

    def short(self) -> ShortPick:
        return ShortPick(self.missing, self.item_no, self.sku, self.lot, self.note)


class ParcelItemIn(Strict):
    item_no: Annotated[int, Field(ge=1, le=MAX_ITEM_NO), JSON_INTEGER]
    quantity: Annotated[int, Field(ge=1, le=MAX_SCAN_QUANTITY), JSON_INTEGER]
    marking_codes: list[Code] = Field(
        default_factory=list,
        max_length=MAX_CODES,
        description="Честный ЗНАК DataMatrix contents, one per unit, with their GS "
        "separators (\\u001d) as the scanner gives them.",
    )
    imei: list[Code] = Field(default_factory=list, max_length=MAX_CODES)
    uin: list[Code] = Field(default_factory=list, max_length=MAX_CODES)

    def line(self) -> ParcelLine:
        codes = [
            *((UnitIdentifier.MARKING, c) for c in self.marking_codes),
            *((UnitIdentifier.IMEI, c) for c in self.imei),
            *((UnitIdentifier.UIN, c) for c in self.uin),
        ]
        return ParcelLine(self.item_no, self.quantity, tuple(codes))


class ParcelIn(Strict):
    weight_g: Annotated[int, Field(ge=1, le=MAX_PARCEL_WEIGHT_G), JSON_INTEGER]
    length_mm: Annotated[int, Field(ge=1, le=MAX_DIMENSION_MM), JSON_INTEGER]
    width_mm: Annotated[int, Field(ge=1, le=MAX_DIMENSION_MM), JSON_INTEGER]
    height_mm: Annotated[int, Field(ge=1, le=MAX_DIMENSION_MM), JSON_INTEGER]
    items: list[ParcelItemIn] = Field(min_length=1, max_length=500)

    def draft(self) -> ParcelDraft:
        return ParcelDraft(
            self.weight_g,
            self.length_mm,
            self.width_mm,
            self.height_mm,
            tuple(i.line() for i in self.items),
        )


class BookingIn(Strict):
    carrier: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        examples=["sandbox"],
        description="The carrier to book with; left out, the one sourcing chose "
        "(`planned_carrier`). Another one replaces that choice, in the shipment's steps.",
    )


class PlannedCarrierIn(Strict):
    carrier: str = Field(
        min_length=1,
        max_length=32,
        examples=["cdek"],
        description="The carrier to book the shipment with (a code of `GET /api/v1/carriers`).",
    )
    reason: str | None = Field(
        default=None, max_length=500, description="Why: kept in the shipment's steps."
    )


class CarrierOut(Out):
    code: str


class PickupPointOut(Out):
    code: str
    name: str
    city: str
    address: str
    latitude: float
    longitude: float
    storage_days: int
    hours: str


class DirectoryPointOut(Out):
    carrier: str
    code: str = Field(description="the carrier's code; an order names it as its pickup point")
    name: str
    kind: str = Field(description="the carrier's kind of point (СДЭК: PVZ, POSTAMAT)")
    city: str
    address: str
    latitude: float
    longitude: float
    hours: str
    storage_days: int
    cash_on_delivery: bool
    cards: bool
    weight_max_g: int | None
    cells: str = Field(
        description="a locker's cells, `LxWxH` in mm each, `;` between them; empty: any size"
    )
    distance_km: float | None = Field(description="from the search's coordinates, if given")


class QuoteOut(Out):
    carrier: str
    tariff: str
    price: str
    days: int
    description: str


class TrackingOutcomeOut(Out):
    applied: int
    repeated: int
    unknown: int
    refused: int
    shipments: list[int]


class HandOverIn(Strict):
    carrier: str | None = Field(default=None, min_length=1, max_length=32, examples=["sandbox"])
    tracking_number: str | None = Field(default=None, min_length=1, max_length=64)


# ---------------------------------------------------------------------- answers


class ItemOut(Out):
    item_no: int
    line_no: int
    sku: str
    name: str
    lot: str | None
    location: str | None
    quantity: int
    picked: int
    packed: int
    serials: list[str] = Field(description="Serial numbers set aside for it (serialised goods).")
    picked_serials: list[str]
    identifiers: list[str] = Field(description="What every unit needs at packing.")


class ParcelContentOut(Out):
    item_no: int
    quantity: int


class ParcelOut(Out):
    parcel_no: int
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    items: list[ParcelContentOut]
    packed_at: datetime
    packed_by: str


class CodeOut(Out):
    parcel_no: int
    item_no: int
    kind: str
    code: str
    key: str = Field(description="What makes the code unique: GTIN and serial, or the number.")
    gtin: str | None


class StepOut(Out):
    occurred_at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None
    details: dict[str, Any]


class ShipmentOut(Out):
    id: int
    number: str = Field(description="The order's number and the shipment's place in it: 42-1.")
    order_id: int
    warehouse: str
    parcel_group: str
    status: ShipmentStatus
    wave: str | None
    carrier: str | None
    planned_carrier: str | None = Field(
        description="The carrier to book it with: the one sourcing chose, or an operator since."
    )
    tracking_number: str | None
    label: str | None
    promised_on: date | None
    eta_on: date | None
    storage_until: datetime | None
    handed_over_at: datetime | None
    delivered_at: datetime | None
    on_time: bool | None
    version: int
    created_at: datetime
    updated_at: datetime
    items: list[ItemOut]
    parcels: list[ParcelOut]
    codes: list[CodeOut]
    missing_identifiers: list[str]
    steps: list[StepOut] | None = Field(
        default=None, description="Every step: when, who, what (on the shipment's own page)."
    )
    carrier_label: CarrierLabelOut | None = Field(
        default=None,
        description="Where the carrier's own label stands (on the shipment's own page; null "
        "when no carrier label was asked for).",
    )


class CarrierLabelOut(Out):
    state: str = Field(
        description="`waiting`: the worker books the shipment if need be and fetches the label "
        "at `next_attempt_at` (the carrier was down or has not been asked yet); `ready`: kept, "
        "printed without asking the carrier; `failed`: the carrier refused (`last_error`)."
    )
    attempts: int = Field(description="The worker's attempts so far.")
    next_attempt_at: datetime | None
    last_error: str | None = Field(description="The carrier's words at the last failure.")


class ShipmentPageOut(Page):
    items: list[ShipmentOut]


class TakeOut(Out):
    slot: int = Field(description="Where the units go on the cart: the order's place in the wave.")
    order_id: int
    shipment_id: int
    item_no: int
    quantity: int
    serial: str | None


class PickOut(Out):
    takes: list[TakeOut]
    left: int = Field(description="Units still to pick on the list (or in the wave).")
    shipments: list[ShipmentOut]


class SortOut(Out):
    slot: int
    order_id: int
    shipment_id: int
    item_no: int
    quantity: int
    picked: int


class PickLineOut(Out):
    location: str | None
    zone: str
    sku: str
    name: str
    lot: str | None
    quantity: int
    picked: int
    serialised: bool
    sort: list[SortOut]


class PickListOut(Out):
    shipment_id: int
    status: ShipmentStatus
    lines: list[PickLineOut]


class WaveSlotOut(Out):
    slot: int
    shipment_id: int
    order_id: int
    status: ShipmentStatus


class WaveOut(Out):
    number: str
    warehouse: str
    status: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    shipments: int = Field(description="How many shipments (orders' parts) the wave holds.")
    slots: list[WaveSlotOut] | None = Field(
        default=None, description="Its shipments on the cart (on the wave's own page)."
    )
    lines: list[PickLineOut] | None = None
    left: int | None = None


class WavePageOut(Page):
    items: list[WaveOut]


class ShortageOut(Out):
    shipment: ShipmentOut
    order_status: str
    movement_id: int = Field(description="The ledger entry of the write-down.")
    resourced: bool = Field(description="The rest of the order is reserved again.")
    added_here: list[int] = Field(
        description="Items added to this shipment: the rest found on another shelf here."
    )
    orders_resourced: list[int] = Field(
        description="Other orders that lost their reservations to the smaller stock."
    )
    alerts: list[int]


# ---------------------------------------------------------------------- rendering


def render_shipment(
    shipment: Shipment,
    steps: list[ShipmentStep] | None = None,
    label: LabelJob | None = None,
) -> dict[str, Any]:
    """A shipment as plain data (the shape of :class:`ShipmentOut`)."""
    data = _shipment_data(shipment, steps)
    if label is not None:
        data["carrier_label"] = {
            "state": label.state.value,
            "attempts": label.attempts,
            "next_attempt_at": label.next_attempt_at,
            "last_error": label.last_error,
        }
    return data


def _shipment_data(shipment: Shipment, steps: list[ShipmentStep] | None) -> dict[str, Any]:
    return {
        "id": shipment.id,
        "number": shipment.number,
        "order_id": shipment.order_id,
        "warehouse": shipment.warehouse_code,
        "parcel_group": shipment.parcel_group,
        "status": shipment.status.value,
        "wave": shipment.wave,
        "carrier": shipment.carrier,
        "planned_carrier": shipment.planned_carrier,
        "tracking_number": shipment.tracking_number,
        "label": shipment.label,
        "promised_on": shipment.promised_on,
        "eta_on": shipment.eta_on,
        "storage_until": shipment.storage_until,
        "handed_over_at": shipment.handed_over_at,
        "delivered_at": shipment.delivered_at,
        "on_time": shipment.on_time,
        "version": shipment.version,
        "created_at": shipment.created_at,
        "updated_at": shipment.updated_at,
        "items": [
            {
                "item_no": i.item_no,
                "line_no": i.line_no,
                "sku": i.sku,
                "name": i.name,
                "lot": i.lot,
                "location": i.location,
                "quantity": i.quantity,
                "picked": i.picked,
                "packed": i.packed,
                "serials": list(i.serials),
                "picked_serials": list(i.picked_serials),
                "identifiers": sorted(k.value for k in i.identifiers),
            }
            for i in shipment.items
        ],
        "parcels": [
            {
                "parcel_no": p.parcel_no,
                "weight_g": p.weight_g,
                "length_mm": p.length_mm,
                "width_mm": p.width_mm,
                "height_mm": p.height_mm,
                "items": [{"item_no": k, "quantity": v} for k, v in sorted(p.contents.items())],
                "packed_at": p.packed_at,
                "packed_by": p.packed_by,
            }
            for p in shipment.parcels
        ],
        "codes": [
            {
                "parcel_no": c.parcel_no,
                "item_no": c.item_no,
                "kind": c.code.kind.value,
                "code": c.code.value,
                "key": c.code.key,
                "gtin": c.code.gtin,
            }
            for c in shipment.codes
        ],
        "missing_identifiers": shipment.missing_identifiers()
        if shipment.status is not ShipmentStatus.PENDING
        else [],
        "steps": None
        if steps is None
        else [
            {
                "occurred_at": s.occurred_at,
                "actor": s.actor,
                "action": s.action,
                "from_status": s.from_status,
                "to_status": s.to_status,
                "reason": s.reason,
                "details": s.details,
            }
            for s in steps
        ],
    }


def render_lines(lines: list[WaveLine]) -> list[dict[str, Any]]:
    return [
        {
            "location": ln.location,
            "zone": ln.zone,
            "sku": ln.sku,
            "name": ln.name,
            "lot": ln.lot,
            "quantity": ln.quantity,
            "picked": ln.picked,
            "serialised": ln.serialised,
            "sort": [
                {
                    "slot": s.slot,
                    "order_id": s.order_id,
                    "shipment_id": s.shipment_id,
                    "item_no": s.item_no,
                    "quantity": s.quantity,
                    "picked": s.picked,
                }
                for s in ln.sort
            ],
        }
        for ln in lines
    ]


def render_takes(takes: list[Take]) -> list[dict[str, Any]]:
    return [
        {
            "slot": t.slot,
            "order_id": t.order_id,
            "shipment_id": t.shipment_id,
            "item_no": t.item_no,
            "quantity": t.quantity,
            "serial": t.serial,
        }
        for t in takes
    ]


def render_wave(
    wave: Wave,
    shipments: list[Shipment] | None = None,
    lines: list[WaveLine] | None = None,
) -> dict[str, Any]:
    statuses = {s.id: s for s in shipments or []}
    return {
        "number": wave.number,
        "warehouse": wave.warehouse_code,
        "status": wave.status.value,
        "created_by": wave.created_by,
        "created_at": wave.created_at,
        "started_at": wave.started_at,
        "finished_at": wave.finished_at,
        "shipments": len(wave.shipment_ids),
        "slots": None
        if shipments is None
        else [
            {
                "slot": wave.slot_of(shipment_id),
                "shipment_id": shipment_id,
                "order_id": statuses[shipment_id].order_id,
                "status": statuses[shipment_id].status.value,
            }
            for shipment_id in wave.shipment_ids
            if shipment_id in statuses
        ],
        "lines": None if lines is None else render_lines(lines),
        "left": None if lines is None else sum(ln.left for ln in lines),
    }
