"""Fulfilment benchmark: a warehouse with reserved orders, picked in waves, packed and handed
over through the service layer, with shortages on a few lines.

    python benchmarks/fulfilment.py --db sqlite
    python benchmarks/fulfilment.py --db postgresql --orders 2000 --wave 50

It creates a fresh database (PostgreSQL: ``POTOK_BENCH_DATABASE_URL``, by default the
database ``potok_bench``; SQLite: a temporary file), a warehouse ``MSK`` with ``--skus``
products in bins along a picking walk (and a second warehouse that takes what a short pick
re-sources), and ``--orders`` orders of 1-3 lines reserved at ``MSK`` through intake. Then,
one transaction per step as the API would run them: waves of ``--wave`` orders; every wave
line scanned with its bin (a unit found short on ``--short-share`` of the lines first,
which writes the shelf down and sources the rest again); each shipment packed into one
parcel (marked goods with a Честный ЗНАК code per unit) and handed over. It checks that no
position was oversold and that ``potok stock reconcile`` finds no drift, and prints:

    fulfilment orders=2000 shipments=2004 ms_per_order=41.0 scans_per_s=85 shortages=17 oversold=0 reconcile_drift=0
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import bench_settings, fresh_database
from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.errors import PotokError
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus, UnitIdentifier
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.inventory.locations import LocationDraft
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import Address, DeliveryMethod, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.domain.validation import gtin_check_digit
from potok.sandbox.fulfilment import marking_code
from potok.services import catalogue, intake, inventory, locations
from potok.services.fulfilment import handover, packing, picking, reads, release
from potok.services.fulfilment.picking import ScanInput, ShortPick

WORKER = Actor(ActorKind.USER, "bench")


def setup(potok: Potok, rng: random.Random, skus: int, orders: int) -> int:
    """The network, catalogue, bins, stock and the reserved orders; returns how many."""
    catalogue.create_channel(potok.uow(), ChannelDraft("web", "Site", ChannelType.WEB))
    for code, city, lat, lon in (
        ("MSK", "Москва", 55.66, 37.86),
        ("SPB", "Санкт-Петербург", 59.80, 30.38),
    ):
        catalogue.create_warehouse(
            potok.uow(),
            WarehouseDraft(code, code, WarehouseType.WAREHOUSE, city, lat, lon, channels=("web",)),
        )
    names = [f"B{n:05d}" for n in range(skus)]
    for index, sku in enumerate(names):
        body = f"460{700000 + index:09d}"
        marked = index % 10 == 0
        catalogue.create_product(
            potok.uow(),
            ProductDraft(
                sku,
                f"Товар {index}",
                Decimal("990.00"),
                Decimal("22"),
                body + str(gtin_check_digit(body)),
                400,
                unit_identifiers=frozenset({UnitIdentifier.MARKING}) if marked else frozenset(),
            ),
        )
    rows = [LevelRow("MSK", sku, 60) for sku in names] + [LevelRow("SPB", sku, 20) for sku in names]
    inventory.set_levels(potok.uow(), SetLevels(rows, source="bench"), WORKER)
    for index, sku in enumerate(names):
        aisle, place = divmod(index, 40)
        code = f"{chr(65 + aisle % 26)}-{aisle:02d}-{place:02d}"
        locations.create_location(potok.uow(), "MSK", LocationDraft(code, f"Z{aisle // 10}", index))
        locations.place_stock(potok.uow(), "MSK", sku, code)
    placed = 0
    popular = names[: max(1, skus // 5)]
    for number in range(orders):
        count = rng.choices([1, 2, 3], weights=[50, 30, 20])[0]
        chosen = rng.sample(popular if rng.random() < 0.5 else names, count)
        command = PlaceOrder(
            channel="web",
            lines=[LineRequest(sku, rng.choice([1, 1, 2])) for sku in chosen],
            delivery=DeliveryRequest(
                DeliveryMethod.COURIER,
                address=Address(
                    "Москва", f"ул. Тверская, {number % 90 + 1}", latitude=55.76, longitude=37.61
                ),
            ),
            external_id=f"B-{number}",
            payment_status=PaymentStatus.PAID,
        )
        result = intake.place_order(potok.uow(), command, WORKER)
        assert isinstance(result, intake.Placement)
        placed += 1
    return placed


def work(potok: Potok, rng: random.Random, wave_size: int, short_share: float) -> Counter[str]:
    """Waves until nothing is ready at MSK; returns counts and timings (milliseconds)."""
    figures: Counter[str] = Counter()
    while True:
        try:
            view = release.create_wave(potok.uow(), "MSK", WORKER, max_orders=wave_size)
        except PotokError:
            return figures
        figures["waves"] += 1
        for line in view.lines:
            units = line.left
            if rng.random() < short_share and line.sort:
                target = line.sort[0]
                picking.short_pick(
                    potok.uow(), target.shipment_id, ShortPick(1, item_no=target.item_no), WORKER
                )
                figures["shortages"] += 1
                units -= 1
            if units:
                started = time.perf_counter()
                picking.pick_in_wave(
                    potok.uow(), view.wave.number, ScanInput(line.sku, units, line.location), WORKER
                )
                figures["scan_us"] += int((time.perf_counter() - started) * 1e6)
                figures["scans"] += 1
        for shipment in reads.get_wave(potok.uow(), view.wave.number).shipments:
            if shipment.status is not ShipmentStatus.PICKING:
                continue
            if not shipment.fully_picked:  # the rest re-sourced onto another shelf here
                for item in shipment.items:
                    if item.left:
                        picking.pick(
                            potok.uow(), shipment.id or 0, ScanInput(item.sku, item.left), WORKER
                        )
                        figures["extra_scans"] += 1
                shipment = reads.get_shipment(potok.uow(), shipment.id or 0).shipment
            if shipment.empty:
                continue
            lines = tuple(
                ParcelLine(
                    item.item_no,
                    item.picked,
                    tuple(
                        (UnitIdentifier.MARKING, marking_code(rng, item.gtins))
                        for _ in range(item.picked)
                        if UnitIdentifier.MARKING in item.identifiers
                    ),
                )
                for item in shipment.items
                if item.picked
            )
            packing.pack_parcel(
                potok.uow(), shipment.id or 0, ParcelDraft(1500, 400, 300, 200, lines), WORKER
            )
            handover.hand_over(potok.uow(), shipment.id or 0, WORKER, carrier="own courier")
            figures["shipments"] += 1


def oversold(potok: Potok) -> int:
    """Positions whose counters broke 0 <= reserved <= on_hand, plus units handed over
    beyond what the ledger says was there."""
    with potok.engine.connect() as connection:
        broken = connection.execute(
            sa.text(
                "SELECT COUNT(*) FROM stock WHERE reserved < 0 OR reserved > on_hand OR on_hand < 0"
            )
        ).scalar_one()
        twice = connection.execute(
            sa.text(
                "SELECT COUNT(*) FROM (SELECT order_id, line_no, SUM(quantity) AS units "
                "FROM reservations WHERE status = 'consumed' AND shipment_id IS NOT NULL "
                "GROUP BY order_id, line_no) c JOIN order_lines l "
                "ON l.order_id = c.order_id AND l.line_no = c.line_no WHERE c.units > l.quantity"
            )
        ).scalar_one()
    return int(broken) + int(twice)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--wave", type=int, default=50)
    parser.add_argument("--skus", type=int, default=400)
    parser.add_argument("--short-share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        potok = bootstrap(bench_settings(url, workdir))
        migrate.upgrade(potok.engine)
        started = time.perf_counter()
        placed = setup(potok, rng, args.skus, args.orders)
        print(
            f"set up {placed} reserved orders in {time.perf_counter() - started:.1f} s", flush=True
        )
        cpu = time.process_time()
        started = time.perf_counter()
        figures = work(potok, rng, args.wave, args.short_share)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        drift = len(inventory.reconcile(potok.uow()).drifts)
        broken = oversold(potok)
        with potok.engine.connect() as connection:
            shipped = connection.execute(
                sa.text(
                    "SELECT COUNT(DISTINCT order_id) FROM shipments WHERE status = 'handed_over'"
                )
            ).scalar_one()
        potok.close()
    scans_s = figures["scan_us"] / 1e6
    print(
        f"{figures['waves']} waves, {figures['scans']} wave scans (+{figures['extra_scans']} on "
        f"shipments), {figures['shipments']} shipments "
        f"handed over for {shipped} orders in {elapsed:.1f} s (this process's CPU {cpu:.1f} s); "
        f"scans took {scans_s:.1f} s; started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"fulfilment orders={placed} shipments={figures['shipments']} "
        f"ms_per_order={elapsed * 1000 / max(placed, 1):.1f} "
        f"scans_per_s={figures['scans'] / max(scans_s, 1e-9):.0f} "
        f"shortages={figures['shortages']} oversold={broken} reconcile_drift={drift}"
    )


if __name__ == "__main__":
    main()
