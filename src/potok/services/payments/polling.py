"""The safety net behind the gateway's notifications: payments and refunds still in flight
are read back from the gateway every so often and what moved is applied (once - the same
path as a notification's). A hold left on an order cancelled meanwhile is let go; a hold
about to lapse before its goods were handed over (ЮKassa lets a card's go after 7 days) is
captured, so the money is not lost - a prepayment then, fiscalised as one, its offset
printed when the goods go."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from potok.domain.errors import PotokError
from potok.domain.kernel import Actor
from potok.domain.orders import OrderState
from potok.domain.payments import GatewayStatus
from potok.services.outside import Outside
from potok.services.payments.actions import cancel_payment, capture_payment, check_payment
from potok.services.unit_of_work import UnitOfWork, reading

log = logging.getLogger("potok.payments")
POLLER = Actor.system("payments-poll")


@dataclass(slots=True)
class PollRun:
    """What one pass of the poller did."""

    checked: int = 0
    changed: list[int] = field(default_factory=list)  # orders whose payment moved
    released: list[int] = field(default_factory=list)  # holds let go for cancelled orders
    captured: list[int] = field(default_factory=list)  # holds about to lapse, captured
    failed: dict[int, str] = field(default_factory=dict)  # order -> why it could not be read


def poll_payments(
    outside: Outside, *, every_s: float, limit: int, capture_after: timedelta | None = None
) -> PollRun:
    """Read back the payments in flight not read for ``every_s`` seconds; capture those held
    for ``capture_after`` and more (before the gateway lets the hold go)."""
    now = outside.clock()
    before = now - timedelta(seconds=every_s)
    due = reading(
        outside.uow(), lambda uow: [p.order_id for p in uow.payments.in_flight(before, limit)]
    )
    run = PollRun()
    for order_id in due:
        run.checked += 1
        try:
            if check_payment(outside, order_id):
                run.changed.append(order_id)
            if reading(outside.uow(), functools.partial(_held_for_cancelled, order_id=order_id)):
                cancel_payment(outside, order_id, POLLER)
                run.released.append(order_id)
            elif capture_after is not None and reading(
                outside.uow(),
                functools.partial(_lapsing, order_id=order_id, held_since=now - capture_after),
            ):
                capture_payment(outside, order_id, POLLER)
                run.captured.append(order_id)
        except PotokError as error:
            run.failed[order_id] = error.detail
            log.warning("payment of order %s could not be read back: %s", order_id, error)
    return run


def _held_for_cancelled(uow: UnitOfWork, *, order_id: int) -> bool:
    payment = uow.payments.for_order(order_id)
    order = uow.orders.get(order_id)
    return (
        payment is not None
        and order is not None
        and payment.status is GatewayStatus.WAITING_FOR_CAPTURE
        and order.state is OrderState.CANCELLED
    )


def _lapsing(uow: UnitOfWork, *, order_id: int, held_since: datetime) -> bool:
    """Held since ``held_since`` or longer, for an order still to be sent."""
    payment = uow.payments.for_order(order_id)
    order = uow.orders.get(order_id)
    return (
        payment is not None
        and order is not None
        and payment.status is GatewayStatus.WAITING_FOR_CAPTURE
        and payment.authorized_at is not None
        and payment.authorized_at <= held_since
        and order.state is not OrderState.CANCELLED
    )
