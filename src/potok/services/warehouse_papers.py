"""Warehouse papers of shipments and waves: pick list, packing slip, label, wave sheet.

Each is read and drawn on request from the shipment (or wave) as it stands; nothing is
numbered or stored, and the same state draws the same bytes. The packing slip and the
label name the seller as the sender, so they need one (as every document does); the
pick list and the wave sheet stay inside the warehouse and need nothing but the shipment.
"""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.documents.papers import (
    PackingSlip,
    PickRow,
    PickSheet,
    Place,
    SlipLine,
    SlipParcel,
    check_packed,
)
from potok.domain.documents.subject import local_date
from potok.domain.fulfilment import Shipment
from potok.domain.fulfilment.picking import Slot, WaveLine, merge
from potok.domain.orders import Order
from potok.services.document_subjects import destination, parties_of
from potok.services.fulfilment.common import order_of, shipment_of
from potok.services.fulfilment.reads import with_open_items
from potok.services.unit_of_work import UnitOfWork, reading


@dataclass(frozen=True, slots=True)
class Paper:
    """A drawn paper: the file name to save it under, and its PDF bytes."""

    name: str
    content: bytes


def _warehouse(uow: UnitOfWork, code: str) -> Place:
    warehouse = uow.warehouses.get_by_code(code)
    if warehouse is None:
        return Place(code)
    address = ", ".join(part for part in (warehouse.city, warehouse.address) if part)
    return Place(f"{warehouse.name} ({warehouse.code})", address)


def _pick_rows(shipment: Shipment, lines: list[WaveLine]) -> tuple[PickRow, ...]:
    serials: dict[tuple[str | None, str, str | None], list[str]] = {}
    for item in shipment.items:
        serials.setdefault((item.location, item.sku, item.lot), []).extend(item.serials)
    return tuple(
        PickRow(
            location=line.location,
            zone=line.zone,
            sku=line.sku,
            name=line.name,
            lot=line.lot,
            quantity=line.quantity,
            picked=line.picked,
            serials=tuple(serials.get((line.location, line.sku, line.lot), ())),
        )
        for line in lines
    )


def pick_sheet(uow: UnitOfWork, shipment_id: int) -> PickSheet:
    """What a shipment's pick list prints (a pending one: what it will pick)."""

    def work(uow: UnitOfWork) -> PickSheet:
        shipment = with_open_items(uow, shipment_of(uow, shipment_id))
        order = order_of(uow, shipment.order_id, lock=False)
        slots = [Slot(shipment_id, shipment.order_id, 1, item) for item in shipment.items]
        return PickSheet(
            shipment=shipment.number,
            order_id=shipment.order_id,
            order_ref=order.external_id or "",
            channel=order.channel_code,
            warehouse=_warehouse(uow, shipment.warehouse_code),
            status=shipment.status.value,
            released_on=shipment.created_at.date(),
            rows=_pick_rows(shipment, merge(slots)),
            wave=shipment.wave,
        )

    return reading(uow, work)


def pick_list_pdf(uow: UnitOfWork, shipment_id: int) -> Paper:
    from potok.renderers.pick_list import render_pick_list

    sheet = pick_sheet(uow, shipment_id)
    return Paper(f"pick-list-{sheet.shipment}.pdf", render_pick_list(sheet))


def _recipient(uow: UnitOfWork, order: Order) -> Place:
    assert order.id is not None
    goes_to = destination(uow, order)
    buyer = uow.legal_entities.buyer_of(order.id)
    if buyer is not None:
        name = buyer.short_name or buyer.name
        if order.contact.name:
            name += f", {order.contact.name}"
        return Place(name, goes_to or buyer.address, order.contact.phone or buyer.phone)
    return Place(order.contact.name or "Покупатель", goes_to, order.contact.phone or "")


def packing_slip(uow: UnitOfWork, shipment_id: int) -> PackingSlip:
    """What a packed shipment's packing slip prints."""

    def work(uow: UnitOfWork) -> PackingSlip:
        shipment = with_open_items(uow, shipment_of(uow, shipment_id))
        check_packed(shipment.number, shipment.status.value, len(shipment.parcels))
        order = order_of(uow, shipment.order_id, lock=False)
        seller = parties_of(uow, order).seller
        warehouse = _warehouse(uow, shipment.warehouse_code)
        prices = {line.line_no: line for line in order.lines}
        codes: dict[int, list[str]] = {}
        for packed in shipment.codes:
            codes.setdefault(packed.item_no, []).append(packed.code.value)
        by_line: dict[int, list[int]] = {}
        for item in shipment.items:
            if item.packed:
                by_line.setdefault(item.line_no, []).append(item.item_no)
        lines: list[SlipLine] = []
        for line_no in sorted(by_line):
            items = [shipment.item(no) for no in by_line[line_no]]
            order_line = prices[line_no]
            places: dict[int, int] = {}
            for parcel in shipment.parcels:
                units = sum(parcel.contents.get(item.item_no, 0) for item in items)
                if units:
                    places[parcel.parcel_no] = units
            lines.append(
                SlipLine(
                    no=len(lines) + 1,
                    sku=order_line.sku,
                    name=order_line.name,
                    quantity=sum(item.packed for item in items),
                    price=order_line.unit_price,
                    parcels=tuple(sorted(places.items())),
                    codes=tuple(code for item in items for code in codes.get(item.item_no, ())),
                )
            )
        last_packed = max(parcel.packed_at for parcel in shipment.parcels)
        return PackingSlip(
            shipment=shipment.number,
            order_id=shipment.order_id,
            order_ref=order.external_id or "",
            order_on=local_date(order.created_at, seller.time_zone),
            packed_on=local_date(last_packed, seller.time_zone),
            sender=Place(
                seller.short_name or seller.name,
                warehouse.address or seller.address,
                seller.phone,
            ),
            recipient=_recipient(uow, order),
            warehouse=warehouse,
            lines=tuple(lines),
            parcels=tuple(
                SlipParcel(p.parcel_no, p.weight_g, (p.length_mm, p.width_mm, p.height_mm))
                for p in sorted(shipment.parcels, key=lambda p: p.parcel_no)
            ),
            currency=order.currency,
        )

    return reading(uow, work)


def packing_slip_pdf(uow: UnitOfWork, shipment_id: int) -> Paper:
    from potok.renderers.packing_slip import render_packing_slip

    slip = packing_slip(uow, shipment_id)
    return Paper(f"packing-slip-{slip.shipment}.pdf", render_packing_slip(slip))
