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
from typing import TYPE_CHECKING, Any

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.tariffs import TariffTable

if TYPE_CHECKING:  # numpy is imported where prices are computed: every process that merely
    # reads these types (the API, each command, the demo) starts without it
    import numpy as np

    _Costs = tuple[list[tuple[WarehouseId, int]], np.ndarray, np.ndarray]

Lane = Callable[[WarehouseId, str, ProductId], float | None]
"""The cost of shipping one unit of a product from a warehouse to a region (None: no lane)."""


@dataclass(frozen=True, slots=True)
class Horizon:
    """What the prices are computed against."""

    demand: Mapping[ProductId, Mapping[str, float]]  # expected units per destination region
    stock: Mapping[tuple[WarehouseId, ProductId], int]  # free now, plus what arrives in time


@dataclass(frozen=True, slots=True)
class Lanes:
    """Lane costs as tables, for pricing every product in one pass: a unit of product ``p``
    from ``sites[i]`` to ``destinations[j]`` costs ``base[i, j] + per_kg[i, j] * kg[p]``
    (NaN: no lane). A destination is a region, or a region and the days its orders allow."""

    sites: tuple[WarehouseId, ...]
    destinations: tuple[str, ...]
    base: np.ndarray
    per_kg: np.ndarray
    kg: Mapping[ProductId, float]
    default_kg: float = 1.0


def stock_values(
    horizon: Horizon,
    lane: Lane | Lanes,
    *,
    shortage: Callable[[ProductId, float], float] | None = None,
    products: Iterable[ProductId] | None = None,
) -> dict[tuple[WarehouseId, ProductId], float]:
    """The price of one unit of each product at each warehouse holding it (only those above
    a kopeck are returned). ``shortage(product, dearest_lane)`` is what a unit of demand
    left unserved costs (default: twice the dearest lane, so that serving from far away is
    always better than not serving). Products held at one site are priced by hand (the
    marginal destination it cannot serve); the rest in one linear program, a block each."""
    import numpy as np

    by_product: dict[ProductId, list[tuple[WarehouseId, int]]] = {}
    for (w, p), q in horizon.stock.items():
        if q > 0:
            by_product.setdefault(p, []).append((w, q))
    wanted = set(horizon.demand) if products is None else set(products) & set(horizon.demand)
    costs_of = _table_costs(lane) if isinstance(lane, Lanes) else _callable_costs(lane)
    out: dict[tuple[WarehouseId, ProductId], float] = {}
    blocks: list[_Block] = []
    for p in sorted(wanted):
        sites = by_product.get(p)
        regions = {r: d for r, d in horizon.demand[p].items() if d > 1e-9}
        if not sites or not regions:
            continue
        found = costs_of(p, sites, regions)
        if found is None:
            continue
        sites, costs, demand = found
        dearest = float(np.nanmax(costs))
        penalty = shortage(p, dearest) if shortage is not None else 2.0 * dearest + 1.0
        supply = np.array([float(q) for _, q in sites])
        finite = ~np.isnan(costs)
        # nothing is scarce when every region's cheapest site can serve all who want it
        reachable = finite.any(axis=0)
        cheapest = np.argmin(np.where(finite, costs, np.inf), axis=0)
        load = np.bincount(cheapest[reachable], weights=demand[reachable], minlength=len(sites))
        if np.all(load <= supply + 1e-9):
            continue
        if len(sites) == 1:
            value = _single_site_value(costs[0], demand, supply[0], penalty)
            if value >= 0.005:
                out[(sites[0][0], p)] = value
            continue
        blocks.append(_Block(p, tuple(w for w, _ in sites), costs, finite, supply, demand, penalty))
    for (w, p), value in _solve_blocks(blocks).items():
        if value >= 0.005:
            out[(w, p)] = value
    return out


def _table_costs(
    lanes: Lanes,
) -> Callable[[ProductId, list[tuple[WarehouseId, int]], Mapping[str, float]], _Costs | None]:
    import numpy as np

    site_at = {w: i for i, w in enumerate(lanes.sites)}
    dest_at = {d: j for j, d in enumerate(lanes.destinations)}

    def costs(
        p: ProductId, sites: list[tuple[WarehouseId, int]], regions: Mapping[str, float]
    ) -> _Costs | None:
        known = [(w, q) for w, q in sites if w in site_at]
        names = [r for r in regions if r in dest_at]
        if not known or not names:
            return None
        si = np.fromiter((site_at[w] for w, _ in known), dtype=np.intp, count=len(known))
        rj = np.fromiter((dest_at[r] for r in names), dtype=np.intp, count=len(names))
        kg = lanes.kg.get(p, lanes.default_kg)
        matrix = lanes.base[np.ix_(si, rj)] + lanes.per_kg[np.ix_(si, rj)] * kg
        if np.all(np.isnan(matrix)):
            return None
        return known, matrix, np.fromiter((regions[r] for r in names), dtype=float)

    return costs


def _callable_costs(
    lane: Lane,
) -> Callable[[ProductId, list[tuple[WarehouseId, int]], Mapping[str, float]], _Costs | None]:
    import numpy as np

    def costs(
        p: ProductId, sites: list[tuple[WarehouseId, int]], regions: Mapping[str, float]
    ) -> _Costs | None:
        names = list(regions)
        matrix = np.full((len(sites), len(names)), np.nan)
        for i, (w, _) in enumerate(sites):
            for j, r in enumerate(names):
                c = lane(w, r, p)
                if c is not None:
                    matrix[i, j] = c
        if np.all(np.isnan(matrix)):
            return None
        return sites, matrix, np.array([regions[r] for r in names])

    return costs


def _single_site_value(
    costs: np.ndarray, demand: np.ndarray, supply: float, penalty: float
) -> float:
    """One site's stock short of its demand: its units go to the destinations it serves
    cheapest, and one unit less leaves the first destination it would still have served
    unserved, which costs the shortage less that destination's lane."""
    import numpy as np

    reach = ~np.isnan(costs)
    order = np.argsort(np.where(reach, costs, np.inf), kind="stable")
    served = 0.0
    for j in order:
        if not reach[j]:
            break
        served += demand[j]
        if served > supply + 1e-9:
            return max(0.0, penalty - float(costs[j]))
    return 0.0


@dataclass(slots=True)
class _Block:
    product: ProductId
    sites: tuple[WarehouseId, ...]
    costs: np.ndarray
    finite: np.ndarray
    supply: np.ndarray
    demand: np.ndarray
    penalty: float


BATCH_COLUMNS = 2_000
"""Columns per linear program: small products go to the solver together (each call has
its overhead), but not all at once (the simplex slows down faster than the model grows)."""


def _solve_blocks(blocks: list[_Block]) -> dict[tuple[WarehouseId, ProductId], float]:
    """The prices of the products that need a linear program, a batch of them per call."""
    if not blocks:
        return {}
    import highspy

    from potok.domain.sourcing.optimiser import _new_highs

    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # as the optimiser: HiGHS's scheduler is global
    h.setOptionValue("presolve", "off")  # these transportation problems gain nothing from it
    out: dict[tuple[WarehouseId, ProductId], float] = {}
    batch: list[_Block] = []
    columns = 0
    for b in blocks:
        size = int(b.finite.sum()) + b.costs.shape[1]
        if batch and columns + size > BATCH_COLUMNS:
            out.update(_solve_batch(h, highspy, batch))
            batch, columns = [], 0
        batch.append(b)
        columns += size
    out.update(_solve_batch(h, highspy, batch))
    return out


def _solve_batch(
    h: Any, highspy: Any, blocks: list[_Block]
) -> dict[tuple[WarehouseId, ProductId], float]:
    """min sum c x + penalty u  s.t.  sum_w x[w,r] + u[r] = d[r],  sum_r x[w,r] <= s[w], for
    the batch's products together (each its own rows and columns: the blocks do not touch);
    the price of a unit at w is minus the dual of its supply row."""
    import numpy as np

    costs: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    row_lo: list[np.ndarray] = []
    row_hi: list[np.ndarray] = []
    supply_rows: list[tuple[_Block, int]] = []
    next_row = 0
    for b in blocks:
        n_sites, n_dest = b.costs.shape
        i, j = np.nonzero(b.finite)
        demand_row = next_row + j
        supply_row = next_row + n_dest + i
        # x columns: two entries each (its destination row, its site row)
        costs.append(b.costs[i, j])
        rows.append(np.stack([demand_row, supply_row], axis=1).ravel())
        # shortage columns: one entry each
        costs.append(np.full(n_dest, b.penalty))
        rows.append(next_row + np.arange(n_dest))
        row_lo.extend((b.demand, np.full(n_sites, -highspy.kHighsInf)))
        row_hi.extend((b.demand, b.supply))
        supply_rows.append((b, next_row + n_dest))
        next_row += n_dest + n_sites
    # column starts: x columns hold two entries, shortage columns one
    per_column = np.concatenate(
        [np.full(len(c), 2 if k % 2 == 0 else 1, dtype=np.int64) for k, c in enumerate(costs)]
    )
    lp = highspy.HighsLp()
    n = len(per_column)
    lp.num_col_ = n
    lp.num_row_ = next_row
    lp.col_cost_ = np.concatenate(costs)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate(row_lo)
    lp.row_upper_ = np.concatenate(row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(per_column)]).astype(np.int32)
    index = np.concatenate(rows).astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(len(index))
    h.clearModel()
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return {}
    duals = np.asarray(h.getSolution().row_dual)
    out: dict[tuple[WarehouseId, ProductId], float] = {}
    for b, first in supply_rows:
        for w, d in zip(b.sites, duals[first : first + len(b.sites)], strict=True):
            if d < 0:
                out[(w, b.product)] = float(-d)
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
    sku: str = ""


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
    inputs: PricingInputs,
    tariffs: TariffTable,
    *,
    history_days: int,
    horizon_days: int,
    forecast: Mapping[str, float] | None = None,
) -> dict[tuple[WarehouseId, ProductId], Decimal]:
    """The price of a unit at each position: the history's daily demand per product and
    region, times the horizon, against the free stock and what arrives within it, each
    unit shipped by the tariff table at its share of a parcel. ``forecast`` (units over the
    horizon per SKU, from a stored forecast run) replaces the history's total of the SKUs
    it names; the history still says which regions they go to."""
    import numpy as np

    demand: dict[ProductId, dict[str, float]] = {}
    weight: dict[ProductId, float] = {}
    where: dict[str, list[float]] = {}  # region: units, sum of latitudes, sum of longitudes
    sold: dict[ProductId, int] = {}
    for d in inputs.demand:
        sold[d.product_id] = sold.get(d.product_id, 0) + d.units
    for d in inputs.demand:
        expected = d.units / history_days * horizon_days
        if forecast is not None and d.sku in forecast:
            expected = forecast[d.sku] * d.units / sold[d.product_id]
        demand.setdefault(d.product_id, {})[d.region] = expected
        weight[d.product_id] = d.unit_weight_kg
        acc = where.setdefault(d.region, [0.0, 0.0, 0.0])
        acc[0] += d.units
        acc[1] += d.units * d.latitude
        acc[2] += d.units * d.longitude
    point = {r: (a[1] / a[0], a[2] / a[0]) for r, a in where.items() if a[0] > 0}
    stock = dict(inputs.free)
    for key, q in inputs.incoming.items():
        stock[key] = stock.get(key, 0) + q
    regions = tuple(point)
    base = np.full((len(inputs.sites), len(regions)), np.nan)
    per_kg = np.full((len(inputs.sites), len(regions)), np.nan)
    for i, site in enumerate(inputs.sites):
        for j, region in enumerate(regions):
            km = distance_km((site.latitude, site.longitude), point[region])
            t = tariffs.find_or_estimate(site.code, km=km, region=region or None)
            if t is not None:
                base[i, j] = t.cost_estimate(0.0, km) / PARCEL_UNITS
                per_kg[i, j] = t.cost_estimate(1.0, 0.0) - t.cost_estimate(0.0, 0.0)
    lane = Lanes(tuple(s.warehouse_id for s in inputs.sites), regions, base, per_kg, weight)
    values = stock_values(Horizon(demand, stock), lane)
    return {k: Decimal(f"{v:.2f}") for k, v in values.items() if round(v, 2) > 0}
