"""Carriers benchmark: packed shipments booked with СДЭК's simulator (a real HTTP server that
checks every request against СДЭК's OpenAPI document), labelled, and tracked to delivery by
its ORDER_STATUS webhooks, with polling as the safety net.

    python benchmarks/carriers.py --db sqlite --shipments 300
    python benchmarks/carriers.py --db postgresql --shipments 5000

It creates a fresh database (PostgreSQL: ``POTOK_BENCH_DATABASE_URL``, by default the
database ``potok_bench``; SQLite: a temporary file), a warehouse with stock, syncs СДЭК's
delivery points into the directory, places ``--shipments`` one-line orders (half to a СДЭК
point, half to a door in Tver; half of each paid on delivery), releases, picks and packs each, then per shipment: asks
every carrier's quote (СДЭК live: its price cache is off, so the figure is the carrier's),
hands it over (booked: tariff list, look-up by number, order, reads until registered),
fetches СДЭК's label PDF, and lets СДЭК post four statuses to delivery; the webhook bodies go
through the adapter's check and the tracking service exactly as the route sends them. One
poll of every carrier follows, which must find nothing new. It prints:

    carriers shipments=5000 created=5000 labels=5000 delivered=5000 lost_updates=0 rejected_requests=0 quote_p95_ms=…

``lost_updates`` counts shipments not delivered at the end or events the poll still had to
apply; ``rejected_requests`` the requests the simulator refused (its document or its rate
limit).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulators.cdek import CLIENT_ID, CLIENT_SECRET, CdekSimulator

from benchmarks.intake import bench_settings, fresh_database
from potok.bootstrap import Potok, bootstrap
from potok.connectors.carriers import CarrierRegistry, SandboxCarrier
from potok.connectors.carriers.cdek import CdekCarrier
from potok.connectors.carriers.cdek_http import CdekHttp
from potok.db import migrate
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import Address, DeliveryMethod, PaymentMethod
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services import carrier_points, catalogue, intake, inventory
from potok.services.fulfilment import packing, picking, release, tracking
from potok.services.fulfilment.picking import ScanInput

BENCH = Actor(ActorKind.USER, "bench")
SECRET = "bench-secret"  # noqa: S105 - the simulator's webhook secret
STORY = ("RECEIVED_AT_SHIPMENT_WAREHOUSE", "SENT_TO_RECIPIENT_CITY")


def setup(potok: Potok, cdek: CdekCarrier, shipments: int) -> list[int]:
    """Network, product, stock, the directory, packed shipments; returns their ids."""
    catalogue.create_channel(potok.uow(), ChannelDraft("web", "Site", ChannelType.WEB))
    catalogue.create_warehouse(
        potok.uow(),
        WarehouseDraft(
            "MSK", "Moscow", WarehouseType.WAREHOUSE, "Москва", 55.66, 37.86, channels=("web",)
        ),
    )
    catalogue.create_product(
        potok.uow(), ProductDraft("KET", "Kettle", Decimal("2490.00"), Decimal("22"), None, 1200)
    )
    inventory.set_levels(
        potok.uow(), SetLevels([LevelRow("MSK", "KET", shipments + 10)], source="bench"), BENCH
    )
    potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), cdek])  # noqa: S106
    carrier_points.sync_points(potok.uow(), potok.carriers, "cdek")
    ids = []
    for index in range(shipments):
        if index % 2:
            delivery = DeliveryRequest(DeliveryMethod.PICKUP, pickup_point="MSK456")
        else:
            delivery = DeliveryRequest(
                DeliveryMethod.COURIER,
                address=Address("Тверь", f"ул. Советская, {index}", latitude=56.86, longitude=35.9),
            )
        placed = intake.place_order(
            potok.uow(),
            PlaceOrder(
                channel="web",
                lines=[LineRequest("KET", 1)],
                delivery=delivery,
                customer_name="Анна Петрова",
                customer_phone="+79161234567",
                # half pay on delivery: their СДЭК orders carry the money to collect
                payment_method=PaymentMethod.CASH_ON_DELIVERY if index % 4 in (1, 2) else None,
            ),
            BENCH,
        )
        assert isinstance(placed, intake.Placement)
        (shipment,) = release.release_order(potok.uow(), placed.order.id or 0, "MSK", BENCH)
        shipment_id = shipment.id or 0
        picking.pick(potok.uow(), shipment_id, ScanInput("KET"), BENCH)
        packing.pack_parcel(
            potok.uow(),
            shipment_id,
            ParcelDraft(1300, 300, 200, 200, (ParcelLine(1, 1),)),
            BENCH,
        )
        ids.append(shipment_id)
        if len(ids) % 500 == 0:
            print(f"... {len(ids)} shipments packed", file=sys.stderr, flush=True)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--shipments", type=int, default=5000)
    args = parser.parse_args()
    simulator = CdekSimulator()
    cdek = CdekCarrier(
        CdekHttp(base_url=simulator.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
        webhook_secret=SECRET,
        check_every_s=0,
        quote_ttl_s=0,
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        potok = bootstrap(bench_settings(url, workdir))
        migrate.upgrade(potok.engine)
        started = time.perf_counter()
        shipments = setup(potok, cdek, args.shipments)
        print(f"set up {len(shipments)} packed shipments in {time.perf_counter() - started:.1f} s")
        quotes_ms: list[float] = []
        created = labels = 0
        started = time.perf_counter()
        for done, shipment_id in enumerate(shipments, start=1):
            if done % 500 == 0:  # a long run shows where it stands
                so_far = time.perf_counter() - started
                print(f"... {done} shipments in {so_far:.0f} s", file=sys.stderr, flush=True)
            at = time.perf_counter()
            tracking.quotes(potok.uow(), potok.carriers, shipment_id)
            quotes_ms.append((time.perf_counter() - at) * 1000)
            left = tracking.hand_over_to(
                potok.uow(), potok.carriers, shipment_id, BENCH, carrier="cdek"
            )
            created += 1
            booked = tracking.booking_of(potok.uow(), shipment_id)[1]
            if cdek.label_pdf(booked).startswith(b"%PDF"):
                labels += 1
            number = left.tracking_number or ""
            now = datetime.now(UTC)
            final = (
                "ACCEPTED_AT_PICK_UP_POINT" if left.tariff in ("366", "138") else "TAKEN_BY_COURIER"
            )
            steps = [*STORY, final, "DELIVERED"]
            for offset, code in enumerate(steps):
                body = simulator.advance(
                    number, code, at=now + timedelta(seconds=offset), post=False
                )
                events = cdek.read_webhook({}, json.dumps(body).encode(), {"secret": SECRET})
                tracking.apply_tracking(potok.uow(), "cdek", events)
        elapsed = time.perf_counter() - started
        polled = tracking.poll_carriers(potok.uow(), potok.carriers)
        with potok.engine.connect() as connection:
            delivered = connection.execute(
                sa.text("SELECT COUNT(*) FROM shipments WHERE status = 'delivered'")
            ).scalar_one()
        potok.close()
    simulator.stop()
    lost = (len(shipments) - int(delivered)) + polled.applied
    rejected = simulator.rejected + len(simulator.invalid)
    p95 = statistics.quantiles(quotes_ms, n=20)[18] if len(quotes_ms) > 1 else quotes_ms[0]
    print(
        f"{len(shipments)} shipments quoted, booked, labelled and tracked in {elapsed:.1f} s "
        f"({elapsed * 1000 / max(len(shipments), 1):.0f} ms each; {simulator.tokens_issued} "
        f"token(s), {len(simulator.received)} requests to СДЭК); the poll after applied "
        f"{polled.applied} and repeated {polled.repeated}; {args.db}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"carriers shipments={len(shipments)} created={created} labels={labels} "
        f"delivered={delivered} lost_updates={lost} rejected_requests={rejected} "
        f"quote_p95_ms={p95:.1f}"
    )


if __name__ == "__main__":
    main()
