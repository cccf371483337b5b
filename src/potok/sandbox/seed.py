"""Fill an empty database with the sandbox: network, channels, catalogue, stock and a few
hundred orders in assorted states, all made through the same use cases the API calls.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from potok.bootstrap import Potok
from potok.domain.catalogue import ProductDraft
from potok.domain.errors import PotokError
from potok.domain.inventory import MovementType
from potok.domain.inventory.commands import LevelRow, ReceiveStock, SetLevels
from potok.domain.inventory.lots import LotInput
from potok.domain.inventory.replenishment import SetStockRule
from potok.domain.kernel import Actor, ActorKind, Tracking, utc_now
from potok.domain.orders import Address, DeliveryMethod, HoldType, OrderState, PaymentStatus
from potok.domain.orders.commands import (
    CancelOrder,
    ConfirmOrder,
    DeliveryRequest,
    LineRequest,
    PlaceHold,
    PlaceOrder,
    RecordPayment,
    ReleaseHold,
)
from potok.domain.orders.errors import NetworkCannotCover
from potok.sandbox import data, legal
from potok.sandbox.fulfilment import work_the_warehouses
from potok.sandbox.returns import take_back
from potok.services import catalogue, intake, inventory, replenishment, reports, sourcing
from potok.services import orders as order_service
from potok.services.orders import expire_unpaid_orders

SCARCE_SHARE = 0.07
"""Share of the catalogue kept nearly out of stock, so that some orders wait for it."""


@dataclass
class SeedReport:
    channels: int = 0
    warehouses: int = 0
    products: int = 0
    stock_rows: int = 0
    rules: int = 0
    tariffs: int = 0
    orders: int = 0
    refused: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    shipments: Counter[str] = field(default_factory=Counter)
    returns: Counter[str] = field(default_factory=Counter)
    history: History | None = None  # the year before the fortnight, when one was made


@dataclass(frozen=True, slots=True)
class History:
    """The past year the sandbox was given: from and to which day, what it holds."""

    first: date
    last: date
    orders: int
    cancelled: int
    returned: int
    moves: int


class _Clock:
    """A clock the seed moves through the past, so orders have a believable timeline."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def has_data(potok: Potok) -> bool:
    with potok.uow().read() as uow:
        return bool(uow.channels.list())


def seed(
    potok: Potok,
    *,
    orders: int = 300,
    seed: int = 7,
    now: datetime | None = None,
    history_days: int = 0,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Create the sandbox; ``progress`` is told of every order placed. ``history_days``:
    the days up to now that get a past (those before the fortnight of placed orders)."""
    rng = random.Random(seed)
    now = now or utc_now()
    start = now - timedelta(days=14)
    # the network and catalogue exist before the past year; the stock counted, the rules
    # and tariffs set just before the fortnight (without a past: the day before it)
    setup = start - (timedelta(hours=2) if history_days else timedelta(days=1))
    clock = _Clock(now - timedelta(days=history_days + 1) if history_days else setup)
    admin = Actor(ActorKind.SYSTEM, "sandbox")
    report = SeedReport()

    for channel in data.CHANNELS:
        catalogue.create_channel(potok.uow(), channel, clock=clock)
        report.channels += 1
    for warehouse in data.NETWORK:
        catalogue.create_warehouse(potok.uow(), warehouse, clock=clock)
        report.warehouses += 1
    products = data.products()
    for sku, name, price, vat, weight, code in products:
        draft = ProductDraft(
            sku,
            name,
            price,
            vat,
            code,
            weight,
            unit_identifiers=data.identifiers_of(sku),
            parcel_group=data.parcel_group_of(sku),
        )
        catalogue.create_product(potok.uow(), draft, clock=clock)
        report.products += 1

    past: set[tuple[str, str]] = set()
    if history_days:
        report.history, past = _past(potok, now, history_days, setup, seed)
    clock.moment = setup
    skus = [p[0] for p in products]
    scarce = set(rng.sample(skus, max(1, int(len(skus) * SCARCE_SHARE))))
    report.stock_rows = _stock(potok, rng, skus, scarce, clock, admin, past)
    report.products += _lots_and_serials(potok, now, clock, admin)
    depth = [p[0] for p in data.LOT_TRACKED] + [p[0] for p in data.SERIALISED]
    report.rules = _rules(potok, random.Random(seed + 1), skus, scarce, clock, admin)
    tariffs = sourcing.import_tariffs(
        potok.uow(), data.tariffs_csv(), admin, source="sandbox", clock=clock
    )
    report.tariffs = tariffs.tariffs

    operators = [Actor(ActorKind.USER, name) for name in ("ivanova", "petrov", "sidorova")]
    step = (now - start) / max(orders, 1)
    placed: list[int] = []
    times: list[tuple[int, datetime]] = []
    for index in range(orders):
        clock.moment = start + step * index + timedelta(seconds=rng.randint(0, 600))
        # every twentieth order buys goods kept by lot or by serial number
        command = _order(rng, index, depth if index % 20 == 19 else skus, scarce)
        try:
            result = intake.place_order(
                potok.uow(), command, _channel_actor(command.channel), clock=clock
            )
        except NetworkCannotCover:
            report.refused += 1
            continue
        assert isinstance(result, intake.Placement)
        assert result.order.id is not None
        placed.append(result.order.id)
        times.append((result.order.id, clock.moment))
        _follow_up(potok, rng, result.order.id, command, clock, rng.choice(operators))
        if progress:
            progress(index + 1)
    report.orders = len(placed)

    # the warehouses at work: waves, picking, packing, the sandbox carrier's parcels
    report.shipments = work_the_warehouses(
        potok, random.Random(seed + 2), times, now, lambda moment: _Clock(moment)
    )

    # a delivery of some scarce goods arrives: a few backorders are served
    clock.moment = now - timedelta(hours=3)
    for sku in sorted(scarce)[:2]:
        inventory.receive_stock(
            potok.uow(),
            ReceiveStock("MSK-1", sku, 3, "supplier delivery", "PO-SANDBOX-1"),
            admin,
            clock=clock,
        )
    # support at work: delivered orders come back in every state of a return
    clock.moment = now - timedelta(hours=2)
    report.returns, replacements = take_back(potok, placed, clock)
    placed += replacements
    clock.moment = now
    expire_unpaid_orders(potok.uow(), clock=clock, limit=10_000)
    legal.register(potok, placed, random.Random(seed + 2), clock, admin)

    if report.history is not None:  # the reports show the fortnight beside its past at once
        reports.refresh_order_facts(potok.uow(), placed, clock=clock)
    with potok.uow().read() as uow:
        for order_id in placed:
            order = uow.orders.get(order_id)
            if order is not None:
                report.statuses[order.status.value] += 1
    return report


def _past(
    potok: Potok, now: datetime, days: int, setup: datetime, seed: int
) -> tuple[History, set[tuple[str, str]]]:
    """The year before the fortnight written in bulk, every move before ``setup``; the
    reports' read model rebuilt from it. Returns it and the positions it stocked."""
    from potok.db.sandbox_history import write_year
    from potok.sandbox.history import past_year

    first = (now - timedelta(days=days - 1)).date()
    last = (setup - timedelta(days=1, hours=17)).date()  # its hand-overs before ``setup``
    year = past_year(first, last, until=setup, seed=seed + 3)
    write_year(potok.engine, potok.protector, year)
    reports.rebuild_order_facts(potok.uow(), batch=2000)
    closing = year.closing()
    return History(
        first,
        last,
        len(year.orders),
        sum(1 for o in year.orders if o.cancelled_at is not None),
        sum(1 for o in year.orders if o.returned is not None),
        len(year.moves),
    ), set(closing)


def _lots_and_serials(potok: Potok, now: datetime, clock: _Clock, actor: Actor) -> int:
    """Groceries and cosmetics kept by lot (one lot nearly expired), and serialised
    electronics with their serial numbers."""
    today = now.date()
    for sku, name, price, vat, weight, lots in data.LOT_TRACKED:
        draft = ProductDraft(
            sku, name, Decimal(price), Decimal(vat), None, weight, tracking=Tracking.LOT
        )
        catalogue.create_product(potok.uow(), draft, clock=clock)
        for number, produced_ago, expires_in, places in lots:
            lot = LotInput(
                number, today - timedelta(days=produced_ago), today + timedelta(days=expires_in)
            )
            for warehouse, units in places.items():
                inventory.receive_stock(
                    potok.uow(),
                    ReceiveStock(warehouse, sku, units, "supplier delivery", lot=lot),
                    actor,
                    clock=clock,
                )
    for sku, name, price, vat, weight, places in data.SERIALISED:
        draft = ProductDraft(
            sku, name, Decimal(price), Decimal(vat), None, weight, tracking=Tracking.SERIAL
        )
        catalogue.create_product(potok.uow(), draft, clock=clock)
        made = 0
        for warehouse, units in places.items():
            serials = tuple(f"{sku[:3]}{2611000 + made + n:08d}" for n in range(units))
            made += units
            inventory.receive_stock(
                potok.uow(),
                ReceiveStock(warehouse, sku, units, "supplier delivery", serials=serials),
                actor,
                clock=clock,
            )
    return len(data.LOT_TRACKED) + len(data.SERIALISED)


def _channel_actor(channel: str) -> Actor:
    return Actor(ActorKind.API_KEY, f"{channel}-integration")


def _stock(
    potok: Potok,
    rng: random.Random,
    skus: list[str],
    scarce: set[str],
    clock: _Clock,
    actor: Actor,
    past: set[tuple[str, str]],
) -> int:
    """The stock counted at the start of the fortnight: a position the past year stocked
    and the sandbox leaves out is counted empty."""
    rows: list[LevelRow] = []
    for warehouse in data.NETWORK:
        if warehouse.type is data.P:
            continue
        store = warehouse.type is data.S
        for sku in skus:
            if sku in scarce:
                quantity = rng.choice([0, 0, 0, 1, 2]) if not store else 0
            elif store:
                quantity = rng.choice([0, 0, 2, 4, 6, 10])
            else:
                quantity = rng.randint(0, 5) if rng.random() < 0.15 else rng.randint(15, 180)
            if quantity or rng.random() < 0.3 or (warehouse.code, sku) in past:
                rows.append(LevelRow(warehouse.code, sku, quantity))
    reference = "stock count" if past else "initial stock"
    inventory.set_levels(
        potok.uow(),
        SetLevels(rows, source="sandbox", reference=reference, movement=MovementType.IMPORT),
        actor,
        clock=clock,
    )
    return len(rows)


def _rules(
    potok: Potok,
    rng: random.Random,
    skus: list[str],
    scarce: set[str],
    clock: _Clock,
    actor: Actor,
) -> int:
    """Min/max rules at the distribution centres: every scarce SKU and a sample of the others,
    so that the replenishment report has something to say."""
    watched = sorted(scarce) + rng.sample(sorted(set(skus) - scarce), min(24, len(skus) // 4))
    rows = [
        SetStockRule(
            warehouse.code,
            sku,
            *((10, 40, 2) if sku in scarce else (rng.choice([20, 30, 40]), 150, 3)),
        )
        for warehouse in data.NETWORK
        if warehouse.type is data.W
        for sku in watched
    ]
    replenishment.import_rules(potok.uow(), rows, actor, clock=clock)
    return len(rows)


def _order(rng: random.Random, index: int, skus: list[str], scarce: set[str]) -> PlaceOrder:
    channel = rng.choices(["web", "ozon", "app", "pos"], weights=[45, 30, 15, 10])[0]
    first = rng.choice(data.FIRST_NAMES)
    last = rng.choice(data.LAST_NAMES)
    if first.endswith("а") or first.endswith("я"):
        last += "а"
    phone = (
        f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
        f"{rng.randint(10, 99)}"
    )
    email = f"user{index + 1:04d}@example.ru"
    count = rng.choices([1, 2, 3, 4], weights=[45, 30, 17, 8])[0]
    chosen = rng.sample(skus, count)
    if rng.random() < 0.08:
        chosen[0] = rng.choice(sorted(scarce))
    lines = [LineRequest(sku, rng.choices([1, 2, 3], weights=[75, 18, 7])[0]) for sku in chosen]

    if channel == "pos":
        store = rng.choice([w for w in data.NETWORK if w.type is data.S])
        delivery = DeliveryRequest(DeliveryMethod.PICKUP, pickup_point=store.code)
        external = f"POS-{store.code}-{index + 1:05d}"
        payment = PaymentStatus.PAID
    else:
        if channel != "ozon" and rng.random() < 0.3:
            point = rng.choice([w for w in data.NETWORK if w.type is not data.W])
            delivery = DeliveryRequest(DeliveryMethod.PICKUP, pickup_point=point.code)
        else:
            delivery = DeliveryRequest(
                DeliveryMethod.COURIER,
                address=_address(rng),
                price=Decimal(rng.choice(["0", "299", "399"])),
                vat_rate=Decimal("22"),
            )
        external = {
            "web": f"SHOP-{100000 + index}",
            "ozon": f"{rng.randint(10_000_000, 99_999_999)}-{rng.randint(1, 9999):04d}-1",
            "app": f"APP-{500000 + index}",
        }[channel]
        paid_share = {"web": 0.6, "ozon": 1.0, "app": 0.5}[channel]
        payment = PaymentStatus.PAID if rng.random() < paid_share else PaymentStatus.PENDING
    return PlaceOrder(
        channel=channel,
        currency="RUB",
        external_id=external,
        lines=lines,
        delivery=delivery,
        customer_name=f"{first} {last}",
        customer_phone=phone,
        customer_email=email,
        priority=rng.choices([0, 3, 7], weights=[85, 12, 3])[0],
        payment_status=payment,
        comment=rng.choice(["", "", "", "Позвонить за час до доставки", "Домофон не работает"]),
    )


def _address(rng: random.Random) -> Address:
    city, region, lat, lon, _, streets = rng.choices(
        data.CITIES, weights=[c[4] for c in data.CITIES]
    )[0]
    return Address(
        city=city,
        line1=f"{rng.choice(streets)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}",
        region=region,
        postal_code=f"{rng.randint(100000, 699999)}",
        latitude=round(lat + rng.uniform(-0.08, 0.08), 5),
        longitude=round(lon + rng.uniform(-0.12, 0.12), 5),
    )


def _follow_up(
    potok: Potok,
    rng: random.Random,
    order_id: int,
    command: PlaceOrder,
    clock: _Clock,
    operator: Actor,
) -> None:
    """What happens to an order after intake: payment, an operator's confirmation, a hold,
    a cancellation."""
    start = clock.moment
    try:
        if command.payment_status is PaymentStatus.PENDING and rng.random() < 0.75:
            clock.moment = start + timedelta(minutes=rng.randint(2, 25))
            order_service.record_payment(
                potok.uow(),
                RecordPayment(order_id, PaymentStatus.PAID, "card payment"),
                _channel_actor(command.channel),
                clock=clock,
            )
        view = order_service.get_order(potok.uow(), order_id)
        if view.order.state is OrderState.NEW and command.channel == "pos" and rng.random() < 0.7:
            clock.moment = start + timedelta(minutes=rng.randint(1, 30))
            order_service.confirm_order(
                potok.uow(), ConfirmOrder(order_id, "checked"), operator, clock=clock
            )
        roll = rng.random()
        if roll < 0.07:
            clock.moment = start + timedelta(hours=rng.randint(1, 20))
            order_service.cancel_order(
                potok.uow(),
                CancelOrder(
                    order_id,
                    rng.choice(
                        ["the customer changed their mind", "duplicate order", "price changed"]
                    ),
                ),
                operator,
                clock=clock,
            )
        elif roll < 0.12:
            clock.moment = start + timedelta(minutes=rng.randint(5, 90))
            hold_type = rng.choice([HoldType.FRAUD, HoldType.ADDRESS, HoldType.MANUAL])
            _, hold = order_service.place_hold(
                potok.uow(),
                PlaceHold(
                    order_id,
                    hold_type,
                    {
                        HoldType.FRAUD: "unusual order for this customer",
                        HoldType.ADDRESS: "the address needs a call to confirm",
                        HoldType.MANUAL: "customer asked to wait",
                    }[hold_type],
                ),
                operator,
                clock=clock,
            )
            if rng.random() < 0.5:
                clock.moment += timedelta(hours=rng.randint(1, 6))
                order_service.release_hold(
                    potok.uow(),
                    ReleaseHold(order_id, hold.hold_no, "checked"),
                    operator,
                    clock=clock,
                )
    except PotokError:
        pass  # an action the order's state no longer allows: the sandbox simply moves on
    finally:
        clock.moment = start
