"""The sourcing engine: filter the candidates by the routing rules, price each with the
shipping tariffs, score every option in roubles, prefer one shipment, split only as the
rules allow, and write down why.

An option is a set of shipments (one per warehouse) that together carry the order. Its
score adds, per shipment, the shipping cost, the distance, the units taken from the last
units a store keeps and the warehouse priority bonus, and, for the order as a whole, the
days until the last shipment arrives and the days it would be late (see ``rules``).
Positions (lots) are taken in pick order, as ``planner.plan`` takes them.

Consolidation: when a split is on the table (or no single warehouse has every line), the
warehouses that hold most of the order are tried as a hub: the units they lack come by
transfer from other candidates (priced by the source's tariff to the hub's location and
region, plus the ``transfer`` weight per transfer), then one shipment leaves the hub. Its
days are the slowest transfer, the hub's handling days and the hub's own transit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from math import asin, cos, inf, radians, sin, sqrt

from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.quick_init import quick_init
from potok.domain.sourcing import wording
from potok.domain.sourcing.explanation import (
    CandidateNote,
    ShipmentNote,
    SourcingRecord,
    TransferNote,
)
from potok.domain.sourcing.geo import EARTH_RADIUS_KM
from potok.domain.sourcing.planner import (
    Allocation,
    Candidate,
    Decision,
    Need,
    Position,
    Short,
    Shortfall,
    TransferLeg,
)
from potok.domain.sourcing.rules import RoutingRules, SplitPolicy
from potok.domain.sourcing.tariffs import Tariff, TariffTable
from potok.domain.sourcing.why_not import ChosenPlan, coverage, lacking, why_not

Load = dict[ProductId, int]
ON_THE_SPOT = Tariff("*", Decimal(0), Decimal(0), Decimal(0), 0, label="handed over on the spot")
"""What handing over a pickup point's own stock costs: nothing, and no days in transit."""


@quick_init
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
    pickup_at: str | None = None  # the pickup point's code: its own stock needs no shipment


@dataclass(slots=True)
class _Option:
    """A candidate that passed the filters and has a tariff to the destination."""

    candidate: Candidate
    km: float
    tariff: Tariff
    stock: dict[ProductId, list[Position]]
    have: dict[ProductId, int]
    reserve: int  # units of each product it keeps for local demand
    value: dict[ProductId, float] | None = None  # what a unit here is worth to later orders


@dataclass(slots=True)
class _Leg:
    """Units that come to a hub by transfer from one source."""

    source: _Option
    load: Load
    km: float
    tariff: Tariff
    cost: float


@dataclass(slots=True)
class _Plan:
    shipments: list[tuple[_Option, Load]]
    score: float
    parts: tuple[float, float, float, float, float, float]  # see explanation.PARTS
    costs: list[float]  # per shipment, then per transfer
    days: int
    late: int
    legs: list[_Leg] = field(default_factory=list)  # a consolidation's transfers to the hub
    picks: list[tuple[_Option, Load]] | None = None  # where the units are now, if not shipments


HUBS = 3
"""Warehouses (those holding most of the order) tried as the hub of a consolidation."""


def _worth(option: _Option, load: Load) -> float:
    """What the units of a load are worth to the orders still to come (their stock's
    opportunity cost), in roubles."""
    value = option.value
    if not value:
        return 0.0
    worth = 0.0
    for p, q in load.items():
        worth += q * value.get(p, 0.0)
    return worth


def _dips(option: _Option, load: Load) -> int:
    """Units a load takes from the last units the location keeps for local demand."""
    if not option.reserve:
        return 0
    last = 0
    have = option.have
    for p, q in load.items():
        dip = q - max(0, have[p] - option.reserve)
        if dip > 0:
            last += min(dip, q)
    return last


@dataclass(slots=True)
class _Context:
    """What every option of one order is scored against."""

    demand: Load
    unit_kg: dict[ProductId, float]
    promise_days: int | None  # days from today to the promised date
    per_day: float
    rules: RoutingRules

    def score(self, shipments: list[tuple[_Option, Load]]) -> _Plan:
        w = self.rules.weights
        unit_kg = self.unit_kg
        cost = distance = last = priority = later = 0.0
        costs: list[float] = []
        days = 0
        for option, load in shipments:
            if option.value:
                later += _worth(option, load)
            kg = 0.0
            for p, q in load.items():
                kg += q * unit_kg[p]
            shipped = option.tariff.cost_estimate(kg, option.km)
            costs.append(shipped)
            cost += shipped
            distance += option.km
            if option.reserve:
                have = option.have
                for p, q in load.items():
                    dip = q - max(0, have[p] - option.reserve)
                    if dip > 0:
                        last += min(dip, q)
            priority += option.candidate.priority
            if option.tariff.days > days:
                days = option.tariff.days
        late = 0
        if self.promise_days is not None and days > self.promise_days:
            late = days - self.promise_days
        parts = (
            w.cost * cost,
            w.distance * distance,
            self.per_day * days + w.late_day * late,
            w.last_unit * last,
            -w.priority * priority,
            w.cost * later,
        )
        return _Plan(shipments, sum(parts), parts, costs, days, late)

    def score_hub(self, hub: _Option, take: Load, legs: list[_Leg]) -> _Plan:
        """One shipment of the whole order from the hub, after transfers bring what it lacks."""
        w = self.rules.weights
        kg = 0.0
        for p, q in self.demand.items():
            kg += q * self.unit_kg[p]
        shipped = hub.tariff.cost_estimate(kg, hub.km)
        costs = [shipped]
        cost, distance = shipped, hub.km
        last = _dips(hub, take)
        later = _worth(hub, take)
        priority = float(hub.candidate.priority)
        transit = 0
        for leg in legs:
            costs.append(leg.cost)
            cost += leg.cost
            distance += leg.km
            last += _dips(leg.source, leg.load)
            later += _worth(leg.source, leg.load)
            priority += leg.source.candidate.priority
            transit = max(transit, leg.tariff.days)
        days = transit + self.rules.transfer_handling_days + hub.tariff.days
        late = 0
        if self.promise_days is not None and days > self.promise_days:
            late = days - self.promise_days
        parts = (
            w.cost * cost + w.transfer * len(legs),
            w.distance * distance,
            self.per_day * days + w.late_day * late,
            w.last_unit * last,
            -w.priority * priority,
            w.cost * later,
        )
        picks = [(hub, take), *((leg.source, leg.load) for leg in legs)]
        shipments: list[tuple[_Option, Load]] = [(hub, dict(self.demand))]
        return _Plan(shipments, sum(parts), parts, costs, days, late, legs, picks)


def decide(
    order: SourcingOrder,
    candidates: Iterable[Candidate],
    positions: Iterable[Position],
    *,
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    shipping: Callable[[Candidate, float], Tariff | None] | None = None,
    stock_values: Mapping[tuple[WarehouseId, ProductId], float] | None = None,
) -> Decision | Shortfall:
    """Source one order by the rules, or say which lines cannot be covered, with the record.
    ``shipping`` prices the parcel from a candidate (km away) when the rules choose a
    carrier; without it the tariff table does. ``stock_values`` prices a unit of a product
    at a warehouse for the orders still to come (see ``stock_value``): taking it now costs
    that much on top of shipping, so cheap-now is weighed against needed-later."""
    demand: Load = {}
    for need in order.needs:
        demand[need.product_id] = demand.get(need.product_id, 0) + need.quantity
    weights = order.unit_weight_kg
    unit_kg = {p: weights.get(p, rules.default_unit_weight_kg) for p in demand}
    held: dict[WarehouseId, dict[ProductId, list[Position]]] = {}
    for position in positions:
        if position.available > 0 and position.product_id in demand:
            site = held.get(position.warehouse_id)
            if site is None:
                site = held[position.warehouse_id] = {}
            same = site.get(position.product_id)
            if same is None:
                site[position.product_id] = [position]
            else:
                same.append(position)
    promise = (order.promised_on - today).days if order.promised_on is not None else None
    per_day = rules.weights.express_day if order.express else rules.weights.day
    ctx = _Context(demand, unit_kg, promise, per_day, rules)

    notes: dict[WarehouseId, CandidateNote] = {}
    options = _filter(order, candidates, held, tariffs, rules, notes, shipping)
    if stock_values:
        for option in options:
            wid = option.candidate.warehouse_id
            priced = {p: v for p in demand if (v := stock_values.get((wid, p), 0.0)) > 0}
            option.value = priced or None
    singles: list[tuple[float, str, _Plan]] = []
    network: Load = {}
    located = order.destination is not None
    skus = {n.product_id: n.sku for n in order.needs}
    lines = len(order.needs)
    lines_of: dict[ProductId, int] = {}
    for need in order.needs:
        lines_of[need.product_id] = lines_of.get(need.product_id, 0) + 1
    lacks: dict[WarehouseId, str] = {}
    for option in options:
        have = option.have
        load: Load = {}
        covers = True
        short_here: list[tuple[str, int, int]] = []
        for p, q in demand.items():
            h = have.get(p, 0)
            network[p] = network.get(p, 0) + h
            if h >= q:
                load[p] = q
            else:
                covers = False
                short_here.append((skus[p], h, q))
                if h > 0:
                    load[p] = h
        covered = lines
        if short_here:
            lacks[option.candidate.warehouse_id] = lacking(short_here)
            covered -= sum(lines_of[p] for p, q in demand.items() if have.get(p, 0) < q)
        plan = ctx.score([(option, load)])
        if covers:
            singles.append((plan.score, option.candidate.code, plan))
        c = option.candidate
        notes[c.warehouse_id] = CandidateNote(
            c.code,
            c.city,
            c.kind,
            option.km if located else None,
            None,
            covers,
            plan.costs[0],
            option.tariff.days,
            plan.score,
            plan.parts,
            estimate=option.tariff.estimate,
            coverage=coverage(covered, lines),
        )

    short = {p for p, q in demand.items() if network.get(p, 0) < q}
    facts = _Facts(held, lacks)
    if short:
        return _shortfall(order, network, short, notes, tariffs, rules, today, "network", facts)

    singles.sort(key=lambda t: (t[0], t[1]))
    best: _Plan | None = singles[0][2] if singles else None
    limit = rules.shipments_allowed()
    split_tried = rules.split is SplitPolicy.WHEN_CHEAPER or best is None
    if limit > 1 and split_tried:
        split = _greedy_split(options, ctx, limit)
        if split is not None and (best is None or split.score < best.score - 0.005):
            best = split
    other: _Plan | None = None  # the best plan of the other kind, split or consolidation
    if rules.transfers and (best is None or len(best.shipments) > 1):
        hubbed = _consolidate(options, ctx, tariffs, best.score if best is not None else inf)
        if hubbed is not None and (best is None or hubbed.score < best.score - 0.005):
            best, other = hubbed, best
        else:
            other = hubbed
    if best is None:
        why = "split" if limit == 1 else "max_shipments"
        return _shortfall(order, network, set(), notes, tariffs, rules, today, why, facts)

    runner_up = next((p for _, _, p in singles if p is not best), None)
    alternative = wording.alternative(other, skus) if other is not None else ""
    if best.legs:
        summary = wording.hub_summary(best, other, runner_up, order, rules, skus)
        summary += wording.not_considered(notes, order)
    else:
        summary = wording.summary(
            best,
            runner_up,
            order,
            rules,
            notes,
            alternative,
            singles=[p for _, _, p in singles],
            partial=len(singles) < len(options),
        )
    summary += wording.estimated(best) + wording.carried(best)
    if any(option.value for option in options):
        summary += wording.opportunity(best)
    allocations = _allocate(order.needs, best.picks or best.shipments)
    chosen_ids = {o.candidate.warehouse_id for o, _ in best.shipments}
    chosen = ChosenPlan(
        tuple(o.candidate.code for o, _ in best.shipments),
        sum(best.costs),
        best.days,
        best.late,
        best.score,
        best.parts,
        order.promised_on,
        promise,
        order.express,
    )
    facts = _Facts(held, lacks, chosen, wording.sent_by_transfer(best, skus))
    record = _record(order, notes, chosen_ids, best, tariffs, rules, today, summary, unit_kg, facts)
    if alternative:
        record = replace(record, alternative=alternative)
    codes = tuple(o.candidate.code for o, _ in best.shipments)
    legs = _transfer_legs(best, allocations, skus, unit_kg) if best.legs else ()
    return Decision(allocations, codes, summary, record, legs)


@lru_cache(maxsize=4096)
def _radians(latitude: float, longitude: float) -> tuple[float, float, float]:
    lat = radians(latitude)
    return lat, radians(longitude), cos(lat)


def _filter(
    order: SourcingOrder,
    candidates: Iterable[Candidate],
    held: dict[WarehouseId, dict[ProductId, list[Position]]],
    tariffs: TariffTable,
    rules: RoutingRules,
    notes: dict[WarehouseId, CandidateNote],
    shipping: Callable[[Candidate, float], Tariff | None] | None = None,
) -> list[_Option]:
    options: list[_Option] = []
    destination = order.destination
    to = _radians(*destination) if destination is not None else None
    limit = rules.max_distance_km
    excluded_regions = rules.excluded_regions
    kinds = rules.kinds_by_order_type.get(order.order_type)
    if to is not None:
        lat1, lon1, cos1 = to
    for c in candidates:
        km = 0.0
        if to is not None:
            lat2, lon2, cos2 = _radians(c.latitude, c.longitude)
            h = sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * sin((lon2 - lon1) / 2) ** 2
            km = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
        reason: str | None = None
        tariff: Tariff | None = None
        stock = held.get(c.warehouse_id)
        if kinds is not None and c.kind not in kinds:
            reason = f"a {c.kind} does not serve {order.order_type} orders"
        elif excluded_regions and c.region in excluded_regions:
            reason = f"region {c.region} is excluded by the rules"
        elif limit is not None and to is not None and km > limit:
            reason = f"{km:.0f} km away, beyond the {limit:g} km limit"
        elif not stock:
            reason = "holds none of the order's products"
        elif c.code == order.pickup_at:
            tariff = ON_THE_SPOT
        else:
            tariff = (
                shipping(c, km)
                if shipping is not None
                else tariffs.find_or_estimate(c.code, km=km, region=order.region)
            )
            if tariff is None:
                reason = "no shipping tariff reaches the destination"
        if reason is not None or tariff is None or stock is None:
            notes[c.warehouse_id] = CandidateNote(
                c.code, c.city, c.kind, km if to is not None else None, reason
            )
            continue
        have = {}
        for p, ps in stock.items():
            have[p] = ps[0].available if len(ps) == 1 else sum(x.available for x in ps)
        reserve = rules.keep_last_units if c.kind in rules.keep_last_units_kinds else 0
        options.append(_Option(c, km, tariff, stock, have, reserve))
    return options


def _weight(load: Mapping[ProductId, int], unit_kg: Mapping[ProductId, float]) -> float:
    return sum(q * unit_kg[p] for p, q in load.items())


def _greedy_split(options: list[_Option], ctx: _Context, limit: int) -> _Plan | None:
    """Cover the order shipment by shipment, each time with the option that costs least per
    kilogram (or unit) it carries; None when ``limit`` shipments cannot cover it."""
    remaining = dict(ctx.demand)
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
            carried = _weight(load, ctx.unit_kg) or float(sum(load.values()))
            plan = ctx.score([(option, load)])
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
    return ctx.score(shipments)


def _consolidate(
    options: list[_Option], ctx: _Context, tariffs: TariffTable, ceiling: float
) -> _Plan | None:
    """The best plan that ships the whole order from one hub after transfers, if any; hubs
    that cannot score below ``ceiling`` (the best plan so far) are not tried."""
    demand = ctx.demand
    rules = ctx.rules
    w = rules.weights

    def held(option: _Option) -> int:
        return sum(min(q, option.have.get(p, 0)) for p, q in demand.items())

    ranked = sorted(options, key=lambda o: (-held(o), o.km, o.candidate.code))
    kg = _weight(demand, ctx.unit_kg)
    bonus = w.priority * rules.max_shipments * max(0, *(o.candidate.priority for o in options))
    best: _Plan | None = None
    for hub in ranked[:HUBS]:
        days = rules.transfer_handling_days + hub.tariff.days
        floor = (
            w.cost * hub.tariff.cost_estimate(kg, hub.km)
            + w.transfer
            + ctx.per_day * days
            - w.priority * hub.candidate.priority
            - bonus
        )
        if floor >= min(ceiling, best.score if best is not None else inf) - 0.005:
            continue  # even free, instant transfers would not beat what is on the table
        plan = _hub_plan(hub, options, ctx, tariffs)
        if plan is not None and (best is None or plan.score < best.score - 0.005):
            best = plan
    return best


def _hub_plan(
    hub: _Option, options: list[_Option], ctx: _Context, tariffs: TariffTable
) -> _Plan | None:
    """Bring what the hub lacks from the sources that cost least per kilogram carried (at
    most ``max_shipments`` of them); None when they cannot, or the hub lacks nothing."""
    take: Load = {}
    missing: Load = {}
    for p, q in ctx.demand.items():
        kept = min(q, hub.have.get(p, 0))
        if kept > 0:
            take[p] = kept
        if q > kept:
            missing[p] = q - kept
    if not missing:
        return None
    w = ctx.rules.weights
    to = hub.candidate
    lat1, lon1, cos1 = _radians(to.latitude, to.longitude)
    legs: list[_Leg] = []
    used: set[WarehouseId] = {to.warehouse_id}
    routes: dict[WarehouseId, tuple[float, Tariff] | None] = {}
    while missing and len(legs) < ctx.rules.max_shipments:
        found: tuple[float, str, _Leg] | None = None
        for source in options:
            c = source.candidate
            if c.warehouse_id in used:
                continue
            have = source.have
            load = {p: min(q, have[p]) for p, q in missing.items() if have.get(p, 0) > 0}
            if not load or any(x.serialised for p in load for x in source.stock[p]):
                continue
            if c.warehouse_id in routes:
                route = routes[c.warehouse_id]
            else:
                lat2, lon2, cos2 = _radians(c.latitude, c.longitude)
                h = sin((lat2 - lat1) / 2) ** 2 + cos1 * cos2 * sin((lon2 - lon1) / 2) ** 2
                km = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
                found_tariff = tariffs.find_or_estimate(c.code, km=km, region=to.region)
                route = routes[c.warehouse_id] = (
                    None if found_tariff is None else (km, found_tariff)
                )
            if route is None:
                continue
            km, tariff = route
            kg = _weight(load, ctx.unit_kg)
            cost = tariff.cost_estimate(kg, km)
            score = (
                w.cost * cost
                + w.transfer
                + w.distance * km
                + ctx.per_day * tariff.days
                + w.last_unit * _dips(source, load)
            )
            carried = kg or float(sum(load.values()))
            if found is None or (score / carried, c.code) < found[:2]:
                found = (score / carried, c.code, _Leg(source, load, km, tariff, cost))
        if found is None:
            return None
        leg = found[2]
        legs.append(leg)
        used.add(leg.source.candidate.warehouse_id)
        for p, q in leg.load.items():
            missing[p] -= q
            if missing[p] == 0:
                del missing[p]
    if missing:
        return None
    return ctx.score_hub(hub, take, legs)


def _transfer_legs(
    plan: _Plan,
    allocations: tuple[Allocation, ...],
    skus: Mapping[ProductId, str],
    unit_kg: Mapping[ProductId, float],
) -> tuple[TransferLeg, ...]:
    """The units each source sends to the hub, product by product, with the source positions
    they are reserved at; a transfer's price is shared among its products by weight."""
    hub = plan.shipments[0][0].candidate
    legs: list[TransferLeg] = []
    for leg in plan.legs:
        source = leg.source.candidate
        total = leg.tariff.cost(_weight(leg.load, unit_kg), leg.km)
        kg = _weight(leg.load, unit_kg)
        for p in sorted(leg.load):
            mine = tuple(
                a
                for a in allocations
                if a.warehouse_id == source.warehouse_id and a.product_id == p
            )
            share = (leg.load[p] * unit_kg[p] / kg) if kg else 1 / len(leg.load)
            legs.append(
                TransferLeg(
                    source.warehouse_id,
                    source.code,
                    hub.warehouse_id,
                    hub.code,
                    p,
                    skus[p],
                    sum(a.quantity for a in mine),
                    mine,
                    (total * Decimal(repr(share))).quantize(Decimal("0.01")),
                    leg.tariff.days,
                )
            )
    return tuple(legs)


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
                allocations.append(position.take(need.line_no, take))
                if here == 0:
                    break
            if wanted == 0:
                break
    allocations.sort(key=lambda a: a.line_no)
    return tuple(allocations)


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
    facts: _Facts,
) -> SourcingRecord:
    listed = []
    for wid, note in notes.items():
        # made afresh rather than by NamedTuple's `_replace`, which costs three times more
        if wid in chosen:
            listed.append(CandidateNote(*note[:10], True, *note[11:]))  # chosen
            continue
        reason = facts.sent.get(note.code)
        if reason is None:
            reason = why_not(note, facts.plan, facts.lacks.get(wid, ""))
        listed.append(CandidateNote(*note[:13], reason))  # why_not
    listed.sort(key=lambda n: (n.excluded is not None, n.score if n.score is not None else inf))
    shipments: list[ShipmentNote] = []
    moved: list[TransferNote] = []
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
                    option.tariff.estimate,
                    option.tariff.carrier,
                    option.tariff.source,
                )
            )
        for leg in plan.legs:
            kg = _weight(leg.load, unit_kg)
            cost = leg.tariff.cost(kg, leg.km)
            total += cost
            moved.append(
                TransferNote(
                    leg.source.candidate.code,
                    plan.shipments[0][0].candidate.code,
                    cost,
                    leg.tariff.days,
                    round(kg, 3),
                    sum(leg.load.values()),
                    leg.tariff.describe(),
                    leg.tariff.estimate,
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
        tuple(moved),
    )


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the record needs to say why each candidate lost."""

    held: Mapping[WarehouseId, Mapping[ProductId, list[Position]]]
    lacks: Mapping[WarehouseId, str]  # "lacks SKU-2 (has 1 of 3)" per non-covering option
    plan: ChosenPlan | None = None
    sent: Mapping[str, str] = field(default_factory=dict)  # transfer sources: what they send


def _shortfall(
    order: SourcingOrder,
    network: Load,
    short: set[ProductId],
    notes: dict[WarehouseId, CandidateNote],
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    why: str,
    facts: _Facts,
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
        summary += wording.left_out_holding(order, short, notes, facts.held)
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
    record = _record(order, notes, set(), None, tariffs, rules, today, summary, {}, facts)
    return Shortfall(lines, record)
