"""What a unit of stock is worth to the orders still to come: its opportunity cost.

An order sourced on its own takes the cheapest units for itself, even when they are the
only cheap units for orders that will come later: the last units of a hub far from its
next delivery are dear to take, even if shipping them today costs least. The price of a
unit here is the shadow price of the stock in a transportation problem per product: the
expected demand of the horizon (per destination region) served from the stock there is
(and what will arrive before it is needed) at the least shipping cost, a unit left unserved
costing ``shortage``. When one unit less at a warehouse would make the rest of the horizon
dearer by 80 ₽, taking that unit now costs 80 ₽ on top of its shipping; stock that is
plentiful, or replenished before it runs short, costs nothing.

The engine adds these prices to a plan's score (``decide(..., stock_values=...)``) and the
record shows them as the ``needed_later`` part, in roubles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.tariffs import TariffTable

Lane = Callable[[WarehouseId, str, ProductId], float | None]
"""The cost of shipping one unit of a product from a warehouse to a region (None: no lane)."""


@dataclass(frozen=True, slots=True)
class Horizon:
    """What the prices are computed against."""

    demand: Mapping[ProductId, Mapping[str, float]]  # expected units per destination region
    stock: Mapping[tuple[WarehouseId, ProductId], int]  # free now, plus what arrives in time


def stock_values(
    horizon: Horizon,
    lane: Lane,
    *,
    shortage: Callable[[ProductId, float], float] | None = None,
    products: Iterable[ProductId] | None = None,
) -> dict[tuple[WarehouseId, ProductId], float]:
    """The price of one unit of each product at each warehouse holding it (only those above
    a kopeck are returned). ``shortage(product, dearest_lane)`` is what a unit of demand
    left unserved costs (default: twice the dearest lane, so that serving from far away is
    always better than not serving)."""
    by_product: dict[ProductId, list[tuple[WarehouseId, int]]] = {}
    for (w, p), q in horizon.stock.items():
        if q > 0:
            by_product.setdefault(p, []).append((w, q))
    wanted = set(horizon.demand) if products is None else set(products) & set(horizon.demand)
    solver = _Solver()
    out: dict[tuple[WarehouseId, ProductId], float] = {}
    for p in sorted(wanted):
        sites = by_product.get(p)
        regions = {r: d for r, d in horizon.demand[p].items() if d > 1e-9}
        if not sites or not regions:
            continue
        for w, value in _product_values(p, sites, regions, lane, shortage, solver).items():
            if value >= 0.005:
                out[(w, p)] = value
    return out


def _product_values(
    p: ProductId,
    sites: list[tuple[WarehouseId, int]],
    regions: Mapping[str, float],
    lane: Lane,
    shortage: Callable[[ProductId, float], float] | None,
    solver: _Solver,
) -> dict[WarehouseId, float]:
    names = list(regions)
    costs = np.full((len(sites), len(names)), np.nan)
    for i, (w, _) in enumerate(sites):
        for j, r in enumerate(names):
            c = lane(w, r, p)
            if c is not None:
                costs[i, j] = c
    if np.all(np.isnan(costs)):
        return {}
    dearest = float(np.nanmax(costs))
    penalty = shortage(p, dearest) if shortage is not None else 2.0 * dearest + 1.0
    demand = np.array([regions[r] for r in names])
    supply = np.array([float(q) for _, q in sites])
    # nothing is scarce when every region's cheapest site can serve all who want it
    cheapest = np.nanargmin(np.where(np.isnan(costs), np.inf, costs), axis=0)
    load = np.bincount(cheapest, weights=demand, minlength=len(sites))
    if np.all(load <= supply + 1e-9):
        return {}
    duals = solver.capacity_duals(costs, supply, demand, penalty)
    return {w: float(v) for (w, _), v in zip(sites, duals, strict=True) if v > 0}


class _Solver:
    """One HiGHS instance, reused for every product's small linear program."""

    def __init__(self) -> None:
        import highspy

        from potok.domain.sourcing.optimiser import _new_highs

        self._hs = highspy
        self._h = _new_highs(highspy)
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("threads", 1)  # as the optimiser: HiGHS's scheduler is global

    def capacity_duals(
        self, costs: np.ndarray, supply: np.ndarray, demand: np.ndarray, penalty: float
    ) -> np.ndarray:
        """min sum c x + penalty u  s.t.  sum_w x[w,r] + u[r] = d[r],  sum_r x[w,r] <= s[w];
        the price of a unit at w is minus the dual of its supply row."""
        hs = self._hs
        n_sites, n_regions = costs.shape
        cols_cost: list[float] = []
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for i in range(n_sites):
            for j in range(n_regions):
                c = costs[i, j]
                if np.isnan(c):
                    continue
                starts.append(len(index))
                cols_cost.append(float(c))
                index.extend((j, n_regions + i))  # its region row, its site row
                value.extend((1.0, 1.0))
        for j in range(n_regions):
            starts.append(len(index))
            cols_cost.append(penalty)
            index.append(j)
            value.append(1.0)
        lp = hs.HighsLp()
        n = len(cols_cost)
        lp.num_col_ = n
        lp.num_row_ = n_regions + n_sites
        lp.col_cost_ = np.array(cols_cost)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.full(n, hs.kHighsInf)
        lp.row_lower_ = np.concatenate([demand, np.full(n_sites, -hs.kHighsInf)])
        lp.row_upper_ = np.concatenate([demand, supply])
        lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array([*starts, len(index)], dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value)
        self._h.clearModel()
        self._h.passModel(lp)
        self._h.run()
        if self._h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            return np.zeros(n_sites)
        duals = np.asarray(self._h.getSolution().row_dual)[n_regions:]
        out: np.ndarray = np.maximum(0.0, -duals)
        return out


# ---------------------------------------------------------------------- from the shop's data

PARCEL_UNITS = 1.5
"""Units in an average parcel: the share of a parcel's fixed fee one unit carries."""


@dataclass(frozen=True, slots=True)
class Site:
    """A warehouse or store that holds stock, where it is."""

    warehouse_id: WarehouseId
    code: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class RegionDemand:
    """Units of a product ordered to one region over the history, and where they went."""

    product_id: ProductId
    region: str  # "" when the orders named none
    units: int
    latitude: float  # the mean delivery point
    longitude: float
    unit_weight_kg: float


@dataclass(frozen=True, slots=True)
class PricingInputs:
    sites: tuple[Site, ...]
    demand: tuple[RegionDemand, ...]
    free: Mapping[tuple[WarehouseId, ProductId], int]  # on hand, less reserved and set aside
    incoming: Mapping[tuple[WarehouseId, ProductId], int]  # arriving within the horizon


@dataclass(frozen=True, slots=True)
class StockPricingRun:
    """One run of the pricing job: when, over what, what came of it."""

    id: int | None
    computed_at: datetime
    history_days: int
    horizon_days: int
    products: int  # products with demand in the history
    priced: int  # positions priced above zero
    seconds: float
    actor: str


def price_network(
    inputs: PricingInputs, tariffs: TariffTable, *, history_days: int, horizon_days: int
) -> dict[tuple[WarehouseId, ProductId], Decimal]:
    """The price of a unit at each position: the history's daily demand per product and
    region, times the horizon, against the free stock and what arrives within it, each
    unit shipped by the tariff table at its share of a parcel."""
    demand: dict[ProductId, dict[str, float]] = {}
    weight: dict[ProductId, float] = {}
    where: dict[str, list[float]] = {}  # region: units, sum of latitudes, sum of longitudes
    for d in inputs.demand:
        demand.setdefault(d.product_id, {})[d.region] = d.units / history_days * horizon_days
        weight[d.product_id] = d.unit_weight_kg
        acc = where.setdefault(d.region, [0.0, 0.0, 0.0])
        acc[0] += d.units
        acc[1] += d.units * d.latitude
        acc[2] += d.units * d.longitude
    point = {r: (a[1] / a[0], a[2] / a[0]) for r, a in where.items() if a[0] > 0}
    stock = dict(inputs.free)
    for key, q in inputs.incoming.items():
        stock[key] = stock.get(key, 0) + q
    sites = {s.warehouse_id: s for s in inputs.sites}
    lanes: dict[tuple[WarehouseId, str], tuple[float, float] | None] = {}

    def lane(w: WarehouseId, region: str, p: ProductId) -> float | None:
        key = (w, region)
        if key not in lanes:
            site = sites.get(w)
            if site is None or region not in point:
                lanes[key] = None
            else:
                km = distance_km((site.latitude, site.longitude), point[region])
                t = tariffs.find_or_estimate(site.code, km=km, region=region or None)
                lanes[key] = (
                    None
                    if t is None
                    else (
                        t.cost_estimate(0.0, km) / PARCEL_UNITS,
                        t.cost_estimate(1.0, 0.0) - t.cost_estimate(0.0, 0.0),
                    )
                )
        found = lanes[key]
        if found is None:
            return None
        return found[0] + found[1] * weight.get(p, 1.0)

    values = stock_values(Horizon(demand, stock), lane)
    return {k: Decimal(f"{v:.2f}") for k, v in values.items() if round(v, 2) > 0}
