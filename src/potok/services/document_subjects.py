"""Building a document's subject from what Potok knows: an order, or one shipment of it.

This is the adapter between orders and shipments and the renderers: it looks up the
seller that serves the order's channel, the order's B2B buyer (or its private customer),
the warehouse the goods leave from, the products' barcodes, weights and whether they are
marked, and turns lines into document lines. An order's documents carry all its lines
and its delivery as a service, with the marking codes its shipments captured so far; a
shipment's carry what that shipment packed - each unit's marking code, its parcels, the
carrier and tracking number - and no services.
"""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.documents import (
    PIECE,
    SERVICE_UNIT,
    LegalEntity,
    Line,
    Party,
    Reference,
    SellerMissing,
    Shipping,
    Subject,
)
from potok.domain.documents.subject import local_date
from potok.domain.fulfilment import Shipment, ShipmentStatus, UnitIdentifier
from potok.domain.orders import Address, Order, ReservationStatus
from potok.services.unit_of_work import UnitOfWork

DELIVERY_SKU = "DELIVERY"


@dataclass(frozen=True, slots=True)
class OrderParties:
    seller: LegalEntity
    buyer: LegalEntity | None


def parties_of(uow: UnitOfWork, order: Order) -> OrderParties:
    """The order's seller (or a problem saying how to set one) and its B2B buyer, if any."""
    assert order.id is not None
    seller = uow.legal_entities.seller_for_channel(order.channel_code)
    if seller is None:
        raise SellerMissing(order_id=order.id, channel=order.channel_code)
    return OrderParties(seller, uow.legal_entities.buyer_of(order.id))


def _address_text(address: Address | None) -> str:
    if address is None:
        return ""
    parts = [address.postal_code, address.region, address.city, address.line1, address.line2]
    return ", ".join(part for part in parts if part)


def destination(uow: UnitOfWork, order: Order) -> str:
    """Where the order goes, in words: the pickup point, or the courier address."""
    if order.delivery.pickup_point_code:
        point = uow.warehouses.get_by_code(order.delivery.pickup_point_code)
        if point is not None:
            return ", ".join(
                part for part in (f"пункт выдачи {point.name}", point.city, point.address) if part
            )
    return _address_text(order.delivery.address)


def _shipped_from(uow: UnitOfWork, order: Order) -> tuple[str, str]:
    """The warehouse the goods leave from (its name and address), by the order's stock."""
    codes = [
        r.warehouse_code
        for r in order.reservations
        if r.status in (ReservationStatus.OPEN, ReservationStatus.CONSUMED)
    ]
    if not codes:
        return "", ""
    warehouse = uow.warehouses.get_by_code(codes[0])
    if warehouse is None:
        return "", ""
    address = ", ".join(part for part in (warehouse.city, warehouse.address) if part)
    return warehouse.name, address


def subject_for_order(uow: UnitOfWork, order: Order, parties: OrderParties) -> Subject:
    """What an order's invoice, ТОРГ-12 or УПД says: its lines, and delivery as a service."""
    assert order.id is not None
    seller_entity = parties.seller
    seller = Party.of_entity(seller_entity)
    goes_to = destination(uow, order)
    if parties.buyer is not None:
        buyer = Party.of_entity(parties.buyer)
        consignee = Party.of_entity(parties.buyer, address=goes_to) if goes_to else None
    else:
        buyer = Party.person(
            order.contact.name or "Покупатель", address=goes_to, phone=order.contact.phone or ""
        )
        consignee = None
    warehouse, warehouse_address = _shipped_from(uow, order)
    consignor = (
        Party.of_entity(seller_entity, address=warehouse_address) if warehouse_address else None
    )
    products = uow.products.get_many([line.sku for line in order.lines])
    vat_charged = seller_entity.vat_payer
    codes = _codes_by_line(uow.shipments.for_order(order.id))
    lines: list[Line] = []
    for line in order.lines:
        product = products.get(line.sku)
        marked = product is not None and UnitIdentifier.MARKING in product.unit_identifiers
        lines.append(
            Line(
                no=len(lines) + 1,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                price=line.unit_price,
                vat_rate=line.vat_rate if vat_charged else None,
                unit=PIECE,
                gtin=product.barcode
                if product and product.barcode and product.barcode.isdigit()
                else None,
                weight_g=product.weight_g if product else 0,
                marking_codes=tuple(codes.get(line.line_no, ())),
                marked=marked,
            )
        )
    if order.delivery.price > 0:
        lines.append(
            Line(
                no=len(lines) + 1,
                sku=DELIVERY_SKU,
                name="Доставка",
                quantity=1,
                price=order.delivery.price,
                vat_rate=order.delivery.vat_rate if vat_charged else None,
                unit=SERVICE_UNIT,
                service=True,
            )
        )
    return Subject(
        seller=seller,
        buyer=buyer,
        lines=tuple(lines),
        basis=_basis(order, seller_entity),
        consignor=consignor,
        consignee=consignee,
        currency=order.currency,
        shipping=Shipping(warehouse=warehouse),
    )


def _basis(order: Order, seller: LegalEntity) -> Reference:
    """«Заказ № 42 (WB-1001) от 01.12.2026»: the order the goods are sold by."""
    number = str(order.id)
    if order.external_id:
        number += f" ({order.external_id})"
    return Reference("Заказ", number, local_date(order.created_at, seller.time_zone))


PACKED_OR_LATER = frozenset(ShipmentStatus) - {
    ShipmentStatus.PENDING,
    ShipmentStatus.PICKING,
    ShipmentStatus.CANCELLED,
}


def _codes_by_line(shipments: list[Shipment]) -> dict[int, list[str]]:
    """The marking codes packed so far, per order line, over the given shipments."""
    codes: dict[int, list[str]] = {}
    for shipment in shipments:
        if shipment.status not in PACKED_OR_LATER:
            continue
        line_of = {item.item_no: item.line_no for item in shipment.items}
        for packed in shipment.codes:
            if packed.code.kind is UnitIdentifier.MARKING:
                codes.setdefault(line_of[packed.item_no], []).append(packed.code.value)
    return codes


def subject_for_shipment(
    uow: UnitOfWork, order: Order, shipment: Shipment, parties: OrderParties
) -> Subject:
    """What a shipment's ТОРГ-12 or УПД says: the units it packed, at the order's prices,
    each marked unit with its code; its parcels, carrier, tracking number and warehouse."""
    assert order.id is not None
    seller_entity = parties.seller
    goes_to = destination(uow, order)
    if parties.buyer is not None:
        buyer = Party.of_entity(parties.buyer)
        consignee = Party.of_entity(parties.buyer, address=goes_to) if goes_to else None
    else:
        buyer = Party.person(
            order.contact.name or "Покупатель", address=goes_to, phone=order.contact.phone or ""
        )
        consignee = None
    warehouse = uow.warehouses.get_by_code(shipment.warehouse_code)
    warehouse_address = (
        ", ".join(part for part in (warehouse.city, warehouse.address) if part) if warehouse else ""
    )
    consignor = (
        Party.of_entity(seller_entity, address=warehouse_address) if warehouse_address else None
    )
    order_lines = {line.line_no: line for line in order.lines}
    products = uow.products.get_many(sorted({item.sku for item in shipment.items}))
    codes = _codes_by_line([shipment])
    packed: dict[int, int] = {}
    for item in shipment.items:
        if item.packed:
            packed[item.line_no] = packed.get(item.line_no, 0) + item.packed
    marked_lines = {
        item.line_no for item in shipment.items if UnitIdentifier.MARKING in item.identifiers
    }
    lines: list[Line] = []
    for line_no in sorted(packed):
        order_line = order_lines[line_no]
        product = products.get(order_line.sku)
        lines.append(
            Line(
                no=len(lines) + 1,
                sku=order_line.sku,
                name=order_line.name,
                quantity=packed[line_no],
                price=order_line.unit_price,
                vat_rate=order_line.vat_rate if seller_entity.vat_payer else None,
                unit=PIECE,
                gtin=product.barcode
                if product and product.barcode and product.barcode.isdigit()
                else None,
                weight_g=product.weight_g if product else 0,
                marking_codes=tuple(codes.get(line_no, ())),
                marked=line_no in marked_lines,
            )
        )
    handed = shipment.handed_over_at or max(
        (parcel.packed_at for parcel in shipment.parcels), default=shipment.updated_at
    )
    return Subject(
        seller=Party.of_entity(seller_entity),
        buyer=buyer,
        lines=tuple(lines),
        basis=_basis(order, seller_entity),
        consignor=consignor,
        consignee=consignee,
        currency=order.currency,
        shipping=Shipping(
            shipped_on=local_date(handed, seller_entity.time_zone),
            places=len(shipment.parcels),
            carrier=shipment.carrier or "",
            tracking_number=shipment.tracking_number or "",
            warehouse=warehouse.name if warehouse else shipment.warehouse_code,
        ),
    )
