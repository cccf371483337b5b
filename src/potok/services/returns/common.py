"""What the returns use cases share: loading under lock (the order first, as everywhere),
and rolling the order's return progress up into its status and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from potok.domain.orders import Order
from potok.domain.returns import Return, ReturnNotFound
from potok.domain.returns.states import returned_progress
from potok.services.fulfilment.common import order_of
from potok.services.returns.shipped import back_per_line, shipped_per_line
from potok.services.unit_of_work import UnitOfWork


def return_of(uow: UnitOfWork, number: str, *, lock: bool = False) -> Return:
    ret = uow.returns.get(number, lock=lock)
    if ret is None:
        raise ReturnNotFound(number=number)
    return ret


def locked(uow: UnitOfWork, number: str) -> tuple[Order, Return]:
    """The return and its order, both locked - the order first, as everywhere."""
    peek = return_of(uow, number)
    order = order_of(uow, peek.order_id)
    return order, return_of(uow, number, lock=True)


def note_on_order(
    uow: UnitOfWork,
    order: Order,
    ret: Return,
    at: datetime,
    actor: str,
    action: str,
    reason: str | None = None,
    **details: Any,
) -> None:
    """Record the return's step in the order's history, with how much of the order is back
    rolled up again (its status follows); saves the order."""
    assert order.id is not None
    returns = uow.returns.for_order(order.id)
    shipped = shipped_per_line(uow, uow.shipments.for_order(order.id))
    progress = returned_progress(shipped, back_per_line(returns))
    order.track_returns(progress, at, actor, action, reason, **{"return": ret.number, **details})
    uow.orders.save(order)
