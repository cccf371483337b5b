"""Setting stock aside for orders, giving it back, and re-sourcing when stock moves.

Shared by intake, cancellation, stock corrections and the backorder queue; every
function works inside the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from potok.domain.errors import TransientConflict
from potok.domain.fulfilment.errors import StockInFulfilment
from potok.domain.inventory import StockLevel
from potok.domain.inventory.events import StockReleased, StockReserved
from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.orders import (
    AllocationState,
    Order,
    OrderState,
    Reservation,
    ReservationStatus,
    Shortage,
)
from potok.domain.sourcing import (
    Allocation,
    Candidate,
    Decision,
    Position,
    Shortfall,
)
from potok.domain.sourcing.setup import SourcingSetup
from potok.services.alerts import alert_estimated_tariffs
from potok.services.consolidation import arrange_transfers, drop_stale_transfers
from potok.services.ports import SerialPick
from potok.services.unit_of_work import UnitOfWork

RESERVE_ATTEMPTS = 8
BACKORDER_BATCH = 50


def where_it_may_ship(
    order: Order, candidates: list[Candidate], positions: list[Position]
) -> tuple[list[Candidate], list[Position]]:
    """The candidates and stock an order may be sourced from: all of them, or only its one
    location when it has one (a marketplace's FBS order ships from the warehouse the
    marketplace sent it to, so re-sourcing never moves it elsewhere)."""
    if order.ship_from is None:
        return candidates, positions
    only = order.ship_from
    return (
        [c for c in candidates if c.warehouse_id == only],
        [p for p in positions if p.warehouse_id == only],
    )


def allocate(
    uow: UnitOfWork,
    order: Order,
    at: datetime,
    actor: str,
    *,
    first_read: tuple[list[Candidate], list[Position]] | None = None,
    avoid: Collection[WarehouseId] = (),
    avoid_positions: Collection[StockId] = (),
    trigger: str = "",
    setup: SourcingSetup | None = None,
    weights_kg: Mapping[ProductId, float] | None = None,
    reserve_at_commit: bool = False,
) -> Decision | Shortfall:
    """Source the whole order by its channel's routing rules and the shipping tariffs, and
    reserve it, or backorder it with the lines that are short; the engine's full record
    is kept with the order either way.

    On PostgreSQL another order may take the units between reading and reserving; the
    reservation then fails as a whole and the order is planned again on fresh figures.
    ``first_read`` is stock the caller has just read for this order, ``setup`` and
    ``weights_kg`` the rules, tariffs and product weights (intake reads them together with
    everything else). ``avoid`` leaves locations out of this decision (the one whose
    reservation expired, say); ``trigger`` says why the order is sourced now (kept with
    the decision: "intake", "stock corrected", ...). ``reserve_at_commit``: the stock is
    reserved by the commit itself where the database can (a transaction that takes one
    new order and reads none of its stock after).
    """
    product_ids = {line.product_id for line in order.lines}
    today = at.astimezone(UTC).date()
    if setup is None:
        setup = uow.sourcing_setup()
    if weights_kg is None:
        weights_kg = uow.sourcing.weights_kg(product_ids)
    for attempt in range(RESERVE_ATTEMPTS):
        if attempt == 0 and first_read is not None:
            candidates, positions = first_read
        else:
            candidates, positions = uow.stock.candidates(product_ids, order.channel_id, today=today)
        candidates, positions = where_it_may_ship(order, candidates, positions)
        if avoid:
            candidates = [c for c in candidates if c.warehouse_id not in avoid]
            positions = [p for p in positions if p.warehouse_id not in avoid]
        if avoid_positions:  # a shelf a picker found short
            positions = [p for p in positions if p.stock_id not in avoid_positions]
        outcome = setup.decide(order, weights_kg, candidates, positions, today=today)
        if isinstance(outcome, Shortfall):
            order.backorder(
                [Shortage(s.line_no, s.sku, s.requested, s.available) for s in outcome.lines],
                at,
                actor,
                record=outcome.record,
                trigger=trigger,
            )
            if first_read is None:  # not a new order: its earlier plan may await transfers
                drop_stale_transfers(uow, order, at, actor)
            return outcome
        if uow.stock.reserve(outcome.quantities_by_stock(), at, at_commit=reserve_at_commit):
            assert order.id is not None
            codes = {c.warehouse_id: c.code for c in candidates}
            reservations = reservations_for(uow, order, outcome.allocations, codes, at)
            order.reserve(
                reservations, at, actor, outcome.explanation, record=outcome.record, trigger=trigger
            )
            uow.record(
                StockReserved(
                    occurred_at=at,
                    order_id=order.id,
                    items=[r.summary() for r in reservations],
                )
            )
            if outcome.transfers or first_read is None:  # a new order has no transfers yet
                arrange_transfers(uow, order, outcome, at, actor)
            if outcome.record is not None and outcome.record.estimated():
                alert_estimated_tariffs(uow, order, outcome.record, at)
            return outcome
    raise TransientConflict(detail="stock kept changing while this order was being reserved")


def reservations_for(
    uow: UnitOfWork,
    order: Order,
    allocations: Sequence[Allocation],
    codes: Mapping[WarehouseId, str],
    at: datetime,
) -> list[Reservation]:
    """The order's reservations for units just reserved in stock; serialised units get
    their serial numbers set aside here."""
    assert order.id is not None
    skus = {line.line_no: line.sku for line in order.lines}
    picks = [
        SerialPick(order.id, a.line_no, a.stock_id, a.quantity) for a in allocations if a.serialised
    ]
    serials = uow.stock.assign_serials(picks, at) if picks else {}
    return [
        Reservation(
            line_no=a.line_no,
            stock_id=a.stock_id,
            warehouse_id=a.warehouse_id,
            warehouse_code=codes[a.warehouse_id],
            product_id=a.product_id,
            sku=skus[a.line_no],
            quantity=a.quantity,
            status=ReservationStatus.OPEN,
            created_at=at,
            lot=a.lot,
            serials=tuple(serials.get((a.line_no, a.stock_id), ())),
        )
        for a in allocations
    ]


def give_back(
    uow: UnitOfWork, order: Order, released: Iterable[Reservation], at: datetime, reason: str
) -> None:
    """Return released reservations to stock, in one statement, and say so."""
    released = list(released)
    if not released:
        return
    quantities: dict[StockId, int] = {}
    for reservation in released:
        quantities[reservation.stock_id] = (
            quantities.get(reservation.stock_id, 0) + reservation.quantity
        )
    uow.stock.release(quantities, at)
    assert order.id is not None
    if any(r.serials for r in released):
        uow.stock.free_serials(order.id, quantities.keys(), at)
    uow.record(
        StockReleased(
            occurred_at=at, order_id=order.id, items=[r.summary() for r in released], reason=reason
        )
    )


def retry_backorders(
    uow: UnitOfWork, product_ids: Collection[ProductId], at: datetime, actor: str
) -> list[int]:
    """Give orders waiting for these products another try; returns the ones now reserved."""
    reserved: list[int] = []
    for order_id in uow.orders.backordered_for(product_ids, BACKORDER_BATCH):
        order = uow.orders.get(order_id, lock=True)
        if order is None or order.allocation is not AllocationState.BACKORDERED:
            continue
        if order.state is OrderState.CANCELLED:
            continue
        outcome = allocate(uow, order, at, actor, trigger="stock arrived")
        uow.orders.save(order)
        if isinstance(outcome, Decision):
            reserved.append(order_id)
    return reserved


def make_room(
    uow: UnitOfWork, level: StockLevel, new_on_hand: int, at: datetime, actor: str, reason: str
) -> list[Order]:
    """Stock is about to drop below what is reserved here: take reservations back from the
    least urgent, newest orders until the rest fit. Returns those orders, to re-source
    once the new level is written."""
    excess = level.overcommitment(new_on_hand)
    displaced: list[Order] = []
    for holder in uow.stock.holders(level.stock_id):
        if excess <= 0:
            break
        order = uow.orders.get(holder.order_id, lock=True)
        if order is None:
            continue
        why = f"{reason}: {level.sku} at {level.warehouse_code} fell to {new_on_hand}"
        released = order.release_allocation(at, actor, why)
        give_back(uow, order, released, at, why)
        uow.orders.save(order)  # written now: a later position of the same batch sees it free
        excess -= holder.quantity
        displaced.append(order)
    if excess > 0:  # the rest is in shipments being picked: the picker reports it missing
        raise StockInFulfilment(
            warehouse=level.warehouse_code, sku=level.sku, on_hand=new_on_hand, units=excess
        )
    return displaced


def resource(
    uow: UnitOfWork,
    orders: Iterable[Order],
    at: datetime,
    actor: str,
    *,
    trigger: str = "re-sourced",
    avoid: Collection[WarehouseId] = (),
) -> list[Order]:
    """Source displaced orders again: elsewhere if the network has it, else backordered.
    Returns the orders that could not be covered (now backordered)."""
    short: list[Order] = []
    for order in orders:
        outcome = allocate(uow, order, at, actor, avoid=avoid, trigger=trigger)
        uow.orders.save(order)
        if isinstance(outcome, Shortfall):
            short.append(order)
    return short
