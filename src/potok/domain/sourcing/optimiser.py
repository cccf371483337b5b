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
Without a plan, lateness costs ``Weights.late_day`` per day instead.
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
from potok.domain.sourcing.engine import SourcingOrder
from potok.domain.sourcing.planner import Candidate
from potok.domain.sourcing.rules import RoutingRules, SplitPolicy
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
class OrderPlan:
    """Where an order's units come from, what that costs and when the last one arrives."""

    shipments: tuple[Shipment, ...]

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.shipments)

    @property
    def days(self) -> int:
        return max((s.days for s in self.shipments), default=0)

    def layout(self) -> frozenset[tuple[WarehouseId, ProductId, int]]:
        """The plan as a set, to tell whether two plans move the same units."""
        return frozenset((s.warehouse_id, p, q) for s in self.shipments for p, q in s.units)


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
    open_cost: float  # fixed + per_km * km (+ late penalty, + change penalty)
    per_kg: float
    days: int
    real_open: float  # fixed + per_km * km, the shipping cost alone


@dataclass(slots=True)
class _Order:
    oo: OpenOrder
    demand: dict[ProductId, int]
    kg: dict[ProductId, float]
    opts: list[_Opt]
    max_ships: int
    cap: float | None  # today's cost, when the order has a plan


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
) -> BatchResult:
    """Re-plan the orders for least total cost; ``stock`` is free stock, not counting what
    these orders hold today. ``max_options`` keeps each order's cheapest warehouses only."""
    started = time.perf_counter()
    cands = list(candidates)
    capacity: dict[tuple[WarehouseId, ProductId], int] = dict(stock)
    for oo in orders:
        for s in oo.current:
            for p, q in s.units:
                capacity[(s.warehouse_id, p)] = capacity.get((s.warehouse_id, p), 0) + q
    prepared = _prepare(orders, cands, capacity, tariffs, rules, today, max_options)
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
            solved = _solve(prepared, capacity, left)
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
    final, changed, unplanned = _settle(prepared, plans, before, capacity)
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
            for s in plan.shipments:
                for p, q in s.units:
                    used[(s.warehouse_id, p)] = used.get((s.warehouse_id, p), 0) + q
        over = {k for k, q in used.items() if q > capacity.get(k, 0)}
        if not over:
            break
        for key, new in moved_for_others.items():
            if any((s.warehouse_id, p) in over for s in final[key].shipments for p, _ in s.units):
                final[key] = new
                changed.append(key)
                del moved_for_others[key]
                break
        else:
            break
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
    late_day = rules.weights.late_day
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
                opt = _Opt(c.warehouse_id, real, per_kg, tariff.days, real)
            if allowed is not None and opt.days > allowed and not mine:
                if oo.current:
                    continue
                opt.open_cost += late_day * (opt.days - allowed)
            if oo.current and not mine:
                opt.open_cost += CHANGE_PENALTY
            covers = holds == len(demand) and all(
                capacity.get((c.warehouse_id, p), 0) >= q for p, q in demand.items()
            )
            whole = opt.open_cost + opt.per_kg * total_kg
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
        ships = max(ships, len(oo.current))
        o = _Order(oo, demand, kg, [t[2] for t in scored], ships, None)
        if oo.current:
            o.cap = _recost(o, oo.current).cost
        out.append(o)
    return out


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
) -> tuple[dict[str, OrderPlan], str, float | None] | None:
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency, but keep the fallback
        return None
    cost: list[float] = []
    upper: list[float] = []
    rows_i: list[int] = []
    rows_j: list[int] = []
    rows_v: list[float] = []
    row_lo: list[float] = []
    row_hi: list[float] = []
    x_index: list[tuple[int, int, ProductId]] = []  # (order, option, product) per x column
    y_index: list[tuple[int, int]] = []  # (order, option) per y column
    col_kind: list[int] = []  # 0: y, 1: x, 2: keep today's plan, or leave unplanned
    slack: list[tuple[int, int]] = []  # (column, order) per keep-or-unplanned column
    stock_coef: dict[tuple[int, WarehouseId, ProductId], float] = {}  # keep columns' units
    stock_cols: dict[tuple[WarehouseId, ProductId], list[int]] = {}
    stock_ub: dict[tuple[WarehouseId, ProductId], int] = {}

    def row(cols: Sequence[int], vals: Sequence[float], lo: float, hi: float) -> None:
        r = len(row_lo)
        rows_i.extend([r] * len(cols))
        rows_j.extend(cols)
        rows_v.extend(vals)
        row_lo.append(lo)
        row_hi.append(hi)

    for oi, o in enumerate(prepared):
        ys: list[int] = []
        x_by_product: dict[ProductId, list[int]] = {p: [] for p in o.demand}
        cap_cols: list[int] = []
        cap_vals: list[float] = []
        for k, opt in enumerate(o.opts):
            y = len(cost)
            cost.append(opt.open_cost)
            upper.append(1.0)
            col_kind.append(0)
            y_index.append((oi, k))
            ys.append(y)
            cap_cols.append(y)
            cap_vals.append(opt.real_open)
            for p, d in o.demand.items():
                have = capacity.get((opt.wid, p), 0)
                if have <= 0:
                    continue
                x = len(cost)
                unit_cost = opt.per_kg * o.kg[p]
                cost.append(unit_cost)
                ub = min(d, have)
                upper.append(float(ub))
                col_kind.append(1)
                x_index.append((oi, k, p))
                x_by_product[p].append(x)
                row([x, y], [1.0, -float(d)], -np.inf, 0.0)
                stock_cols.setdefault((opt.wid, p), []).append(x)
                stock_ub[(opt.wid, p)] = stock_ub.get((opt.wid, p), 0) + ub
                cap_cols.append(x)
                cap_vals.append(unit_cost)
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
                row(x_by_product[p], [1.0] * len(x_by_product[p]), float(d), float(d))
        else:
            out = len(cost)
            slack.append((out, oi))
            upper.append(1.0)
            col_kind.append(2)
            if o.oo.current:
                cost.append(o.cap if o.cap is not None else 0.0)
                for sh in o.oo.current:
                    for p, q in sh.units:
                        key = (sh.warehouse_id, p)
                        stock_cols.setdefault(key, []).append(out)
                        stock_coef[(out, *key)] = float(q)
                        stock_ub[key] = stock_ub.get(key, 0) + q
            else:
                cost.append(UNPLANNED_UNIT_COST * sum(o.demand.values()))
            for p, d in o.demand.items():
                cols = [*x_by_product[p], out]
                row(cols, [*([1.0] * len(x_by_product[p])), float(d)], float(d), float(d))
        if len(ys) > o.max_ships:
            row(ys, [1.0] * len(ys), 0.0, float(o.max_ships))
        if o.cap is not None:
            row(cap_cols, cap_vals, -np.inf, o.cap + 0.005)
    for key, cols in stock_cols.items():
        if stock_ub[key] > capacity.get(key, 0):
            coefs = [stock_coef.get((c, key[0], key[1]), 1.0) for c in cols]
            row(cols, coefs, 0.0, float(capacity.get(key, 0)))

    n = len(cost)
    if n == 0:
        return {}, "mip-optimal", 0.0
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(0.05, time_limit_s)))
    h.setOptionValue("mip_rel_gap", 1e-4)
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
    integer = np.full(n, highspy.HighsVarType.kInteger)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), integer)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution
        return None
    method = "mip-optimal" if status == highspy.HighsModelStatus.kOptimal else "mip-time-limit"
    values = np.asarray(h.getSolution().col_value)
    kept = {oi for j, oi in slack if round(float(values[j])) > 0}
    units: dict[tuple[int, int], dict[ProductId, int]] = {}
    x_cols = [j for j in range(n) if col_kind[j] == 1]
    for j, (oi, k, p) in zip(x_cols, x_index, strict=True):
        q = round(float(values[j]))
        if q > 0:
            units.setdefault((oi, k), {})[p] = q
    plans: dict[str, OrderPlan] = {}
    for oi, o in enumerate(prepared):
        if oi in kept:
            if o.oo.current:
                plans[o.oo.key] = _recost(o, o.oo.current)
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
    gap = float(info.mip_gap) if info.mip_gap < 1e30 else None
    return plans, method, gap


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
        for s in plan.shipments:
            for p, q in s.units:
                got[p] = got.get(p, 0) + q
                used[(s.warehouse_id, p)] = used.get((s.warehouse_id, p), 0) + q
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
            for s in plan.shipments:
                for p, q in s.units:
                    left[(s.warehouse_id, p)] -= q
            plans[o.oo.key] = plan
    return plans


def _cheapest(o: _Order, left: Mapping[tuple[WarehouseId, ProductId], int]) -> OrderPlan | None:
    total_kg = sum(q * o.kg[p] for p, q in o.demand.items())
    best: tuple[float, _Opt] | None = None
    for opt in o.opts:
        if all(left.get((opt.wid, p), 0) >= q for p, q in o.demand.items()):
            score = opt.open_cost + opt.per_kg * total_kg
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
            ratio = (opt.open_cost + opt.per_kg * kg) / (kg or sum(load.values()))
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
