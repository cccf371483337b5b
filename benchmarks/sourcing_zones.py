"""A second sourcing network, priced the way Russian carriers price parcels: by zones, not by
kilometres.

Twelve distribution centres and twenty stores. Three price lists stand behind every lane:

- a national post (cheap fixed fee, steep per-kilogram rate by zone, slow),
- an express carrier (dearer fixed fee, gentler per-kilogram rate, quick),
- contract trunk lanes from the two hubs, Moscow (Подольск) and Yekaterinburg, to every
  region (a low fixed fee and a nearly flat rate: the hubs' volume bought it).

A zone is the distance band between the origin and the destination region's main city;
each lane from a site to a region takes the carrier that is cheapest for a typical parcel,
so a parcel from the Moscow hub to Novosibirsk can cost less than one from the local
warehouse. Fixed fees differ four times over between the hubs and the small regional
sites; stores hand parcels to the express carrier and ship two days slower.

Stock is tight: 1.2 times the stream's demand in all, the hubs holding a national buffer,
the regional centres their cities' demand, stores a few units of the best sellers. A
single-order rule that always takes the cheapest site empties the hubs early in the day;
later orders pay the regional fixed fees, or wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing import Candidate, Need, SourcingOrder, Tariff, TariffTable
from potok.domain.sourcing.geo import distance_km

# code, kind, city, region, latitude, longitude, fixed-fee factor (hubs 1, small sites up to 4)
ZONE_SITES = [
    ("MSK-HUB", "warehouse", "Подольск", "Московская область", 55.431, 37.545, 1.0),
    ("EKB-HUB", "warehouse", "Екатеринбург", "Свердловская область", 56.838, 60.605, 1.0),
    ("SPB-DC", "warehouse", "Шушары", "Санкт-Петербург", 59.806, 30.380, 1.6),
    ("KZN-DC", "warehouse", "Казань", "Татарстан", 55.796, 49.106, 2.2),
    ("NSK-DC", "warehouse", "Новосибирск", "Новосибирская область", 55.030, 82.920, 2.6),
    ("ROV-DC", "warehouse", "Ростов-на-Дону", "Ростовская область", 47.222, 39.720, 2.4),
    ("KRD-DC", "warehouse", "Краснодар", "Краснодарский край", 45.035, 38.975, 2.8),
    ("SAM-DC", "warehouse", "Самара", "Самарская область", 53.195, 50.100, 3.0),
    ("NNV-DC", "warehouse", "Нижний Новгород", "Нижегородская область", 56.327, 44.006, 3.2),
    ("VRN-DC", "warehouse", "Воронеж", "Воронежская область", 51.661, 39.200, 3.4),
    ("KJA-DC", "warehouse", "Красноярск", "Красноярский край", 56.010, 92.853, 3.6),
    ("KHV-DC", "warehouse", "Хабаровск", "Хабаровский край", 48.480, 135.072, 4.0),
    ("MSK-ST1", "store", "Москва", "Москва", 55.756, 37.617, 1.5),
    ("MSK-ST2", "store", "Москва", "Москва", 55.852, 37.487, 1.5),
    ("SPB-ST", "store", "Санкт-Петербург", "Санкт-Петербург", 59.939, 30.316, 1.5),
    ("PRM-ST", "store", "Пермь", "Пермский край", 58.010, 56.229, 1.5),
    ("UFA-ST", "store", "Уфа", "Башкортостан", 54.735, 55.959, 1.5),
    ("CHL-ST", "store", "Челябинск", "Челябинская область", 55.160, 61.403, 1.5),
    ("OMS-ST", "store", "Омск", "Омская область", 54.989, 73.369, 1.5),
    ("VOG-ST", "store", "Волгоград", "Волгоградская область", 48.708, 44.513, 1.5),
    ("TYU-ST", "store", "Тюмень", "Тюменская область", 57.153, 65.534, 1.5),
    ("IKT-ST", "store", "Иркутск", "Иркутская область", 52.287, 104.305, 1.5),
    ("VVO-ST", "store", "Владивосток", "Приморский край", 43.116, 131.882, 1.5),
    ("YAR-ST", "store", "Ярославль", "Ярославская область", 57.626, 39.894, 1.5),
    ("TUL-ST", "store", "Тула", "Тульская область", 54.193, 37.618, 1.5),
    ("SAR-ST", "store", "Саратов", "Саратовская область", 51.533, 46.034, 1.5),
    ("TOM-ST", "store", "Томск", "Томская область", 56.485, 84.948, 1.5),
    ("KGD-ST", "store", "Калининград", "Калининградская область", 54.710, 20.511, 1.5),
    ("STV-ST", "store", "Ставрополь", "Ставропольский край", 45.044, 41.969, 1.5),
    ("KIR-ST", "store", "Киров", "Кировская область", 58.603, 49.668, 1.5),
    ("BRN-ST", "store", "Барнаул", "Алтайский край", 53.347, 83.779, 1.5),
    ("ORB-ST", "store", "Оренбург", "Оренбургская область", 51.768, 55.097, 1.5),
]
HUBS = {"MSK-HUB", "EKB-HUB"}

# zone upper bounds in km (zone 1: the same region); then per carrier: fixed ₽, ₽ per kg by
# zone 1..5, days by zone 1..5
ZONE_KM = (None, 800.0, 2000.0, 4000.0, float("inf"))
POST = (160.0, (45.0, 70.0, 120.0, 170.0, 230.0), (2, 4, 6, 9, 13))
EXPRESS = (330.0, (30.0, 50.0, 85.0, 130.0, 180.0), (1, 2, 3, 5, 8))
TRUNK = (140.0, (25.0, 32.0, 40.0, 50.0, 65.0), (1, 2, 3, 4, 6))
TYPICAL_KG = 1.5  # the parcel a lane's carrier is chosen for
STORE_EXTRA_DAYS = 2


def _zone(origin_region: str, region: str, km: float) -> int:
    if origin_region == region:
        return 0
    return next(z for z in range(1, 5) if km < (ZONE_KM[z] or 0.0))


def zone_tariffs(cities: Sequence[tuple[str, str, int, float, float]]) -> TariffTable:
    """One tariff per site and destination region: the carrier cheapest for a typical parcel
    on that lane, at the site's fixed-fee factor."""
    region_point: dict[str, tuple[float, float]] = {}
    for _, region, _, lat, lon in cities:  # the biggest city names the region's point
        region_point.setdefault(region, (lat, lon))
    for _, _, _, region, lat, lon, _ in ZONE_SITES:
        region_point.setdefault(region, (lat, lon))
    tariffs = []
    for code, kind, _, origin_region, lat, lon, factor in ZONE_SITES:
        for region, point in region_point.items():
            zone = _zone(origin_region, region, distance_km((lat, lon), point))
            offers = [("post", POST), ("express", EXPRESS)]
            if code in HUBS:
                offers.append(("trunk", TRUNK))
            if kind == "store":
                offers = [("express", EXPRESS)]
            name, (fixed, per_kg, days) = min(
                offers, key=lambda o: o[1][0] * factor + o[1][1][zone] * TYPICAL_KG
            )
            tariffs.append(
                Tariff(
                    code,
                    Decimal(str(round(fixed * factor, 2))),
                    Decimal(str(per_kg[zone])),
                    Decimal("0"),
                    days[zone] + (STORE_EXTRA_DAYS if kind == "store" else 0),
                    region,
                    label=f"{name}, zone {zone + 1} to {region}",
                )
            )
    return TariffTable(tariffs, version="bench-zones-2026-03")


def zone_candidates() -> list[Candidate]:
    return [
        Candidate(WarehouseId(i + 1), code, city, 1 if kind == "warehouse" else 0, lat, lon,
                  kind=kind, region=region)
        for i, (code, kind, city, region, lat, lon, _) in enumerate(ZONE_SITES)
    ]  # fmt: skip


def zone_stock(
    candidates: Sequence[Candidate],
    cities: Sequence[tuple[str, str, int, float, float]],
    demand: np.ndarray,
    rng: np.random.Generator,
    *,
    cover: float = 1.2,
) -> dict[tuple[WarehouseId, ProductId], int]:
    """About ``cover`` times ``demand`` (units per SKU) in all: 37.5 % of it at the hubs (two
    thirds in Moscow), 54 % at the regional centres by the population nearest to each, the
    rest of the best sellers at the stores."""
    dcs = [c for c in candidates if c.kind == "warehouse" and c.code not in HUBS]
    hubs = [c for c in candidates if c.code in HUBS]
    stores = [c for c in candidates if c.kind == "store"]
    share = np.zeros(len(dcs))
    for city in cities:
        near = min(range(len(dcs)), key=lambda j, city=city: distance_km(
            (city[3], city[4]), (dcs[j].latitude, dcs[j].longitude)))  # fmt: skip
        share[near] += city[2]
    share /= share.sum()
    parts = [(c, 0.375 * cover * (2 / 3 if c.code == "MSK-HUB" else 1 / 3)) for c in hubs]
    parts += [(c, 0.54 * cover * float(s)) for c, s in zip(dcs, share, strict=True)]
    stock: dict[tuple[WarehouseId, ProductId], int] = {}
    for site, fraction in parts:
        units = rng.poisson(demand * fraction)
        for s in np.nonzero(units)[0]:
            stock[(site.warehouse_id, ProductId(int(s) + 1))] = int(units[s])
    top = np.argsort(-demand)[:300]
    for site in stores:
        units = rng.poisson(demand[top] * 0.085 * cover / len(stores))
        for s, q in zip(top, units, strict=True):
            if q:
                stock[(site.warehouse_id, ProductId(int(s) + 1))] = int(q)
    return stock


def promise(
    order_needs: tuple[Need, ...],
    dest: tuple[float, float],
    region: str,
    candidates: Sequence[Candidate],
    table: TariffTable,
    stock: dict[tuple[WarehouseId, ProductId], int],
    today: date,
    extra_days: int,
) -> date:
    """What the shop promised at checkout: the quickest centre holding every line at the
    start of the day (a day more when none did), plus ``extra_days``."""
    best: int | None = None
    fallback = 99
    for cand in candidates:
        if cand.kind != "warehouse":
            continue
        t = table.find(
            cand.code, km=distance_km(dest, (cand.latitude, cand.longitude)), region=region
        )
        if t is None:
            continue
        fallback = min(fallback, t.days + 1)
        if all(stock.get((cand.warehouse_id, n.product_id), 0) >= n.quantity for n in order_needs):
            best = t.days if best is None else min(best, t.days)
    return today + timedelta(days=(best if best is not None else fallback) + extra_days)


def zone_orders(
    n_orders: int,
    n_skus: int,
    rng: np.random.Generator,
    cities: Sequence[tuple[str, str, int, float, float]],
) -> tuple[
    list[tuple[int, tuple[float, float], tuple[Need, ...], str, bool, int]], np.ndarray, np.ndarray
]:
    """The day's stream: (city, point, lines, type, express, slack) per order, the demand per
    SKU, and the unit weights."""
    weights = np.clip(rng.lognormal(mean=-0.2, sigma=1.0, size=n_skus), 0.05, 30.0)
    popularity = 1.0 / (np.arange(n_skus) + 10.0) ** 1.1
    popularity /= popularity.sum()
    population = np.array([c[2] for c in cities], dtype=float)
    city_of = rng.choice(len(cities), size=n_orders, p=population / population.sum())
    line_counts = rng.choice([1, 2, 3], size=n_orders, p=[0.65, 0.25, 0.10])
    jitter = rng.normal(size=(n_orders, 2)) * 0.08
    kinds = rng.choice(["courier", "pickup", "marketplace"], size=n_orders, p=[0.7, 0.15, 0.15])
    express = (rng.random(n_orders) < 0.08) & (kinds == "courier")
    slack = rng.integers(1, 4, size=n_orders)
    demand = np.zeros(n_skus)
    raw = []
    for i in range(n_orders):
        c = cities[city_of[i]]
        dest = (c[3] + float(jitter[i, 0]), c[4] + float(jitter[i, 1]) * 1.6)
        skus = rng.choice(n_skus, size=line_counts[i], replace=False, p=popularity)
        qty = rng.choice([1, 2], size=line_counts[i], p=[0.85, 0.15])
        needs = tuple(
            Need(j + 1, ProductId(int(s) + 1), f"SKU-{int(s) + 1:05d}", int(q))
            for j, (s, q) in enumerate(zip(skus, qty, strict=True))
        )
        demand[skus] += qty
        raw.append((int(city_of[i]), dest, needs, str(kinds[i]), bool(express[i]), int(slack[i])))
    return raw, demand, weights


def zone_sourcing_orders(
    raw: Sequence[tuple[int, tuple[float, float], tuple[Need, ...], str, bool, int]],
    weights: np.ndarray,
    cities: Sequence[tuple[str, str, int, float, float]],
    candidates: Sequence[Candidate],
    table: TariffTable,
    stock: dict[tuple[WarehouseId, ProductId], int],
    today: date,
) -> list[SourcingOrder]:
    orders = []
    for i, (city_index, dest, needs, kind, express, slack) in enumerate(raw):
        region = cities[city_index][1]
        promised = promise(needs, dest, region, candidates, table, stock, today,
                           0 if express else slack)  # fmt: skip
        orders.append(
            SourcingOrder(
                needs, dest, region=region, order_type=kind, express=express, promised_on=promised,
                unit_weight_kg={n.product_id: float(weights[int(n.product_id) - 1]) for n in needs},
                reference=f"Z-{i + 1:06d}",
            )
        )  # fmt: skip
    return orders
