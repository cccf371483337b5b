"""What an order shipped, per order line and lot, and what of it is already on its way back:
the ground every return request is checked against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.fulfilment.states import SHIPPED
from potok.domain.kernel import LotId
from potok.domain.returns import Return
from potok.domain.returns.states import BACK, COUNTED
from potok.services.unit_of_work import UnitOfWork

Key = tuple[int, LotId | None]  # order line number, lot


@dataclass(slots=True)
class Source:
    """Units of one order line (one lot) that left with the order's shipments."""

    line_no: int
    lot_id: LotId | None
    lot: str | None
    shipped: int = 0
    units: set[str] = field(default_factory=set)  # serials and marking codes that left


def sources(
    uow: UnitOfWork, shipments: Iterable[Shipment], *, unclaimed: bool = False
) -> dict[Key, Source]:
    """Per (order line, lot): units handed over. Parcels that came back undelivered are left
    out (they have their own returns) unless ``unclaimed`` asks for them alone."""
    found: dict[Key, Source] = {}
    for shipment in shipments:
        if shipment.status not in SHIPPED:
            continue
        if (shipment.status is ShipmentStatus.RETURNED_TO_SENDER) is not unclaimed:
            continue
        codes: dict[int, set[str]] = {}
        for packed in shipment.codes:
            codes.setdefault(packed.item_no, set()).update({packed.code.value, packed.code.key})
        for item in shipment.items:
            if not item.quantity:
                continue
            level = uow.positions.get(item.stock_id)
            lot_id = level.lot_id if level is not None else None
            key = (item.line_no, lot_id)
            source = found.setdefault(key, Source(item.line_no, lot_id, item.lot))
            source.shipped += item.quantity
            source.units.update(item.picked_serials)
            source.units.update(codes.get(item.item_no, set()))
    return found


def shipped_per_line(uow: UnitOfWork, shipments: Iterable[Shipment]) -> dict[int, int]:
    """Units handed over per order line, parcels that came back included."""
    per: dict[int, int] = {}
    for shipment in shipments:
        if shipment.status in SHIPPED:
            for item in shipment.items:
                per[item.line_no] = per.get(item.line_no, 0) + item.quantity
    return per


def claimed(returns: Iterable[Return], *, skip: str | None = None) -> dict[Key, int]:
    """Units already asked back (returns not declined), per (order line, lot)."""
    per: dict[Key, int] = {}
    for ret in returns:
        if ret.status not in COUNTED or ret.number == skip:
            continue
        for line in ret.lines:
            key = (line.order_line_no, line.lot_id)
            per[key] = per.get(key, 0) + line.counted
    return per


def claimed_units(returns: Iterable[Return]) -> dict[str, str]:
    """Serials and codes already asked back, to the return that holds each."""
    return {
        unit: ret.number
        for ret in returns
        if ret.status in COUNTED
        for line in ret.lines
        for unit in line.units
    }


def back_per_line(returns: Iterable[Return]) -> dict[int, int]:
    """Units back in Potok's hands per order line (received, inspected or closed returns)."""
    per: dict[int, int] = {}
    for ret in returns:
        if ret.status in BACK:
            for line in ret.lines:
                per[line.order_line_no] = per.get(line.order_line_no, 0) + (line.received or 0)
    return per
