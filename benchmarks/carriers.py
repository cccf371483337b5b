"""Carriers benchmark: packed shipments booked with СДЭК's simulator (a real HTTP server that
checks every request against СДЭК's OpenAPI document), labelled, and tracked to delivery by
its ORDER_STATUS webhooks, with polling as the safety net.

    python benchmarks/carriers.py --db sqlite --shipments 300
    python benchmarks/carriers.py --db postgresql --shipments 5000 [--workers 2]

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

The shipments are shared among ``--workers`` processes (each Potok with its own engine, as
several workers or API processes are in production; by default one per core), and СДЭК's
simulator runs in a process of its own, so its checks against the OpenAPI document are not
counted in Potok's CPU. Besides the rates, the line before the last gives the CPU each
shipment cost Potok's processes, the simulator and PostgreSQL's backends: under a loaded
machine those are the figures that compare.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulators.cdek import CLIENT_ID, CLIENT_SECRET, CdekSimulator

from benchmarks.intake import (
    backend_pids,
    bench_settings,
    fresh_database,
    pids_cpu,
    process_tree_cpu,
)
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


class BenchCdek(CdekSimulator):
    """The simulator as the benchmark's processes reach it through a manager."""

    def address(self) -> str:
        return self.url

    def story(self, number: str, codes: list[str], at: datetime) -> list[dict[str, Any]]:
        """The order moves through ``codes`` a second apart; the ORDER_STATUS bodies СДЭК
        would post (one call from a worker instead of one per status)."""
        return [
            self.advance(number, code, at=at + timedelta(seconds=n), post=False)
            for n, code in enumerate(codes)
        ]

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "rejected": self.rejected,
                "invalid": list(self.invalid[:5]),
                "invalid_count": len(self.invalid),
                "tokens": self.tokens_issued,
                "requests": len(self.received),
                "pid": os.getpid(),
            }


class Simulators(BaseManager):
    """The process the simulator runs in."""


Simulators.register("Cdek", BenchCdek)


def carrier(url: str) -> CdekCarrier:
    return CdekCarrier(
        CdekHttp(base_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
        webhook_secret=SECRET,
        check_every_s=0,
        quote_ttl_s=0,  # every quote live: the figure is the carrier's
    )


def prepare(potok: Potok, cdek: CdekCarrier, shipments: int) -> None:
    """Network, product, stock and СДЭК's points in the directory."""
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


# ---------------------------------------------------------------------- in each worker

_worker: dict[str, Any] = {}


def start_worker(url: str, workdir: str, simulator: Any) -> None:
    """A worker process: its own Potok (engine, connections) and СДЭК client."""
    potok = bootstrap(bench_settings(url, Path(workdir)))
    cdek = carrier(simulator.address())
    potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), cdek])  # noqa: S106
    _worker.update(potok=potok, cdek=cdek, simulator=simulator)


def pack(indexes: range) -> tuple[list[int], float]:
    """Packed shipments for these order numbers (half to a СДЭК point, half to a door in
    Tver; half of each paid on delivery); their ids and the CPU it took."""
    potok: Potok = _worker["potok"]
    cpu = time.process_time()
    ids = []
    for index in indexes:
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
    return ids, time.process_time() - cpu


def ship(shipment_ids: list[int]) -> tuple[list[float], int, int, float]:
    """Per shipment: every carrier's quote, the hand-over (booked with СДЭК), its label, and
    four statuses posted by СДЭК to delivery. The quotes' times, how many were created and
    labelled, and the CPU it took."""
    potok: Potok = _worker["potok"]
    cdek: CdekCarrier = _worker["cdek"]
    simulator = _worker["simulator"]
    cpu = time.process_time()
    quotes_ms: list[float] = []
    created = labels = 0
    for shipment_id in shipment_ids:
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
        final = "ACCEPTED_AT_PICK_UP_POINT" if left.tariff in ("366", "138") else "TAKEN_BY_COURIER"
        for body in simulator.story(number, [*STORY, final, "DELIVERED"], now):
            events = cdek.read_webhook({}, json.dumps(body).encode(), {"secret": SECRET})
            tracking.apply_tracking(potok.uow(), "cdek", events)
    return quotes_ms, created, labels, time.process_time() - cpu


# ---------------------------------------------------------------------- the run


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--shipments", type=int, default=5000)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes sharing the shipments (PostgreSQL: one per core; SQLite: one, as its "
        "writers queue for the file's lock)",
    )
    parser.add_argument("--batch", type=int, default=50, help="shipments a worker takes at once")
    args = parser.parse_args()
    if args.workers is None:
        args.workers = (os.cpu_count() or 1) if args.db == "postgresql" else 1
    spawn = multiprocessing.get_context("spawn")
    simulators = Simulators(ctx=spawn)
    simulators.start()
    simulator = simulators.Cdek()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        potok = bootstrap(bench_settings(url, workdir))
        migrate.upgrade(potok.engine)
        started = time.perf_counter()
        prepare(potok, carrier(simulator.address()), args.shipments)
        with spawn.Pool(
            args.workers, initializer=start_worker, initargs=(url, tmp, simulator)
        ) as pool:
            shipments: list[int] = []
            pack_cpu = 0.0
            orders = [
                range(s, min(s + args.batch, args.shipments))
                for s in range(0, args.shipments, args.batch)
            ]
            for ids, cpu in pool.imap(pack, orders):
                shipments.extend(ids)
                pack_cpu += cpu
                if len(shipments) % 500 < args.batch:
                    print(f"... {len(shipments)} shipments packed", file=sys.stderr, flush=True)
            print(
                f"set up {len(shipments)} packed shipments in {time.perf_counter() - started:.1f} s "
                f"({args.workers} workers, {1000 * pack_cpu / max(len(shipments), 1):.0f} ms of "
                "CPU each)",
                flush=True,
            )
            backends = pids_cpu(backend_pids(url)) if args.db == "postgresql" else {}
            simulator_cpu = process_tree_cpu(simulator.summary()["pid"])
            quotes_ms: list[float] = []
            created = labels = done = 0
            ship_cpu = 0.0
            started = time.perf_counter()
            for times, made, printed, cpu in pool.imap_unordered(
                ship, chunks(shipments, args.batch)
            ):
                quotes_ms.extend(times)
                created += made
                labels += printed
                ship_cpu += cpu
                done += len(times)
                if done % 500 < args.batch:  # a long run shows where it stands
                    so_far = time.perf_counter() - started
                    print(f"... {done} shipments in {so_far:.0f} s", file=sys.stderr, flush=True)
            elapsed = time.perf_counter() - started
            simulator_cpu = process_tree_cpu(simulator.summary()["pid"]) - simulator_cpu
            db_cpu = 0.0
            if args.db == "postgresql":  # while the workers' connections are open
                now = pids_cpu(backend_pids(url))
                db_cpu = sum(cpu - backends.get(pid, 0.0) for pid, cpu in now.items())
        potok.carriers = CarrierRegistry(
            [SandboxCarrier(secret="sandbox"), carrier(simulator.address())]  # noqa: S106
        )
        polled = tracking.poll_carriers(potok.uow(), potok.carriers)
        with potok.engine.connect() as connection:
            delivered = connection.execute(
                sa.text("SELECT COUNT(*) FROM shipments WHERE status = 'delivered'")
            ).scalar_one()
        potok.close()
    seen = simulator.summary()
    simulators.shutdown()
    lost = (len(shipments) - int(delivered)) + polled.applied
    rejected = seen["rejected"] + seen["invalid_count"]
    for problem in seen["invalid"]:
        print(f"refused by the document: {problem}", file=sys.stderr)
    p95 = statistics.quantiles(quotes_ms, n=20)[18] if len(quotes_ms) > 1 else quotes_ms[0]
    count = max(len(shipments), 1)
    print(
        f"{len(shipments)} shipments quoted, booked, labelled and tracked in {elapsed:.1f} s "
        f"({elapsed * 1000 / count:.0f} ms each, {args.workers} workers; {seen['tokens']} "
        f"token(s), {seen['requests']} requests to СДЭК); the poll after applied "
        f"{polled.applied} and repeated {polled.repeated}; CPU per shipment: Potok "
        f"{1000 * ship_cpu / count:.1f} ms, the simulator {1000 * simulator_cpu / count:.1f} ms, "
        f"PostgreSQL {1000 * db_cpu / count:.1f} ms; load average {os.getloadavg()[0]:.1f}; "
        f"{args.db}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"carriers shipments={len(shipments)} created={created} labels={labels} "
        f"delivered={delivered} lost_updates={lost} rejected_requests={rejected} "
        f"quote_p95_ms={p95:.1f}"
    )


if __name__ == "__main__":
    main()
