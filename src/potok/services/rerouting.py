"""Automatic re-routing: when a location stops being able to ship what it holds for orders
- it was deactivated, a picker found units missing, it kept a reservation past its hours -
the orders are sourced again at once, elsewhere if the network has the stock, else
backordered with an alert for the operators. Each order's history says why."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from potok.domain.alerts import AlertState
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment.errors import ShortageOnShipment
from potok.domain.inventory import MovementType
from potok.domain.kernel import Actor, Clock, StockId, Tracking, WarehouseId, utc_now
from potok.domain.network import Warehouse
from potok.domain.orders import (
    AllocationState,
    Order,
    OrderNotFound,
    OrderState,
    ReservationStatus,
)
from potok.domain.orders.commands import ReportShortage
from potok.domain.orders.events import OrderShortageReported
from potok.domain.sourcing import Decision
from potok.domain.triggers import OrdersDisplaced
from potok.domain.validation import Problems
from potok.services.allocation import give_back, where_it_may_ship
from potok.services.idempotency import Once, answered_before, atomically_once
from potok.services.inventory import StockChange, apply_level
from potok.services.ports import LapsedReservation
from potok.services.reactions import react
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MAX_MISSING = 1_000_000


@dataclass(frozen=True, slots=True)
class Rerouted:
    """What one re-routing did: the orders sourced again, those left backordered, the
    alerts raised."""

    orders: list[int]
    backordered: list[int]
    alerts: list[int]


@dataclass(frozen=True, slots=True)
class ShortageOutcome:
    """A reported shortage: the order after it, the position written down, and the other
    orders that lost their reservations to it."""

    order: Order
    warehouse: str
    sku: str
    missing: int
    on_hand: int
    reserved: int
    available: int
    movement_id: int
    displaced: list[int]
    backordered: list[int]
    alerts: list[int]


def _release(uow: UnitOfWork, order: Order, at: datetime, actor: str, why: str) -> None:
    released = order.release_allocation(at, actor, why)
    give_back(uow, order, released, at, why)
    uow.orders.save(order)


def _reroute(
    uow: UnitOfWork,
    orders: list[Order],
    at: datetime,
    actor: str,
    why: str,
    avoid: Collection[WarehouseId],
) -> Rerouted:
    effects = react(uow, OrdersDisplaced(at=at, orders=orders, actor=actor, why=why, avoid=avoid))
    return Rerouted(effects.resourced_ids, effects.short_ids, effects.alert_ids)


# ---------------------------------------------------------------------- a location goes


def reroute_from(
    uow: UnitOfWork, warehouse: Warehouse, at: datetime, actor: Actor | None, why: str
) -> Rerouted:
    """Take back every open reservation at a location and source those orders again
    without it. Runs inside the caller's transaction."""
    who = str(actor or Actor.system("rerouting"))
    orders: list[Order] = []
    for order_id in uow.orders.holding_at(warehouse.id):
        order = uow.orders.get(order_id, lock=True)
        if order is None or order.state is OrderState.CANCELLED:
            continue
        if not any(r.warehouse_id == warehouse.id for r in order.free_reservations):
            continue  # nothing there, or only what a started shipment is picking
        _release(uow, order, at, who, why)
        orders.append(order)
    return _reroute(uow, orders, at, who, why, {warehouse.id})


# ---------------------------------------------------------------------- picking shortage


def report_shortage(
    uow: UnitOfWork,
    command: ReportShortage,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[ShortageOutcome] | None = None,
) -> ShortageOutcome:
    """A picker did not find units reserved for an order: the position's on-hand is
    written down ("picking shortage"), the order is sourced again - elsewhere when the
    network has it -, and orders that lose their reservations to the smaller stock too."""
    problems = Problems()
    if not 1 <= command.missing <= MAX_MISSING:
        problems.add("missing", f"must be between 1 and {MAX_MISSING}", "out-of-range")
    if command.note is not None:
        problems.text("note", command.note, max_length=500, required=False)
    if problems:
        raise InvalidInput(problems.errors)
    # the order is read first to check the request, then stock is locked before the order,
    # in the same order as every other stock correction
    answered_before(uow, once)  # the order changed since: a repeat still gets its answer
    target = _shortage_target(uow, command)

    def work(uow: UnitOfWork) -> ShortageOutcome:
        at = clock()
        who = str(actor)
        warehouse_id, stock_id = target
        level = uow.positions.get(stock_id, lock=True)
        order = uow.orders.get(command.order_id, lock=True)
        if order is None:
            raise OrderNotFound(order_id=command.order_id)
        held = [r for r in order.free_reservations if r.stock_id == stock_id]
        if level is None or not held:
            _in_shipment(order, stock_id)
            raise _not_held(command)
        holds = sum(r.quantity for r in held)
        if command.missing > holds:
            raise _bad(
                "missing",
                f"order {command.order_id} holds only {holds} of '{command.sku}' at "
                f"{command.warehouse}",
                "more-than-reserved",
            )
        why = (
            f"picking shortage: {command.missing} of {command.sku} not found at {command.warehouse}"
        )
        uow.record(
            OrderShortageReported(
                occurred_at=at,
                order_id=command.order_id,
                warehouse=command.warehouse,
                sku=command.sku,
                missing=command.missing,
                lot=level.lot,
                note=command.note,
            )
        )
        _release(uow, order, at, who, why)
        if _covered_elsewhere(uow, order, warehouse_id, at):
            # sourced elsewhere first: it is being picked, the most urgent of all
            own = _reroute(uow, [order], at, who, why, {warehouse_id})
            change = _write_down(uow, stock_id, command, at, who)
        else:
            # the network has no better place: written down first, so that what is left
            # here (if anything) is what the order may take again
            change = _write_down(uow, stock_id, command, at, who)
            own = _reroute(uow, [order], at, who, why, ())
        backordered = list(own.backordered)
        alerts = list(own.alerts)
        for order_id in change.orders_resourced:
            other = uow.orders.get(order_id)
            if other is not None and other.allocation is AllocationState.BACKORDERED:
                backordered.append(order_id)
                found, _ = uow.alerts.list_page(
                    state=AlertState.OPEN, order_id=order_id, cursor=None, limit=1
                )
                alerts.extend(a.id for a in found)
        final = uow.positions.get(stock_id)
        assert final is not None
        return ShortageOutcome(
            order=order,
            warehouse=command.warehouse,
            sku=command.sku,
            missing=command.missing,
            on_hand=final.on_hand,
            reserved=final.reserved,
            available=final.available,
            movement_id=change.movement_id,
            displaced=change.orders_resourced,
            backordered=backordered,
            alerts=alerts,
        )

    return atomically_once(uow, once, work)


def _write_down(
    uow: UnitOfWork, stock_id: StockId, command: ReportShortage, at: datetime, who: str
) -> StockChange:
    level = uow.positions.get(stock_id, lock=True)
    assert level is not None
    return apply_level(
        uow,
        level,
        max(level.on_hand - command.missing, 0),
        MovementType.WRITE_OFF,
        "picking shortage",
        f"order {command.order_id}",
        at,
        who,
    )


def _shortage_target(uow: UnitOfWork, command: ReportShortage) -> tuple[WarehouseId, StockId]:
    """The location and stock position the shortage is about, checked against the order."""

    def work(uow: UnitOfWork) -> tuple[WarehouseId, StockId]:
        order = uow.orders.get(command.order_id)
        if order is None:
            raise OrderNotFound(order_id=command.order_id)
        warehouse_ids = uow.warehouses.ids_for([command.warehouse])
        if command.warehouse not in warehouse_ids:
            raise _bad("warehouse", f"there is no location '{command.warehouse}'", "unknown")
        product = uow.products.get_by_sku(command.sku)
        if product is None:
            raise _bad("sku", f"there is no product '{command.sku}'", "unknown")
        if product.tracking is Tracking.SERIAL:
            raise _bad(
                "sku",
                f"'{command.sku}' is serialised: write the missing units off with "
                "POST /api/v1/stock/write-offs naming their serial numbers",
                "serialised",
            )
        warehouse_id = warehouse_ids[command.warehouse]
        candidates = [
            r
            for r in order.open_reservations
            if r.warehouse_id == warehouse_id
            and r.sku == command.sku
            and (command.lot is None or r.lot == command.lot)
        ]
        here = [r for r in candidates if r.shipment_id is None]
        if candidates and not here:
            _in_shipment(order, candidates[0].stock_id)
        here = [
            r
            for r in here
            if r.warehouse_id == warehouse_id
            and r.sku == command.sku
            and (command.lot is None or r.lot == command.lot)
        ]
        if not here:
            raise _not_held(command)
        positions = {r.stock_id for r in here}
        if len(positions) > 1:
            lots = ", ".join(sorted({r.lot or "-" for r in here}))
            raise _bad("lot", f"the order holds several lots here ({lots}): name one", "ambiguous")
        return warehouse_id, here[0].stock_id

    return reading(uow, work)


def _covered_elsewhere(
    uow: UnitOfWork, order: Order, warehouse_id: WarehouseId, at: datetime
) -> bool:
    """Whether the rest of the network can source the whole order without this location,
    by the order's routing rules; if not, what is left here may still serve it."""
    product_ids = {line.product_id for line in order.lines}
    today = at.astimezone(UTC).date()
    candidates, positions = where_it_may_ship(
        order, *uow.stock.candidates(product_ids, order.channel_id, today=today)
    )
    outcome = uow.sourcing_setup().decide(
        order,
        uow.sourcing.weights_kg(product_ids),
        [c for c in candidates if c.warehouse_id != warehouse_id],
        [p for p in positions if p.warehouse_id != warehouse_id],
        today=today,
    )
    return isinstance(outcome, Decision)


def _in_shipment(order: Order, stock_id: StockId) -> None:
    """Units a started shipment is picking are reported missing on that shipment."""
    for r in order.open_reservations:
        if r.stock_id == stock_id and r.shipment_id is not None:
            raise ShortageOnShipment(order_id=order.id, shipment_id=r.shipment_id)


def _bad(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput([FieldError(field, message, code)])


def _not_held(command: ReportShortage) -> InvalidInput:
    what = command.sku if command.lot is None else f"{command.sku} (lot {command.lot})"
    return _bad(
        "warehouse",
        f"order {command.order_id} holds no {what} at {command.warehouse}",
        "not-held-here",
    )


# ---------------------------------------------------------------------- reservation hours


def expire_reservations(
    uow: UnitOfWork, actor: Actor, *, clock: Clock = utc_now, limit: int = 200
) -> Rerouted:
    """Reservations kept at a location longer than its reservation hours are taken back
    and their orders sourced elsewhere (or backordered, with an alert). One transaction
    per order."""
    lapsed = reading(uow, lambda uow: uow.orders.reservations_lapsed(clock(), limit))
    who = str(actor)
    done: list[int] = []
    short: list[int] = []
    alerts: list[int] = []
    for item in lapsed:

        def work(uow: UnitOfWork, item: LapsedReservation = item) -> Rerouted | None:
            at = clock()
            order = uow.orders.get(item.order_id, lock=True)
            if order is None or order.state is OrderState.CANCELLED:
                return None
            deadline = at - timedelta(hours=item.hours)
            if not any(
                r.warehouse_id == item.warehouse_id
                and r.status is ReservationStatus.OPEN
                and r.shipment_id is None
                and r.created_at <= deadline
                for r in order.reservations
            ):
                return None  # re-sourced or released meanwhile
            why = f"reservation at {item.warehouse_code} expired after {item.hours} h"
            _release(uow, order, at, who, why)
            return _reroute(uow, [order], at, who, why, {item.warehouse_id})

        outcome = atomically(uow, work)
        if outcome is not None:
            done.extend(outcome.orders)
            short.extend(outcome.backordered)
            alerts.extend(outcome.alerts)
    return Rerouted(done, short, alerts)
