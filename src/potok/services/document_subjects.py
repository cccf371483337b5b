"""Building a document's subject from what Potok knows: today from an order.

This is the adapter between the order (and later the shipment) and the renderers: it
looks up the seller that serves the order's channel, the order's B2B buyer (or its
private customer), the warehouse the goods leave from, the products' barcodes and
weights, and turns the order's lines (and its delivery, as a service) into document
lines. A shipment adapter will fill the same :class:`Subject` with the shipment's lines,
parcels and marking codes.
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
    lines: list[Line] = []
    for line in order.lines:
        product = products.get(line.sku)
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
    basis_number = str(order.id)
    if order.external_id:
        basis_number += f" ({order.external_id})"
    return Subject(
        seller=seller,
        buyer=buyer,
        lines=tuple(lines),
        basis=Reference(
            "Заказ", basis_number, local_date(order.created_at, seller_entity.time_zone)
        ),
        consignor=consignor,
        consignee=consignee,
        currency=order.currency,
        shipping=Shipping(warehouse=warehouse),
    )
