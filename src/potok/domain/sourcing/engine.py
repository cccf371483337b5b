"""The sourcing engine: filter the candidates by the routing rules, price each with the
shipping tariffs, score every option in roubles, prefer one shipment, split only as the
rules allow, and write down why.

An option is a set of shipments (one per warehouse) that together carry the order. Its
score adds, per shipment, the shipping cost, the distance, the units taken from the last
units a store keeps and the warehouse priority bonus, and, for the order as a whole, the
days until the last shipment arrives and the days it would be late (see ``rules``).
Positions (lots) are taken in pick order, as ``planner.plan`` takes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from math import inf

from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.sourcing.explanation import CandidateNote, ShipmentNote, SourcingRecord
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.planner import (
    Allocation,
    Candidate,
    Decision,
    Need,
    Position,
    Short,
    Shortfall,
)
from potok.domain.sourcing.rules import RoutingRules, SplitPolicy
from potok.domain.sourcing.tariffs import Tariff, TariffTable

Load = dict[ProductId, int]


@dataclass(frozen=True, slots=True)
class SourcingOrder:
    """What the engine needs to know of an order to source it."""

    needs: tuple[Need, ...]
    destination: tuple[float, float] | None  # delivery or pickup point (latitude, longitude)
    region: str | None = None
    order_type: str = "courier"
    express: bool = False
    promised_on: date | None = None
    unit_weight_kg: Mapping[ProductId, float] = field(default_factory=dict)
    reference: str = ""


@dataclass(slots=True)
class _Option:
    """A candidate that passed the filters and has a tariff to the destination."""

    candidate: Candidate
    km: float
    tariff: Tariff
    stock: dict[ProductId, list[Position]]
    have: dict[ProductId, int]
    reserve: int  # units of each product it keeps for local demand


@dataclass(slots=True)
class _Plan:
    shipments: list[tuple[_Option, Load]]
    score: float
    parts: dict[str, float]
    costs: list[float]
    days: int
    late: int


def decide(
    order: SourcingOrder,
    candidates: Iterable[Candidate],
    positions: Iterable[Position],
    *,
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
) -> Decision | Shortfall:
    """Source one order by the rules, or say which lines cannot be covered, with the record."""
    demand: Load = {}
    for need in order.needs:
        demand[need.product_id] = demand.get(need.product_id, 0) + need.quantity
    unit_kg = {p: order.unit_weight_kg.get(p, rules.default_unit_weight_kg) for p in demand}
    held: dict[WarehouseId, dict[ProductId, list[Position]]] = {}
    for position in positions:
        if position.available > 0 and position.product_id in demand:
            held.setdefault(position.warehouse_id, {}).setdefault(position.product_id, []).append(
                position
            )

    notes: dict[WarehouseId, CandidateNote] = {}
    options = _filter(order, candidates, held, tariffs, rules, notes)
    scored: list[tuple[_Plan, _Option]] = []
    for option in options:
        load = {p: min(q, option.have.get(p, 0)) for p, q in demand.items()}
        load = {p: q for p, q in load.items() if q > 0}
        plan = _score([(option, load)], unit_kg, order, rules, today)
        scored.append((plan, option))
        covers = load == demand
        kg = _weight(load, unit_kg)
        notes[option.candidate.warehouse_id] = CandidateNote(
            option.candidate.code,
            option.candidate.city,
            option.candidate.kind,
            option.km if order.destination is not None else None,
            covers=covers,
            cost=option.tariff.cost(kg, option.km),
            days=option.tariff.days,
            score=round(plan.score, 2),
            parts={k: round(v, 2) for k, v in plan.parts.items()},
        )

    network: Load = {}
    for option in options:
        for p, units in option.have.items():
            network[p] = network.get(p, 0) + units
    short = {p for p, q in demand.items() if network.get(p, 0) < q}
    if short:
        return _shortfall(order, demand, network, short, notes, tariffs, rules, today, "network")

    singles = sorted(
        ((plan, option) for plan, option in scored if plan.shipments[0][1] == demand),
        key=lambda po: (po[0].score, po[1].candidate.code),
    )
    best: _Plan | None = singles[0][0] if singles else None
    limit = rules.shipments_allowed()
    split_tried = rules.split is SplitPolicy.WHEN_CHEAPER or best is None
    if limit > 1 and split_tried:
        split = _greedy_split(options, demand, unit_kg, order, rules, today, limit)
        if split is not None and (best is None or split.score < best.score - 0.005):
            best = split
    if best is None:
        why = "split" if limit == 1 else "max_shipments"
        return _shortfall(order, demand, network, set(), notes, tariffs, rules, today, why)

    runner_up = next((p for p, _ in singles if p is not best), None)
    summary = _summary(best, runner_up, order, rules, today, notes)
    allocations = _allocate(order.needs, best.shipments)
    chosen_ids = {o.candidate.warehouse_id for o, _ in best.shipments}
    record = _record(order, notes, chosen_ids, best, tariffs, rules, today, summary, unit_kg)
    codes = tuple(o.candidate.code for o, _ in best.shipments)
    return Decision(allocations, codes, summary, record)


def _filter(
    order: SourcingOrder,
    candidates: Iterable[Candidate],
    held: dict[WarehouseId, dict[ProductId, list[Position]]],
    tariffs: TariffTable,
    rules: RoutingRules,
    notes: dict[WarehouseId, CandidateNote],
) -> list[_Option]:
    options: list[_Option] = []
    destination = order.destination
    for c in candidates:
        km = distance_km(destination, (c.latitude, c.longitude)) if destination else 0.0
        reason: str | None = None
        tariff: Tariff | None = None
        stock = held.get(c.warehouse_id)
        if not rules.allows_kind(order.order_type, c.kind):
            reason = f"a {c.kind} does not serve {order.order_type} orders"
        elif c.region is not None and c.region in rules.excluded_regions:
            reason = f"region {c.region} is excluded by the rules"
        elif rules.max_distance_km is not None and destination and km > rules.max_distance_km:
            reason = f"{km:.0f} km away, beyond the {rules.max_distance_km:g} km limit"
        elif not stock:
            reason = "holds none of the order's products"
        else:
            tariff = tariffs.find(c.code, km=km, region=order.region)
            if tariff is None:
                reason = "no shipping tariff reaches the destination"
        if reason is not None or tariff is None or stock is None:
            notes[c.warehouse_id] = CandidateNote(
                c.code, c.city, c.kind, km if destination else None, excluded=reason
            )
            continue
        have = {p: sum(x.available for x in ps) for p, ps in stock.items()}
        reserve = rules.keep_last_units if c.kind in rules.keep_last_units_kinds else 0
        options.append(_Option(c, km, tariff, stock, have, reserve))
    return options


def _weight(load: Mapping[ProductId, int], unit_kg: Mapping[ProductId, float]) -> float:
    return sum(q * unit_kg[p] for p, q in load.items())


def _score(
    shipments: list[tuple[_Option, Load]],
    unit_kg: Mapping[ProductId, float],
    order: SourcingOrder,
    rules: RoutingRules,
    today: date,
) -> _Plan:
    w = rules.weights
    cost = distance = last = priority = 0.0
    costs: list[float] = []
    days = 0
    for option, load in shipments:
        shipped = option.tariff.cost_estimate(_weight(load, unit_kg), option.km)
        costs.append(shipped)
        cost += shipped
        distance += option.km
        if option.reserve:
            for p, q in load.items():
                dip = q - max(0, option.have[p] - option.reserve)
                if dip > 0:
                    last += min(dip, q)
        priority += option.candidate.priority
        days = max(days, option.tariff.days)
    late = 0
    if order.promised_on is not None:
        late = max(0, (today + timedelta(days=days) - order.promised_on).days)
    per_day = w.express_day if order.express else w.day
    parts = {
        "cost": w.cost * cost,
        "distance": w.distance * distance,
        "time": per_day * days + w.late_day * late,
        "last_units": w.last_unit * last,
        "priority": -w.priority * priority,
    }
    return _Plan(shipments, sum(parts.values()), parts, costs, days, late)


def _greedy_split(
    options: list[_Option],
    demand: Load,
    unit_kg: Mapping[ProductId, float],
    order: SourcingOrder,
    rules: RoutingRules,
    today: date,
    limit: int,
) -> _Plan | None:
    """Cover the order shipment by shipment, each time with the option that costs least per
    kilogram (or unit) it carries; None when ``limit`` shipments cannot cover it."""
    remaining = dict(demand)
    shipments: list[tuple[_Option, Load]] = []
    used: set[WarehouseId] = set()
    while remaining and len(shipments) < limit:
        best: tuple[float, str, _Option, Load] | None = None
        for option in options:
            if option.candidate.warehouse_id in used:
                continue
            load = {p: min(q, option.have.get(p, 0)) for p, q in remaining.items()}
            load = {p: q for p, q in load.items() if q > 0}
            if not load:
                continue
            carried = _weight(load, unit_kg) or float(sum(load.values()))
            plan = _score([(option, load)], unit_kg, order, rules, today)
            key = (plan.score / carried, option.candidate.code, option, load)
            if best is None or key[:2] < best[:2]:
                best = key
        if best is None:
            return None
        option, load = best[2], best[3]
        shipments.append((option, load))
        used.add(option.candidate.warehouse_id)
        for p, q in load.items():
            remaining[p] -= q
            if remaining[p] == 0:
                del remaining[p]
    if remaining:
        return None
    return _score(shipments, unit_kg, order, rules, today)


def _allocate(
    needs: Sequence[Need], shipments: list[tuple[_Option, Load]]
) -> tuple[Allocation, ...]:
    loads = [(option, dict(load)) for option, load in shipments]
    left: dict[StockId, int] = {}
    allocations: list[Allocation] = []
    for need in sorted(needs, key=lambda n: (-n.quantity, n.line_no)):
        wanted = need.quantity
        for option, load in loads:
            here = min(wanted, load.get(need.product_id, 0))
            if here <= 0:
                continue
            load[need.product_id] -= here
            wanted -= here
            for position in sorted(option.stock[need.product_id], key=Position.pick_key):
                free = left.setdefault(position.stock_id, position.available)
                take = min(here, free)
                if take <= 0:
                    continue
                left[position.stock_id] = free - take
                here -= take
                allocations.append(
                    Allocation(
                        need.line_no,
                        position.stock_id,
                        position.warehouse_id,
                        need.product_id,
                        take,
                        position.lot_id,
                        position.lot,
                        position.serialised,
                    )
                )
                if here == 0:
                    break
            if wanted == 0:
                break
    allocations.sort(key=lambda a: a.line_no)
    return tuple(allocations)


_WHY = {
    "cost": "it is the cheapest to ship",
    "distance": "it is nearest",
    "time": "it arrives soonest",
    "last_units": "it does not take the last units a store keeps for its own customers",
    "priority": "it has the higher priority",
}


def _rub(amount: float | Decimal) -> str:
    return f"{amount:,.2f} ₽".replace(",", " ")


def _summary(
    best: _Plan,
    runner_up: _Plan | None,
    order: SourcingOrder,
    rules: RoutingRules,
    today: date,
    notes: Mapping[WarehouseId, CandidateNote],
) -> str:
    cost = sum(best.costs)
    when = f"{best.days} day{'s' if best.days != 1 else ''}"
    if order.promised_on is not None:
        when += (
            f", on time for {order.promised_on.isoformat()}"
            if best.late == 0
            else f", {best.late} day(s) after the promised {order.promised_on.isoformat()}"
        )
    places = ", ".join(_place(o) for o, _ in best.shipments)
    if len(best.shipments) == 1:
        text = f"{places} ships the whole order for {_rub(cost)} in {when}"
    else:
        text = (
            f"Split into {len(best.shipments)} shipments from {places} for {_rub(cost)} "
            f"in all, the last arriving in {when}"
        )
        if rules.split is SplitPolicy.WHEN_CHEAPER and runner_up is not None:
            text += f"; cheaper than the best single shipment ({_rub(sum(runner_up.costs))})"
        elif runner_up is None:
            text += "; no single warehouse has every line"
    if runner_up is not None and len(best.shipments) == 1:
        gains = {k: runner_up.parts[k] - best.parts[k] for k in best.parts}
        part, gain = max(gains.items(), key=lambda kv: kv[1])
        why = _WHY[part]
        if part == "time" and order.express:
            why = "it arrives soonest, and the order is express"
        elif part == "time" and best.late < runner_up.late:
            why = "it keeps the promised date"
        other = runner_up.shipments[0][0]
        text += (
            f"; chosen because {why} (next best {other.candidate.code}: "
            f"{_rub(sum(runner_up.costs))}, {runner_up.days} d"
        )
        text += f", {gain:,.0f} ₽ worse on the rules' scale)" if gain > 0 else ")"
    if runner_up is None and len(best.shipments) == 1:
        text += "; the only allowed warehouse that has every line"
    excluded = [n for n in notes.values() if n.excluded is not None]
    if excluded:
        text += f"; {len(excluded)} excluded by the rules or stock"
    return text


def _place(option: _Option) -> str:
    c = option.candidate
    return f"{c.code} ({c.city}, {option.km:.0f} km)"


def _record(
    order: SourcingOrder,
    notes: Mapping[WarehouseId, CandidateNote],
    chosen: set[WarehouseId],
    plan: _Plan | None,
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    summary: str,
    unit_kg: Mapping[ProductId, float],
) -> SourcingRecord:
    listed = []
    for wid, note in notes.items():
        if wid in chosen:
            note = CandidateNote(
                note.code, note.city, note.kind, note.distance_km, note.excluded,
                note.covers, note.cost, note.days, note.score, note.parts, chosen=True,
            )  # fmt: skip
        listed.append(note)
    listed.sort(key=lambda n: (n.excluded is not None, n.score if n.score is not None else inf))
    shipments: list[ShipmentNote] = []
    total = Decimal(0)
    days: int | None = None
    on_time: bool | None = None
    if plan is not None:
        for option, load in plan.shipments:
            kg = _weight(load, unit_kg)
            cost = option.tariff.cost(kg, option.km)
            total += cost
            shipments.append(
                ShipmentNote(
                    option.candidate.code,
                    cost,
                    option.tariff.days,
                    round(kg, 3),
                    sum(load.values()),
                    option.tariff.describe(),
                )
            )
        days = plan.days
        on_time = plan.late == 0 if order.promised_on is not None else None
    return SourcingRecord(
        rules.version,
        tariffs.version,
        today,
        order.order_type,
        order.express,
        order.promised_on,
        tuple(listed),
        tuple(shipments),
        total,
        days,
        on_time,
        summary,
    )


def _shortfall(
    order: SourcingOrder,
    demand: Load,
    network: Load,
    short: set[ProductId],
    notes: dict[WarehouseId, CandidateNote],
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    why: str,
) -> Shortfall:
    if why == "network":
        lines = tuple(
            Short(n.line_no, n.sku, n.quantity, network.get(n.product_id, 0))
            for n in order.needs
            if n.product_id in short
        )
        summary = "The warehouses allowed to ship this order lack units of " + ", ".join(
            f"{s.sku} (need {s.requested}, have {s.available})" for s in lines
        )
    else:
        best_cover = max(
            (n for n in notes.values() if n.excluded is None),
            key=lambda n: (n.covers, -(n.score or 0.0)),
            default=None,
        )
        lines = tuple(Short(n.line_no, n.sku, n.quantity, network.get(n.product_id, 0))
                      for n in order.needs)  # fmt: skip
        if why == "split":
            summary = "No single warehouse has every line and the rules do not allow a split"
        else:
            summary = (
                f"No {rules.max_shipments} warehouses together have every line, "
                f"and the rules allow at most {rules.max_shipments} shipments"
            )
        if best_cover is not None:
            summary += f" (closest to covering it: {best_cover.code})"
    record = _record(order, notes, set(), None, tariffs, rules, today, summary, {})
    _ = demand
    return Shortfall(lines, record)
