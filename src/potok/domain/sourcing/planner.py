"""The first sourcing rule: the nearest warehouse that can ship the whole order, else the
fewest warehouses that together can, nearest first; every decision says why.

A warehouse may hold several positions of one product (one per lot). They are taken in
pick order - FEFO, earliest expiry first, or FIFO, earliest receipt first - and a line
is split across lots when one lot does not cover it (one allocation per position).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import combinations
from math import comb, inf
from typing import TYPE_CHECKING

from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.domain.quick_init import quick_init
from potok.domain.sourcing.geo import distance_km

if TYPE_CHECKING:
    from potok.domain.sourcing.explanation import SourcingRecord

EXACT_SEARCH_BUDGET = 20_000
"""Subsets examined before the fewest-warehouses search falls back to a greedy cover."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A location that may ship the order: active and serving the order's channel."""

    warehouse_id: WarehouseId
    code: str
    city: str
    priority: int
    latitude: float
    longitude: float
    kind: str = "warehouse"  # warehouse, store or dark_store: routing rules filter by it
    region: str | None = None  # the region it stands in, for region tariffs and exclusions


@quick_init
@dataclass(frozen=True, slots=True)
class Position:
    """Sellable stock of one product (of one lot, when kept by lot) at one candidate, as
    read for this decision."""

    stock_id: StockId
    warehouse_id: WarehouseId
    product_id: ProductId
    available: int
    lot_id: LotId | None = None
    lot: str | None = None
    expires_on: date | None = None
    received_at: datetime | None = None
    removal: str = "fefo"  # the removal strategy in force: fefo or fifo
    serialised: bool = False  # units carry serial numbers, assigned when reserved

    def take(self, line_no: int, quantity: int) -> Allocation:
        """``quantity`` units of this position for an order line."""
        return Allocation(
            line_no,
            self.stock_id,
            self.warehouse_id,
            self.product_id,
            quantity,
            self.lot_id,
            self.lot,
            self.serialised,
        )

    def pick_key(self) -> tuple[date, datetime, int]:
        """Where this position stands in pick order among the product's positions at a site."""
        received = self.received_at or datetime.max
        if self.removal == "fifo":
            return (date.min, received.replace(tzinfo=None), self.stock_id)
        return (self.expires_on or date.max, received.replace(tzinfo=None), self.stock_id)


@quick_init
@dataclass(frozen=True, slots=True)
class Need:
    line_no: int
    product_id: ProductId
    sku: str
    quantity: int


@quick_init
@dataclass(frozen=True, slots=True)
class Allocation:
    line_no: int
    stock_id: StockId
    warehouse_id: WarehouseId
    product_id: ProductId
    quantity: int
    lot_id: LotId | None = None
    lot: str | None = None
    serialised: bool = False


@dataclass(frozen=True, slots=True)
class TransferLeg:
    """Units of one product that travel by transfer from a source to the hub that ships the
    order; ``allocations`` are the source positions they are reserved at until they leave."""

    from_warehouse_id: WarehouseId
    from_code: str
    to_warehouse_id: WarehouseId
    to_code: str
    product_id: ProductId
    sku: str
    quantity: int
    allocations: tuple[Allocation, ...]
    cost: Decimal = Decimal("0.00")  # this product's share of the transfer's price, by weight
    days: int = 0


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """Where each line's units come from, and the reason in an operator's words."""

    allocations: tuple[Allocation, ...]
    warehouses: tuple[str, ...]
    explanation: str
    record: SourcingRecord | None = None  # the engine's full record; plan() leaves it empty
    transfers: tuple[TransferLeg, ...] = ()  # units to bring to the shipping hub first

    def quantities_by_stock(self) -> dict[StockId, int]:
        totals: dict[StockId, int] = {}
        for a in self.allocations:
            totals[a.stock_id] = totals.get(a.stock_id, 0) + a.quantity
        return totals


@dataclass(frozen=True, slots=True)
class Short:
    line_no: int
    sku: str
    requested: int
    available: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    """The network as a whole lacks units of some lines."""

    lines: tuple[Short, ...]
    record: SourcingRecord | None = None  # the engine's full record; plan() leaves it empty


@dataclass(slots=True)
class _Site:
    candidate: Candidate
    distance: float
    stock: dict[ProductId, list[Position]]  # each product's positions in pick order

    def has(self, product: ProductId) -> int:
        """Sellable units of a product here, over all its lots."""
        return sum(p.available for p in self.stock.get(product, ()))

    def covers(self, demand: dict[ProductId, int]) -> bool:
        return all(self.has(product) >= qty for product, qty in demand.items())


def plan(
    needs: Sequence[Need],
    candidates: Iterable[Candidate],
    positions: Iterable[Position],
    destination: tuple[float, float] | None,
) -> Decision | Shortfall:
    """Choose warehouses for every need, or say which lines the network cannot cover."""
    demand: dict[ProductId, int] = {}
    for need in needs:
        demand[need.product_id] = demand.get(need.product_id, 0) + need.quantity

    sites = _rank_sites(candidates, positions, destination, demand)
    shortfall = _network_shortfall(needs, demand, sites)
    if shortfall is not None:
        return shortfall

    for index, site in enumerate(sites):
        if site.covers(demand):
            return _allocate(needs, [site], _single_reason(site, sites[:index], destination))

    chosen = _fewest_sites(sites, demand)
    return _allocate(needs, chosen, _split_reason(chosen, destination))


def _rank_sites(
    candidates: Iterable[Candidate],
    positions: Iterable[Position],
    destination: tuple[float, float] | None,
    demand: dict[ProductId, int],
) -> list[_Site]:
    by_id = {c.warehouse_id: c for c in candidates}
    sites: dict[WarehouseId, _Site] = {}
    for position in positions:
        candidate = by_id.get(position.warehouse_id)
        if candidate is None or position.available <= 0 or position.product_id not in demand:
            continue
        site = sites.get(candidate.warehouse_id)
        if site is None:
            distance = (
                distance_km(destination, (candidate.latitude, candidate.longitude))
                if destination is not None
                else inf
            )
            site = sites[candidate.warehouse_id] = _Site(candidate, distance, {})
        site.stock.setdefault(position.product_id, []).append(position)
    for site in sites.values():
        for held in site.stock.values():
            held.sort(key=Position.pick_key)
    return sorted(
        sites.values(), key=lambda s: (s.distance, -s.candidate.priority, s.candidate.code)
    )


def _network_shortfall(
    needs: Sequence[Need], demand: dict[ProductId, int], sites: list[_Site]
) -> Shortfall | None:
    network: dict[ProductId, int] = {}
    for site in sites:
        for product in site.stock:
            network[product] = network.get(product, 0) + site.has(product)
    short_products = {p for p, qty in demand.items() if network.get(p, 0) < qty}
    if not short_products:
        return None
    return Shortfall(
        tuple(
            Short(n.line_no, n.sku, n.quantity, network.get(n.product_id, 0))
            for n in needs
            if n.product_id in short_products
        )
    )


def _fewest_sites(sites: list[_Site], demand: dict[ProductId, int]) -> list[_Site]:
    """The smallest set of sites that covers the demand, least total distance among equals."""
    pool = [s for s in sites if any(p in s.stock for p in demand)]
    examined = 0
    for size in range(2, len(pool) + 1):
        if examined + comb(len(pool), size) > EXACT_SEARCH_BUDGET:
            break
        best: tuple[float, tuple[int, ...]] | None = None
        for combo in combinations(range(len(pool)), size):
            examined += 1
            if _covers([pool[i] for i in combo], demand):
                cost = sum(pool[i].distance for i in combo)
                if best is None or (cost, combo) < best:
                    best = (cost, combo)
        if best is not None:
            return [pool[i] for i in best[1]]
    return _greedy_cover(pool, demand)


def _covers(group: Sequence[_Site], demand: dict[ProductId, int]) -> bool:
    return all(sum(site.has(product) for site in group) >= qty for product, qty in demand.items())


def _greedy_cover(pool: list[_Site], demand: dict[ProductId, int]) -> list[_Site]:
    remaining = dict(demand)
    chosen: list[_Site] = []
    while any(qty > 0 for qty in remaining.values()):

        def gain(site: _Site) -> int:
            return sum(min(qty, site.has(p)) for p, qty in remaining.items() if p in site.stock)

        best = max((s for s in pool if s not in chosen), key=gain)  # ties: the nearer one
        chosen.append(best)
        for product, qty in list(remaining.items()):
            remaining[product] = max(0, qty - best.has(product))
    return sorted(chosen, key=lambda s: (s.distance, -s.candidate.priority, s.candidate.code))


def _allocate(needs: Sequence[Need], chosen: list[_Site], reason: str) -> Decision:
    left = {
        position.stock_id: position.available
        for site in chosen
        for held in site.stock.values()
        for position in held
    }

    def have(site: _Site, product: ProductId) -> int:
        return sum(left[p.stock_id] for p in site.stock.get(product, ()))

    allocations: list[Allocation] = []
    picked: list[str] = []  # lots taken, for the explanation
    # the biggest lines choose first, so that smaller ones fill the gaps and stay whole
    for need in sorted(needs, key=lambda n: (-n.quantity, n.line_no)):
        whole = next((s for s in chosen if have(s, need.product_id) >= need.quantity), None)
        order = [whole] if whole is not None else chosen
        remaining = need.quantity
        for site in order:
            for position in site.stock.get(need.product_id, ()):  # in pick order
                take = min(remaining, left[position.stock_id])
                if take <= 0:
                    continue
                left[position.stock_id] -= take
                remaining -= take
                if position.lot is not None:
                    picked.append(_lot_note(need.sku, position, take))
                allocations.append(position.take(need.line_no, take))
                if remaining == 0:
                    break
            if remaining == 0:
                break
    allocations.sort(key=lambda a: a.line_no)
    if picked:
        reason += "; lots: " + ", ".join(picked)
    return Decision(tuple(allocations), tuple(s.candidate.code for s in chosen), reason)


def _lot_note(sku: str, position: Position, quantity: int) -> str:
    if position.removal == "fifo":
        why = "received first"
    elif position.expires_on is not None:
        why = f"expires {position.expires_on.isoformat()}"
    else:
        why = "no expiry date"
    return f"{sku} {position.lot} ×{quantity} ({why})"


def _where(site: _Site) -> str:
    if site.distance == inf:
        return f"{site.candidate.code} ({site.candidate.city})"
    return f"{site.candidate.code} ({site.candidate.city}, {site.distance:.0f} km)"


def _single_reason(
    site: _Site, nearer: list[_Site], destination: tuple[float, float] | None
) -> str:
    if destination is None:
        reason = (
            f"{_where(site)} ships the whole order; the order has no coordinates, "
            "so warehouses were ranked by priority"
        )
    else:
        reason = f"{_where(site)} is the nearest warehouse that has every line"
    if nearer:
        reason += "; nearer but short: " + ", ".join(_where(s) for s in nearer[:3])
        if len(nearer) > 3:
            reason += f" and {len(nearer) - 3} more"
    return reason


def _split_reason(chosen: list[_Site], destination: tuple[float, float] | None) -> str:
    places = ", ".join(_where(s) for s in chosen)
    reason = (
        f"No single warehouse has every line; split across {len(chosen)} that together do: {places}"
    )
    if destination is None:
        reason += " (the order has no coordinates, so warehouses were ranked by priority)"
    return reason
