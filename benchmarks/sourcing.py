"""Sourcing benchmark: a synthetic Russian network, four strategies on the same orders.

    python benchmarks/sourcing.py            # 50,000 orders, batch of 10,000, exact subset of 300
    python benchmarks/sourcing.py --quick    # 5,000 orders, batch of 1,000, exact subset of 100
    python benchmarks/sourcing.py --network zones   # the zone-priced network (sourcing_zones.py)

The network: 10 distribution centres and 15 stores in Russian cities at their real
coordinates, each with its own shipping tariffs (distance bands plus a cheap local rate in
its own region, scaled by a per-site contract factor); 5,000 SKUs whose demand follows a
Zipf-like law and whose unit weights are log-normal; orders whose delivery points are
spread over the 40 biggest Russian cities in proportion to their population (2021 census),
jittered around the city centres, with 1-4 lines, a type (courier, pickup, marketplace),
8 % express, and a promised date. Everything comes from one seeded RNG, so runs repeat.

Every strategy sources the same orders in the same sequence against its own copy of the
same stock, respects the same hard rule (stores do not serve marketplace orders), and is
priced by the same tariffs:

  (a) naive    - the first site in a fixed list (distribution centres, Moscow first, then
                 stores) that has every line, else split in list order;
  (b) nearest  - ``planner.plan``: the nearest site that has every line, else the fewest
                 nearest;
  (c) engine   - ``engine.decide`` with the default routing rules (an order it consolidates
                 at a hub counts as one shipment from the hub, its transfers' cost and
                 days included);
  (d) batch    - the optimiser re-plans the last ``--open`` orders of (c) (their stock
                 counted back) and applies only cheaper plans that keep promised dates;
  (e) exact    - on ``--subset`` orders with scarce stock, the proven MIP optimum against
                 the engine run order by order on the same stock;
  (f) stream   - the first ``--window`` orders of the day on stock of 1.2 times their
                 demand, spread over the sites as the network spreads its stock: the engine
                 order by order as they arrive, against the optimum with hindsight (the
                 same orders planned together by the MIP; an order that no warehouse
                 can ship whole in its plan may split, as the engine splits one when the
                 stock left holds it nowhere whole, so both serve the same orders);
  (g) waves    - the same window, the stock-priced engine deciding each order as it
                 arrives, but the orders held and released to the warehouses in waves:
                 every ``--wave`` orders the last ``--hold`` are planned again together
                 by the optimiser, their units priced for the orders still to come - as
                 Potok's re-plan of held orders does it (``--waves held``: the plans in
                 force, no promise they keep broken, no transfers, a trade of orders moved
                 when its shipping plus stock value falls; ``--waves free``: planned afresh
                 as if new).
  (h) bound    - how many promises any plan at all could keep (``sourcing_bounds``: a
                 linear program that splits lines freely and ignores cost): on the whole
                 stream, of the orders with every line in stock; on the window, among plans
                 serving as many orders as the stock-priced engine served.

Savings are measured on the orders every strategy could serve. The last line is
machine-readable:

    sourcing orders=50000 savings_vs_naive_pct=17.2 gap_to_optimum_pct=1.4 decisions_per_s=3100 batch_10k_s=41 on_time_pct=95.1 network=distance vs_nearest_pct=2.0 stream_gap_pct=3.1 stream_on_time_pct=94.0 priced_vs_nearest_pct=2.5 priced_on_time_pct=94.2 priced_stream_gap_pct=1.2 decide_cpu_us=310 priced_decide_cpu_us=330 waves_stream_gap_pct=1.0 waves_stream_on_time_pct=95.0 wave=50 hold=100 wave_replan_cpu_ms=12.0 on_time_bound_pct=97.0 window_on_time_bound_pct=96.0
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.sourcing import (
    Candidate,
    Decision,
    Need,
    Position,
    RoutingRules,
    Shortfall,
    SourcingOrder,
    Tariff,
    TariffTable,
    decide,
    plan,
)
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.held import as_planned, replan_held
from potok.domain.sourcing.optimiser import OpenOrder, Shipment, optimise
from potok.domain.sourcing.stock_value import PARCEL_UNITS, Horizon, Lanes, stock_values

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import sourcing_zones as zones
from benchmarks.sourcing_bounds import on_time_bound

TODAY = date(2026, 3, 2)

# code, kind, city, region, latitude, longitude, contract factor
SITES = [
    ("MSK-DC", "warehouse", "Подольск", "Московская область", 55.431, 37.545, 0.90),
    ("SPB-DC", "warehouse", "Шушары", "Санкт-Петербург", 59.806, 30.380, 0.95),
    ("KZN-DC", "warehouse", "Казань", "Татарстан", 55.796, 49.106, 1.00),
    ("EKB-DC", "warehouse", "Екатеринбург", "Свердловская область", 56.838, 60.605, 0.95),
    ("NSK-DC", "warehouse", "Новосибирск", "Новосибирская область", 55.030, 82.920, 1.00),
    ("ROV-DC", "warehouse", "Ростов-на-Дону", "Ростовская область", 47.222, 39.720, 1.05),
    ("KRD-DC", "warehouse", "Краснодар", "Краснодарский край", 45.035, 38.975, 1.00),
    ("SAM-DC", "warehouse", "Самара", "Самарская область", 53.195, 50.100, 1.10),
    ("NNV-DC", "warehouse", "Нижний Новгород", "Нижегородская область", 56.327, 44.006, 1.05),
    ("KHV-DC", "warehouse", "Хабаровск", "Хабаровский край", 48.480, 135.072, 1.15),
    ("MSK-ST1", "store", "Москва", "Москва", 55.756, 37.617, 1.00),
    ("MSK-ST2", "store", "Москва", "Москва", 55.852, 37.487, 1.00),
    ("SPB-ST", "store", "Санкт-Петербург", "Санкт-Петербург", 59.939, 30.316, 1.00),
    ("VRN-ST", "store", "Воронеж", "Воронежская область", 51.661, 39.200, 1.05),
    ("PRM-ST", "store", "Пермь", "Пермский край", 58.010, 56.229, 1.05),
    ("UFA-ST", "store", "Уфа", "Башкортостан", 54.735, 55.959, 1.10),
    ("CHL-ST", "store", "Челябинск", "Челябинская область", 55.160, 61.403, 1.05),
    ("OMS-ST", "store", "Омск", "Омская область", 54.989, 73.369, 1.10),
    ("KJA-ST", "store", "Красноярск", "Красноярский край", 56.010, 92.853, 1.10),
    ("VOG-ST", "store", "Волгоград", "Волгоградская область", 48.708, 44.513, 1.05),
    ("TYU-ST", "store", "Тюмень", "Тюменская область", 57.153, 65.534, 1.10),
    ("IKT-ST", "store", "Иркутск", "Иркутская область", 52.287, 104.305, 1.15),
    ("VVO-ST", "store", "Владивосток", "Приморский край", 43.116, 131.882, 1.15),
    ("YAR-ST", "store", "Ярославль", "Ярославская область", 57.626, 39.894, 1.00),
    ("TUL-ST", "store", "Тула", "Тульская область", 54.193, 37.618, 1.00),
]

# city, region, population (2021 census), latitude, longitude
CITIES = [
    ("Москва", "Москва", 13_010_112, 55.756, 37.617),
    ("Санкт-Петербург", "Санкт-Петербург", 5_601_911, 59.939, 30.316),
    ("Новосибирск", "Новосибирская область", 1_633_595, 55.030, 82.920),
    ("Екатеринбург", "Свердловская область", 1_544_376, 56.838, 60.605),
    ("Казань", "Татарстан", 1_308_660, 55.796, 49.106),
    ("Нижний Новгород", "Нижегородская область", 1_228_199, 56.327, 44.006),
    ("Челябинск", "Челябинская область", 1_189_525, 55.160, 61.403),
    ("Красноярск", "Красноярский край", 1_187_771, 56.010, 92.853),
    ("Самара", "Самарская область", 1_173_299, 53.195, 50.100),
    ("Уфа", "Башкортостан", 1_144_809, 54.735, 55.959),
    ("Ростов-на-Дону", "Ростовская область", 1_142_162, 47.222, 39.720),
    ("Омск", "Омская область", 1_125_695, 54.989, 73.369),
    ("Краснодар", "Краснодарский край", 1_099_344, 45.035, 38.975),
    ("Воронеж", "Воронежская область", 1_057_681, 51.661, 39.200),
    ("Пермь", "Пермский край", 1_034_002, 58.010, 56.229),
    ("Волгоград", "Волгоградская область", 1_028_036, 48.708, 44.513),
    ("Саратов", "Саратовская область", 901_361, 51.533, 46.034),
    ("Тюмень", "Тюменская область", 847_488, 57.153, 65.534),
    ("Тольятти", "Самарская область", 684_709, 53.508, 49.419),
    ("Ульяновск", "Ульяновская область", 624_518, 54.314, 48.403),
    ("Ижевск", "Удмуртия", 623_472, 56.852, 53.212),
    ("Махачкала", "Дагестан", 623_254, 42.983, 47.504),
    ("Барнаул", "Алтайский край", 630_877, 53.347, 83.779),
    ("Хабаровск", "Хабаровский край", 617_441, 48.480, 135.072),
    ("Иркутск", "Иркутская область", 617_264, 52.287, 104.305),
    ("Владивосток", "Приморский край", 603_519, 43.116, 131.882),
    ("Ярославль", "Ярославская область", 577_279, 57.626, 39.894),
    ("Томск", "Томская область", 568_508, 56.485, 84.948),
    ("Кемерово", "Кемеровская область", 549_262, 55.355, 86.087),
    ("Оренбург", "Оренбургская область", 548_331, 51.768, 55.097),
    ("Набережные Челны", "Татарстан", 548_434, 55.743, 52.396),
    ("Ставрополь", "Ставропольский край", 547_820, 45.044, 41.969),
    ("Рязань", "Рязанская область", 527_927, 54.629, 39.736),
    ("Пенза", "Пензенская область", 504_826, 53.195, 45.018),
    ("Липецк", "Липецкая область", 503_216, 52.610, 39.594),
    ("Чебоксары", "Чувашия", 499_740, 56.146, 47.251),
    ("Калининград", "Калининградская область", 489_359, 54.710, 20.511),
    ("Астрахань", "Астраханская область", 475_629, 46.348, 48.033),
    ("Тула", "Тульская область", 473_622, 54.193, 37.618),
    ("Киров", "Кировская область", 468_212, 58.603, 49.668),
]

# distance bands for distribution centres: from km, to km, fixed, per kg, per km, days
BANDS = [
    (0, 50, 250, 7, 1.50, 1),
    (50, 300, 320, 10, 0.90, 2),
    (300, 1000, 380, 14, 0.45, 3),
    (1000, 2500, 450, 20, 0.30, 5),
    (2500, 5000, 520, 28, 0.22, 8),
    (5000, None, 600, 36, 0.18, 11),
]
STORE_MARKUP = (1.4, 1.3, 1.2)  # stores ship through a parcel service: fixed, per kg, per km


@dataclass
class Network:
    candidates: list[Candidate]
    tariffs: TariffTable
    weights: np.ndarray  # kg per unit, by SKU index
    stock: dict[tuple[WarehouseId, ProductId], int]
    orders: list[SourcingOrder]


def money(x: float) -> Decimal:
    return Decimal(str(round(x, 2)))


def build_zone_network(n_orders: int, n_skus: int, seed: int) -> Network:
    """The network of ``sourcing_zones``: zone and hub tariffs, tight stock."""
    rng = np.random.default_rng(seed)
    candidates = zones.zone_candidates()
    table = zones.zone_tariffs(CITIES)
    raw, demand, weights = zones.zone_orders(n_orders, n_skus, rng, CITIES)
    stock = zones.zone_stock(candidates, CITIES, demand, rng)
    orders = zones.zone_sourcing_orders(raw, weights, CITIES, candidates, table, stock, TODAY)
    return Network(candidates, table, weights, stock, orders)


def window_stock(
    net: Network, orders: Sequence[SourcingOrder], cover: float = 1.2
) -> dict[tuple[WarehouseId, ProductId], int]:
    """``cover`` times the demand of ``orders``, SKU by SKU, spread over the sites in the
    proportions the network keeps that SKU (largest remainders rounded up)."""
    demand: dict[ProductId, int] = {}
    for o in orders:
        for n in o.needs:
            demand[n.product_id] = demand.get(n.product_id, 0) + n.quantity
    where: dict[ProductId, list[tuple[WarehouseId, int]]] = {}
    for (w, p), q in net.stock.items():
        if p in demand and q > 0:
            where.setdefault(p, []).append((w, q))
    stock: dict[tuple[WarehouseId, ProductId], int] = {}
    for p, d in demand.items():
        sites = where.get(p, [])
        held = sum(q for _, q in sites)
        if not held:
            continue
        total = round(d * cover)
        shares = [(w, total * q / held) for w, q in sites]
        given = {w: int(x) for w, x in shares}
        rest = total - sum(given.values())
        for w, _ in sorted(shares, key=lambda wx: wx[1] - int(wx[1]), reverse=True)[:rest]:
            given[w] += 1
        for w, q in given.items():
            if q:
                stock[(w, p)] = q
    return stock


def build_network(n_orders: int, n_skus: int, seed: int) -> Network:
    rng = np.random.default_rng(seed)
    candidates = [
        Candidate(WarehouseId(i + 1), code, city, 1 if kind == "warehouse" else 0, lat, lon,
                  kind=kind, region=region)
        for i, (code, kind, city, region, lat, lon, _) in enumerate(SITES)
    ]  # fmt: skip
    tariffs: list[Tariff] = []
    for code, kind, _, region, _, _, factor in SITES:
        mf, mk, mkm = STORE_MARKUP if kind == "store" else (1.0, 1.0, 1.0)
        for lo, hi, fixed, per_kg, per_km, days in BANDS:
            tariffs.append(
                Tariff(code, money(fixed * mf * factor), money(per_kg * mk * factor),
                       money(per_km * mkm * factor), days, None, lo, hi or float("inf"))
            )  # fmt: skip
        local = [region] + (["Москва"] if code == "MSK-DC" else [])
        for r in local:
            tariffs.append(
                Tariff(code, money((180 if kind == "store" else 220) * factor),
                       money(6 * factor), money(0.5 * factor), 1, r)
            )  # fmt: skip
    table = TariffTable(tariffs, version="bench-2026-03")

    weights = np.clip(rng.lognormal(mean=-0.2, sigma=1.0, size=n_skus), 0.05, 30.0)
    popularity = 1.0 / (np.arange(n_skus) + 10.0) ** 1.1
    popularity /= popularity.sum()

    population = np.array([c[2] for c in CITIES], dtype=float)
    city_p = population / population.sum()
    city_of = rng.choice(len(CITIES), size=n_orders, p=city_p)
    line_counts = rng.choice([1, 2, 3, 4], size=n_orders, p=[0.55, 0.25, 0.12, 0.08])
    suburb = rng.random(n_orders) < 0.15
    jitter = rng.normal(size=(n_orders, 2)) * np.where(suburb, 0.45, 0.07)[:, None]
    kinds = rng.choice(["courier", "pickup", "marketplace"], size=n_orders, p=[0.7, 0.15, 0.15])
    express = (rng.random(n_orders) < 0.08) & (kinds == "courier")
    slack = rng.integers(0, 2, size=n_orders)

    raw: list[tuple[int, tuple[float, float], tuple[Need, ...]]] = []
    expected = np.zeros(n_skus)
    for i in range(n_orders):
        c = CITIES[city_of[i]]
        dest = (c[3] + float(jitter[i, 0]), c[4] + float(jitter[i, 1]) * 1.6)
        skus = rng.choice(n_skus, size=line_counts[i], replace=False, p=popularity)
        qty = rng.choice([1, 2, 3], size=line_counts[i], p=[0.8, 0.15, 0.05])
        needs = tuple(
            Need(j + 1, ProductId(int(s) + 1), f"SKU-{int(s) + 1:05d}", int(q))
            for j, (s, q) in enumerate(zip(skus, qty, strict=True))
        )
        expected[skus] += qty
        raw.append((int(city_of[i]), dest, needs))

    # stock: each centre holds the demand of the cities nearest to it, 1.25 times over, with
    # gaps; Moscow keeps a national buffer; stores keep a few units of the top 1,000 SKUs
    dcs = [cand for cand in candidates if cand.kind == "warehouse"]
    share = np.zeros(len(dcs))
    for city in CITIES:
        near = min(range(len(dcs)), key=lambda j, city=city: distance_km(
            (city[3], city[4]), (dcs[j].latitude, dcs[j].longitude)))  # fmt: skip
        share[near] += city[2]
    share /= share.sum()
    stock: dict[tuple[WarehouseId, ProductId], int] = {}
    for j, dc in enumerate(dcs):
        mean = expected * share[j] * 1.25 + (expected * 0.35 if dc.code == "MSK-DC" else 0)
        units = rng.poisson(mean)
        units[rng.random(n_skus) < 0.12] = 0  # not every centre carries every SKU
        if dc.code == "MSK-DC":  # the central warehouse carries the whole assortment
            units = np.maximum(units, rng.integers(1, 4, size=n_skus))
        for s in np.nonzero(units)[0]:
            stock[(dc.warehouse_id, ProductId(int(s) + 1))] = int(units[s])
    for cand in candidates:
        if cand.kind != "store":
            continue
        units = rng.poisson(3.0, size=1000)
        for s in np.nonzero(units)[0]:
            stock[(cand.warehouse_id, ProductId(int(s) + 1))] = int(units[s])

    # the promise the shop made at checkout: the quickest centre that had every line then
    # (a day more when none had), plus a day or two for standard delivery
    dcs_by_code = [(cand, cand.warehouse_id) for cand in dcs]
    orders: list[SourcingOrder] = []
    for i, (city_index, dest, needs) in enumerate(raw):
        region = CITIES[city_index][1]
        best_days: int | None = None
        fallback = 99
        for cand, wid in dcs_by_code:
            t = table.find(
                cand.code, km=distance_km(dest, (cand.latitude, cand.longitude)), region=region
            )
            if t is None:
                continue
            fallback = min(fallback, t.days + 1)
            if all(stock.get((wid, n.product_id), 0) >= n.quantity for n in needs):
                best_days = t.days if best_days is None else min(best_days, t.days)
        days = (best_days if best_days is not None else fallback) + (
            0 if express[i] else 1 + int(slack[i])
        )
        orders.append(
            SourcingOrder(
                needs, dest, region=region, order_type=str(kinds[i]), express=bool(express[i]),
                promised_on=TODAY + timedelta(days=days),
                unit_weight_kg={n.product_id: float(weights[int(n.product_id) - 1]) for n in needs},
                reference=f"B-{i + 1:06d}",
            )
        )  # fmt: skip
    return Network(candidates, table, weights, stock, orders)


@dataclass
class Outcome:
    """One strategy's shipments for each order it could serve."""

    name: str
    shipments: dict[int, list[tuple[WarehouseId, float, int]]] = field(default_factory=dict)
    seconds: float = 0.0
    decide_seconds: float = 0.0
    decide_cpu_seconds: float = 0.0  # the process's CPU time inside the decisions
    job_seconds: float = 0.0  # refreshing stock values, apart from deciding
    decided: int = 0

    def served(self) -> set[int]:
        return set(self.shipments)


class Pricer:
    """Prices a shipment by the tariffs, the same way for every strategy."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.by_id = {c.warehouse_id: c for c in net.candidates}

    def ship(
        self, order: SourcingOrder, wid: WarehouseId, units: dict[ProductId, int]
    ) -> tuple[float, int]:
        c = self.by_id[wid]
        assert order.destination is not None
        km = distance_km(order.destination, (c.latitude, c.longitude))
        tariff = self.net.tariffs.find(c.code, km=km, region=order.region)
        assert tariff is not None
        kg = sum(q * order.unit_weight_kg[p] for p, q in units.items())
        return tariff.cost_estimate(kg, km), tariff.days

    def consolidated(
        self, order: SourcingOrder, decision: Decision, rules: RoutingRules
    ) -> tuple[WarehouseId, float, int]:
        """One shipment of the whole order from the hub, with the transfers that fed it:
        the transfers' cost is added to it, their days come before it."""
        hub = self.by_id[decision.transfers[0].to_warehouse_id]
        everything: dict[ProductId, int] = {}
        for n in order.needs:
            everything[n.product_id] = everything.get(n.product_id, 0) + n.quantity
        cost, days = self.ship(order, hub.warehouse_id, everything)
        sources: dict[WarehouseId, float] = {}
        for leg in decision.transfers:
            sources[leg.from_warehouse_id] = sources.get(leg.from_warehouse_id, 0.0) + (
                leg.quantity * order.unit_weight_kg[leg.product_id]
            )
        slowest = 0
        for wid, kg in sources.items():
            c = self.by_id[wid]
            km = distance_km((c.latitude, c.longitude), (hub.latitude, hub.longitude))
            tariff = self.net.tariffs.find(c.code, km=km, region=hub.region)
            assert tariff is not None
            cost += tariff.cost_estimate(kg, km)
            slowest = max(slowest, tariff.days)
        return hub.warehouse_id, cost, slowest + rules.transfer_handling_days + days


def allowed(
    order: SourcingOrder, candidates: Sequence[Candidate], rules: RoutingRules
) -> list[Candidate]:
    return [c for c in candidates if rules.allows_kind(order.order_type, c.kind)]


def positions_for(order: SourcingOrder, stock: dict[tuple[WarehouseId, ProductId], int],
                  wids: Sequence[WarehouseId]) -> list[Position]:  # fmt: skip
    out = []
    for n in order.needs:
        for w in wids:
            q = stock.get((w, n.product_id), 0)
            if q > 0:
                out.append(Position(StockId(w * 1_000_000 + n.product_id), w, n.product_id, q))
    return out


def apply(outcome: Outcome, i: int, order: SourcingOrder, plan_units: dict[WarehouseId, dict[ProductId, int]],
          stock: dict[tuple[WarehouseId, ProductId], int], pricer: Pricer) -> None:  # fmt: skip
    ships = []
    for wid, units in plan_units.items():
        for p, q in units.items():
            stock[(wid, p)] -= q
            assert stock[(wid, p)] >= 0, "oversold"
        cost, days = pricer.ship(order, wid, units)
        ships.append((wid, cost, days))
    outcome.shipments[i] = ships


def run_naive(net: Network, rules: RoutingRules, pricer: Pricer) -> Outcome:
    out = Outcome("naive (first in list)")
    stock = dict(net.stock)
    started = time.perf_counter()
    for i, order in enumerate(net.orders):
        sites = allowed(order, net.candidates, rules)  # fixed list: centres, Moscow first
        demand: dict[ProductId, int] = {}
        for n in order.needs:
            demand[n.product_id] = demand.get(n.product_id, 0) + n.quantity
        whole = next((c.warehouse_id for c in sites
                      if all(stock.get((c.warehouse_id, p), 0) >= q for p, q in demand.items())), None)  # fmt: skip
        if whole is not None:
            apply(out, i, order, {whole: demand}, stock, pricer)
            continue
        if any(
            sum(stock.get((c.warehouse_id, p), 0) for c in sites) < q for p, q in demand.items()
        ):
            continue
        taken: dict[WarehouseId, dict[ProductId, int]] = {}
        for p, q in demand.items():
            for c in sites:
                have = stock.get((c.warehouse_id, p), 0)
                take = min(have, q)
                if take > 0:
                    taken.setdefault(c.warehouse_id, {})[p] = take
                    q -= take
                if q == 0:
                    break
        apply(out, i, order, taken, stock, pricer)
    out.seconds = time.perf_counter() - started
    out.decided = len(net.orders)
    return out


def units_of(decision: Decision) -> dict[WarehouseId, dict[ProductId, int]]:
    taken: dict[WarehouseId, dict[ProductId, int]] = {}
    for a in decision.allocations:
        here = taken.setdefault(a.warehouse_id, {})
        here[a.product_id] = here.get(a.product_id, 0) + a.quantity
    return taken


def run_decider(name: str, net: Network, rules: RoutingRules, pricer: Pricer,
                choose: Callable[[SourcingOrder, list[Candidate], list[Position]], Decision | Shortfall],
                orders: Sequence[SourcingOrder] | None = None,
                stock: dict[tuple[WarehouseId, ProductId], int] | None = None,
                before: Callable[[int, dict[tuple[WarehouseId, ProductId], int]], None] | None = None,
                ) -> tuple[Outcome, dict[int, dict[WarehouseId, dict[ProductId, int]]]]:  # fmt: skip
    """Source the orders one by one; ``before(i, stock)`` runs ahead of the i-th (a job
    refreshing what the engine reads, its time counted apart)."""
    out = Outcome(name)
    stock = dict(net.stock if stock is None else stock)
    decisions: dict[int, dict[WarehouseId, dict[ProductId, int]]] = {}  # kept compact, as a
    # service would store a decision and let it go
    started = time.perf_counter()
    in_decide = 0.0
    for i, order in enumerate(net.orders if orders is None else orders):
        if before is not None:
            t_job = time.perf_counter()
            before(i, stock)
            out.job_seconds += time.perf_counter() - t_job
        sites = list(net.candidates)
        positions = positions_for(order, stock, [c.warehouse_id for c in net.candidates])
        t0, c0 = time.perf_counter(), time.process_time()
        outcome = choose(order, sites, positions)
        in_decide += time.perf_counter() - t0
        out.decide_cpu_seconds += time.process_time() - c0
        if isinstance(outcome, Decision):
            decisions[i] = units_of(outcome)
            apply(out, i, order, decisions[i], stock, pricer)
            if outcome.transfers:  # one parcel from the hub, transfers included
                out.shipments[i] = [pricer.consolidated(order, outcome, rules)]
    out.seconds = time.perf_counter() - started - out.job_seconds
    out.decide_seconds = in_decide
    out.decided = len(net.orders if orders is None else orders)
    return out, decisions


class StockPricing:
    """The job that prices stock for the orders still to come: every ``every`` orders, the
    expected demand of the rest of the day (a forecast learned from another day of the same
    shop, per product, region and the days its promise allows) against the stock left, by
    ``stock_value``. A destination is a region and the days its orders allow: a lane's cost
    adds the engine's weights for the days in transit and the days late, a parcel's share
    of them per unit, so stock that arrives in time is worth more to the orders that need
    it fast (``late=False``: per region, shipping cost alone)."""

    def __init__(
        self,
        net: Network,
        forecast: Sequence[SourcingOrder],
        total: int,
        every: int,
        *,
        rules: RoutingRules | None = None,
        late: bool = True,
    ) -> None:
        self.net, self.total, self.every = net, total, every
        self.values: dict[tuple[WarehouseId, ProductId], float] = {}
        self.refreshes = 0
        self.weights = (rules or RoutingRules()).weights
        self.late = late
        rate: dict[ProductId, dict[tuple[str, int], float]] = {}
        for o in forecast:
            allowed = (o.promised_on - TODAY).days if late and o.promised_on is not None else -1
            key = (o.region or "", allowed)
            for n in o.needs:
                here = rate.setdefault(n.product_id, {})
                here[key] = here.get(key, 0.0) + n.quantity / len(forecast)
        self.rate = rate
        point: dict[str, tuple[float, float]] = {}
        for city in CITIES:
            point.setdefault(city[1], (city[3], city[4]))
        self.point = point
        self.site = {c.warehouse_id: c for c in net.candidates}
        self.classes = sorted({k for by in rate.values() for k in by})
        self._table: Lanes | None = None

    @staticmethod
    def name(region: str, allowed: int) -> str:
        return region if allowed < 0 else f"{region}|{allowed}"

    def table(self) -> Lanes:
        """The lanes as tables, every site to every destination, for pricing in one pass."""
        sites = tuple(self.site)
        w = self.weights
        base = np.full((len(sites), len(self.classes)), np.nan)
        per_kg = np.full((len(sites), len(self.classes)), np.nan)
        for i, wid in enumerate(sites):
            c = self.site[wid]
            for j, (region, allowed) in enumerate(self.classes):
                km = distance_km((c.latitude, c.longitude), self.point[region])
                t = self.net.tariffs.find(c.code, km=km, region=region)
                if t is None:
                    continue
                days = 0.0
                if allowed >= 0:
                    days = w.day * t.days + w.late_day * max(0, t.days - allowed)
                base[i, j] = (t.cost_estimate(0.0, km) + days) / PARCEL_UNITS
                per_kg[i, j] = t.cost_estimate(1.0, 0.0) - t.cost_estimate(0.0, 0.0)
        kg = {ProductId(k + 1): float(x) for k, x in enumerate(self.net.weights)}
        names = tuple(self.name(r, a) for r, a in self.classes)
        return Lanes(sites, names, base, per_kg, kg)

    def __call__(self, i: int, stock: dict[tuple[WarehouseId, ProductId], int]) -> None:
        if i % self.every:
            return
        self.refresh(i, stock)

    def refresh(self, i: int, stock: dict[tuple[WarehouseId, ProductId], int]) -> None:
        """Price the stock for the orders after the first ``i``."""
        left = self.total - i
        demand = {
            p: {self.name(r, a): q * left for (r, a), q in by.items()}
            for p, by in self.rate.items()
        }
        if self._table is None:
            self._table = self.table()
        self.values = stock_values(Horizon(demand, stock), self._table)
        self.refreshes += 1


@dataclass
class Waves:
    """What holding orders for waves did: the re-plans' CPU and the orders they moved."""

    replans: int = 0
    cpu_seconds: float = 0.0
    moved: int = 0


def run_waves(name: str, net: Network, rules: RoutingRules, pricer: Pricer,
              pricing: StockPricing, every: int, hold: int, orders: Sequence[SourcingOrder],
              stock: dict[tuple[WarehouseId, ProductId], int], time_limit_s: float = 60.0,
              free: bool = False) -> tuple[Outcome, Waves]:  # fmt: skip
    """The stock-priced engine decides each order as it arrives and reserves its units, but
    the warehouses get the orders in waves: every ``every`` orders, the orders of the last
    ``hold`` not yet released are planned again together - and those that will have waited
    ``hold`` orders by the next wave are released as planned (a rolling horizon: with
    ``hold`` twice ``every``, each order is planned again twice). By default as Potok's
    re-plan of held orders does it (``held.replan_held``, ``potok sourcing replan --held``):
    each order's plan in force, no promise it keeps broken, no transfers (orders the engine
    consolidated stay as they are), the stock priced for the orders still to come, and a
    trade of orders applied when its shipping plus stock value falls. ``free``: the first
    version, the held orders planned afresh as if new (transfers, no promise kept). The
    re-plans' CPU is counted apart from the decisions'."""
    out = Outcome(name)
    waves = Waves()
    stock = dict(stock)
    wids = [c.warehouse_id for c in net.candidates]
    held: dict[int, dict[tuple[WarehouseId, ProductId], int]] = {}
    current: dict[int, tuple[Shipment, ...]] = {}  # the plans in force of orders not consolidated

    def take(units: dict[tuple[WarehouseId, ProductId], int], sign: int = 1) -> None:
        for k, q in units.items():
            stock[k] = stock.get(k, 0) - sign * q
            assert stock[k] >= 0, "oversold"

    def source(i: int, order: SourcingOrder) -> None:
        positions = positions_for(order, stock, wids)
        c0 = time.process_time()
        outcome = decide(order, net.candidates, positions, tariffs=net.tariffs, rules=rules,
                         today=TODAY, stock_values=pricing.values)  # fmt: skip
        out.decide_cpu_seconds += time.process_time() - c0
        if not isinstance(outcome, Decision):
            return
        taken = units_of(outcome)
        held[i] = {(w, p): q for w, units in taken.items() for p, q in units.items()}
        take(held[i])
        if outcome.transfers:
            out.shipments[i] = [pricer.consolidated(order, outcome, rules)]
            current.pop(i, None)
        else:
            out.shipments[i] = [(w, *pricer.ship(order, w, u)) for w, u in taken.items()]
            current[i] = tuple(
                Shipment(w, tuple(sorted(u.items())), *pricer.ship(order, w, u))
                for w, u in taken.items()
            )

    def replan_free(keys: list[int]) -> None:
        for j in keys:
            take(held[j], -1)
        batch = optimise([OpenOrder(str(j), orders[j]) for j in keys], net.candidates, stock,
                         tariffs=net.tariffs, rules=rules, today=TODAY,
                         time_limit_s=time_limit_s, max_options=None,
                         stock_values=pricing.values)  # fmt: skip
        again = []
        for j in keys:
            plan_ = batch.plans.get(str(j))
            if plan_ is None:  # the optimiser left it out: back to the engine's own plan
                again.append(j)
                continue
            taken_now = plan_.taken()
            waves.moved += taken_now != held[j]
            take(taken_now)
            held[j] = taken_now
            if plan_.transfers:
                out.shipments[j] = [(plan_.shipments[0].warehouse_id, plan_.cost, plan_.days)]
            else:
                out.shipments[j] = [(s.warehouse_id, s.cost, s.days) for s in plan_.shipments]
        for j in again:
            if all(stock.get(k, 0) >= q for k, q in held[j].items()):
                take(held[j])
            else:
                del out.shipments[j], held[j]
                source(j, orders[j])

    def replan_held_orders(keys: list[int]) -> None:
        keys = [j for j in keys if j in current]  # consolidated orders have transfers booked
        opens = [OpenOrder(str(j), as_planned(orders[j], current[j], TODAY), current[j])
                 for j in keys]  # fmt: skip
        result = replan_held(opens, net.candidates, stock, tariffs=net.tariffs, rules=rules,
                             today=TODAY, stock_values=pricing.values,
                             time_limit_s=time_limit_s, max_options=None)  # fmt: skip
        for trade in result.kept:
            for k in trade.keys:
                take(held[int(k)], -1)
            for k in trade.keys:
                j, plan_ = int(k), result.batch.plans[k]
                held[j] = plan_.taken()
                take(held[j])
                current[j] = plan_.shipments
                out.shipments[j] = [(s.warehouse_id, s.cost, s.days) for s in plan_.shipments]
                waves.moved += 1

    started = time.perf_counter()
    for i, order in enumerate(orders):
        t_job = time.perf_counter()
        pricing(i, stock)
        out.job_seconds += time.perf_counter() - t_job
        source(i, order)
        if (i + 1) % every and i + 1 < len(orders):
            continue
        c0 = time.process_time()
        pricing.refresh(i + 1, stock)  # what the rest of the day needs, these orders served
        keys = sorted(j for j in held if j > i - hold)
        if free:
            replan_free(keys)
        else:
            replan_held_orders(keys)
        for j in [j for j in held if j <= i - hold + every]:
            del held[j]  # released to the warehouses
            current.pop(j, None)
        waves.replans += 1
        waves.cpu_seconds += time.process_time() - c0
    out.seconds = time.perf_counter() - started - out.job_seconds
    out.decided = len(orders)
    return out, waves


@dataclass
class Figures:
    cost: float
    per_order: float
    shipments: float
    on_time: float


def figures(out: Outcome, orders: Sequence[SourcingOrder], only: set[int]) -> Figures:
    cost = ships = on_time = 0.0
    for i in only:
        s = out.shipments[i]
        cost += sum(c for _, c, _ in s)
        ships += len(s)
        promised = orders[i].promised_on
        days = max(d for _, _, d in s)
        on_time += promised is None or TODAY + timedelta(days=days) <= promised
    n = max(1, len(only))
    return Figures(cost, cost / n, ships / n, 100 * on_time / n)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--skus", type=int, default=5_000)
    parser.add_argument(
        "--open", type=int, default=10_000, help="open orders the batch optimiser re-plans"
    )
    parser.add_argument("--subset", type=int, default=300, help="orders solved exactly")
    parser.add_argument("--time-limit", type=float, default=55.0, help="batch optimiser budget, s")
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--quick", action="store_true", help="5,000 orders, 1,000 open, 100 exact")
    parser.add_argument(
        "--network",
        choices=("distance", "zones"),
        default="distance",
        help="distance-band tariffs (the first network) or zone and hub tariffs",
    )
    parser.add_argument(
        "--window", type=int, default=1_000, help="first orders of the stream solved in hindsight"
    )
    parser.add_argument("--window-time-limit", type=float, default=120.0, help="its MIP budget, s")
    parser.add_argument(
        "--window-cpu-limit",
        type=float,
        default=0.0,
        help="its MIP budget in CPU seconds of this process (0: wall clock only); on a shared "
        "machine a wall-clock budget buys less search the busier it is, a CPU budget does not "
        "(the wall-clock limit is then raised to 30 times it at least)",
    )
    parser.add_argument(
        "--forecast-days",
        type=int,
        default=1,
        help="days of history (other days of the same shop) the stock prices' forecast learns from",
    )
    parser.add_argument(
        "--refresh",
        type=int,
        default=0,
        help="orders between stock-value refreshes (0: 1/20 of them)",
    )
    parser.add_argument(
        "--wave",
        type=int,
        default=0,
        help="orders held before release in the window's waves, re-planned together (0: 1/20)",
    )
    parser.add_argument(
        "--hold",
        type=int,
        default=0,
        help="orders kept open for re-planning at each wave (0: twice --wave)",
    )
    parser.add_argument(
        "--waves",
        choices=("held", "free"),
        default="held",
        help="held: the waves as Potok's re-plan of held orders does them (plans in force, "
        "promises kept, no transfers, trades kept when shipping plus stock value falls); "
        "free: the held orders planned afresh as if new",
    )
    parser.add_argument(
        "--no-late",
        action="store_true",
        help="price stock per region by shipping cost alone, not per region and promise",
    )
    args = parser.parse_args()
    if args.quick:
        args.orders, args.open, args.subset, args.window = 5_000, 1_000, 100, 300
    args.open = min(args.open, args.orders)
    args.subset = min(args.subset, args.open)

    t0 = time.perf_counter()
    build = build_zone_network if args.network == "zones" else build_network
    net = build(args.orders, args.skus, args.seed)
    forecast = build(
        args.orders * args.forecast_days, args.skus, args.seed + 1
    ).orders  # other days of the shop
    rules = RoutingRules(version="bench-default")
    pricer = Pricer(net)
    gc.collect()
    gc.freeze()  # the generated network lives for the whole run: keep it out of GC passes
    print(f"network            {args.network}: "
          f"{sum(c.kind == 'warehouse' for c in net.candidates)} centres and "
          f"{sum(c.kind == 'store' for c in net.candidates)} stores, {args.skus} SKUs, "
          f"{sum(net.stock.values()):,} units in stock, {len(net.tariffs.tariffs)} tariffs")  # fmt: skip
    demand_units = sum(n.quantity for o in net.orders for n in o.needs)
    print(f"orders             {len(net.orders):,} ({demand_units:,} units, "
          f"{sum(o.express for o in net.orders):,} express), built in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    naive = run_naive(net, rules, pricer)
    nearest, _ = run_decider("nearest (planner.plan)", net, rules, pricer,
                             lambda o, c, p: plan(o.needs, allowed(o, c, rules), p, o.destination))  # fmt: skip

    def engine_choose(
        o: SourcingOrder, c: list[Candidate], p: list[Position]
    ) -> Decision | Shortfall:
        return decide(o, c, p, tariffs=net.tariffs, rules=rules, today=TODAY)

    engine, decisions = run_decider("engine (decide)", net, rules, pricer, engine_choose)
    pricing = StockPricing(
        net, forecast, len(net.orders), args.refresh or max(1, len(net.orders) // 20),
        rules=rules, late=not args.no_late,
    )  # fmt: skip

    def valued_choose(
        o: SourcingOrder, c: list[Candidate], p: list[Position]
    ) -> Decision | Shortfall:
        return decide(o, c, p, tariffs=net.tariffs, rules=rules, today=TODAY,
                      stock_values=pricing.values)  # fmt: skip

    valued, _ = run_decider("engine, stock priced", net, rules, pricer, valued_choose,
                            before=pricing)  # fmt: skip
    common = naive.served() & nearest.served() & engine.served() & valued.served()
    print()
    print(f"{'strategy':<26}{'served':>8}{'cost ₽ (common)':>18}{'₽/order':>10}{'shipm./order':>14}{'on time':>9}{'decisions/s':>13}")  # fmt: skip
    table: dict[str, Figures] = {}
    for out in (naive, nearest, engine, valued):
        f = figures(out, net.orders, common)
        table[out.name] = f
        rate = out.decided / (out.decide_seconds or out.seconds)
        print(f"{out.name:<26}{len(out.served()):>8,}{f.cost:>18,.0f}{f.per_order:>10,.1f}"
              f"{f.shipments:>14.3f}{f.on_time:>8.1f}%{rate:>13,.0f}")  # fmt: skip
    eng = table[engine.name]
    savings = 100 * (1 - eng.cost / table[naive.name].cost)
    vs_nearest = 100 * (1 - eng.cost / table[nearest.name].cost)
    decide_rate = engine.decided / engine.decide_seconds
    decide_us = 1e6 * engine.decide_cpu_seconds / engine.decided  # CPU: fair on a busy machine
    priced_us = 1e6 * valued.decide_cpu_seconds / valued.decided
    loop_rate = engine.decided / engine.seconds
    val = table[valued.name]
    valued_vs_nearest = 100 * (1 - val.cost / table[nearest.name].cost)
    print(f"engine vs naive    {savings:.1f} % cheaper; vs nearest {vs_nearest:.1f} % cheaper "
          f"(on the {len(common):,} orders all four served)")  # fmt: skip
    print(f"stock priced       vs nearest {valued_vs_nearest:.1f} % cheaper, "
          f"{val.on_time:.1f} % on time; {pricing.refreshes} refreshes of the stock values in "
          f"{valued.job_seconds:.1f} s, {len(pricing.values):,} positions priced at the last")  # fmt: skip
    print(f"engine speed       {decide_rate:,.0f} decide() calls/s in-process; "
          f"{loop_rate:,.0f}/s including reading positions and booking stock; CPU per "
          f"decision {decide_us:.0f} µs plain, {priced_us:.0f} µs stock priced "
          f"({1e6 / priced_us:,.0f} decisions per CPU second)")  # fmt: skip

    # (d) the batch optimiser re-plans the last --open orders the engine sourced
    open_ids = sorted(decisions)[-args.open :]
    free = dict(net.stock)
    for taken in decisions.values():
        for w, units in taken.items():
            for p, q in units.items():
                free[(w, p)] -= q
    open_orders = []
    for i in open_ids:
        current = tuple(
            Shipment(w, tuple(sorted(u.items())), *pricer.ship(net.orders[i], w, u))
            for w, u in decisions[i].items()
        )
        open_orders.append(OpenOrder(str(i), net.orders[i], current))
    batch = optimise(open_orders, net.candidates, free, tariffs=net.tariffs, rules=rules,
                     today=TODAY, time_limit_s=args.time_limit)  # fmt: skip
    saved = 100 * (1 - batch.cost_after / batch.cost_before) if batch.cost_before else 0.0
    print()
    print(f"batch optimiser    {len(open_orders):,} open orders in {batch.seconds:.1f} s "
          f"(model {batch.build_seconds:.1f} s, method {batch.method}"
          f"{'' if batch.mip_gap is None else f', MIP gap {100 * batch.mip_gap:.2f} %'})")  # fmt: skip
    print(f"                   {batch.cost_before:,.0f} ₽ -> {batch.cost_after:,.0f} ₽ "
          f"({saved:.2f} % less), {len(batch.changed):,} orders re-planned"
          f"{'; ' + '; '.join(batch.notes) if batch.notes else ''}")  # fmt: skip
    current_of = {oo.key: oo.current for oo in open_orders}
    late_after = sum(
        1 for k, p in batch.plans.items()
        if (pr := net.orders[int(k)].promised_on) is not None and TODAY + timedelta(days=p.days) > pr
        and all(TODAY + timedelta(days=s.days) <= pr for s in current_of[k])
    )  # fmt: skip
    pool = dict(free)
    for oo in open_orders:
        for s in oo.current:
            for p, q in s.units:
                pool[(s.warehouse_id, p)] += q
    for plan_ in batch.plans.values():
        for key, q in plan_.taken().items():
            pool[key] = pool.get(key, 0) - q
    oversold = sum(-q for q in pool.values() if q < 0)
    print(
        f"                   promised dates broken by re-planning: {late_after}; units oversold: {oversold}"
    )

    # (e) a subset with scarce stock: the proven optimum against the engine on the same stock
    sub_ids = open_ids[: args.subset]
    scarce: dict[tuple[WarehouseId, ProductId], int] = {
        k: v // 10 for k, v in free.items() if v >= 10
    }
    for i in sub_ids:
        for w, units in decisions[i].items():
            for p, q in units.items():
                scarce[(w, p)] = scarce.get((w, p), 0) + q
    sub_orders = [net.orders[i] for i in sub_ids]
    sub_engine, _ = run_decider("engine on subset", net, rules, pricer, engine_choose,
                                orders=sub_orders, stock=scarce)  # fmt: skip
    exact = optimise([OpenOrder(str(j), o) for j, o in enumerate(sub_orders)], net.candidates, scarce,
                     tariffs=net.tariffs, rules=rules, today=TODAY, time_limit_s=300, max_options=None)  # fmt: skip
    both = {j for j in sub_engine.served() if str(j) not in exact.unplanned}
    eng_cost = sum(c for j in both for _, c, _ in sub_engine.shipments[j])
    opt_cost = sum(exact.plans[str(j)].cost for j in both)
    gap = 100 * (eng_cost / opt_cost - 1) if opt_cost else 0.0
    print()
    print(f"exact subset       {len(sub_orders)} orders, scarce stock: optimum {opt_cost:,.0f} ₽ "
          f"({exact.method}, {exact.seconds:.1f} s), engine {eng_cost:,.0f} ₽ -> gap {gap:.2f} %; "
          f"served: engine {len(sub_engine.served())}, optimum {len(sub_orders) - len(exact.unplanned)}")  # fmt: skip

    # (f) the stream's first orders against the optimum with hindsight on their own stock
    window = net.orders[: args.window]
    w_stock = window_stock(net, window)
    w_engine, _ = run_decider("engine on the window", net, rules, pricer, engine_choose,
                              orders=window, stock=w_stock)  # fmt: skip
    hindsight = optimise([OpenOrder(str(j), o) for j, o in enumerate(window)], net.candidates,
                         w_stock, tariffs=net.tariffs, rules=rules, today=TODAY,
                         time_limit_s=max(args.window_time_limit, 30 * args.window_cpu_limit),
                         max_options=None, split_short=True,
                         cpu_time_limit_s=args.window_cpu_limit or None)  # fmt: skip
    w_both = {j for j in w_engine.served() if str(j) not in hindsight.unplanned}
    w_eng = sum(c for j in w_both for _, c, _ in w_engine.shipments[j])
    w_opt = sum(hindsight.plans[str(j)].cost for j in w_both)
    stream_gap = 100 * (w_eng / w_opt - 1) if w_opt else 0.0
    w_fig = figures(w_engine, window, w_both)
    w_pricing = StockPricing(net, forecast, len(window), max(1, len(window) // 20),
                             rules=rules, late=not args.no_late)  # fmt: skip

    def window_choose(
        o: SourcingOrder, c: list[Candidate], p: list[Position]
    ) -> Decision | Shortfall:
        return decide(o, c, p, tariffs=net.tariffs, rules=rules, today=TODAY,
                      stock_values=w_pricing.values)  # fmt: skip

    w_valued, _ = run_decider("stock priced on the window", net, rules, pricer, window_choose,
                              orders=window, stock=w_stock, before=w_pricing)  # fmt: skip
    v_both = {j for j in w_valued.served() if str(j) not in hindsight.unplanned}
    v_eng = sum(c for j in v_both for _, c, _ in w_valued.shipments[j])
    v_opt = sum(hindsight.plans[str(j)].cost for j in v_both)
    priced_gap = 100 * (v_eng / v_opt - 1) if v_opt else 0.0
    v_fig = figures(w_valued, window, v_both)
    wave = args.wave or max(1, len(window) // 20)
    h_pricing = StockPricing(net, forecast, len(window), max(1, len(window) // 20),
                             rules=rules, late=not args.no_late)  # fmt: skip
    hold = args.hold or 2 * wave
    w_held, waves = run_waves("held for waves on the window", net, rules, pricer, h_pricing, wave,
                              hold, window, w_stock, free=args.waves == "free")  # fmt: skip
    h_both = {j for j in w_held.served() if str(j) not in hindsight.unplanned}
    h_eng = sum(c for j in h_both for _, c, _ in w_held.shipments[j])
    h_opt = sum(hindsight.plans[str(j)].cost for j in h_both)
    waves_gap = 100 * (h_eng / h_opt - 1) if h_opt else 0.0
    h_fig = figures(w_held, window, h_both)
    opt_on_time = 100 * sum(
        1 for j in w_both
        if (pr := window[j].promised_on) is None or TODAY + timedelta(days=hindsight.plans[str(j)].days) <= pr
    ) / max(1, len(w_both))  # fmt: skip
    print(f"stream window      first {len(window):,} orders on {sum(w_stock.values()):,} units: "
          f"hindsight optimum {w_opt:,.0f} ₽ ({hindsight.method}"
          f"{'' if hindsight.mip_gap is None else f', MIP gap {100 * hindsight.mip_gap:.2f} %'}, "
          f"{hindsight.seconds:.1f} s{f' (CPU budget {args.window_cpu_limit:.0f} s)' if args.window_cpu_limit else ''}, "
          f"{opt_on_time:.1f} % on time), engine {w_eng:,.0f} ₽ "
          f"({w_fig.on_time:.1f} % on time) -> gap {stream_gap:.2f} %; served: engine "
          f"{len(w_engine.served())}, optimum {len(window) - len(hindsight.unplanned)}")  # fmt: skip
    print(f"                   stock priced: {v_eng:,.0f} ₽ ({v_fig.on_time:.1f} % on time) -> gap "
          f"{priced_gap:.2f} %; served {len(w_valued.served())}")  # fmt: skip
    print(f"                   held ({args.waves}), re-planned together every {wave} orders (the last {hold}): "
          f"{h_eng:,.0f} ₽ ({h_fig.on_time:.1f} % on time) -> gap {waves_gap:.2f} %; served "
          f"{len(w_held.served())}; {waves.replans} re-plans moved {waves.moved} orders in "
          f"{waves.cpu_seconds:.1f} s CPU ({1e3 * waves.cpu_seconds / len(window):.1f} ms an order)")  # fmt: skip

    # the engine's lead over nearest, fifth by fifth of the stream: does it hold as stock runs low?
    fifths = []
    for k in range(5):
        lo, hi = k * len(net.orders) // 5, (k + 1) * len(net.orders) // 5
        part = {i for i in common if lo <= i < hi}
        e, n = figures(engine, net.orders, part).cost, figures(nearest, net.orders, part).cost
        v = figures(valued, net.orders, part).cost
        fifths.append((100 * (1 - e / n) if n else 0.0, 100 * (1 - v / n) if n else 0.0))
    print("vs nearest, by fifth of the stream: engine "
          + ", ".join(f"{x:+.1f} %" for x, _ in fifths) + "; stock priced "
          + ", ".join(f"{y:+.1f} %" for _, y in fifths))  # fmt: skip

    # how many promises any plan at all could keep (``sourcing_bounds``): on the window among
    # plans serving as many orders as the stock-priced engine did; on the whole stream of
    # the orders with every line in stock somewhere (the larger program is left out there)
    day_bound = on_time_bound(net.orders, net.stock, net.candidates, net.tariffs, rules, TODAY)
    w_bound = on_time_bound(window, w_stock, net.candidates, net.tariffs, rules, TODAY,
                            serve=len(w_valued.served()))  # fmt: skip
    print(f"on time, any plan  the stream: at most {day_bound.on_time:,.0f} of the "
          f"{day_bound.servable:,} orders with every line in stock ({day_bound.pct:.1f} %); the "
          f"window: at most {w_bound.on_time:,.0f} of {w_bound.serve:,} served ({w_bound.pct:.1f} %); "
          f"{day_bound.never:,} and {w_bound.never:,} have a line no stock could bring in time even alone")  # fmt: skip

    print()
    targets = [
        ("engine >= 15 % cheaper than naive", savings >= 15),
        ("within 3 % of the optimum", gap <= 3 and exact.method == "mip-optimal"),
        (">= 2,000 decisions/s (per CPU second, stock priced)", priced_us <= 500),
        (f"batch of {len(open_orders):,} in < 60 s", batch.seconds < 60),
    ]
    for name, ok in targets:
        print(f"target             {'met   ' if ok else 'MISSED'} {name}")
    print(f"sourcing orders={args.orders} savings_vs_naive_pct={savings:.1f} gap_to_optimum_pct={gap:.1f} "
          f"decisions_per_s={decide_rate:.0f} batch_{args.open // 1000}k_s={batch.seconds:.0f} "
          f"on_time_pct={eng.on_time:.1f} network={args.network} vs_nearest_pct={vs_nearest:.1f} "
          f"stream_gap_pct={stream_gap:.1f} stream_on_time_pct={w_fig.on_time:.1f} "
          f"priced_vs_nearest_pct={valued_vs_nearest:.1f} priced_on_time_pct={val.on_time:.1f} "
          f"priced_stream_gap_pct={priced_gap:.1f} decide_cpu_us={decide_us:.0f} "
          f"priced_decide_cpu_us={priced_us:.0f} waves_stream_gap_pct={waves_gap:.1f} "
          f"waves_stream_on_time_pct={h_fig.on_time:.1f} wave={wave} hold={hold} "
          f"wave_replan_cpu_ms={1e3 * waves.cpu_seconds / len(window):.1f} "
          f"on_time_bound_pct={day_bound.pct:.1f} window_on_time_bound_pct={w_bound.pct:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
