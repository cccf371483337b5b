"""What every fulfilment use case shares: loading under lock, the order's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from potok.domain.fulfilment import Shipment, ShipmentNotFound, roll_up
from potok.domain.orders import Order, OrderNotFound
from potok.services.unit_of_work import UnitOfWork


def order_of(uow: UnitOfWork, order_id: int, *, lock: bool = True) -> Order:
    order = uow.orders.get(order_id, lock=lock)
    if order is None:
        raise OrderNotFound(order_id=order_id)
    return order


def shipment_of(uow: UnitOfWork, shipment_id: int, *, lock: bool = False) -> Shipment:
    shipment = uow.shipments.get(shipment_id, lock=lock)
    if shipment is None:
        raise ShipmentNotFound(shipment_id=shipment_id)
    return shipment


def locked(uow: UnitOfWork, shipment_id: int) -> tuple[Order, Shipment]:
    """The shipment and its order, both locked - the order first, as everywhere (the
    shipment is loaded once, under its lock; only its order's id is read before)."""
    order_id = uow.shipments.order_id_of(shipment_id)
    if order_id is None:
        raise ShipmentNotFound(shipment_id=shipment_id)
    order = order_of(uow, order_id)
    return order, shipment_of(uow, shipment_id, lock=True)


def roll_up_order(
    uow: UnitOfWork,
    order: Order,
    at: datetime,
    actor: str,
    action: str,
    reason: str | None = None,
    **details: Any,
) -> None:
    """Roll the order's progress up from its shipments (saved before this), record the step
    in its history and save it."""
    assert order.id is not None
    progress = roll_up(uow.shipments.statuses(order.id).values(), outstanding=order.outstanding)
    order.track_fulfilment(progress, at, actor, action, reason, **details)
    uow.orders.save(order)
