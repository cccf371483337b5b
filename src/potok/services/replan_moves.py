"""Applying a re-plan: the orders to change, locked in id order and checked unchanged since
the plan was read, their reservations moved to the new plan under the same conditional
stock updates as intake (a position short of the units reserves nothing), in the write
transaction of the run.

The capped re-plan moves each order on its own, in rounds (an order whose new warehouse is
freed by another move goes next round). The re-plan of held orders moves a *trade* - the
held orders that exchange stock - all together or not at all: every order's units are given
back first, then each new plan reserved; if one cannot be, everything taken is given back
and the old reservations restored, so no order of a trade pays more unless the others save
it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from potok.domain.errors import TransientConflict
from potok.domain.inventory.events import StockReleased, StockReserved
from potok.domain.kernel import StockId
from potok.domain.orders import AllocationState, Order, OrderState, ReservationStatus
from potok.domain.sourcing import Allocation, SourcingOrder
from potok.domain.sourcing.replan import (
    HELD_TRIGGER,
    TRIGGER,
    Priced,
    covered_sentence,
    held_sentence,
    moved_sentence,
    place_units,
    record_of,
    total,
)
from potok.services.allocation import reservations_for
from potok.services.ports import ReplanChange
from potok.services.unit_of_work import UnitOfWork

APPLY_PASSES = 3
"""Rounds of moves: an order whose new warehouse is freed by another move goes next round."""
HELD_LEFT = "the plan before the re-plan of held orders; the orders planned with it cost less so"


@dataclass(frozen=True, slots=True)
class Step:
    """One order the plan changes: moved to other warehouses, or a backorder covered; a
    step of a trade (the re-plan of held orders) carries the trade's figures."""

    order_id: int
    version: int
    order: SourcingOrder
    before: tuple[Priced, ...]  # empty for a backorder
    after: tuple[Priced, ...]
    rules_version: str
    tariffs_version: str
    trade: int | None = None  # held re-plan: its trade (1, 2, ...; 0 for a backorder covered)
    worth_before: Decimal = Decimal(0)  # the stock value of the units it holds, and will
    worth_after: Decimal = Decimal(0)
    trade_orders: int = 0
    trade_saving: Decimal = Decimal(0)

    @property
    def saving(self) -> Decimal:
        """Shipping saved (negative: added)."""
        return total(self.before) - total(self.after) if self.before else Decimal(0)

    @property
    def value_saving(self) -> Decimal:
        """Shipping plus stock value saved."""
        return self.saving + self.worth_before - self.worth_after if self.before else Decimal(0)

    def sentence(self, today: date) -> str:
        if self.trade is None:
            return moved_sentence(self.order, self.before, self.after, today)
        return held_sentence(
            self.order,
            self.before,
            self.after,
            today,
            worth_before=self.worth_before,
            worth_after=self.worth_after,
            trade_orders=self.trade_orders,
            trade_saving=self.trade_saving,
        )

    def change(self, outcome: str, note: str = "") -> ReplanChange:
        return ReplanChange(
            self.order_id,
            outcome,
            _codes(self.before),
            _codes(self.after),
            total(self.before) if self.before else None,
            total(self.after),
            note,
        )


def apply(
    uow: UnitOfWork, steps: Sequence[Step], at: datetime, actor: str, today: date
) -> list[ReplanChange]:
    """Carry the steps out; what changed meanwhile is skipped and keeps its plan."""
    changes: dict[int, ReplanChange] = {}
    versions = {s.order_id: s.version for s in steps}
    locked: dict[int, Order] = {  # every order to change, locked at once in id order
        o.id: o
        for o in uow.orders.get_many(sorted(versions), lock=True)
        if o.id is not None and o.version == versions[o.id] and eligible(o)
    }
    for released in uow.orders.released_among(list(locked)):  # under the locks release takes
        del locked[released]
    pending = sorted((s for s in steps if s.before and s.trade is None), key=lambda s: s.order_id)
    for _ in range(APPLY_PASSES):
        waiting: list[Step] = []
        for step in pending:
            order = locked.get(step.order_id)
            if order is None or order.allocation is not AllocationState.RESERVED:
                changes[step.order_id] = step.change("skipped", "the order changed")
            elif _move(uow, order, step, at, actor, today):
                changes[step.order_id] = step.change("moved", step.sentence(today))
            else:
                waiting.append(step)
        if len(waiting) == len(pending):
            break
        pending = waiting
    for step in pending:
        changes[step.order_id] = step.change("skipped", "the stock it needed is taken")
    trades: dict[int, list[Step]] = {}
    for step in steps:
        if step.before and step.trade is not None:
            trades.setdefault(step.trade, []).append(step)
    for trade in sorted(trades.values(), key=lambda t: min(s.order_id for s in t)):
        orders = [locked.get(s.order_id) for s in trade]
        if any(o is None or o.allocation is not AllocationState.RESERVED for o in orders):
            for s in trade:
                changes[s.order_id] = s.change("skipped", "an order of its trade changed")
        elif _move_together(
            uow, [(o, s) for o, s in zip(orders, trade, strict=True) if o], at, actor, today
        ):
            for order, s in zip(orders, trade, strict=True):
                assert order is not None
                changes[s.order_id] = s.change("moved", s.sentence(today))
        else:
            for s in trade:
                changes[s.order_id] = s.change("skipped", "the stock its trade needed is taken")
    for step in sorted((s for s in steps if not s.before), key=lambda s: s.order_id):
        order = locked.get(step.order_id)
        if order is None or order.allocation is not AllocationState.BACKORDERED:
            changes[step.order_id] = step.change("skipped", "the order changed")
        elif _cover(uow, order, step, at, actor):
            changes[step.order_id] = step.change(
                "reserved", covered_sentence(step.order, step.after)
            )
        else:
            changes[step.order_id] = step.change("skipped", "the stock it needed is taken")
    return [changes[s.order_id] for s in steps if s.order_id in changes]


def eligible(order: Order) -> bool:
    """Confirmed, not on hold, free to move (not bound to one location, as a marketplace's
    FBS order is), and reserved (nothing picked or shipped) or backordered."""
    if order.state is not OrderState.CONFIRMED or order.active_holds:
        return False
    if order.ship_from is not None:
        return False
    if any(r.status is ReservationStatus.CONSUMED for r in order.reservations):
        return False
    if any(r.shipment_id is not None for r in order.reservations):
        return False  # picking has started on it
    if order.allocation is AllocationState.RESERVED:
        return bool(order.open_reservations)
    return order.allocation is AllocationState.BACKORDERED


def _take(uow: UnitOfWork, order: Order, step: Step, at: datetime) -> tuple[Allocation, ...] | None:
    """Reserve the plan's units at its warehouses' positions, all or none."""
    product_ids = {line.product_id for line in order.lines}
    today = at.astimezone(UTC).date()
    _, positions = uow.stock.candidates(product_ids, order.channel_id, today=today)
    shipments = [(p.candidate.warehouse_id, p.units) for p in step.after]
    allocations = place_units(step.order.needs, shipments, positions)
    if allocations is None or not uow.stock.reserve(_by_stock(allocations), at):
        return None
    return allocations


def _held(order: Order) -> dict[StockId, int]:
    held: dict[StockId, int] = {}
    for r in order.open_reservations:
        held[r.stock_id] = held.get(r.stock_id, 0) + r.quantity
    return held


def _move(uow: UnitOfWork, order: Order, step: Step, at: datetime, actor: str, today: date) -> bool:
    """Move the order's reservations to the step's plan; False (and the order untouched)
    when the stock is not there."""
    held = _held(order)
    uow.stock.release(held, at)
    allocations = _take(uow, order, step, at)
    if allocations is None:
        if not uow.stock.reserve(held, at):  # what it just gave back, under our locks
            raise TransientConflict(detail=f"order {order.id}'s stock changed during a re-plan")
        return False
    _free_serials(uow, order, held, at)
    _record_move(uow, order, step, allocations, at, actor, today)
    return True


def _move_together(
    uow: UnitOfWork, trade: Sequence[tuple[Order, Step]], at: datetime, actor: str, today: date
) -> bool:
    """Move a trade's orders all at once, or none: their units given back, then each new
    plan reserved; False (every order untouched) when one cannot be."""
    held: dict[StockId, int] = {}
    for order, _ in trade:
        for stock_id, q in _held(order).items():
            held[stock_id] = held.get(stock_id, 0) + q
    uow.stock.release(held, at)
    taken: list[tuple[Order, Step, tuple[Allocation, ...]]] = []
    for order, step in trade:
        allocations = _take(uow, order, step, at)
        if allocations is None:
            for _, _, got in taken:
                uow.stock.release(_by_stock(got), at)
            if not uow.stock.reserve(held, at):  # what the trade just gave back
                raise TransientConflict(detail="held orders' stock changed during a re-plan")
            return False
        taken.append((order, step, allocations))
    for order, _, _ in taken:
        _free_serials(uow, order, _held(order), at)
    for order, step, allocations in taken:
        _record_move(uow, order, step, allocations, at, actor, today)
    return True


def _free_serials(uow: UnitOfWork, order: Order, held: dict[StockId, int], at: datetime) -> None:
    assert order.id is not None
    if any(r.serials for r in order.open_reservations):
        uow.stock.free_serials(order.id, held.keys(), at)


def _record_move(
    uow: UnitOfWork,
    order: Order,
    step: Step,
    allocations: Sequence[Allocation],
    at: datetime,
    actor: str,
    today: date,
) -> None:
    """The order's side of a move: its reservations, the history entry with the reason and
    the roubles saved, the stored decision and the stock events."""
    assert order.id is not None
    codes = {p.candidate.warehouse_id: p.code for p in step.after}
    reservations = reservations_for(uow, order, allocations, codes, at)
    sentence = step.sentence(today)
    record = record_of(
        step.order,
        step.before,
        step.after,
        rules_version=step.rules_version,
        tariffs_version=step.tariffs_version,
        today=today,
        summary=sentence,
        **({} if step.trade is None else {"why_left": HELD_LEFT}),
    )
    released = order.replan(
        reservations,
        at,
        actor,
        sentence,
        record=record,
        trigger=TRIGGER if step.trade is None else HELD_TRIGGER,
        saved_rub=step.value_saving,
    )
    uow.record(
        StockReleased(
            occurred_at=at,
            order_id=order.id,
            items=[r.summary() for r in released],
            reason=sentence,
        ),
        StockReserved(occurred_at=at, order_id=order.id, items=[r.summary() for r in reservations]),
    )
    uow.orders.save(order)


def _cover(uow: UnitOfWork, order: Order, step: Step, at: datetime, actor: str) -> bool:
    """Reserve a backordered order by the step's plan; False when the stock is not there."""
    assert order.id is not None
    allocations = _take(uow, order, step, at)
    if allocations is None:
        return False
    codes = {p.candidate.warehouse_id: p.code for p in step.after}
    reservations = reservations_for(uow, order, allocations, codes, at)
    sentence = covered_sentence(step.order, step.after)
    record = record_of(
        step.order,
        (),
        step.after,
        rules_version=step.rules_version,
        tariffs_version=step.tariffs_version,
        today=at.astimezone(UTC).date(),
        summary=sentence,
    )
    trigger = TRIGGER if step.trade is None else HELD_TRIGGER
    order.reserve(reservations, at, actor, sentence, record=record, trigger=trigger)
    uow.record(
        StockReserved(occurred_at=at, order_id=order.id, items=[r.summary() for r in reservations])
    )
    uow.orders.save(order)
    return True


def _by_stock(allocations: Iterable[Allocation]) -> dict[StockId, int]:
    totals: dict[StockId, int] = {}
    for a in allocations:
        totals[a.stock_id] = totals.get(a.stock_id, 0) + a.quantity
    return totals


def _codes(shipments: Iterable[Priced]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.code for p in shipments))
