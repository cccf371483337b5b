"""The sandbox's year before its last fortnight, as a shop would have lived it: orders with
weekly and yearly seasons, a trend per product, promotion weeks, slow movers and stock-outs
(a supplier late now and then: what was asked for then was not sold), each order shipped
and delivered or cancelled, a few returned; and the stock ledger that went with them
(deliveries from suppliers, shipments, returns put back on the shelf).

Pure and seeded: the same seed and moment give the same year. ``potok.db.sandbox_history``
writes it in bulk; the reports' read model is then rebuilt from it as from any history.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from potok.sandbox import data

RATE = 15.0
"""Orders a day on an ordinary weekday of an ordinary month, all channels together (the
fortnight the sandbox places through the use cases runs at about the same pace)."""
WEEKLY = (0.95, 0.92, 0.95, 1.0, 1.1, 1.2, 0.88)  # Monday .. Sunday
PROMOTIONS = ((3, 1), (5, 20), (9, 1), (11, 11), (11, 25))
"""(month, day) each promotion week starts: before 8 March, a spring sale, back to school,
11.11, Black Friday. Eight products on promotion sell about three times their usual."""
LINE_COUNTS = ((1, 52), (2, 28), (3, 14), (4, 6))
CANCEL_SHARE = 0.05
RETURN_SHARE = 0.04
LATE_SUPPLIER = 0.1
"""Share of supplier deliveries that come a week or more late: the stock-outs."""
NEAR = ("MSK-1", "SPB-1")
"""The warehouses whose customers mostly live in the same city: parcels arrive sooner."""
PICKERS = ("kuznetsov", "morozova", "volkov", "orlova")
CANCEL_REASONS = ("the customer changed their mind", "duplicate order", "price changed")
RETURN_REASONS = ("wrong_size", "defective", "changed_mind", "not_as_described")
SUPPLIERS = ("ООО «Техноимпорт»", "АО «Дом и быт»", "ООО «Детский мир опт»")
_EXCLUDED = data.MARKED | data.WITH_IMEI | data.WITH_UIN
"""Goods whose units carry codes scanned at packing: they are sold in the fortnight only."""


@dataclass(frozen=True, slots=True)
class PastLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class PastReturn:
    """One unit of the first line came back, was put back on the shelf and refunded."""

    reason: str
    requested_at: datetime
    received_at: datetime
    closed_at: datetime


@dataclass(slots=True)
class PastOrder:
    channel: str
    external_id: str
    created_at: datetime
    warehouse: str  # the one that shipped it
    lines: list[PastLine]
    customer: tuple[str, str, str]  # name, phone, e-mail
    city: tuple[str, str, float, float, str] | None  # city, region, lat, lon, street
    pickup_point: str | None
    delivery_price: Decimal
    promised_at: datetime
    confirmed_at: datetime
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    picker: str = ""
    picked_at: datetime | None = None
    packed_at: datetime | None = None
    handed_over_at: datetime | None = None
    delivered_at: datetime | None = None
    shipping_cost: Decimal | None = None
    shipping_estimate: Decimal | None = None
    returned: PastReturn | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def parcel_group(self) -> str:
        """Heavy goods travel alone: an order with them has only them."""
        return data.parcel_group_of(self.lines[0].sku) if self.lines else ""


@dataclass(frozen=True, slots=True)
class PastMove:
    """A change of on-hand units (and of the unavailable bucket) at one position."""

    warehouse: str
    sku: str
    at: datetime
    type: str
    quantity: int
    reason: str
    reference: str
    unavailable_change: int = 0


@dataclass
class PastYear:
    orders: list[PastOrder] = field(default_factory=list)
    moves: list[PastMove] = field(default_factory=list)
    lost_units: int = 0  # asked for on days the shelf was empty: not sold, not recorded
    promotions: dict[date, list[str]] = field(default_factory=dict)  # first day: the SKUs

    def closing(self) -> dict[tuple[str, str], int]:
        """On hand per (warehouse, SKU) once every move is made."""
        found: dict[tuple[str, str], int] = defaultdict(int)
        for move in self.moves:
            found[move.warehouse, move.sku] += move.quantity
        return dict(found)


@dataclass
class _Product:
    sku: str
    name: str
    price: Decimal
    vat: Decimal
    share: float  # of the lines, on an ordinary day
    amplitude: float  # of its yearly season
    phase: float
    trend: float  # change over the year, as a fraction
    heavy: bool


@dataclass
class _Position:
    on_hand: int = 0  # as the shop sees it: less what orders took and not yet shipped
    ordered: int = 0  # on the way from the supplier
    rate: float = 0.0  # units a day it expects to sell


def past_year(
    first: date, last: date, *, until: datetime, seed: int = 7, rate: float = RATE
) -> PastYear:
    """Every day from ``first`` to ``last``: the orders placed, worked and delivered (the
    last ones' deliveries may fall after ``last``), and the stock they moved - every move
    before ``until`` (a return that would reach the warehouse later is not made)."""
    rng = random.Random(seed)
    products = _catalogue(rng)
    centres = [w.code for w in data.NETWORK if w.type is data.W]
    nearest = {city[0]: _nearest(city, centres) for city in data.CITIES}
    promoted = {start: rng.sample(sorted(products), 8) for start in _promotion_days(first, last)}
    year = PastYear(promotions=promoted)
    positions = _opening_stock(rng, products, centres, first, year, rate)
    arriving: dict[date, list[tuple[str, str, int, str]]] = defaultdict(list)
    numbers = itertools.count(1)
    days = (last - first).days + 1
    for index in range(days):
        day = first + timedelta(days=index)
        for warehouse, sku, units, number in arriving.pop(day, []):
            positions[warehouse, sku].on_hand += units
            positions[warehouse, sku].ordered -= units
            at = datetime.combine(day, time(5, rng.randint(0, 59)), UTC)  # before any order
            year.moves.append(
                PastMove(warehouse, sku, at, "receipt", units, "supplier delivery", number)
            )
        for start, promoted_skus in promoted.items():
            if (start - day).days == 2:  # two more weeks' worth for a promotion's week
                _stock_up(rng, day, positions, promoted_skus, year, next(numbers))
        on_promotion = {
            sku for start, skus in promoted.items() if 0 <= (day - start).days < 7 for sku in skus
        }
        level = _level(day, first, days, rate)
        weights = [
            p.share * _season(p, day, first, days) * (3.0 if p.sku in on_promotion else 1.0)
            for p in products.values()
        ]
        skus = list(products)
        for _ in range(_poisson(rng, level)):
            order = _order(rng, day, products, skus, weights, nearest, numbers)
            if not _take(order, positions, year):
                continue
            _work(rng, order, until)
            if order.cancelled_at is not None:  # what it took goes back on the shelf
                for line in order.lines:
                    positions[order.warehouse, line.sku].on_hand += line.quantity
            year.orders.append(order)
            _move_stock(order, year)
        _replenish(rng, day, positions, arriving, numbers)
    year.moves.sort(key=lambda m: m.at)
    return year


def _catalogue(rng: random.Random) -> dict[str, _Product]:
    """The plain products with their popularity: a few sell most, a quarter hardly at all."""
    found = {}
    for sku, name, price, vat, _weight, _code in data.products():
        if sku.split("-", 1)[0] in _EXCLUDED:
            continue
        slow = rng.random() < 0.25
        share = rng.uniform(0.02, 0.12) if slow else rng.lognormvariate(0.0, 0.8)
        found[sku] = _Product(
            sku,
            name,
            price,
            vat,
            share,
            rng.uniform(0.0, 0.45),
            rng.uniform(0.0, 2 * math.pi),
            rng.uniform(-0.3, 0.5),
            data.parcel_group_of(sku) == "heavy",
        )
    return found


def _promotion_days(first: date, last: date) -> list[date]:
    found = []
    for year in (first.year, last.year):
        for month, day in PROMOTIONS:
            start = date(year, month, day)
            if first <= start <= last - timedelta(days=6) and start not in found:
                found.append(start)
    return found


def _level(day: date, first: date, days: int, rate: float) -> float:
    """Orders expected on the day: the weekday, the year's season (December and the
    pre-holiday weeks high, the summer low) and a slow growth of the shop."""
    weekday = WEEKLY[day.weekday()]
    season = 1 + 0.22 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 350) / 365)
    growth = 0.85 + 0.25 * (day - first).days / max(days, 1)
    return rate * weekday * season * growth


def _season(product: _Product, day: date, first: date, days: int) -> float:
    yearly = 1 + product.amplitude * math.sin(
        2 * math.pi * day.timetuple().tm_yday / 365 + product.phase
    )
    return yearly * (1 + product.trend * (day - first).days / max(days, 1))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's count of arrivals (means of a few dozen: fine)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _nearest(city: tuple[str, str, float, float, int, tuple[str, ...]], centres: list[str]) -> str:
    where = {w.code: (w.latitude, w.longitude) for w in data.NETWORK}
    _, _, lat, lon, _, _ = city
    return min(centres, key=lambda c: (where[c][0] - lat) ** 2 + (where[c][1] - lon) ** 2)


def _order(
    rng: random.Random,
    day: date,
    products: dict[str, _Product],
    skus: list[str],
    weights: list[float],
    nearest: dict[str, str],
    numbers: Iterator[int],
) -> PastOrder:
    n = next(numbers)
    channel = rng.choices(["web", "ozon", "app", "pos"], weights=[45, 30, 15, 10])[0]
    created = datetime.combine(day, time(6), UTC) + timedelta(seconds=rng.randint(0, 15 * 3600))
    first_name = rng.choice(data.FIRST_NAMES)
    last_name = rng.choice(data.LAST_NAMES)
    if first_name.endswith(("а", "я")):
        last_name += "а"
    phone = (
        f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
        f"{rng.randint(10, 99)}"
    )
    customer = (f"{first_name} {last_name}", phone, f"client{n:05d}@example.ru")
    count = rng.choices([c for c, _ in LINE_COUNTS], weights=[w for _, w in LINE_COUNTS])[0]
    chosen: list[str] = []
    for sku in rng.choices(skus, weights=weights, k=count):
        if sku not in chosen:
            chosen.append(sku)
    if any(products[s].heavy for s in chosen):  # heavy goods travel alone
        chosen = [next(s for s in chosen if products[s].heavy)]
    lines = [
        PastLine(
            sku,
            products[sku].name,
            rng.choices([1, 2, 3], weights=[78, 17, 5])[0],
            products[sku].price,
            products[sku].vat,
        )
        for sku in chosen
    ]
    city_row = rng.choices(data.CITIES, weights=[c[4] for c in data.CITIES])[0]
    street = f"{rng.choice(city_row[5])}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}"
    city = (city_row[0], city_row[1], city_row[2], city_row[3], street)
    if channel == "pos":
        store = rng.choice(data.STORES)
        external = f"POS-{store}-H{n:06d}"
        return PastOrder(
            channel, external, created, store, lines, customer, None, store, Decimal("0.00"),
            created + timedelta(hours=2), created + timedelta(minutes=rng.randint(1, 20)),
        )  # fmt: skip
    external = {"web": f"SHOP-H{n:06d}", "ozon": f"OZ-H{n:08d}-1", "app": f"APP-H{n:06d}"}[channel]
    pickup = None
    if channel != "ozon" and rng.random() < 0.3:
        pickup = rng.choice([w.code for w in data.NETWORK if w.type is data.P])
    warehouse = nearest[city[0]]
    days = 3 if warehouse in NEAR else 5  # the shop's promise: the capitals are nearer
    confirm = timedelta(seconds=rng.randint(5, 90) if channel != "app" else rng.randint(60, 1500))
    return PastOrder(
        channel,
        external,
        created,
        warehouse,
        lines,
        customer,
        None if pickup else city,
        pickup,
        Decimal(rng.choice(["0", "299", "399"])) if pickup is None else Decimal("0"),
        datetime.combine(day + timedelta(days=days), time(20), UTC),
        created + confirm,
    )


def _take(order: PastOrder, positions: dict[tuple[str, str], _Position], year: PastYear) -> bool:
    """Take the order's units from its warehouse's shelf; a line the shelf cannot cover is
    not sold (the shop showed it out of stock). False: nothing of the order could be sold."""
    kept = []
    for line in order.lines:
        position = positions.get((order.warehouse, line.sku))
        if position is None or position.on_hand < line.quantity:
            year.lost_units += line.quantity
            continue
        position.on_hand -= line.quantity
        kept.append(line)
    order.lines = kept
    return bool(kept)


def _work(rng: random.Random, order: PastOrder, until: datetime) -> None:
    """What happened to the order: cancelled before picking, or picked the next morning
    (a store at once), packed, handed over in the afternoon and delivered; now and then
    returned (if that was over before ``until``)."""
    day = order.created_at.date()
    if order.channel != "pos" and rng.random() < CANCEL_SHARE:
        order.cancelled_at = order.confirmed_at + timedelta(minutes=rng.randint(10, 600))
        order.cancel_reason = rng.choice(CANCEL_REASONS)
        return
    order.picker = rng.choice(PICKERS)
    if order.channel == "pos":
        order.picked_at = order.confirmed_at + timedelta(minutes=rng.randint(3, 25))
        order.packed_at = order.picked_at + timedelta(minutes=rng.randint(2, 10))
        order.handed_over_at = order.packed_at + timedelta(minutes=rng.randint(5, 60))
        order.delivered_at = order.handed_over_at
        return
    next_day = day + timedelta(days=1)
    morning = datetime.combine(next_day, time(7), UTC)
    order.picked_at = morning + timedelta(minutes=rng.randint(10, 180))
    order.packed_at = order.picked_at + timedelta(minutes=rng.randint(20, 150))
    order.handed_over_at = datetime.combine(next_day, time(15), UTC) + timedelta(
        minutes=rng.randint(0, 90)
    )
    near = order.warehouse in NEAR
    transit = rng.choices(
        [1, 2, 3, 4, 5, 7], weights=[45, 35, 12, 5, 3, 0] if near else [0, 25, 35, 22, 10, 8]
    )[0]
    order.delivered_at = order.handed_over_at + timedelta(days=transit, hours=rng.randint(-4, 4))
    weight = sum(line.quantity for line in order.lines)
    estimate = Decimal(300 + 35 * weight + (0 if order.warehouse == "MSK-1" else 80))
    order.shipping_estimate = estimate
    order.shipping_cost = (estimate * Decimal(str(rng.uniform(0.9, 1.2)))).quantize(Decimal("0.01"))
    if rng.random() < RETURN_SHARE:
        requested = order.delivered_at + timedelta(days=rng.randint(1, 10))
        received = requested + timedelta(days=rng.randint(2, 6))
        if received + timedelta(days=1) < until:
            order.returned = PastReturn(
                rng.choice(RETURN_REASONS), requested, received, received + timedelta(days=1)
            )


def _move_stock(order: PastOrder, year: PastYear) -> None:
    """The ledger's side: units out at the hand-over, a returned unit in and released."""
    if order.handed_over_at is None:
        return  # cancelled before picking: the ledger saw nothing
    for line in order.lines:
        year.moves.append(
            PastMove(
                order.warehouse,
                line.sku,
                order.handed_over_at,
                "shipment",
                -line.quantity,
                "handed over",
                order.external_id,
            )
        )
    back = order.returned
    if back is not None:
        sku = order.lines[0].sku
        reference = order.external_id
        year.moves.append(
            PastMove(order.warehouse, sku, back.received_at, "customer_return", 1,
                     "customer return", reference, 1)
        )  # fmt: skip
        year.moves.append(
            PastMove(order.warehouse, sku, back.closed_at, "release", 0,
                     "inspected: back on the shelf", reference, -1)
        )  # fmt: skip


def _opening_stock(
    rng: random.Random,
    products: dict[str, _Product],
    centres: list[str],
    first: date,
    year: PastYear,
    rate: float,
) -> dict[tuple[str, str], _Position]:
    """Each position's expected daily sales, and a first delivery of about five weeks."""
    total = sum(p.share for p in products.values())
    lines_per_order = sum(c * w for c, w in LINE_COUNTS) / sum(w for _, w in LINE_COUNTS)
    city_weight = {c[0]: c[4] for c in data.CITIES}
    nearest_share: dict[str, float] = defaultdict(float)
    for city in data.CITIES:
        nearest_share[_nearest(city, centres)] += city_weight[city[0]]
    weights_sum = sum(nearest_share.values())
    online = rate * 0.9 * lines_per_order * 1.3
    positions: dict[tuple[str, str], _Position] = {}
    at = datetime.combine(first, time(5), UTC)
    for sku, product in products.items():
        for code in (*centres, *data.STORES):
            share = (
                nearest_share[code] / weights_sum * online
                if code in centres
                else 0.1 * rate * lines_per_order * 1.3 / len(data.STORES)
            )
            daily = share * product.share / total
            units = max(3, round(daily * rng.uniform(28, 42)))
            positions[code, sku] = _Position(units, 0, daily)
            year.moves.append(
                PastMove(code, sku, at, "receipt", units, "supplier delivery", "PO-H000000")
            )
    return positions


def _stock_up(
    rng: random.Random,
    day: date,
    positions: dict[tuple[str, str], _Position],
    skus: list[str],
    year: PastYear,
    number: int,
) -> None:
    """The products of a coming promotion get a delivery of two more weeks' sales."""
    at = datetime.combine(day, time(5, rng.randint(0, 59)), UTC)
    for (warehouse, sku), position in positions.items():
        if sku in skus:
            units = max(2, round(position.rate * 14))
            position.on_hand += units
            year.moves.append(
                PastMove(
                    warehouse, sku, at, "receipt", units, "promotion stock", f"PO-H{number:06d}"
                )
            )


def _replenish(
    rng: random.Random,
    day: date,
    positions: dict[tuple[str, str], _Position],
    arriving: dict[date, list[tuple[str, str, int, str]]],
    numbers: Iterator[int],
) -> None:
    """At each day's end, a position at or below its reorder point orders up to a month's
    worth from the supplier; most deliveries come in a week, some much later."""
    for (warehouse, sku), position in positions.items():
        lead = 7
        point = position.rate * (lead + 4) + 1
        if position.on_hand + position.ordered > point:
            continue
        units = max(2, round(position.rate * rng.uniform(30, 40)))
        late = rng.random() < LATE_SUPPLIER
        days = rng.randint(5, 9) + (rng.randint(8, 20) if late else 0)
        number = f"PO-H{next(numbers):06d}"
        position.ordered += units
        arriving[day + timedelta(days=days)].append((warehouse, sku, units, number))
