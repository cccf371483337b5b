"""Operators' actions on orders (confirm, cancel, hold, payment) and the order reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from potok.domain.channels import ConfirmationPolicy
from potok.domain.errors import FieldError, InvalidInput, StaleVersion
from potok.domain.kernel import Actor, Clock, OrderId, as_utc, utc_now
from potok.domain.orders import (
    AllocationState,
    HistoryEntry,
    Hold,
    Order,
    OrderNotFound,
    OrderState,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from potok.domain.orders.commands import (
    CancelOrder,
    ConfirmOrder,
    PlaceHold,
    RecordPayment,
    ReleaseHold,
)
from potok.domain.sourcing import Decision
from potok.domain.triggers import StockFreed
from potok.domain.validation import Problems
from potok.services.allocation import allocate, give_back
from potok.services.consolidation import call_off_transfers
from potok.services.fulfilment.cancelling import stop_fulfilment
from potok.services.idempotency import Once, atomically_once
from potok.services.reactions import react
from potok.services.read_models import OrderFilter, OrderPage
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as the detail screen shows it: the aggregate and its whole history."""

    order: Order
    history: list[HistoryEntry]


def _load(uow: UnitOfWork, order_id: int, expected_version: int | None) -> Order:
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        raise OrderNotFound(order_id=order_id)
    if expected_version is not None and expected_version != order.version:
        raise StaleVersion(expected=expected_version, actual=order.version)
    return order


def _change(
    uow: UnitOfWork,
    order_id: int,
    expected_version: int | None,
    change: Callable[[UnitOfWork, Order, datetime], None],
    clock: Clock,
) -> OrderView:
    def work(uow: UnitOfWork) -> OrderView:
        order = _load(uow, order_id, expected_version)
        change(uow, order, clock())
        uow.orders.save(order)
        return OrderView(order, uow.orders.history(order_id))

    return atomically(uow, work)


def confirm_order(
    uow: UnitOfWork, command: ConfirmOrder, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    def change(uow: UnitOfWork, order: Order, at: datetime) -> None:
        order.confirm(at, str(actor), automatically=False, reason=command.reason)

    return _change(uow, command.order_id, command.expected_version, change, clock)


def cancel_order(
    uow: UnitOfWork, command: CancelOrder, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    """Cancel and give every reserved unit back; orders waiting for them get a try."""

    def change(uow: UnitOfWork, order: Order, at: datetime) -> None:
        cancel_loaded(uow, order, at, str(actor), command.reason)

    return _change(uow, command.order_id, command.expected_version, change, clock)


def cancel_loaded(uow: UnitOfWork, order: Order, at: datetime, actor: str, reason: str) -> None:
    """Cancel an order loaded (and locked) in this unit of work: fulfilment stopped, every
    reserved unit given back, and orders waiting for them tried again."""
    stop_fulfilment(uow, order, at, actor, f"order {order.id} cancelled")
    released = order.cancel(at, actor, reason)
    give_back(uow, order, released, at, f"order {order.id} cancelled")
    call_off_transfers(uow, order, at, f"order {order.id} cancelled")
    freed = {r.product_id for r in released}
    react(uow, StockFreed(at=at, product_ids=freed, actor=str(Actor.system("backorders"))))


def place_hold(
    uow: UnitOfWork,
    command: PlaceHold,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[tuple[OrderView, Hold]] | None = None,
) -> tuple[OrderView, Hold]:
    if command.expires_at is not None and command.expires_at <= clock():
        raise InvalidInput([FieldError("expires_at", "must be in the future", "in-the-past")])

    def work(uow: UnitOfWork) -> tuple[OrderView, Hold]:
        order = _load(uow, command.order_id, command.expected_version)
        hold = order.place_hold(
            command.type,
            command.reason,
            clock(),
            str(actor),
            expires_at=as_utc(command.expires_at) if command.expires_at else None,
        )
        uow.orders.save(order)
        return OrderView(order, uow.orders.history(command.order_id)), hold

    return atomically_once(uow, once, work)


def release_hold(
    uow: UnitOfWork, command: ReleaseHold, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    def change(uow: UnitOfWork, order: Order, at: datetime) -> None:
        release_loaded(uow, order, command.hold_no, at, str(actor), command.reason)

    return _change(uow, command.order_id, command.expected_version, change, clock)


def release_loaded(
    uow: UnitOfWork, order: Order, hold_no: int, at: datetime, actor: str, reason: str | None
) -> None:
    """Release a hold of an order loaded in this unit of work; a paid order of a
    ``when_paid`` channel that nothing holds any more is confirmed."""
    order.release_hold(hold_no, at, actor, reason)
    confirm_if_paid(uow, order, at, actor)


def record_payment(
    uow: UnitOfWork, command: RecordPayment, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    """A new payment state; a paid order of a ``when_paid`` channel is confirmed at once."""

    def change(uow: UnitOfWork, order: Order, at: datetime) -> None:
        record_loaded_payment(uow, order, command.status, at, str(actor), command.reason)

    return _change(uow, command.order_id, command.expected_version, change, clock)


def record_loaded_payment(
    uow: UnitOfWork,
    order: Order,
    status: PaymentStatus,
    at: datetime,
    actor: str,
    reason: str | None,
) -> None:
    """A new payment state of an order loaded (and locked) in this unit of work; a paid
    order of a ``when_paid`` channel is confirmed at once."""
    order.record_payment(status, at, actor, reason)
    confirm_if_paid(uow, order, at, actor)


def confirm_if_paid(uow: UnitOfWork, order: Order, at: datetime, actor: str) -> None:
    """A new, paid, unheld order of a ``when_paid`` channel is confirmed at once."""
    if order.state is not OrderState.NEW or order.waits_for_payment or order.active_holds:
        return
    channel = uow.channels.get(order.channel_id)
    if channel is not None and channel.confirmation is ConfirmationPolicy.WHEN_PAID:
        order.confirm(
            at, actor, automatically=True, reason=f"channel '{channel.code}' confirms paid orders"
        )


def get_order(uow: UnitOfWork, order_id: int) -> OrderView:
    def work(uow: UnitOfWork) -> OrderView:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id=order_id)
        return OrderView(order, uow.orders.history(order_id))

    return reading(uow, work)


def list_orders(
    uow: UnitOfWork,
    flt: OrderFilter,
    *,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> OrderPage:
    """A page of orders; unknown statuses in the filter are refused rather than matching none."""
    check_filter(flt)
    return reading(
        uow, lambda uow: uow.queries.list_orders(flt, sort=sort, cursor=cursor, limit=limit)
    )


def check_filter(flt: OrderFilter) -> None:
    """Refuse statuses and payment statuses that do not exist (they would match nothing)."""
    problems = Problems()
    known = {s.value for s in OrderStatus}
    for value in flt.statuses:
        if value not in known:
            problems.add(
                "status",
                f"'{value}' is not a status; use one of {', '.join(known)}",
                "unknown-status",
            )
    methods = {m.value for m in PaymentMethod}
    for value in flt.payment_methods:
        if value not in methods:
            problems.add(
                "payment_method",
                f"'{value}' is not a payment method; use one of {', '.join(sorted(methods))}",
                "unknown-payment-method",
            )
    payments = {s.value for s in PaymentStatus}
    for value in flt.payment_statuses:
        if value not in payments:
            problems.add(
                "payment_status",
                f"'{value}' is not a payment status; use one of {', '.join(payments)}",
                "unknown-status",
            )
    if problems:
        raise InvalidInput(problems.errors)


# ---------------------------------------------------------------------- timed jobs


def expire_unpaid_orders(uow: UnitOfWork, *, clock: Clock = utc_now, limit: int = 200) -> list[int]:
    """Cancel orders whose payment deadline has passed and give their stock back.

    Each order is its own transaction, so one failure does not hold the others back.
    """
    due = reading(uow, lambda uow: uow.orders.due_for_payment(clock(), limit))
    actor = str(Actor.system("payment-deadline"))
    expired: list[int] = []
    for order_id in due:

        def work(uow: UnitOfWork, order_id: OrderId = order_id) -> bool:
            at = clock()
            order = uow.orders.get(order_id, lock=True)
            if (
                order is None
                or order.state is OrderState.CANCELLED
                or order.payment_due_at is None
                or order.payment_due_at > at
                or not order.waits_for_payment
            ):
                return False
            stop_fulfilment(uow, order, at, actor, "payment deadline passed")
            released = order.cancel(at, actor, "payment deadline passed", expired=True)
            give_back(uow, order, released, at, f"order {order.id} expired unpaid")
            call_off_transfers(uow, order, at, f"order {order.id} expired unpaid")
            uow.orders.save(order)
            react(uow, StockFreed(at=at, product_ids={r.product_id for r in released}, actor=actor))
            return True

        if atomically(uow, work):
            expired.append(order_id)
    return expired


def retry_backorders_everywhere(
    uow: UnitOfWork, *, clock: Clock = utc_now, limit: int = 200
) -> list[int]:
    """Give every waiting order another try (receipts and cancellations already do this for
    the SKUs they touch; this catches stock that became sellable any other way)."""
    waiting = reading(uow, lambda uow: uow.orders.backordered_for(None, limit))
    actor = str(Actor.system("backorders"))
    reserved: list[int] = []
    for order_id in waiting:

        def work(uow: UnitOfWork, order_id: OrderId = order_id) -> bool:
            order = uow.orders.get(order_id, lock=True)
            if order is None or order.allocation is not AllocationState.BACKORDERED:
                return False
            if order.state is OrderState.CANCELLED:
                return False
            outcome = allocate(uow, order, clock(), actor)
            uow.orders.save(order)
            return isinstance(outcome, Decision)

        if atomically(uow, work):
            reserved.append(order_id)
    return reserved


def expire_holds(uow: UnitOfWork, *, clock: Clock = utc_now, limit: int = 200) -> int:
    """End timed holds whose time is up."""
    due = reading(uow, lambda uow: uow.orders.holds_due(clock(), limit))
    actor = str(Actor.system("hold-expiry"))
    count = 0
    for order_id, hold_no in due:

        def work(uow: UnitOfWork, order_id: OrderId = order_id, hold_no: int = hold_no) -> bool:
            at = clock()
            order = uow.orders.get(order_id, lock=True)
            if order is None:
                return False
            hold = order.hold(hold_no)
            if hold.expires_at is None or hold.expires_at > at or hold.state.value != "active":
                return False
            order.expire_hold(hold_no, at, actor)
            uow.orders.save(order)
            return True

        count += atomically(uow, work)
    return count
