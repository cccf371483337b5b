"""Expiry of lots: units of a lot whose expiry date has come stop being sellable.

A timed job moves them into the ``unavailable`` bucket with an ``expiry`` ledger entry,
takes reservations on them back and sources those orders again from other lots or
warehouses (or backorders them), saying why in each order's history. A report lists lots
expiring soon and those already expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from potok.domain.errors import InvalidInput
from potok.domain.inventory import Movement, MovementType, StockLevel
from potok.domain.inventory.events import StockChanged
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import Order
from potok.domain.triggers import OrdersDisplaced
from potok.domain.validation import Problems
from potok.services.allocation import make_room
from potok.services.reactions import react
from potok.services.read_models import ExpiringLot
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MAX_WITHIN_DAYS = 3650


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    """What one run of the expiry job did."""

    positions: int  # lot positions made unavailable
    units: int  # units moved into the unavailable bucket
    orders_resourced: list[int]


def expire_lots(uow: UnitOfWork, actor: Actor, *, clock: Clock = utc_now) -> ExpiryRun:
    """Make the units of every expired lot unavailable and re-source their reservations."""

    def work(uow: UnitOfWork) -> ExpiryRun:
        at = clock()
        today = at.astimezone(UTC).date()
        who = str(actor)
        displaced: list[Order] = []
        units = 0
        expired = uow.stock.expired(today)
        for level in expired:
            moved, released = expire_position(uow, level, at, who)
            units += moved
            displaced.extend(released)
        why = "expired lots set aside"
        react(uow, OrdersDisplaced(at=at, orders=displaced, actor=who, why=why))
        return ExpiryRun(len(expired), units, [o.id for o in displaced if o.id is not None])

    return atomically(uow, work)


def expire_position(
    uow: UnitOfWork, level: StockLevel, at: datetime, who: str
) -> tuple[int, list[Order]]:
    """Move every unit of an expired lot's position into the unavailable bucket, taking its
    reservations back first. Returns the units moved and the orders to source again."""
    expires_on = level.expires_on
    why = f"lot {level.lot} expired on {expires_on.isoformat() if expires_on else '?'}"
    displaced = make_room(uow, level, 0, at, who, why) if level.reserved else []
    fresh = uow.stock.level(level.warehouse_id, level.product_id, lock=True, lot_id=level.lot_id)
    assert fresh is not None
    change = fresh.on_hand - fresh.unavailable
    uow.stock.set_unavailable({fresh.stock_id: fresh.on_hand}, at)
    movement = Movement(
        stock_id=fresh.stock_id,
        warehouse_id=fresh.warehouse_id,
        product_id=fresh.product_id,
        type=MovementType.EXPIRY,
        quantity=0,
        on_hand_after=fresh.on_hand,
        reason=why,
        reference=None,
        actor=who,
        occurred_at=at,
        lot_id=fresh.lot_id,
        unavailable_change=change,
    )
    uow.stock.add_movements([movement])
    uow.record(
        StockChanged(
            occurred_at=at,
            warehouse=fresh.warehouse_code,
            sku=fresh.sku,
            movement=movement.type.value,
            quantity=0,
            on_hand=fresh.on_hand,
            reserved=fresh.reserved,
            available=0,
            reason=why,
            reference=None,
            unavailable=fresh.on_hand,
            unavailable_change=change,
            lot=fresh.lot,
            expires_on=expires_on.isoformat() if expires_on else None,
        )
    )
    return change, displaced


def expiring_lots(
    uow: UnitOfWork,
    *,
    within_days: int = 30,
    warehouse: str | None = None,
    clock: Clock = utc_now,
    within: Sequence[str] | None = None,
) -> list[ExpiringLot]:
    """Lots with stock that expire within ``within_days`` days, and those already expired."""
    problems = Problems()
    if not 0 <= within_days <= MAX_WITHIN_DAYS:
        problems.add("within_days", f"must be from 0 to {MAX_WITHIN_DAYS}", "out-of-range")
    if problems:
        raise InvalidInput(problems.errors)
    today: date = clock().astimezone(UTC).date()
    return reading(uow, lambda uow: uow.queries.expiring(today, within_days, warehouse, within))
