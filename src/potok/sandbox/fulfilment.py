"""The sandbox's warehouses at work: every morning a wave per warehouse, picked by scans
(a shelf found short now and then), packed with the codes marked goods need, handed over
to the sandbox carrier in the afternoon; then the carrier's events up to now. Orders end up
in every stage: reserved, in fulfilment, partially shipped, shipped (in transit, at a pickup
point), delivered, failed delivery and back to the sender.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from potok.bootstrap import Potok
from potok.domain.errors import PotokError
from potok.domain.fulfilment import (
    ParcelDraft,
    ParcelLine,
    Shipment,
    ShipmentStatus,
    UnitIdentifier,
)
from potok.domain.fulfilment.identifiers import GS, gtin14, luhn_check_digit
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseType
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput, ShortPick

SHORT_SHARE = 0.02
"""Share of wave lines a picker finds a unit short of."""
PICKERS = ("kuznetsov", "morozova", "volkov")
CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"


def work_the_warehouses(
    potok: Potok,
    rng: random.Random,
    placed: Sequence[tuple[int, datetime]],
    now: datetime,
    clock: Callable[[datetime], Callable[[], datetime]],
) -> Counter[str]:
    """Run the warehouses from the first order to ``now``; returns shipments by status.
    ``clock(moment)`` gives a clock standing at that moment."""
    if not placed:
        return Counter()
    first = min(at for _, at in placed)
    days = (now - first).days + 1
    for back in range(days, -1, -1):  # mornings at the same time of day as now, a day apart
        morning = now - timedelta(days=back, hours=5)
        if first < morning < now:
            # on the last day whose parcels leave, one shelf is surely found short: its order
            # ships what it has and waits for the rest (partially shipped)
            _day(potok, rng, morning, now, clock, short_for_sure=back == 1)
    at_now = clock(now)
    tracking.poll_carriers(potok.uow(), potok.carriers, clock=at_now)
    tracking.expire_pickups(potok.uow(), clock=at_now, limit=10_000)
    return shipment_statuses(potok, [order_id for order_id, _ in placed])


def shipment_statuses(potok: Potok, orders: Sequence[int]) -> Counter[str]:
    """The shipments of these orders by status, read per order (not the past year's
    thousands of shipments, when the sandbox has one)."""
    statuses: Counter[str] = Counter()
    with potok.uow().read() as uow:
        for order_id in orders:
            statuses.update(s.value for s in uow.shipments.statuses(order_id).values())
    return statuses


def _day(
    potok: Potok,
    rng: random.Random,
    morning: datetime,
    now: datetime,
    clock: Callable[[datetime], Callable[[], datetime]],
    *,
    short_for_sure: bool = False,
) -> None:
    """One working day: first a wave per warehouse of the orders placed before the cut-off,
    then each picked, packed and (mostly) handed over; what a short shelf re-sources to
    another warehouse waits for tomorrow's wave there. ``short_for_sure``: the first wave
    that can have a shelf found short has one."""
    lead = Actor(ActorKind.USER, "smena")
    with potok.uow().read() as uow:  # pickup points hold no stock: no waves there
        sites = sorted(
            w.code
            for w in uow.warehouses.list(active=True)
            if w.type is not WarehouseType.PICKUP_POINT
        )
    waves = []
    for code in sites:
        try:
            waves.append(
                release.create_wave(
                    potok.uow(),
                    code,
                    lead,
                    max_orders=60,
                    cutoff=morning - timedelta(hours=1),
                    clock=clock(morning),
                )
            )
        except PotokError:
            continue  # nothing waits here today
    for view in waves:
        if _pick(potok, rng, view, morning, clock, short_for_sure=short_for_sure):
            short_for_sure = False
        _pack_and_hand_over(potok, rng, view.wave.number, morning, now, clock)


def _pick(
    potok: Potok,
    rng: random.Random,
    view: reads.WaveView,
    morning: datetime,
    clock: Callable[[datetime], Callable[[], datetime]],
    *,
    short_for_sure: bool = False,
) -> bool:
    """Pick the wave by scans, a unit short now and then; whether the sure one was."""
    picker = Actor(ActorKind.USER, rng.choice(PICKERS))
    moment = morning + timedelta(minutes=10)
    wave = view.wave.number
    items = {(s.id, i.item_no): i for s in view.shipments for i in s.items}
    units = Counter({s.id: sum(i.quantity for i in s.items) for s in view.shipments})
    found_short = False
    for line in view.lines:
        moment += timedelta(minutes=rng.randint(1, 4))
        at = clock(moment)
        if line.serialised:
            for sort in line.sort:
                for serial in items[(sort.shipment_id, sort.item_no)].serials:
                    scan = ScanInput(line.sku, 1, line.location, line.lot, serial)
                    _try(picking.pick_in_wave, potok.uow(), wave, scan, picker, clock=at)
            continue
        left = line.left
        # a short unit leaves the rest of its shipment to ship (for sure: something does)
        sure = short_for_sure and not found_short and bool(line.sort)
        if sure and units[line.sort[0].shipment_id] < 2:
            sure = False
        if (sure or rng.random() < SHORT_SHARE) and line.sort:
            target = line.sort[0]
            short = ShortPick(1, item_no=target.item_no, note="пустая ячейка")
            if _try(picking.short_pick, potok.uow(), target.shipment_id, short, picker, clock=at):
                left -= 1
                found_short = found_short or sure
        if left:
            scan = ScanInput(line.sku, left, line.location, line.lot)
            _try(picking.pick_in_wave, potok.uow(), wave, scan, picker, clock=at)
    return found_short


def _pack_and_hand_over(
    potok: Potok,
    rng: random.Random,
    wave: str,
    morning: datetime,
    now: datetime,
    clock: Callable[[datetime], Callable[[], datetime]],
) -> None:
    packer = Actor(ActorKind.USER, "upakovka")
    afternoon = morning + timedelta(hours=6)
    today = now - morning < timedelta(hours=20)
    for shipment in reads.get_wave(potok.uow(), wave).shipments:
        if shipment.status is not ShipmentStatus.PICKING or not shipment.fully_picked:
            continue
        if shipment.empty or (today and rng.random() < 0.4):
            continue  # still on the packing table
        packed_at = clock(morning + timedelta(hours=2))
        parcel = _parcel(rng, shipment)
        if not _try(
            packing.pack_parcel, potok.uow(), shipment.id or 0, parcel, packer, clock=packed_at
        ):
            continue
        if afternoon >= now or (today and rng.random() < 0.5):
            continue  # waits for the carrier
        _try(
            tracking.hand_over_to,
            potok.uow(),
            potok.carriers,
            shipment.id or 0,
            packer,
            carrier="sandbox",
            clock=clock(afternoon),
        )


def _parcel(rng: random.Random, shipment: Shipment) -> ParcelDraft:
    lines = []
    for item in shipment.items:
        if not item.picked:
            continue
        codes: list[tuple[UnitIdentifier, str]] = []
        for _ in range(item.picked):
            if UnitIdentifier.MARKING in item.identifiers:
                codes.append((UnitIdentifier.MARKING, marking_code(rng, item.gtins)))
            if UnitIdentifier.IMEI in item.identifiers:
                codes.append((UnitIdentifier.IMEI, imei(rng)))
            if UnitIdentifier.UIN in item.identifiers:
                codes.append((UnitIdentifier.UIN, uin(rng)))
        lines.append(ParcelLine(item.item_no, item.picked, tuple(codes)))
    weight = 300 + 400 * sum(line.quantity for line in lines)
    return ParcelDraft(weight, 400, 300, 200, tuple(lines))


def marking_code(rng: random.Random, gtins: frozenset[str]) -> str:
    """A Честный ЗНАК code for one unit of a product with these GTINs (a fictitious serial
    and crypto tail; the structure and the GTIN are right)."""
    gtin = sorted(gtins)[0] if gtins else gtin14("4600000000003") or ""
    serial = "".join(rng.choice(CHARS) for _ in range(13))
    crypto = "".join(rng.choice(CHARS) for _ in range(44))
    return f"01{gtin}21{serial}{GS}91EE10{GS}92{crypto}"


def imei(rng: random.Random) -> str:
    body = "35" + "".join(str(rng.randint(0, 9)) for _ in range(12))
    return body + str(luhn_check_digit(body))


def uin(rng: random.Random) -> str:
    """A jewellery piece's ГИИС ДМДК number: 16 digits (fictitious)."""
    return "64" + "".join(str(rng.randint(0, 9)) for _ in range(14))


def _try(action: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
    try:
        action(*args, **kwargs)
    except PotokError:
        return False  # the state moved on (a shortage took the units, an order was cancelled)
    return True
