"""Consolidation: an order the sourcing engine ships from one hub after transfers bring the
units the hub lacks.

The order is reserved where its units are now: at the hub for what the hub holds, at each
source for what comes by transfer. ``arrange_transfers`` requests one transfer per source,
linked to the order. When a transfer ships, the order's reservations at the source are
consumed by it (the units leave on-hand and reserved together); when it arrives, the order
takes its units at the hub before anyone else. Every step is written in the order's history.

Everything here works inside the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from potok.domain.inventory import StockLevel
from potok.domain.inventory.events import StockReserved
from potok.domain.inventory.transfers import Transfer, TransferLine, TransferStatus
from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.domain.orders import (
    AllocationState,
    Order,
    OrderState,
    Reservation,
    ReservationStatus,
)
from potok.domain.sourcing import Decision, TransferLeg
from potok.services.unit_of_work import UnitOfWork

PositionKey = tuple[ProductId, int]
"""A transfer line's position at either end: product, and lot (0 without one)."""


def _units(quantity: int) -> str:
    return f"{quantity} unit{'s' if quantity != 1 else ''}"


def arrange_transfers(
    uow: UnitOfWork, order: Order, decision: Decision, at: datetime, actor: str
) -> list[Transfer]:
    """Request the transfers a consolidated decision needs, one per source, linked to the
    order, and say so in its history; returns them.

    Transfers still requested for an earlier decision of the order are called off (its
    reservations were given back before it was sourced again). A source whose transfer to
    the same hub was cancelled for this order before is not asked again: it ships its units
    to the customer itself, as in a split."""
    assert order.id is not None
    refused = drop_stale_transfers(uow, order, at, actor)
    if not decision.transfers:
        return []
    pairs: dict[tuple[WarehouseId, WarehouseId], list[TransferLeg]] = {}
    for leg in decision.transfers:
        pairs.setdefault((leg.from_warehouse_id, leg.to_warehouse_id), []).append(leg)
    made: list[Transfer] = []
    for pair, legs in pairs.items():
        first = legs[0]
        what = ", ".join(f"{_units(leg.quantity)} of {leg.sku}" for leg in legs)
        if pair in refused:
            order.note_transfer(
                at,
                actor,
                "transfer_skipped",
                f"{first.from_code} ships {what} itself: a transfer to {first.to_code} for "
                "this order was cancelled before",
            )
            continue
        transfer = _request(order.id, legs, at, actor)
        uow.transfers.add(transfer)
        transfer.requested(at)
        uow.record(*transfer.events)
        transfer.events.clear()
        cost = sum((leg.cost for leg in legs), Decimal("0.00"))
        order.note_transfer(
            at,
            actor,
            "transfer_requested",
            f"{what} come to {first.to_code} by transfer {transfer.number} from "
            f"{first.from_code} ({cost} ₽, {first.days} d), to leave in one shipment from there",
            transfer=transfer.number,
            from_warehouse=first.from_code,
            to_warehouse=first.to_code,
            lines=[line.summary() for line in transfer.lines],
        )
        made.append(transfer)
    return made


def drop_stale_transfers(
    uow: UnitOfWork, order: Order, at: datetime, actor: str
) -> set[tuple[WarehouseId, WarehouseId]]:
    """The order is being sourced again: transfers still requested for its earlier plan
    are called off, with a note in its history. Returns the (source, hub) pairs whose
    transfers for the order had been cancelled before."""
    assert order.id is not None
    earlier = uow.transfers.list_for_order(order.id, lock=True)
    refused = {
        (t.from_warehouse_id, t.to_warehouse_id)
        for t in earlier
        if t.status is TransferStatus.CANCELLED
    }
    for stale in earlier:
        if stale.status is TransferStatus.REQUESTED:
            stale.cancel(at, f"order {order.id} was sourced again")
            uow.transfers.save(stale)
            uow.record(*stale.events)
            order.note_transfer(
                at,
                actor,
                "transfer_cancelled",
                f"transfer {stale.number} is no longer needed: the order was sourced again",
                transfer=stale.number,
            )
    return refused


def call_off_transfers(uow: UnitOfWork, order: Order, at: datetime, reason: str) -> list[str]:
    """The order will not ship (cancelled, expired): the transfers still requested for it
    will not happen either. Returns their numbers; shipped ones arrive as plain stock."""
    assert order.id is not None
    called_off: list[str] = []
    for transfer in uow.transfers.list_for_order(order.id, lock=True):
        if transfer.status is TransferStatus.REQUESTED:
            transfer.cancel(at, reason)
            uow.transfers.save(transfer)
            uow.record(*transfer.events)
            called_off.append(transfer.number)
    return called_off


def _request(order_id: int, legs: list[TransferLeg], at: datetime, actor: str) -> Transfer:
    """One transfer from a source to the hub, a line per position (product and lot)."""
    first = legs[0]
    units: dict[tuple[ProductId, LotId | None], int] = {}
    names: dict[tuple[ProductId, LotId | None], tuple[str, str | None]] = {}
    for leg in legs:
        for a in leg.allocations:
            key = (a.product_id, a.lot_id)
            units[key] = units.get(key, 0) + a.quantity
            names[key] = (leg.sku, a.lot)
    lines = [
        TransferLine(
            line_no=index + 1,
            product_id=product_id,
            sku=names[(product_id, lot_id)][0],
            quantity=quantity,
            lot_id=lot_id,
            lot=names[(product_id, lot_id)][1],
        )
        for index, ((product_id, lot_id), quantity) in enumerate(units.items())
    ]
    return Transfer(
        number="",
        from_warehouse_id=first.from_warehouse_id,
        from_warehouse=first.from_code,
        to_warehouse_id=first.to_warehouse_id,
        to_warehouse=first.to_code,
        status=TransferStatus.REQUESTED,
        lines=lines,
        created_by=actor,
        created_at=at,
        updated_at=at,
        expected_on=(at + timedelta(days=max(leg.days for leg in legs))).date(),
        comment=f"for order {order_id}: consolidated at {first.to_code}",
        order_id=order_id,
    )


# ---------------------------------------------------------------------- the transfer's life


def linked_order(uow: UnitOfWork, transfer: Transfer) -> Order | None:
    """The open customer order a transfer brings units for, locked; None for stock moves."""
    if transfer.order_id is None:
        return None
    order = uow.orders.get(transfer.order_id, lock=True)
    if order is None or order.state is OrderState.CANCELLED:
        return None
    return order


def _held(order: Order, transfer: Transfer, stock_id: StockId) -> int:
    """Units reserved for the order at a source position when the transfer was arranged."""
    return sum(
        r.quantity
        for r in order.open_reservations
        if r.stock_id == stock_id and r.created_at <= transfer.created_at and not r.serials
    )


def held_for(
    order: Order | None, transfer: Transfer, levels: Mapping[PositionKey, StockLevel | None]
) -> dict[PositionKey, int]:
    """Per source position, the units the order holds there for this transfer: they may
    leave although they are not available to anyone else."""
    if order is None:
        return {}
    held: dict[PositionKey, int] = {}
    for key, level in levels.items():
        if level is not None:
            units = _held(order, transfer, level.stock_id)
            if units:
                held[key] = units
    return held


def consume_for_shipment(
    uow: UnitOfWork,
    order: Order,
    transfer: Transfer,
    levels: dict[PositionKey, StockLevel | None],
    needs: Mapping[PositionKey, int],
    at: datetime,
    actor: str,
) -> None:
    """The transfer is about to leave: the order's reservations at the source for the units
    it carries are consumed and those units stop being reserved (so they can leave on-hand).
    ``levels`` are the locked source positions, read again afterwards."""
    released: dict[StockId, int] = {}
    consumed: list[Reservation] = []
    for key, level in levels.items():
        if level is None:
            continue
        take = min(_held(order, transfer, level.stock_id), needs.get(key, 0))
        if take <= 0:
            continue
        ended = order.consume_for_transfer(level.stock_id, take, made_by=transfer.created_at, at=at)
        released[level.stock_id] = sum(r.quantity for r in ended)
        consumed.extend(ended)
    if not consumed:
        return
    uow.stock.release(released, at)
    for key, level in levels.items():
        if level is not None and level.stock_id in released:
            levels[key] = uow.stock.level(
                level.warehouse_id, level.product_id, lock=True, lot_id=level.lot_id
            )
    what = ", ".join(f"{_units(r.quantity)} of {r.sku}" for r in consumed)
    order.note_transfer(
        at,
        actor,
        "transfer_shipped",
        f"{what} left {transfer.from_warehouse} for {transfer.to_warehouse} on transfer "
        f"{transfer.number}; they are set aside again when they arrive",
        transfer=transfer.number,
        consumed=[r.summary() for r in consumed],
    )
    uow.orders.save(order)


def reserve_arrivals(
    uow: UnitOfWork,
    order: Order,
    transfer: Transfer,
    arrived: Mapping[int, tuple[StockId, int]],
    at: datetime,
    actor: str,
) -> bool:
    """The transfer arrived at the hub (``arrived``: line number to position and units):
    the order takes what it still lacks before anyone else does. Returns whether the order
    must be sourced again (it is no longer reserved, or the arrival fell short)."""
    if order.allocation is not AllocationState.RESERVED:
        return True
    assert order.id is not None
    lacking = _lacking(uow, order, transfer)
    gaps = {
        line.line_no: line.quantity - order.reserved_quantity(line.line_no) for line in order.lines
    }
    reservations: list[Reservation] = []
    quantities: dict[StockId, int] = {}
    for line in transfer.lines:
        stock_id, units = arrived.get(line.line_no, (StockId(0), 0))
        give = min(units, lacking.get(line.product_id, 0))
        if give <= 0:
            continue
        lacking[line.product_id] -= give
        quantities[stock_id] = quantities.get(stock_id, 0) + give
        for order_line in order.lines:
            if give == 0:
                break
            if order_line.product_id != line.product_id or gaps[order_line.line_no] <= 0:
                continue
            here = min(give, gaps[order_line.line_no])
            gaps[order_line.line_no] -= here
            give -= here
            reservations.append(
                Reservation(
                    line_no=order_line.line_no,
                    stock_id=stock_id,
                    warehouse_id=transfer.to_warehouse_id,
                    warehouse_code=transfer.to_warehouse,
                    product_id=line.product_id,
                    sku=line.sku,
                    quantity=here,
                    status=ReservationStatus.OPEN,
                    created_at=at,
                    lot=line.lot,
                )
            )
    if reservations:
        if not uow.stock.reserve(quantities, at):
            return True
        what = ", ".join(f"{_units(r.quantity)} of {r.sku}" for r in reservations)
        order.reserve_arrived(
            reservations,
            at,
            actor,
            f"{what} came to {transfer.to_warehouse} by transfer {transfer.number} and are "
            "set aside for the order",
        )
        uow.record(
            StockReserved(
                occurred_at=at, order_id=order.id, items=[r.summary() for r in reservations]
            )
        )
    else:
        order.note_transfer(
            at,
            actor,
            "transfer_received",
            f"transfer {transfer.number} arrived at {transfer.to_warehouse}; the order no "
            "longer needs its units",
            transfer=transfer.number,
        )
    uow.orders.save(order)
    return any(units > 0 for units in _lacking(uow, order, transfer).values())


def _lacking(uow: UnitOfWork, order: Order, transfer: Transfer) -> dict[ProductId, int]:
    """Units of each product the order has neither reserved nor on its way on another
    shipped transfer."""
    assert order.id is not None
    lacking: dict[ProductId, int] = {}
    for line in order.lines:
        gap = line.quantity - order.reserved_quantity(line.line_no)
        lacking[line.product_id] = lacking.get(line.product_id, 0) + gap
    for other in uow.transfers.list_for_order(order.id):
        if other.number == transfer.number:
            continue
        for moving in other.lines:
            if moving.product_id in lacking:
                lacking[moving.product_id] -= moving.in_transit
    return lacking


def holds_units(order: Order, transfer: Transfer) -> bool:
    """Whether the order still counts on this transfer: it holds units at the source that
    were reserved when the transfer was arranged."""
    wanted = {line.product_id for line in transfer.lines}
    return any(
        r.warehouse_id == transfer.from_warehouse_id
        and r.product_id in wanted
        and r.created_at <= transfer.created_at
        for r in order.open_reservations
    )
