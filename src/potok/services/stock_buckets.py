"""Putting units aside as unavailable (damaged, in quality check), releasing them back to
sellable stock, and writing them off from the unavailable bucket.

Each move is one ledger entry and one ``stock.changed`` event with every bucket. Putting
aside units that are reserved takes reservations back from the least urgent orders and
re-sources them, exactly as a stock correction does; releasing units gives backordered
orders another try.
"""

from __future__ import annotations

from datetime import datetime

from potok.domain.catalogue import ProductNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import Movement, StockLevel, StockPositionNotFound
from potok.domain.inventory.buckets import Bucket, MoveStock, plan_move
from potok.domain.inventory.events import StockChanged
from potok.domain.inventory.model import require_quantity
from potok.domain.kernel import Actor, Clock, Tracking, utc_now
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import Order
from potok.domain.triggers import OrdersDisplaced, StockFiguresMoved, StockFreed
from potok.domain.validation import Problems
from potok.services.allocation import make_room
from potok.services.idempotency import Once, atomically_once
from potok.services.inventory import StockChange
from potok.services.reactions import react
from potok.services.unit_of_work import UnitOfWork


def locate(
    uow: UnitOfWork, warehouse: str, sku: str, lot: str | None, *, lock: bool = False
) -> StockLevel:
    """A position by warehouse code, SKU and lot number (None: the position without a lot)."""
    warehouse_ids = uow.warehouses.ids_for([warehouse])
    if warehouse not in warehouse_ids:
        raise WarehouseNotFound(warehouse=warehouse)
    product_ids = uow.products.ids_for([sku])
    if sku not in product_ids:
        raise ProductNotFound(sku=sku)
    what = sku if lot is None else f"{sku} lot {lot}"
    lot_id = None
    if lot is not None:
        lot_id = uow.positions.lot_id(product_ids[sku], lot)
        if lot_id is None:
            raise StockPositionNotFound(warehouse=warehouse, sku=what)
    level = uow.positions.find(warehouse_ids[warehouse], product_ids[sku], lot_id, lock=lock)
    if level is None:
        raise StockPositionNotFound(warehouse=warehouse, sku=what)
    return level


def _serialised(uow: UnitOfWork, sku: str) -> bool:
    product = uow.products.get_by_sku(sku)
    return product is not None and product.tracking is Tracking.SERIAL


def announce(uow: UnitOfWork, level: StockLevel, movement: Movement) -> None:
    """``stock.changed`` with every bucket of the position after the movement."""
    uow.record(
        StockChanged(
            occurred_at=movement.occurred_at,
            warehouse=level.warehouse_code,
            sku=level.sku,
            movement=movement.type.value,
            quantity=movement.quantity,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            reason=movement.reason,
            reference=movement.reference,
            unavailable=level.unavailable,
            unavailable_change=movement.unavailable_change,
            lot=level.lot,
        )
    )


def move_stock(
    uow: UnitOfWork,
    command: MoveStock,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[StockChange] | None = None,
) -> StockChange:
    """Move units into, out of, or off the unavailable bucket of one position."""
    require_quantity("quantity", command.quantity)
    problems = Problems()
    problems.text("note", command.note, max_length=400, required=False)
    if command.reference is not None:
        problems.text("reference", command.reference, max_length=255, required=False)
    if problems:
        raise InvalidInput(problems.errors)

    def work(uow: UnitOfWork) -> StockChange:
        at = clock()
        who = str(actor)
        level = locate(uow, command.warehouse, command.sku, command.lot, lock=True)
        if command.to is Bucket.WRITTEN_OFF and _serialised(uow, command.sku):
            raise InvalidInput(
                [
                    FieldError(
                        "to",
                        f"'{command.sku}' is serialised: write it off with "
                        "POST /api/v1/stock/write-offs naming the serial numbers",
                        "serialised",
                    )
                ]
            )
        move = plan_move(level, command.quantity, command.to)
        reason = command.reason_text
        floor = move.sellable_floor(level)
        displaced = (
            make_room(uow, level, floor, at, who, f"set aside ({reason})")
            if floor < level.reserved
            else []
        )
        on_hand = level.on_hand + move.on_hand_change
        uow.positions.set_buckets(
            level.stock_id,
            on_hand=on_hand,
            unavailable=level.unavailable + move.unavailable_change,
            at=at,
        )
        movement = Movement(
            stock_id=level.stock_id,
            warehouse_id=level.warehouse_id,
            product_id=level.product_id,
            type=move.type,
            quantity=move.on_hand_change,
            on_hand_after=on_hand,
            reason=reason,
            reference=command.reference,
            actor=who,
            occurred_at=at,
            lot_id=level.lot_id,
            unavailable_change=move.unavailable_change,
        )
        (movement_id,) = uow.stock.add_movements([movement])
        after = uow.positions.get(level.stock_id)
        assert after is not None
        announce(uow, after, movement)
        why = f"stock at {level.warehouse_code} set aside ({reason})"
        freed = [level.product_id] if command.to is Bucket.AVAILABLE else []
        backorders = react(
            uow,
            OrdersDisplaced(at=at, orders=displaced, actor=who, why=why),
            StockFreed(at=at, product_ids=freed, actor=who),
            StockFiguresMoved(at=at, positions=[(level.warehouse_id, level.product_id)]),
        ).reserved
        final = uow.positions.get(level.stock_id)
        assert final is not None
        return StockChange(
            final, movement, movement_id, backorders, [o.id for o in displaced if o.id]
        )

    return atomically_once(uow, once, work)


def settle_on_hand(
    uow: UnitOfWork,
    level: StockLevel,
    new_on_hand: int,
    at: datetime,
    actor: str,
    reason: str,
) -> tuple[list[Order], int]:
    """Make a lower on-hand fit: the sellable part goes first, then the unavailable bucket
    shrinks, and only then are reservations taken back (returned, to re-source later).
    Writes the position's counters; returns the displaced orders and the unavailable change."""
    displaced = (
        make_room(uow, level, new_on_hand, at, actor, reason)
        if new_on_hand < level.reserved
        else []
    )
    fresh = uow.positions.get(level.stock_id) if displaced else level
    assert fresh is not None
    unavailable = min(fresh.unavailable, new_on_hand - fresh.reserved)
    uow.positions.set_buckets(level.stock_id, on_hand=new_on_hand, unavailable=unavailable, at=at)
    return displaced, unavailable - fresh.unavailable
