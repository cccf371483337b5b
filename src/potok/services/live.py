"""What the console's live updates read: the change feed from a cursor (placing committed
events in commit order first, so pages stay live without waiting for a worker), and the
orders those events name, so that each viewer is told only of what it may see."""

from __future__ import annotations

from collections.abc import Iterable

from potok.domain.orders import Order
from potok.services.events import FeedPage
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def feed_head(uow: UnitOfWork) -> int:
    """The position of the last event placed in commit order (0 when there is none)."""
    return reading(uow, lambda uow: uow.event_log.last_position())


def catch_up(uow: UnitOfWork, after: int, *, limit: int, place: int = 1000) -> tuple[FeedPage, int]:
    """Events after ``after`` in commit order, and the last position placed. Events
    committed but not yet placed are placed first (the sequencer is safe to run from any
    process, as the dispatcher does)."""
    if reading(uow, lambda uow: uow.event_log.waiting()):
        atomically(uow, lambda uow: uow.event_log.sequence(place))

    def work(uow: UnitOfWork) -> tuple[FeedPage, int]:
        batch = uow.event_log.after(after, limit)
        head = uow.event_log.last_position()
        return FeedPage(batch.events, batch.through), head

    return reading(uow, work)


def orders_named(uow: UnitOfWork, order_ids: Iterable[int]) -> dict[int, Order]:
    """The orders with these numbers that exist, read in one transaction."""
    wanted = sorted(set(order_ids))

    def work(uow: UnitOfWork) -> dict[int, Order]:
        found = {}
        for order_id in wanted:
            order = uow.orders.get(order_id)
            if order is not None:
                found[order_id] = order
        return found

    return reading(uow, work) if wanted else {}
