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

The re-plan of held orders (``held_minutes``) takes the orders placed within that many
minutes and not yet released to a warehouse, and plans them together with the stock priced
for the orders still to come (the stock pricing job's latest prices): one may become dearer
when the orders it trades stock with save more (shipping plus stock value), no promise
today's plan keeps is broken, and each trade is moved all together or not at all (see
``potok.domain.sourcing.held`` and ``replan_moves``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput, NotFound
from potok.domain.kernel import Actor, ChannelId, Clock, ProductId, WarehouseId, utc_now
from potok.domain.network.model import WarehouseNotFound
from potok.domain.orders import Order
from potok.domain.sourcing import Candidate, RoutingRules, SourcingOrder
from potok.domain.sourcing.events import SourcingReplanned
from potok.domain.sourcing.held import as_planned, replan_held
from potok.domain.sourcing.optimiser import BatchResult, OpenOrder, Shipment, optimise
from potok.domain.sourcing.replan import Priced, price, rub, total
from potok.domain.sourcing.setup import SourcingSetup, sourcing_order
from potok.services import replan_moves as moves
from potok.services.idempotency import Once, answered_before, atomically_once
from potok.services.ports import ReplanRun, ReplanRunPage
from potok.services.replan_moves import Step, eligible
from potok.services.unit_of_work import UnitOfWork, reading

MAX_ORDERS = 100_000
MAX_TIME_LIMIT_S = 300.0
MAX_HELD_MINUTES = 24 * 60
SCHEDULE_ACTOR = Actor.system("replan")
HELD_ACTOR = Actor.system("replan-held")
METHOD_RANK = {"none": 0, "mip-optimal": 1, "mip-time-limit": 2, "greedy": 3}


class ReplanRunNotFound(NotFound):
    code = "replan-run-not-found"
    title = "Re-plan run not found"
    template = "There is no re-plan run {run_id}."


@dataclass(slots=True)
class _Plan:
    considered: int = 0
    cost_before: Decimal = Decimal(0)
    trades: int = 0  # held re-plan: trades the optimiser proposed
    method: str = "none"
    notes: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def replan(
    uow: UnitOfWork,
    *,
    channel: str | None = None,
    warehouse: str | None = None,
    limit: int = 10_000,
    time_limit_s: float = 30.0,
    apply: bool = True,
    held_minutes: float | None = None,
    actor: Actor,
    clock: Clock = utc_now,
    once: Once[ReplanRun] | None = None,
) -> ReplanRun:
    """Re-plan the open orders (of one channel, or holding stock at one warehouse) for the
    least total shipping cost under the stock limits, and apply only what is cheaper and
    keeps every promised date; ``apply=False`` reports what it would do and changes
    nothing but the run log. ``held_minutes``: the re-plan of held orders - only those
    placed within that many minutes and not released, planned together with the stock
    priced, trades kept when their shipping plus stock value falls."""
    _check(limit, time_limit_s, held_minutes)
    answered_before(uow, once)  # a repeat does not plan again
    scope: dict[str, Any] = {
        "channel": channel,
        "warehouse": warehouse,
        "limit": limit,
        "time_limit_s": time_limit_s,
    }
    if held_minutes is not None:
        scope["held_minutes"] = held_minutes
    started = clock()
    timer = time.perf_counter()
    today = started.astimezone(UTC).date()
    since = None if held_minutes is None else started - timedelta(minutes=held_minutes)
    plan = reading(
        uow, lambda uow: _plan(uow, channel, warehouse, limit, time_limit_s, today, since)
    )

    def work(uow: UnitOfWork) -> ReplanRun:
        at = clock()
        if apply:
            changes = moves.apply(uow, plan.steps, at, str(actor), today)
        else:
            changes = [
                s.change(
                    "reserved" if not s.before else "moved",
                    s.sentence(today) if s.before and s.trade is not None else "",
                )
                for s in plan.steps
            ]
        done = {c.order_id for c in changes if c.outcome != "skipped"}
        saved = sum((s.saving for s in plan.steps if s.order_id in done), Decimal(0))
        skipped = [c for c in changes if c.outcome == "skipped"]
        notes = list(plan.notes)
        if held_minutes is not None:
            notes.extend(_held_notes(plan, done))
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


def replan_held_when_due(
    uow: UnitOfWork,
    held_minutes: float,
    every_minutes: float,
    *,
    clock: Clock = utc_now,
    time_limit_s: float = 30.0,
    before: Callable[[], object] | None = None,
) -> ReplanRun | None:
    """The scheduled re-plan of held orders: the orders placed within ``held_minutes`` and
    not yet released, planned together when the latest such run started at least
    ``every_minutes`` ago (``held_minutes`` 0: never); ``before`` runs first when one is due
    (the worker refreshes the stock prices there)."""
    if held_minutes <= 0:
        return None
    last = reading(uow, lambda uow: uow.sourcing.last_replan_at(held=True))
    now = clock()
    if last is not None and (now - last).total_seconds() < every_minutes * 60:
        return None
    if before is not None:
        before()
    return replan(
        uow, held_minutes=held_minutes, time_limit_s=time_limit_s, actor=HELD_ACTOR, clock=clock
    )


def _held_notes(plan: _Plan, done: set[int]) -> list[str]:
    moved = [s for s in plan.steps if s.before and s.order_id in done]
    trades = {s.trade for s in moved}
    before = sum((total(s.before) + s.worth_before for s in moved), Decimal(0))
    after = sum((total(s.after) + s.worth_after for s in moved), Decimal(0))
    dearer = sum(1 for s in moved if s.value_saving < 0)
    return [
        f"held orders: {plan.trades} trade(s) proposed, {len(trades)} moved ({len(moved)} "
        f"order(s), {dearer} of them dearer for the others' sake); shipping plus stock value "
        f"of the orders moved {rub(before)} → {rub(after)}, {rub(before - after)} saved"
    ]


def _check(limit: int, time_limit_s: float, held_minutes: float | None = None) -> None:
    errors = []
    if isinstance(limit, bool) or not 1 <= limit <= MAX_ORDERS:
        errors.append(FieldError("limit", f"must be a whole number from 1 to {MAX_ORDERS}"))
    if not math.isfinite(time_limit_s) or not 1 <= time_limit_s <= MAX_TIME_LIMIT_S:
        errors.append(FieldError("time_limit_s", "must be from 1 to 300 seconds"))
    if held_minutes is not None and (
        not math.isfinite(held_minutes) or not 1 <= held_minutes <= MAX_HELD_MINUTES
    ):
        errors.append(FieldError("held_minutes", f"must be from 1 to {MAX_HELD_MINUTES} minutes"))
    if errors:
        raise InvalidInput(errors)


def _plan(
    uow: UnitOfWork,
    channel: str | None,
    warehouse: str | None,
    limit: int,
    time_limit_s: float,
    today: date,
    since: datetime | None = None,
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
    ids = uow.orders.open_for_replan(channel_id, warehouse_id, limit, placed_since=since)
    orders = [order for order in uow.orders.get_many(ids) if eligible(order)]
    plan = _Plan(considered=len(orders))
    if len(ids) == limit:
        plan.notes.append(
            f"the limit of {limit} orders was reached: the less urgent and newer open orders "
            "wait for another run"
        )
    if not orders:
        plan.notes.append(f"no {'held' if since else 'open'} orders to re-plan")
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
        _plan_group(
            uow, plan, key[0], members, rules_of[key], setup, sites, shift, today, left, since
        )
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
    since: datetime | None = None,
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
        opens.append(OpenOrder(key, as_planned(wanted, shipments, today), shipments))
    if since is not None:
        wave = _Held(plan, orders, current, by_id, rules, setup, shift)
        wave.plan(opens, candidates, free, today, seconds_left)
        return
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
    _note_method(plan, result)
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
            Step(order.id, order.version, wanted, before, after, rules.version, tariffs.version)
        )
        _shift(shift, before, after)


def _note_method(plan: _Plan, result: BatchResult) -> None:
    if METHOD_RANK.get(result.method, 3) > METHOD_RANK.get(plan.method, 0):
        plan.method = result.method
    plan.notes.extend(result.notes)


def _shift(
    shift: dict[tuple[WarehouseId, ProductId], int],
    before: Iterable[Priced],
    after: Iterable[Priced],
) -> None:
    """What a planned change frees and takes, for the groups planned after it."""
    for p in before:
        for product_id, q in p.units:
            k = (p.candidate.warehouse_id, product_id)
            shift[k] = shift.get(k, 0) + q
    for p in after:
        for product_id, q in p.units:
            k = (p.candidate.warehouse_id, product_id)
            shift[k] = shift.get(k, 0) - q


@dataclass(slots=True)
class _Held:
    """One group's held orders planned together, and the trades kept as steps."""

    out: _Plan
    orders: Mapping[str, tuple[Order, SourcingOrder]]
    current: Mapping[str, tuple[Priced, ...]]
    by_id: Mapping[WarehouseId, Candidate]
    rules: RoutingRules
    setup: SourcingSetup
    shift: dict[tuple[WarehouseId, ProductId], int]

    def plan(
        self,
        opens: Sequence[OpenOrder],
        candidates: Sequence[Candidate],
        free: Mapping[tuple[WarehouseId, ProductId], int],
        today: date,
        seconds_left: float,
    ) -> None:
        values = self.setup.stock_values
        result = replan_held(
            opens,
            candidates,
            free,
            tariffs=self.setup.tariffs,
            rules=replace(self.rules, keep_last_units=0),  # the stores' last units: kept out
            today=today,
            stock_values=values,
            time_limit_s=max(seconds_left, 0.05),
            max_options=None,
            use_solver=seconds_left > 0.05,
        )
        _note_method(self.out, result.batch)
        self.out.trades += len(result.trades)
        for trade in result.trades:  # kept when the total falls to the kopeck, not by estimate
            legs = [self._leg(key, result.batch.plans[key].shipments) for key in trade.keys]
            before = sum((total(b) + wb for _, b, _, wb, _ in legs), Decimal(0))
            after = sum((total(a) + wa for _, _, a, _, wa in legs), Decimal(0))
            if after >= before:
                continue
            number = sum(1 for s in {s.trade for s in self.out.steps} if s) + 1
            for order, b, a, wb, wa in legs:
                self._step(order, b, a, number, wb, wa, len(legs), before - after)
        for key in result.covered:
            if key in self.orders and not self.current.get(key):
                order, _ = self.orders[key]
                _, _, a, _, _ = self._leg(key, result.batch.plans[key].shipments)
                self._step(order, (), a, 0)

    def _leg(
        self, key: str, shipments: Iterable[Shipment]
    ) -> tuple[Order, tuple[Priced, ...], tuple[Priced, ...], Decimal, Decimal]:
        order, wanted = self.orders[key]
        kg = self.rules.default_unit_weight_kg
        after = tuple(
            price(wanted, self.by_id[s.warehouse_id], dict(s.units), self.setup.tariffs, kg)
            for s in shipments
        )
        before = self.current.get(key, ())
        return order, before, after, self._worth(before), self._worth(after)

    def _worth(self, shipments: Iterable[Priced]) -> Decimal:
        values = self.setup.stock_values
        out = Decimal(0)
        for p in shipments:
            for product_id, q in p.units:
                value = values.get((p.candidate.warehouse_id, product_id), 0.0)
                out += q * Decimal(str(round(value, 2)))
        return out

    def _step(
        self,
        order: Order,
        before: tuple[Priced, ...],
        after: tuple[Priced, ...],
        trade: int,
        worth_before: Decimal = Decimal(0),
        worth_after: Decimal = Decimal(0),
        trade_orders: int = 0,
        trade_saving: Decimal = Decimal(0),
    ) -> None:
        assert order.id is not None
        _, wanted = self.orders[str(order.id)]
        self.out.steps.append(
            Step(
                order.id,
                order.version,
                wanted,
                before,
                after,
                self.rules.version,
                self.setup.tariffs.version,
                trade,
                worth_before,
                worth_after,
                trade_orders,
                trade_saving,
            )
        )
        _shift(self.shift, before, after)
