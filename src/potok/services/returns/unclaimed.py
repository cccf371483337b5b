"""Parcels that come back undelivered become returns: received at once at the warehouse
that sent them (their units set aside until someone checks them), through the same receipt
as a customer's return. The reactions registry calls this when a shipment is returned to
its sender."""

from __future__ import annotations

from datetime import datetime

from potok.domain.fulfilment import Shipment
from potok.domain.inventory import MovementType
from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.orders import Order
from potok.domain.returns import Return, ReturnLine, ReturnSource, ReturnStatus
from potok.domain.returns.refunds import ZERO
from potok.services.returns.common import note_on_order
from potok.services.returns.policy import UNCLAIMED
from potok.services.returns.shipped import sources
from potok.services.returns.stockroom import book_in
from potok.services.unit_of_work import UnitOfWork


def open_unclaimed_return(
    uow: UnitOfWork, order: Order, shipment: Shipment, at: datetime, actor: str
) -> tuple[Return | None, list[tuple[WarehouseId, ProductId]]]:
    """A return for the parcel, received at its warehouse; none when it has one already.
    The delivery fee is not refunded for a parcel the customer did not collect."""
    assert order.id is not None
    assert shipment.id is not None
    if uow.returns.number_for_shipment(shipment.id) is not None:
        return None, []
    found = sources(uow, [shipment], unclaimed=True)
    lines: list[ReturnLine] = []
    for (line_no, lot_id), source in sorted(
        found.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)
    ):
        ordered = order.line(line_no)
        lines.append(
            ReturnLine(
                line_no=len(lines) + 1,
                order_line_no=line_no,
                product_id=ordered.product_id,
                sku=ordered.sku,
                quantity=source.shipped,
                unit_price=ordered.unit_price,
                vat_rate=ordered.vat_rate,
                reason=UNCLAIMED,
                lot_id=lot_id,
                lot=source.lot,
            )
        )
    if not lines:
        return None, []
    ret = Return(
        id=None,
        number="",
        order_id=order.id,
        channel=order.channel_code,
        currency=order.currency,
        source=ReturnSource.UNCLAIMED,
        status=ReturnStatus.REQUESTED,
        lines=lines,
        created_at=at,
        updated_at=at,
        created_by=actor,
        shipment_id=shipment.id,
        comment=f"parcel {shipment.number} came back undelivered",
    )
    uow.returns.add(ret)
    ret.requested(at, actor, ret.comment)
    ret.approve(at, actor, "the carrier brought it back")
    ret.receive(
        shipment.warehouse_id,
        shipment.warehouse_code,
        {line.line_no: line.quantity for line in lines},
        at,
        actor,
        shipping=ZERO,
    )
    moved = book_in(uow, ret, MovementType.RETURN_TO_SENDER, at, actor)
    uow.returns.save(ret)
    note_on_order(uow, order, ret, at, actor, "return_received", ret.comment)
    return ret, moved
