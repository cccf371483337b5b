"""The batch re-plan: hand the open orders to the optimiser together, and move the ones it
can ship for less without breaking a promised date.

A run reads and plans first (a read-only transaction: the solver may take its whole time
budget without holding anything), then applies the plan in one write transaction. Each
order to move is locked and checked unchanged since it was read; its reservations are
given back and the new plan's units reserved at the chosen warehouses' positions in pick
order. When stock moved in the meantime the order keeps (re-reserves) what it had and is
counted as skipped. Backordered orders the plan can now cover are reserved. Every run,
dry runs included, is kept in the run log; an applied one announces
``sourcing.replanned``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput, NotFound, TransientConflict
from potok.domain.inventory.events import StockReleased, StockReserved
from potok.domain.kernel import Actor, ChannelId, Clock, ProductId, StockId, WarehouseId, utc_now
from potok.domain.network.model import WarehouseNotFound
from potok.domain.orders import AllocationState, Order, OrderState, ReservationStatus
from potok.domain.sourcing import Allocation, Candidate, RoutingRules, SourcingOrder
from potok.domain.sourcing.events import SourcingReplanned
from potok.domain.sourcing.optimiser import OpenOrder, Shipment, optimise
from potok.domain.sourcing.replan import (
    TRIGGER,
    Priced,
    covered_sentence,
    moved_sentence,
    place_units,
    price,
    record_of,
    total,
)
from potok.domain.sourcing.setup import SourcingSetup, sourcing_order
from potok.services.allocation import reservations_for
from potok.services.idempotency import Once, answered_before, atomically_once
from potok.services.ports import ReplanChange, ReplanRun, ReplanRunPage
from potok.services.unit_of_work import UnitOfWork, reading

MAX_ORDERS = 100_000
MAX_TIME_LIMIT_S = 300.0
APPLY_PASSES = 3
"""Rounds of moves: an order whose new warehouse is freed by another move goes next round."""
SCHEDULE_ACTOR = Actor.system("replan")
METHOD_RANK = {"none": 0, "mip-optimal": 1, "mip-time-limit": 2, "greedy": 3}


class ReplanRunNotFound(NotFound):
    code = "replan-run-not-found"
    title = "Re-plan run not found"
    template = "There is no re-plan run {run_id}."


@dataclass(frozen=True, slots=True)
class _Step:
    """One order the plan changes: moved to other warehouses, or a backorder covered."""

    order_id: int
    version: int
    order: SourcingOrder
    before: tuple[Priced, ...]  # empty for a backorder
    after: tuple[Priced, ...]
    rules_version: str
    tariffs_version: str

    @property
    def saving(self) -> Decimal:
        return total(self.before) - total(self.after) if self.before else Decimal(0)

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


@dataclass(slots=True)
class _Plan:
    considered: int = 0
    cost_before: Decimal = Decimal(0)
    method: str = "none"
    notes: list[str] = field(default_factory=list)
    steps: list[_Step] = field(default_factory=list)


def replan(
    uow: UnitOfWork,
    *,
    channel: str | None = None,
    warehouse: str | None = None,
    limit: int = 10_000,
    time_limit_s: float = 30.0,
    apply: bool = True,
    actor: Actor,
    clock: Clock = utc_now,
    once: Once[ReplanRun] | None = None,
) -> ReplanRun:
    """Re-plan the open orders (of one channel, or holding stock at one warehouse) for the
    least total shipping cost under the stock limits, and apply only what is cheaper and
    keeps every promised date; ``apply=False`` reports what it would do and changes
    nothing but the run log."""
    _check(limit, time_limit_s)
    answered_before(uow, once)  # a repeat does not plan again
    scope = {
        "channel": channel,
        "warehouse": warehouse,
        "limit": limit,
        "time_limit_s": time_limit_s,
    }
    started = clock()
    timer = time.perf_counter()
    today = started.astimezone(UTC).date()
    plan = reading(uow, lambda uow: _plan(uow, channel, warehouse, limit, time_limit_s, today))

    def work(uow: UnitOfWork) -> ReplanRun:
        at = clock()
        if apply:
            changes = _apply(uow, plan.steps, at, str(actor), today)
        else:
            changes = [s.change("reserved" if not s.before else "moved") for s in plan.steps]
        done = {c.order_id for c in changes if c.outcome != "skipped"}
        saved = sum((s.saving for s in plan.steps if s.order_id in done), Decimal(0))
        skipped = [c for c in changes if c.outcome == "skipped"]
        notes = list(plan.notes)
        if skipped:
            notes.append(
                f"{len(skipped)} order(s) skipped: they or the stock they needed changed "
                "since the plan was made; they keep their plan"
            )
        run = ReplanRun(
            None,
            started,
            clock(),
            str(actor),
            scope,
            plan.method,
            plan.considered,
            len(done),
            len(skipped),
            sum(1 for c in changes if c.outcome == "reserved"),
            plan.cost_before,
            plan.cost_before - saved,
            apply,
            round(time.perf_counter() - timer, 3),
            tuple(notes),
            tuple(changes),
        )
        run = uow.sourcing.add_replan_run(run)
        assert run.id is not None
        if apply:
            uow.record(
                SourcingReplanned(
                    occurred_at=at,
                    run_id=run.id,
                    actor=run.actor,
                    scope=scope,
                    method=run.method,
                    orders_considered=run.orders_considered,
                    orders_changed=run.orders_changed,
                    orders_skipped=run.orders_skipped,
                    backorders_reserved=run.backorders_reserved,
                    cost_before=str(run.cost_before),
                    cost_after=str(run.cost_after),
                    seconds=run.seconds,
                    changed=sorted(done),
                )
            )
        return run

    return atomically_once(uow, once, work)


def list_runs(
    uow: UnitOfWork,
    *,
    cursor: str | None = None,
    limit: int = 50,
    channel: str | None = None,
    warehouses: Sequence[str] | None = None,
) -> ReplanRunPage:
    """Past runs of the batch optimiser, newest first; ``channel`` and ``warehouses`` keep
    the runs asked for that channel or one of those warehouses."""
    return reading(
        uow,
        lambda uow: uow.sourcing.replan_runs(
            cursor=cursor, limit=limit, channel=channel, warehouses=warehouses
        ),
    )


def get_run(uow: UnitOfWork, run_id: int) -> ReplanRun:
    """One run of the batch optimiser, with every order it moved or skipped."""

    def work(uow: UnitOfWork) -> ReplanRun:
        found = uow.sourcing.replan_run(run_id)
        if found is None:
            raise ReplanRunNotFound(run_id=run_id)
        return found

    return reading(uow, work)


def replan_when_due(
    uow: UnitOfWork, every_minutes: float, *, clock: Clock = utc_now, time_limit_s: float = 30.0
) -> ReplanRun | None:
    """The scheduled run: re-plan every open order when the latest applied run started at
    least ``every_minutes`` ago (0: never)."""
    if every_minutes <= 0:
        return None
    last = reading(uow, lambda uow: uow.sourcing.last_replan_at())
    now = clock()
    if last is not None and (now - last).total_seconds() < every_minutes * 60:
        return None
    return replan(uow, time_limit_s=time_limit_s, actor=SCHEDULE_ACTOR, clock=clock)


# ---------------------------------------------------------------------- planning


def _check(limit: int, time_limit_s: float) -> None:
    errors = []
    if isinstance(limit, bool) or not 1 <= limit <= MAX_ORDERS:
        errors.append(FieldError("limit", f"must be a whole number from 1 to {MAX_ORDERS}"))
    if not math.isfinite(time_limit_s) or not 1 <= time_limit_s <= MAX_TIME_LIMIT_S:
        errors.append(FieldError("time_limit_s", "must be from 1 to 300 seconds"))
    if errors:
        raise InvalidInput(errors)


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


def _plan(
    uow: UnitOfWork,
    channel: str | None,
    warehouse: str | None,
    limit: int,
    time_limit_s: float,
    today: date,
) -> _Plan:
    started = time.perf_counter()
    channel_id: ChannelId | None = None
    if channel is not None:
        found = uow.channels.get_by_code(channel)
        if found is None:
            raise ChannelNotFound(channel=channel)
        channel_id = found.id
    warehouse_id: WarehouseId | None = None
    if warehouse is not None:
        site = uow.warehouses.get_by_code(warehouse)
        if site is None:
            raise WarehouseNotFound(warehouse=warehouse)
        warehouse_id = site.id
    ids = uow.orders.open_for_replan(channel_id, warehouse_id, limit)
    orders = [order for order in uow.orders.get_many(ids) if eligible(order)]
    plan = _Plan(considered=len(orders))
    if len(ids) == limit:
        plan.notes.append(
            f"the limit of {limit} orders was reached: the less urgent and newer open orders "
            "wait for another run"
        )
    if not orders:
        plan.notes.append("no open orders to re-plan")
        return plan
    setup = uow.sourcing_setup()
    product_ids = {line.product_id for o in orders for line in o.lines}
    weights = uow.sourcing.weights_kg(product_ids)
    sites = {
        w.id: Candidate(
            w.id, w.code, w.city, w.priority, w.latitude, w.longitude, w.type.value, w.region
        )
        for w in uow.warehouses.list()
    }
    groups: dict[tuple[ChannelId, str], list[tuple[Order, SourcingOrder]]] = {}
    rules_of: dict[tuple[ChannelId, str], RoutingRules] = {}
    for order in orders:
        order_type = setup.order_type(order)
        rules = setup.rules_for(order.channel_id, order_type)
        key = (order.channel_id, rules.version)
        rules_of[key] = rules
        groups.setdefault(key, []).append((order, sourcing_order(order, order_type, weights)))
    shift: dict[tuple[WarehouseId, ProductId], int] = {}  # what earlier groups take or free
    for key, members in groups.items():
        left = time_limit_s - (time.perf_counter() - started)
        _plan_group(uow, plan, key[0], members, rules_of[key], setup, sites, shift, today, left)
    if len(groups) > 1:
        plan.notes.append(f"planned in {len(groups)} groups (channel and routing rules)")
    return plan


def _plan_group(
    uow: UnitOfWork,
    plan: _Plan,
    channel_id: ChannelId,
    members: Sequence[tuple[Order, SourcingOrder]],
    rules: RoutingRules,
    setup: SourcingSetup,
    sites: Mapping[WarehouseId, Candidate],
    shift: dict[tuple[WarehouseId, ProductId], int],
    today: date,
    seconds_left: float,
) -> None:
    product_ids = {line.product_id for order, _ in members for line in order.lines}
    candidates, positions = uow.stock.candidates(product_ids, channel_id, today=today)
    free: dict[tuple[WarehouseId, ProductId], int] = {}
    for position in positions:
        spot = (position.warehouse_id, position.product_id)
        free[spot] = free.get(spot, 0) + position.available
    for spot, delta in shift.items():
        if spot[1] in product_ids:
            free[spot] = max(0, free.get(spot, 0) + delta)
    guarded = rules.keep_last_units_kinds if rules.keep_last_units > 0 else frozenset()
    for c in candidates:  # a store's last units stay for its own customers
        if c.kind in guarded:
            for spot in [s for s in free if s[0] == c.warehouse_id]:
                free[spot] = max(0, free[spot] - rules.keep_last_units)
    listed = {c.warehouse_id for c in candidates}
    for order, _ in members:  # today's warehouses stay options even with no free stock
        for r in order.open_reservations:
            if r.warehouse_id not in listed and r.warehouse_id in sites:
                candidates.append(sites[r.warehouse_id])
                listed.add(r.warehouse_id)
    by_id = {c.warehouse_id: c for c in candidates}
    default_kg = rules.default_unit_weight_kg
    tariffs = setup.tariffs
    opens: list[OpenOrder] = []
    current: dict[str, tuple[Priced, ...]] = {}
    orders: dict[str, tuple[Order, SourcingOrder]] = {}
    for order, wanted in members:
        key = str(order.id)
        orders[key] = (order, wanted)
        held: dict[WarehouseId, dict[ProductId, int]] = {}
        for r in order.open_reservations:
            units = held.setdefault(r.warehouse_id, {})
            units[r.product_id] = units.get(r.product_id, 0) + r.quantity
        priced = tuple(
            price(wanted, by_id[w], units, tariffs, default_kg)
            for w, units in held.items()
            if w in by_id
        )
        if len(priced) != len(held):
            continue  # a warehouse that no longer exists: leave the order alone
        current[key] = priced
        plan.cost_before += total(priced)
        shipments = tuple(
            Shipment(p.candidate.warehouse_id, p.units, float(p.cost or 0), p.days or 0)
            for p in priced
        )
        opens.append(OpenOrder(key, _as_planned(wanted, shipments, today), shipments))
    result = optimise(
        opens,
        candidates,
        free,
        tariffs=tariffs,
        rules=replace(rules, keep_last_units=0),  # the stores' last units are kept out above
        today=today,
        time_limit_s=max(seconds_left, 0.05),
        use_solver=seconds_left > 0.05,
        transfers=False,  # a re-plan moves reservations; it books no transfers
    )
    if METHOD_RANK.get(result.method, 3) > METHOD_RANK.get(plan.method, 0):
        plan.method = result.method
    plan.notes.extend(result.notes)
    covered = [
        k for k, p in result.plans.items() if not current.get(k) and p.shipments and k in orders
    ]
    for key in [*result.changed, *covered]:
        order, wanted = orders[key]
        after = tuple(
            price(wanted, by_id[s.warehouse_id], dict(s.units), tariffs, default_kg)
            for s in result.plans[key].shipments
        )
        before = current.get(key, ())
        if before and total(after) >= total(before):
            continue  # cheaper by the optimiser's estimate, not to the kopeck
        assert order.id is not None
        plan.steps.append(
            _Step(order.id, order.version, wanted, before, after, rules.version, tariffs.version)
        )
        for p in before:
            for product_id, q in p.units:
                k = (p.candidate.warehouse_id, product_id)
                shift[k] = shift.get(k, 0) + q
        for p in after:
            for product_id, q in p.units:
                k = (p.candidate.warehouse_id, product_id)
                shift[k] = shift.get(k, 0) - q


def _as_planned(wanted: SourcingOrder, current: Sequence[Shipment], today: date) -> SourcingOrder:
    """The order as the optimiser is to see it: an express order may not arrive later than
    today's plan brings it, promised date or not."""
    if not wanted.express or not current:
        return wanted
    now = today + timedelta(days=max(s.days for s in current))
    promise = now if wanted.promised_on is None else min(wanted.promised_on, now)
    return dataclasses.replace(wanted, promised_on=promise)


# ---------------------------------------------------------------------- applying


def _apply(
    uow: UnitOfWork, steps: Sequence[_Step], at: datetime, actor: str, today: date
) -> list[ReplanChange]:
    changes: dict[int, ReplanChange] = {}
    versions = {s.order_id: s.version for s in steps}
    locked: dict[int, Order] = {  # every order to change, locked at once in id order
        o.id: o
        for o in uow.orders.get_many(sorted(versions), lock=True)
        if o.id is not None and o.version == versions[o.id] and eligible(o)
    }

    def load(step: _Step) -> Order | None:
        return locked.get(step.order_id)

    pending = sorted((s for s in steps if s.before), key=lambda s: s.order_id)
    for _ in range(APPLY_PASSES):
        waiting: list[_Step] = []
        for step in pending:
            order = load(step)
            if order is None or order.allocation is not AllocationState.RESERVED:
                changes[step.order_id] = step.change("skipped", "the order changed")
            elif _move(uow, order, step, at, actor, today):
                changes[step.order_id] = step.change("moved", _moved_note(step, today))
            else:
                waiting.append(step)
        if len(waiting) == len(pending):
            break
        pending = waiting
    for step in pending:
        changes[step.order_id] = step.change("skipped", "the stock it needed is taken")
    for step in sorted((s for s in steps if not s.before), key=lambda s: s.order_id):
        order = load(step)
        if order is None or order.allocation is not AllocationState.BACKORDERED:
            changes[step.order_id] = step.change("skipped", "the order changed")
        elif _cover(uow, order, step, at, actor):
            changes[step.order_id] = step.change(
                "reserved", covered_sentence(step.order, step.after)
            )
        else:
            changes[step.order_id] = step.change("skipped", "the stock it needed is taken")
    return [changes[s.order_id] for s in steps if s.order_id in changes]


def _moved_note(step: _Step, today: date) -> str:
    return moved_sentence(step.order, step.before, step.after, today)


def _take(
    uow: UnitOfWork, order: Order, step: _Step, at: datetime
) -> tuple[Allocation, ...] | None:
    """Reserve the plan's units at its warehouses' positions, all or none."""
    product_ids = {line.product_id for line in order.lines}
    today = at.astimezone(UTC).date()
    _, positions = uow.stock.candidates(product_ids, order.channel_id, today=today)
    shipments = [(p.candidate.warehouse_id, p.units) for p in step.after]
    allocations = place_units(step.order.needs, shipments, positions)
    if allocations is None or not uow.stock.reserve(_by_stock(allocations), at):
        return None
    return allocations


def _move(
    uow: UnitOfWork, order: Order, step: _Step, at: datetime, actor: str, today: date
) -> bool:
    """Move the order's reservations to the step's plan; False (and the order untouched)
    when the stock is not there."""
    assert order.id is not None
    old = order.open_reservations
    held: dict[StockId, int] = {}
    for r in old:
        held[r.stock_id] = held.get(r.stock_id, 0) + r.quantity
    uow.stock.release(held, at)
    allocations = _take(uow, order, step, at)
    if allocations is None:
        if not uow.stock.reserve(held, at):  # what it just gave back, under our locks
            raise TransientConflict(detail=f"order {order.id}'s stock changed during a re-plan")
        return False
    if any(r.serials for r in old):
        uow.stock.free_serials(order.id, held.keys(), at)
    codes = {p.candidate.warehouse_id: p.code for p in step.after}
    reservations = reservations_for(uow, order, allocations, codes, at)
    sentence = moved_sentence(step.order, step.before, step.after, today)
    record = record_of(
        step.order,
        step.before,
        step.after,
        rules_version=step.rules_version,
        tariffs_version=step.tariffs_version,
        today=today,
        summary=sentence,
    )
    released = order.replan(reservations, at, actor, sentence, record=record, trigger=TRIGGER)
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
    return True


def _cover(uow: UnitOfWork, order: Order, step: _Step, at: datetime, actor: str) -> bool:
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
    order.reserve(reservations, at, actor, sentence, record=record, trigger=TRIGGER)
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
