"""Returned units in the books: booked into a warehouse set aside (until inspected), then
released to sellable stock or written off - each move one ledger entry on the position of
the unit's lot, so lot and expiry stay with it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from potok.domain.inventory import Movement, MovementType, StockLevel
from potok.domain.inventory.buckets import Bucket, plan_move
from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.returns import Return
from potok.services.stock_buckets import announce
from potok.services.unit_of_work import UnitOfWork


def _positions(
    uow: UnitOfWork, ret: Return, counts: Mapping[int, int], at: datetime
) -> dict[StockId, int]:
    """The positions (warehouse, product, lot) the return's lines lie in, with units each."""
    assert ret.warehouse_id is not None
    units: dict[StockId, int] = {}
    for line in ret.lines:
        quantity = counts.get(line.line_no, 0)
        if quantity:
            stock_id = uow.stock.ensure_position(
                ret.warehouse_id, line.product_id, at, lot_id=line.lot_id
            )
            units[stock_id] = units.get(stock_id, 0) + quantity
    return units


def book_in(
    uow: UnitOfWork,
    ret: Return,
    movement_type: MovementType,
    at: datetime,
    actor: str,
) -> list[tuple[WarehouseId, ProductId]]:
    """The received units enter the warehouse's on-hand, set aside as unavailable until
    inspected; positions are locked in key order. Returns the positions that moved."""
    received = {line.line_no: line.received or 0 for line in ret.lines}
    units = _positions(uow, ret, received, at)
    levels = uow.positions.lock_in_order(sorted(units))
    moved = []
    for stock_id in sorted(units):
        level = levels[stock_id]
        quantity = units[stock_id]
        on_hand = level.on_hand + quantity
        uow.positions.set_buckets(
            stock_id, on_hand=on_hand, unavailable=level.unavailable + quantity, at=at
        )
        _post(
            uow,
            level,
            movement_type,
            quantity,
            quantity,
            on_hand,
            f"return {ret.number} of order {ret.order_id}: set aside until inspected",
            ret,
            at,
            actor,
        )
        moved.append((level.warehouse_id, level.product_id))
    return moved


def settle(
    uow: UnitOfWork, ret: Return, at: datetime, actor: str
) -> tuple[list[ProductId], list[tuple[WarehouseId, ProductId]]]:
    """Inspection's verdicts in the books: restocked units leave the unavailable bucket
    (sellable again), written-off ones leave the books; kept ones stay set aside. Returns
    the products made sellable and the positions that moved."""
    restock = _positions(uow, ret, {line.line_no: line.restocked for line in ret.lines}, at)
    write_off = _positions(uow, ret, {line.line_no: line.written_off for line in ret.lines}, at)
    levels = uow.positions.lock_in_order(sorted(set(restock) | set(write_off)))
    freed: list[ProductId] = []
    moved: list[tuple[WarehouseId, ProductId]] = []
    for stock_id in sorted(levels):
        for bucket, counts in ((Bucket.AVAILABLE, restock), (Bucket.WRITTEN_OFF, write_off)):
            quantity = counts.get(stock_id, 0)
            if not quantity:
                continue
            level = levels[stock_id]
            move = plan_move(level, quantity, bucket)
            on_hand = level.on_hand + move.on_hand_change
            uow.positions.set_buckets(
                stock_id,
                on_hand=on_hand,
                unavailable=level.unavailable + move.unavailable_change,
                at=at,
            )
            what = "sellable again" if bucket is Bucket.AVAILABLE else "written off"
            levels[stock_id] = _post(
                uow,
                level,
                move.type,
                move.on_hand_change,
                move.unavailable_change,
                on_hand,
                f"return {ret.number} inspected: {what}",
                ret,
                at,
                actor,
            )
            if bucket is Bucket.AVAILABLE:
                freed.append(level.product_id)
            moved.append((level.warehouse_id, level.product_id))
    return freed, moved


def _post(
    uow: UnitOfWork,
    level: StockLevel,
    movement_type: MovementType,
    quantity: int,
    unavailable_change: int,
    on_hand: int,
    reason: str,
    ret: Return,
    at: datetime,
    actor: str,
) -> StockLevel:
    movement = Movement(
        stock_id=level.stock_id,
        warehouse_id=level.warehouse_id,
        product_id=level.product_id,
        type=movement_type,
        quantity=quantity,
        on_hand_after=on_hand,
        reason=reason,
        reference=ret.number,
        actor=actor,
        occurred_at=at,
        lot_id=level.lot_id,
        unavailable_change=unavailable_change,
    )
    uow.stock.add_movements([movement])
    after = uow.positions.get(level.stock_id)
    assert after is not None
    announce(uow, after, movement)
    return after
