"""Posting a stock document's movement to a position: the new on-hand, its ledger entry and
the ``stock.changed`` event, inside the caller's unit of work (transfers, purchase orders)."""

from __future__ import annotations

from datetime import datetime

from potok.domain.inventory import Movement, MovementType, StockLevel
from potok.domain.inventory.events import StockChanged
from potok.domain.inventory.model import MAX_QUANTITY, require_quantity
from potok.services.unit_of_work import UnitOfWork


def post_movement(
    uow: UnitOfWork,
    level: StockLevel,
    quantity: int,
    movement_type: MovementType,
    *,
    reason: str,
    reference: str,
    at: datetime,
    actor: str,
    field: str = "quantity",
) -> StockLevel:
    """Change a locked position's on-hand by ``quantity`` and say so; returns it afterwards.

    Taking stock out never touches what is reserved or unavailable: the caller has checked
    that the units are available."""
    new_on_hand = level.on_hand + quantity
    if new_on_hand > MAX_QUANTITY:
        require_quantity(field, MAX_QUANTITY + 1)
    if quantity < 0 and -quantity > level.available:
        raise RuntimeError(f"taking {-quantity} of {level.sku}, {level.available} available")
    uow.stock.set_on_hand({level.stock_id: new_on_hand}, at)
    uow.stock.add_movements(
        [
            Movement(
                stock_id=level.stock_id,
                warehouse_id=level.warehouse_id,
                product_id=level.product_id,
                type=movement_type,
                quantity=quantity,
                on_hand_after=new_on_hand,
                reason=reason,
                reference=reference,
                actor=actor,
                occurred_at=at,
                lot_id=level.lot_id,
            )
        ]
    )
    after = uow.stock.level(level.warehouse_id, level.product_id, lot_id=level.lot_id)
    assert after is not None
    uow.record(
        StockChanged(
            occurred_at=at,
            warehouse=after.warehouse_code,
            sku=after.sku,
            movement=movement_type.value,
            quantity=quantity,
            on_hand=after.on_hand,
            reserved=after.reserved,
            available=after.available,
            reason=reason,
            reference=reference,
        )
    )
    return after
