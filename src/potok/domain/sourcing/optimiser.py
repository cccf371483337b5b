"""The batch optimiser: re-plan many open orders at once for the least total shipping cost
under the stock limits, as a mixed-integer program solved by HiGHS, with a greedy fallback.

Model, per order o, candidate warehouse w and product p:
    y[o,w] in {0,1}   a shipment from w opens (fixed + per_km * km roubles)
    x[o,w,p] integer  units of p that w ships (per_kg * unit weight roubles each)
    sum_w x[o,w,p] = demand[o,p];  x[o,w,p] <= demand[o,p] * y[o,w];  sum_w y[o,w] <= S_o
    sum_o x[o,w,p] <= stock[w,p]   (free stock plus what these orders hold today)
When an order already has a plan, only options that keep its promised date (or arrive no
later than today's plan) are offered, its new cost may not exceed today's, and leaving
today's warehouses costs a kopeck, so a re-plan is applied only where it is cheaper.

The objective is the engine's score, rule for rule (``RoutingRules``): shipping at
``Weights.cost``, kilometres, the priority bonus per shipment, a store's last units
(``keep_last_units``, each unit below them at ``last_unit``), and per order the days of its
slowest shipment at ``day`` (``express_day``) plus the days past the promise at
``late_day`` - one variable per order holds the dearest of these, as the engine counts
the last parcel, not each. With ``transfers`` (the rules' own by default) an order may also
be consolidated as the engine consolidates: its units gathered at one of the ``HUBS``
warehouses holding most of it, by at most ``max_shipments`` transfers (each its tariff,
the ``transfer`` weight, and its days before the hub's handling days and transit), then
one shipment of the whole order from there.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.engine import HUBS, SourcingOrder
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.planner import Candidate
from potok.domain.sourcing.rules import RoutingRules, SplitPolicy, Weights
from potok.domain.sourcing.tariffs import TariffTable

CHANGE_PENALTY = 0.01  # roubles: ties keep today's plan
UNPLANNED_UNIT_COST = 1e7  # roubles per unit the model leaves unplanned: only when it must
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Shipment:
    """Units of some products that leave one warehouse for one order."""

    warehouse_id: WarehouseId
    units: tuple[tuple[ProductId, int], ...]
    cost: float = 0.0
    days: int = 0


@dataclass(frozen=True, slots=True)
class Transfer:
    """Units that travel from one warehouse to the hub that ships a consolidated order."""

    from_warehouse_id: WarehouseId
    to_warehouse_id: WarehouseId
    units: tuple[tuple[ProductId, int], ...]
    cost: float = 0.0
    days: int = 0


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """Where an order's units come from, what that costs and when the last one arrives. A
    consolidated order has one shipment (the hub's, its days counting the transfers)."""

    shipments: tuple[Shipment, ...]
    transfers: tuple[Transfer, ...] = ()

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.shipments) + sum(t.cost for t in self.transfers)

    @property
    def days(self) -> int:
        return max((s.days for s in self.shipments), default=0)

    def taken(self) -> dict[tuple[WarehouseId, ProductId], int]:
        """The units the plan takes from each warehouse's stock (a transfer's at its source)."""
        out: dict[tuple[WarehouseId, ProductId], int] = {}
        for s in self.shipments:
            for p, q in s.units:
                out[(s.warehouse_id, p)] = out.get((s.warehouse_id, p), 0) + q
        for t in self.transfers:
            for p, q in t.units:
                out[(t.to_warehouse_id, p)] -= q
                out[(t.from_warehouse_id, p)] = out.get((t.from_warehouse_id, p), 0) + q
        return {k: q for k, q in out.items() if q}

    def layout(self) -> frozenset[tuple[object, ...]]:
        """The plan as a set, to tell whether two plans move the same units the same way."""
        return frozenset(
            [("take", w, p, q) for (w, p), q in self.taken().items()]
            + [("ship", s.warehouse_id) for s in self.shipments]
        )


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order the optimiser may re-plan, with the plan in force (empty when none)."""

    key: str
    order: SourcingOrder
    current: tuple[Shipment, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What the optimiser decided for a batch of orders, and how it got there."""

    method: str  # mip-optimal, mip-time-limit or greedy
    plans: dict[str, OrderPlan]
    changed: tuple[str, ...]
    unplanned: tuple[str, ...]
    cost_before: float
    cost_after: float
    seconds: float
    build_seconds: float
    mip_gap: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(slots=True)
class _Opt:
    wid: WarehouseId
    open_cost: float  # the score of opening it: fixed + per_km * km, km, priority, change
    per_kg: float
    days: int
    real_open: float  # fixed + per_km * km, the shipping cost alone
    candidate: Candidate | None = None
    km: float = 0.0


@dataclass(slots=True)
class _Route:
    """A transfer's way from a source option to a hub."""

    source: int  # index in the order's options
    open_cost: float  # the score of the transfer: fixed + per_km * km, transfer weight, ...
    real_open: float
    per_kg: float
    days: int


@dataclass(slots=True)
class _Hub:
    """An option the order may be consolidated at, and the ways units come to it."""

    option: int  # index in the order's options
    open_cost: float  # the score of shipping the whole order from it
    real_cost: float  # its shipping cost alone
    days: int  # handling and its own transit, before the slowest transfer
    routes: list[_Route]


@dataclass(slots=True)
class _Order:
    oo: OpenOrder
    demand: dict[ProductId, int]
    kg: dict[ProductId, float]
    opts: list[_Opt]
    max_ships: int
    cap: float | None  # today's cost, when the order has a plan
    per_day: float = 0.0
    allowed: int | None = None  # days the promise allows
    late_day: float = 0.0
    hubs: list[_Hub] = field(default_factory=list)
    max_legs: int = 0
    single: bool = True  # one warehouse holds the whole order (before the others take theirs)
    capped: bool = True  # its new plan may not cost more than today's (``cap``)

    def penalty(self, days: int) -> float:
        """What the engine adds for the order's slowest parcel taking ``days``."""
        late = max(0, days - self.allowed) if self.allowed is not None else 0
        return self.per_day * days + self.late_day * late


def optimise(
    orders: Sequence[OpenOrder],
    candidates: Iterable[Candidate],
    stock: Mapping[tuple[WarehouseId, ProductId], int],
    *,
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    time_limit_s: float = 45.0,
    max_options: int | None = 8,
    use_solver: bool = True,
    transfers: bool | None = None,
    stock_values: Mapping[tuple[WarehouseId, ProductId], float] | None = None,
    split_short: bool = False,
    capped: bool = True,
    cpu_time_limit_s: float | None = None,
) -> BatchResult:
    """Re-plan the orders for least total cost; ``stock`` is free stock, not counting what
    these orders hold today. ``max_options`` keeps each order's cheapest warehouses only.
    ``transfers`` lets orders without a plan be consolidated (default: as the rules say).
    ``stock_values`` prices a unit taken from a warehouse for the orders still to come, as
    ``decide`` does (see ``stock_value``): a unit the plans take costs that on top of its
    shipping, so a batch leaves the stock later orders need most. ``split_short``: an
    order without a plan that the split rules held to one shipment (a single warehouse held
    it whole before the others took their share) but that the plan cannot ship whole may
    split after all - as the engine splits an order when the stock left holds it nowhere
    whole - and the model is solved again. ``capped``: an order with a plan may not become
    dearer than today, and only its cheaper plans are taken; without it the batch is planned
    as a whole - one order may get dearer so that others get cheaper - and every plan that
    differs from today's comes back as changed (``held.replan_held`` then keeps only the
    trades whose total falls). ``cpu_time_limit_s`` also stops the solver after that much of
    the process's CPU time: on a busy machine a wall-clock budget buys less search, so a
    CPU budget makes runs comparable (``time_limit_s`` still caps the wall clock)."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    cands = list(candidates)
    capacity: dict[tuple[WarehouseId, ProductId], int] = dict(stock)
    for oo in orders:
        for s in oo.current:
            for p, q in s.units:
                capacity[(s.warehouse_id, p)] = capacity.get((s.warehouse_id, p), 0) + q
    consolidate = rules.transfers if transfers is None else transfers
    prepared = _prepare(orders, cands, capacity, tariffs, rules, today, max_options)
    for o in prepared:
        o.capped = capped
    if consolidate:
        _add_hubs(prepared, capacity, tariffs, rules)
    before = {o.oo.key: _recost(o, o.oo.current) for o in prepared if o.oo.current}
    build_seconds = time.perf_counter() - started
    notes: list[str] = []
    plans: dict[str, OrderPlan] | None = None
    method = "greedy"
    gap: float | None = None
    if use_solver:
        left = time_limit_s - build_seconds
        if left <= 0:
            notes.append("no time left for the solver after building the model")
        else:
            # with ``split_short`` a second solve may follow: the first leaves it half the time
            halve = split_short and rules.shipments_allowed() > 1
            first = left / 2 if halve else left
            cpu_left = None
            if cpu_time_limit_s is not None:
                cpu_left = cpu_time_limit_s - (time.process_time() - cpu_started)
                cpu_left = max(0.0, cpu_left / 2 if halve else cpu_left)
            solved = _solve(prepared, capacity, first, rules, stock_values or {}, cpu_left)
            if solved is not None and split_short:
                held = [
                    o
                    for o in prepared
                    if o.oo.key not in solved[0] and not o.oo.current and o.max_ships == 1
                ]
                ships = rules.shipments_allowed()
                left = time_limit_s - (time.perf_counter() - started)
                if held and ships > 1 and left > 0:
                    for o in held:
                        o.max_ships, o.single = ships, False
                    if consolidate:
                        _add_hubs(held, capacity, tariffs, rules)
                    if cpu_time_limit_s is not None:
                        cpu_left = max(0.0, cpu_time_limit_s - (time.process_time() - cpu_started))
                    again = _solve(prepared, capacity, left, rules, stock_values or {}, cpu_left)
                    if again is not None:
                        solved = again
                        notes.append(
                            f"{len(held)} order(s) no warehouse could ship whole in the plan "
                            "were allowed to split"
                        )
            if solved is None:
                notes.append("the solver found no plan within the time budget")
            else:
                plans, method, gap = solved
                problem = _check(prepared, plans, capacity)
                if problem:
                    notes.append(f"solver plan rejected: {problem}")
                    plans = None
    if plans is None:
        method = "greedy"
        plans = _greedy(prepared, capacity)
    if capped:
        final, changed, unplanned = _settle(prepared, plans, before, capacity)
    else:
        final, changed, unplanned = _settle_whole(prepared, plans, before)
    return BatchResult(
        method,
        final,
        tuple(changed),
        tuple(unplanned),
        sum(p.cost for p in before.values()),
        sum(p.cost for p in final.values()),
        time.perf_counter() - started,
        build_seconds,
        gap,
        tuple(notes),
    )


def _settle(
    prepared: Sequence[_Order],
    plans: Mapping[str, OrderPlan],
    before: Mapping[str, OrderPlan],
    capacity: Mapping[tuple[WarehouseId, ProductId], int],
) -> tuple[dict[str, OrderPlan], list[str], list[str]]:
    """The plans to apply: today's plan stays unless the new one is cheaper - except where
    the solver moved an order at no saving of its own to free the units another order's
    cheaper plan takes; that move is applied too, or the two plans together would take more
    than the stock holds. (The solver's plans fit the stock all together, so taking every
    such move is always enough.)"""
    final: dict[str, OrderPlan] = {}
    changed: list[str] = []
    unplanned: list[str] = []
    moved_for_others: dict[str, OrderPlan] = {}
    for o in prepared:
        key = o.oo.key
        new = plans.get(key)
        if o.oo.current:
            old = before[key]
            if new is not None and new.layout() != old.layout():
                if new.cost < old.cost - 0.005:
                    final[key] = new
                    changed.append(key)
                    continue
                moved_for_others[key] = new
            final[key] = old
        elif new is not None:
            final[key] = new
        else:
            unplanned.append(key)
    while moved_for_others:
        used: dict[tuple[WarehouseId, ProductId], int] = {}
        for plan in final.values():
            for k, q in plan.taken().items():
                used[k] = used.get(k, 0) + q
        over = {k for k, q in used.items() if q > capacity.get(k, 0)}
        if not over:
            break
        for key, new in moved_for_others.items():
            if any(k in over for k in final[key].taken()):
                final[key] = new
                changed.append(key)
                del moved_for_others[key]
                break
        else:
            break
    return final, changed, unplanned


def _settle_whole(
    prepared: Sequence[_Order], plans: Mapping[str, OrderPlan], before: Mapping[str, OrderPlan]
) -> tuple[dict[str, OrderPlan], list[str], list[str]]:
    """The plans of a batch planned as a whole: each order's new plan where it differs from
    today's (dearer or not), today's where the solver kept it or found none."""
    final: dict[str, OrderPlan] = {}
    changed: list[str] = []
    unplanned: list[str] = []
    for o in prepared:
        key = o.oo.key
        new = plans.get(key)
        if key in before:
            old = before[key]
            if new is not None and new.layout() != old.layout():
                final[key] = new
                changed.append(key)
            else:
                final[key] = old
        elif new is not None:
            final[key] = new
        else:
            unplanned.append(key)
    return final, changed, unplanned


def _distances(orders: Sequence[OpenOrder], cands: Sequence[Candidate]) -> np.ndarray:
    """Great-circle kilometres from every candidate to every order's destination."""
    dest = np.array([o.order.destination or (np.nan, np.nan) for o in orders], dtype=float).reshape(
        -1, 2
    )
    site = np.array([(c.latitude, c.longitude) for c in cands], dtype=float).reshape(-1, 2)
    lat1, lon1 = np.radians(dest[:, :1]), np.radians(dest[:, 1:])
    lat2, lon2 = np.radians(site[:, 0])[None, :], np.radians(site[:, 1])[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    out: np.ndarray = np.nan_to_num(km, nan=0.0)
    return out


def _prepare(
    orders: Sequence[OpenOrder],
    cands: Sequence[Candidate],
    capacity: Mapping[tuple[WarehouseId, ProductId], int],
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    max_options: int | None,
) -> list[_Order]:
    km_all = _distances(orders, cands).tolist() if orders and cands else []
    out: list[_Order] = []
    w = rules.weights
    for i, oo in enumerate(orders):
        order = oo.order
        demand: dict[ProductId, int] = {}
        for n in order.needs:
            demand[n.product_id] = demand.get(n.product_id, 0) + n.quantity
        kg = {p: order.unit_weight_kg.get(p, rules.default_unit_weight_kg) for p in demand}
        total_kg = sum(demand[p] * kg[p] for p in demand)
        current = {s.warehouse_id: s for s in oo.current}
        promise = (order.promised_on - today).days if order.promised_on else None
        allowed = promise
        if oo.current and promise is not None:
            allowed = max(promise, max(s.days for s in oo.current))
        o = _Order(oo, demand, kg, [], 1, None, w.express_day if order.express else w.day,
                   allowed, w.late_day, max_legs=rules.max_shipments)  # fmt: skip
        scored: list[tuple[int, float, _Opt]] = []
        for j, c in enumerate(cands):
            km = km_all[i][j]
            mine = c.warehouse_id in current
            if not mine and not _eligible(c, order, km, rules):
                continue
            holds = sum(1 for p in demand if capacity.get((c.warehouse_id, p), 0) > 0)
            if not holds:
                continue
            tariff = tariffs.find_or_estimate(c.code, km=km, region=order.region)
            if tariff is None:
                if not mine:
                    continue
                cost_now = current[c.warehouse_id].cost
                opt = _Opt(c.warehouse_id, cost_now, 0.0, current[c.warehouse_id].days, cost_now)
            else:
                fixed = tariff.cost_estimate(0.0, 0.0)
                per_kg = tariff.cost_estimate(1.0, 0.0) - fixed
                per_km_cost = tariff.cost_estimate(0.0, km) - fixed
                real = fixed + per_km_cost
                score = w.cost * real + w.distance * km - w.priority * c.priority
                opt = _Opt(c.warehouse_id, score, per_kg, tariff.days, real, c, km)
            if allowed is not None and opt.days > allowed and not mine and oo.current:
                continue
            if oo.current and not mine:
                opt.open_cost += CHANGE_PENALTY
            covers = holds == len(demand) and all(
                capacity.get((c.warehouse_id, p), 0) >= q for p, q in demand.items()
            )
            whole = opt.open_cost + w.cost * opt.per_kg * total_kg + o.penalty(opt.days)
            scored.append((0 if mine else (1 if covers else 2), whole, opt))
        scored.sort(key=lambda t: (t[0], t[1]))
        if max_options is not None:
            keep = [t for t in scored if t[0] == 0]
            keep += [t for t in scored if t[0] != 0][: max(0, max_options - len(keep))]
            scored = keep
        any_single = any(t[0] == 1 for t in scored) or len(oo.current) == 1
        if rules.split is SplitPolicy.NEVER:
            ships = 1
        elif rules.split is SplitPolicy.ONLY_WHEN_NEEDED:
            ships = 1 if any_single and len(oo.current) <= 1 else rules.max_shipments
        else:
            ships = rules.max_shipments
        o.max_ships = max(ships, len(oo.current))
        o.opts = [t[2] for t in scored]
        o.single = any_single
        if oo.current:
            o.cap = _recost(o, oo.current).cost
        out.append(o)
    return out


def _add_hubs(
    prepared: Sequence[_Order],
    capacity: Mapping[tuple[WarehouseId, ProductId], int],
    tariffs: TariffTable,
    rules: RoutingRules,
) -> None:
    """Consolidation for the orders without a plan that have two units or more, where the
    engine weighs it: when a split is on the table - no single warehouse holds the whole
    order, or the rules split whenever cheaper. As in the engine, the ``HUBS`` options
    holding most of the order (then the nearest) are the hubs, each with the other options
    that hold some of it as sources (the ``SOURCES`` cheapest to reach)."""
    w = rules.weights
    routes: dict[tuple[WarehouseId, WarehouseId], tuple[float, float, float, int] | None] = {}
    every = rules.split is SplitPolicy.WHEN_CHEAPER
    for o in prepared:
        if o.oo.current or sum(o.demand.values()) < 2 or (o.single and not every):
            continue
        usable = [k for k, opt in enumerate(o.opts) if opt.candidate is not None]
        held = {
            k: sum(min(q, capacity.get((o.opts[k].wid, p), 0)) for p, q in o.demand.items())
            for k in usable
        }
        ranked = sorted(usable, key=lambda k: (-held[k], o.opts[k].km, o.opts[k].wid))
        total_kg = sum(q * o.kg[p] for p, q in o.demand.items())
        for k in ranked[:HUBS]:
            hub = o.opts[k]
            to = hub.candidate
            assert to is not None
            ways: list[_Route] = []
            for s in usable:
                source = o.opts[s].candidate
                if s == k or source is None:
                    continue
                key = (source.warehouse_id, to.warehouse_id)
                if key not in routes:
                    km = distance_km(
                        (source.latitude, source.longitude), (to.latitude, to.longitude)
                    )
                    t = tariffs.find_or_estimate(source.code, km=km, region=to.region)
                    routes[key] = (
                        None
                        if t is None
                        else (
                            t.cost_estimate(0.0, km),
                            t.cost_estimate(1.0, 0.0) - t.cost_estimate(0.0, 0.0),
                            km,
                            t.days,
                        )
                    )
                route = routes[key]
                if route is None:
                    continue
                real, per_kg, km, days = route
                score = w.cost * real + w.transfer + w.distance * km - w.priority * source.priority
                ways.append(_Route(s, score, real, per_kg, days))
            ways.sort(key=lambda r: r.open_cost)
            if not ways:
                continue
            real = hub.real_open + hub.per_kg * total_kg
            o.hubs.append(
                _Hub(
                    k,
                    hub.open_cost + w.cost * hub.per_kg * total_kg,
                    real,
                    rules.transfer_handling_days + hub.days,
                    ways[:SOURCES],
                )
            )


SOURCES = 8
"""Sources of transfers offered per hub of an order: the cheapest to reach."""


def _eligible(c: Candidate, order: SourcingOrder, km: float, rules: RoutingRules) -> bool:
    if not rules.allows_kind(order.order_type, c.kind):
        return False
    if c.region is not None and c.region in rules.excluded_regions:
        return False
    return not (
        rules.max_distance_km is not None
        and order.destination is not None
        and km > rules.max_distance_km
    )


def _recost(o: _Order, shipments: Iterable[Shipment]) -> OrderPlan:
    """A plan priced by today's tariffs, as the model prices it."""
    by_wid = {opt.wid: opt for opt in o.opts}
    out = []
    for s in shipments:
        opt = by_wid.get(s.warehouse_id)
        if opt is None:
            out.append(s)
            continue
        kg = sum(q * o.kg[p] for p, q in s.units)
        out.append(Shipment(s.warehouse_id, s.units, opt.real_open + opt.per_kg * kg, opt.days))
    return OrderPlan(tuple(out))


_banner_lock = threading.Lock()
_banner_shown = False


def _new_highs(highspy: Any) -> Any:
    """A solver instance. HiGHS prints its banner straight to the process's standard output
    the first time one is made, which would land in the middle of a command's output or a
    JSON log; that once, file descriptor 1 points at /dev/null."""
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            solver = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_shown = True
        return solver


def _solve(
    prepared: Sequence[_Order],
    capacity: Mapping[tuple[WarehouseId, ProductId], int],
    time_limit_s: float,
    rules: RoutingRules,
    worth_of: Mapping[tuple[WarehouseId, ProductId], float],
    cpu_limit_s: float | None = None,
) -> tuple[dict[str, OrderPlan], str, float | None] | None:
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency, but keep the fallback
        return None
    w = rules.weights
    cost: list[float] = []
    upper: list[float] = []
    integral: list[int] = []
    rows_i: list[int] = []
    rows_j: list[int] = []
    rows_v: list[float] = []
    row_lo: list[float] = []
    row_hi: list[float] = []
    x_cols: dict[int, tuple[int, int, ProductId]] = {}  # column: (order, option, product)
    u_cols: dict[int, tuple[int, int, int, ProductId]] = {}  # (order, hub, source, product)
    z_cols: dict[int, tuple[int, int]] = {}  # column: (order, hub)
    slack: list[tuple[int, int]] = []  # (column, order) per keep-or-unplanned column
    left_out: list[int] = []  # the unplanned columns among them
    stock_coef: dict[tuple[int, WarehouseId, ProductId], float] = {}  # keep columns' units
    stock_cols: dict[tuple[WarehouseId, ProductId], list[int]] = {}
    stock_ub: dict[tuple[WarehouseId, ProductId], int] = {}

    def column(c: float, ub: float, whole: bool = True) -> int:
        cost.append(c)
        upper.append(ub)
        integral.append(1 if whole else 0)
        return len(cost) - 1

    def row(cols: Sequence[int], vals: Sequence[float], lo: float, hi: float) -> None:
        r = len(row_lo)
        rows_i.extend([r] * len(cols))
        rows_j.extend(cols)
        rows_v.extend(vals)
        row_lo.append(lo)
        row_hi.append(hi)

    def takes(col: int, wid: WarehouseId, p: ProductId, ub: int) -> None:
        stock_cols.setdefault((wid, p), []).append(col)
        stock_ub[(wid, p)] = stock_ub.get((wid, p), 0) + ub

    for oi, o in enumerate(prepared):
        ys: list[int] = []
        by_product: dict[ProductId, list[int]] = {p: [] for p in o.demand}
        cap_cols: list[int] = []
        cap_vals: list[float] = []
        slowest = column(1.0, np.inf, whole=False)  # the penalty of the order's last parcel
        for k, opt in enumerate(o.opts):
            y = column(opt.open_cost, 1.0)
            ys.append(y)
            cap_cols.append(y)
            cap_vals.append(opt.real_open)
            if o.penalty(opt.days) > 0:
                row([slowest, y], [1.0, -o.penalty(opt.days)], 0.0, np.inf)
            for p, d in o.demand.items():
                have = capacity.get((opt.wid, p), 0)
                if have <= 0:
                    continue
                ub = min(d, have)
                worth = worth_of.get((opt.wid, p), 0.0)
                x = column(w.cost * (opt.per_kg * o.kg[p] + worth), float(ub))
                x_cols[x] = (oi, k, p)
                by_product[p].append(x)
                row([x, y], [1.0, -float(d)], -np.inf, 0.0)
                takes(x, opt.wid, p, ub)
                cap_cols.append(x)
                cap_vals.append(opt.per_kg * o.kg[p])
        zs: list[int] = []
        for h, hub in enumerate(o.hubs):
            z = column(hub.open_cost, 1.0)
            z_cols[z] = (oi, h)
            zs.append(z)
            if o.penalty(hub.days) > 0:
                row([slowest, z], [1.0, -o.penalty(hub.days)], 0.0, np.inf)
            at_hub: dict[ProductId, list[int]] = {p: [] for p in o.demand}
            legs: list[int] = []
            for r, route in enumerate([None, *hub.routes]):
                k = hub.option if route is None else route.source
                wid = o.opts[k].wid
                gate = z
                if route is not None:
                    gate = column(route.open_cost, 1.0)
                    legs.append(gate)
                    days = route.days + hub.days
                    row([gate, z], [1.0, -1.0], -np.inf, 0.0)  # no transfer without the hub
                    if o.penalty(days) > 0:
                        row([slowest, gate], [1.0, -o.penalty(days)], 0.0, np.inf)
                for p, d in o.demand.items():
                    have = capacity.get((wid, p), 0)
                    if have <= 0:
                        continue
                    ub = min(d, have)
                    per_kg = 0.0 if route is None else route.per_kg * o.kg[p]
                    u = column(w.cost * (per_kg + worth_of.get((wid, p), 0.0)), float(ub))
                    u_cols[u] = (oi, h, r, p)
                    at_hub[p].append(u)
                    by_product[p].append(u)
                    takes(u, wid, p, ub)
                    if route is not None:
                        row([u, gate], [1.0, -float(d)], -np.inf, 0.0)
            for p, d in o.demand.items():  # the hub ships all of the order, or none of it
                row([*at_hub[p], z], [*([1.0] * len(at_hub[p])), -float(d)], 0.0, 0.0)
            if len(legs) > o.max_legs:
                row(legs, [1.0] * len(legs), 0.0, float(o.max_legs))
        if len(zs) > 1:
            row(zs, [1.0] * len(zs), 0.0, 1.0)
        # One more way out, so that an order with no plan within its limits (its promise,
        # today's cost, the stock) cannot make the whole model infeasible and send the
        # batch to the greedy fallback: an order whose plan the options cannot rebuild may
        # keep it (a column that holds today's units), one without a plan stays unplanned
        # (a column for the units left out, dear enough to be a last resort). Orders whose
        # plan the options can rebuild need neither, and the model stays as small.
        reachable = {opt.wid for opt in o.opts}
        rebuildable = bool(o.oo.current) and all(
            sh.warehouse_id in reachable for sh in o.oo.current
        )
        if rebuildable:
            for p, d in o.demand.items():
                row(by_product[p], [1.0] * len(by_product[p]), float(d), float(d))
        else:
            if o.oo.current:
                days = max(sh.days for sh in o.oo.current)
                worth = sum(
                    q * worth_of.get((sh.warehouse_id, p), 0.0)
                    for sh in o.oo.current
                    for p, q in sh.units
                )
                out = column((o.cap or 0.0) + w.cost * worth + o.penalty(days), 1.0)
                for sh in o.oo.current:
                    for p, q in sh.units:
                        key = (sh.warehouse_id, p)
                        stock_coef[(out, *key)] = float(q)
                        takes(out, sh.warehouse_id, p, q)
            else:
                out = column(UNPLANNED_UNIT_COST * sum(o.demand.values()), 1.0)
                left_out.append(out)
            slack.append((out, oi))
            for p, d in o.demand.items():
                cols = [*by_product[p], out]
                row(cols, [*([1.0] * len(by_product[p])), float(d)], float(d), float(d))
        if len(ys) + len(zs) > o.max_ships:
            row([*ys, *zs], [1.0] * (len(ys) + len(zs)), 0.0, float(o.max_ships))
        if o.cap is not None and o.capped:
            row(cap_cols, cap_vals, -np.inf, o.cap + 0.005)
    guarded = {
        c.warehouse_id
        for o in prepared
        for opt in o.opts
        if (c := opt.candidate) is not None and c.kind in rules.keep_last_units_kinds
    }
    for key, cols in stock_cols.items():
        coefs = [stock_coef.get((c, key[0], key[1]), 1.0) for c in cols]
        have = capacity.get(key, 0)
        if stock_ub[key] > have:
            row(cols, coefs, 0.0, float(have))
        kept = min(have, rules.keep_last_units) if key[0] in guarded else 0
        if kept and w.last_unit and stock_ub[key] > have - kept:
            # a store's last units: each one taken costs ``last_unit``, as the engine's dips
            dip = column(w.last_unit, float(kept), whole=False)
            row([*cols, dip], [*coefs, -1.0], -np.inf, float(have - kept))

    n = len(cost)
    if n == 0:
        return {}, "mip-optimal", 0.0
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(0.05, time_limit_s)))
    # Stop within 0.01 % of the plans' own score. HiGHS's relative gap is taken on the whole
    # objective, where an order that must stay unplanned weighs UNPLANNED_UNIT_COST a unit:
    # with a few of them, 0.01 % of that would let the plans be far from their best.
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", max(1e-6, 1e-4 * _scale(prepared, w)))
    h.setOptionValue("threads", 1)
    empty_i = np.zeros(0, dtype=np.int32)
    h.addCols(
        n,
        np.asarray(cost, dtype=np.float64),
        np.zeros(n),
        np.asarray(upper, dtype=np.float64),
        0,
        np.zeros(n, dtype=np.int32),
        empty_i,
        np.zeros(0),
    )
    ri = np.asarray(rows_i, dtype=np.int64)
    order = np.argsort(ri, kind="stable")
    nrows = len(row_lo)
    starts = np.searchsorted(ri[order], np.arange(nrows)).astype(np.int32)
    h.addRows(
        nrows,
        np.asarray(row_lo, dtype=np.float64),
        np.asarray(row_hi, dtype=np.float64),
        len(rows_j),
        starts,
        np.asarray(rows_j, dtype=np.int32)[order],
        np.asarray(rows_v, dtype=np.float64)[order],
    )
    whole = np.flatnonzero(np.asarray(integral, dtype=bool)).astype(np.int32)
    kinds = np.full(len(whole), highspy.HighsVarType.kInteger)
    h.changeColsIntegrality(len(whole), whole, kinds)
    if cpu_limit_s is not None:
        cpu_started = time.process_time()

        def out_of_cpu(event: Any) -> None:
            if time.process_time() - cpu_started > cpu_limit_s:
                event.interrupt()

        h.cbMipInterrupt.subscribe(out_of_cpu)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution
        return None
    method = "mip-optimal" if status == highspy.HighsModelStatus.kOptimal else "mip-time-limit"
    values = np.asarray(h.getSolution().col_value)
    kept_plan = {oi for j, oi in slack if round(float(values[j])) > 0}
    units: dict[tuple[int, int], dict[ProductId, int]] = {}
    for j, (oi, k, p) in x_cols.items():
        q = round(float(values[j]))
        if q > 0:
            units.setdefault((oi, k), {})[p] = q
    hubbed: dict[int, int] = {}
    for j, (oi, hi) in z_cols.items():
        if round(float(values[j])) > 0:
            hubbed[oi] = hi
    gathered: dict[tuple[int, int], dict[ProductId, int]] = {}
    for j, (oi, hi, r, p) in u_cols.items():
        q = round(float(values[j]))
        if q > 0 and hubbed.get(oi) == hi:
            gathered.setdefault((oi, r), {})[p] = q
    plans: dict[str, OrderPlan] = {}
    for oi, o in enumerate(prepared):
        if oi in kept_plan:
            if o.oo.current:
                plans[o.oo.key] = _recost(o, o.oo.current)
            continue
        if oi in hubbed:
            plans[o.oo.key] = _hub_plan(o, o.hubs[hubbed[oi]], gathered, oi)
            continue
        ships = []
        for k, opt in enumerate(o.opts):
            got = units.get((oi, k))
            if got:
                kg = sum(q * o.kg[p] for p, q in got.items())
                ships.append(
                    Shipment(
                        opt.wid,
                        tuple(sorted(got.items())),
                        opt.real_open + opt.per_kg * kg,
                        opt.days,
                    )
                )
        plans[o.oo.key] = OrderPlan(tuple(ships))
    gap: float | None = None
    if abs(info.mip_dual_bound) < 1e30:  # the gap on the plans' own score, not the whole
        own = info.objective_function_value - sum(cost[j] * values[j] for j in left_out)
        gap = max(0.0, info.objective_function_value - info.mip_dual_bound) / max(abs(own), 1e-9)
    return plans, method, gap


def _scale(prepared: Sequence[_Order], w: Weights) -> float:
    """What the orders' plans score at least, about: each order's best single option."""
    total = 0.0
    for o in prepared:
        kg = sum(q * o.kg[p] for p, q in o.demand.items())
        best = min(
            (opt.open_cost + w.cost * opt.per_kg * kg + o.penalty(opt.days) for opt in o.opts),
            default=0.0,
        )
        total += abs(best)
    return total


def _hub_plan(
    o: _Order, hub: _Hub, gathered: Mapping[tuple[int, int], dict[ProductId, int]], oi: int
) -> OrderPlan:
    """A consolidated order's plan: the transfers the solver chose, then the hub's shipment
    of the whole order, its days after the slowest transfer."""
    to = o.opts[hub.option].wid
    moved: list[Transfer] = []
    for r, route in enumerate(hub.routes, start=1):
        got = gathered.get((oi, r))
        if not got:
            continue
        kg = sum(q * o.kg[p] for p, q in got.items())
        moved.append(
            Transfer(
                o.opts[route.source].wid,
                to,
                tuple(sorted(got.items())),
                route.real_open + route.per_kg * kg,
                route.days,
            )
        )
    days = hub.days + max((t.days for t in moved), default=0)
    units = tuple(sorted(o.demand.items()))
    return OrderPlan((Shipment(to, units, hub.real_cost, days),), tuple(moved))


def _check(
    prepared: Sequence[_Order],
    plans: Mapping[str, OrderPlan],
    capacity: Mapping[tuple[WarehouseId, ProductId], int],
) -> str | None:
    used: dict[tuple[WarehouseId, ProductId], int] = {}
    for o in prepared:
        plan = plans.get(o.oo.key)
        if plan is None:
            if o.oo.current:
                return f"order {o.oo.key} has no plan"
            continue  # left unplanned: it holds nothing
        got: dict[ProductId, int] = {}
        for (wid, p), q in plan.taken().items():
            got[p] = got.get(p, 0) + q
            used[(wid, p)] = used.get((wid, p), 0) + q
        if got != o.demand:
            return f"order {o.oo.key} is not covered"
        if len(plan.shipments) > o.max_ships:
            return f"order {o.oo.key} has too many shipments"
    for key, q in used.items():
        if q > capacity.get(key, 0):
            return f"stock of product {key[1]} at warehouse {key[0]} exceeded"
    return None


def _greedy(
    prepared: Sequence[_Order], capacity: Mapping[tuple[WarehouseId, ProductId], int]
) -> dict[str, OrderPlan]:
    """Order by order, the cheapest plan the stock left allows; today's plan when no cheaper."""
    left = dict(capacity)
    for o in prepared:  # today's plans hold their stock until they are replaced
        for s in o.oo.current:
            for p, q in s.units:
                left[(s.warehouse_id, p)] -= q
    plans: dict[str, OrderPlan] = {}
    for o in prepared:
        for s in o.oo.current:
            for p, q in s.units:
                left[(s.warehouse_id, p)] += q
        plan = _cheapest(o, left)
        if o.oo.current:
            old = _recost(o, o.oo.current)
            if plan is None or plan.cost >= old.cost - 0.005:
                plan = old
        if plan is not None:
            for k, q in plan.taken().items():
                left[k] -= q
            plans[o.oo.key] = plan
    return plans


def _cheapest(o: _Order, left: Mapping[tuple[WarehouseId, ProductId], int]) -> OrderPlan | None:
    total_kg = sum(q * o.kg[p] for p, q in o.demand.items())
    best: tuple[float, _Opt] | None = None
    for opt in o.opts:
        if all(left.get((opt.wid, p), 0) >= q for p, q in o.demand.items()):
            score = opt.open_cost + opt.per_kg * total_kg + o.penalty(opt.days)
            if best is None or score < best[0]:
                best = (score, opt)
    if best is not None:
        opt = best[1]
        cost = opt.real_open + opt.per_kg * total_kg
        units = tuple(sorted(o.demand.items()))
        return OrderPlan((Shipment(opt.wid, units, cost, opt.days),))
    if o.max_ships < 2:
        return None
    remaining = dict(o.demand)
    ships: list[Shipment] = []
    used: set[WarehouseId] = set()
    while remaining and len(ships) < o.max_ships:
        pick: tuple[float, _Opt, dict[ProductId, int]] | None = None
        for opt in o.opts:
            if opt.wid in used:
                continue
            load = {p: min(q, left.get((opt.wid, p), 0)) for p, q in remaining.items()}
            load = {p: q for p, q in load.items() if q > 0}
            if not load:
                continue
            kg = sum(q * o.kg[p] for p, q in load.items())
            score = opt.open_cost + opt.per_kg * kg + o.penalty(opt.days)
            ratio = score / (kg or sum(load.values()))
            if pick is None or ratio < pick[0]:
                pick = (ratio, opt, load)
        if pick is None:
            return None
        _, opt, load = pick
        kg = sum(q * o.kg[p] for p, q in load.items())
        ships.append(
            Shipment(
                opt.wid, tuple(sorted(load.items())), opt.real_open + opt.per_kg * kg, opt.days
            )
        )
        used.add(opt.wid)
        for p, q in load.items():
            remaining[p] -= q
            if remaining[p] == 0:
                del remaining[p]
    return None if remaining else OrderPlan(tuple(ships))
