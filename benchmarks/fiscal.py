"""Fiscal benchmark: prepaid orders fiscalised through АТОЛ Онлайн's simulator (a real HTTP
server that checks every request against АТОЛ's JSON Schemas and that each receipt adds up),
some of them shipped, returned and refunded.

    python benchmarks/fiscal.py --db sqlite --sales 1000 --refunds 100
    python benchmarks/fiscal.py --db postgresql --sales 10000 --refunds 1000

It creates a fresh database (PostgreSQL: ``POTOK_BENCH_DATABASE_URL``, by default the
database ``potok_bench``; SQLite: a temporary file), a channel, a warehouse with stock and a
seller with its fiscal settings, and places ``--sales`` one-line orders taken paid (each
owes a sale receipt). ``--refunds`` of them are then released, picked, packed and handed over
(a settlement receipt, the prepayment's offset), delivered, returned whole and refunded (a
refund receipt). The dispatcher's reactions queue the receipts after each commit, and the
worker's fiscal job sends them, in order, and reads their results until none is open. It
prints the work's figures and then:

    fiscal sales=N receipts=N refunds=N refund_receipts=N missing=0 duplicated=0 schema_invalid=0

``receipts`` counts the sale receipts registered (done) and ``refund_receipts`` the refund
receipts registered; ``missing`` the sales or refunds without a registered receipt;
``duplicated`` the receipts АТОЛ was asked to register more than once (its error 33) or
that share a basis; ``schema_invalid`` the requests АТОЛ's schemas refused plus the receipts
whose sums did not add up.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulators.atol import GROUP, LOGIN, PASSWORD, AtolSimulator

from benchmarks.intake import bench_settings, fresh_database
from potok.bootstrap import Potok, bootstrap
from potok.connectors.carriers.interface import TrackingEvent, TrackingStatus
from potok.connectors.fiscal.atol import AtolRegister
from potok.db import migrate
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.documents import EntityRole, LegalEntityDraft
from potok.domain.fiscal import EntityProfile, FiscalRules, Taxation
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import Address, DeliveryMethod, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.domain.returns import RefundStatus
from potok.services import catalogue, intake, inventory, legal_entities
from potok.services.fiscal import sending
from potok.services.fiscal.desk import FiscalDesk
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from potok.worker.dispatcher import Dispatcher, new_client

BENCH = Actor(ActorKind.USER, "bench")


class TimedAtol(AtolSimulator):
    """The simulator, counting the CPU its request threads spend answering (the schema
    checks included), so that the sending phase's figure can be split: Potok's and the
    simulator's."""

    cpu_s = 0.0

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        start = time.thread_time()
        try:
            return super().answer(method, target, headers, raw)
        finally:
            self.cpu_s += time.thread_time() - start


SELLER = LegalEntityDraft(
    code="shop",
    role=EntityRole.SELLER,
    name="Общество с ограниченной ответственностью «Поток»",
    short_name="ООО «Поток»",
    inn="7707083893",
    kpp="773601001",
    ogrn="1027700132195",
    address="101000, г. Москва, ул. Мясницкая, д. 1",
    is_default=True,
)
PROFILE = EntityProfile("atol-main", Taxation.OSN, "https://shop.example.ru", "shop@example.ru")


def setup(potok: Potok, atol: AtolSimulator, stock: int) -> None:
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
    catalogue.create_product(
        potok.uow(), ProductDraft("BKS", "ABC book", Decimal("450.00"), Decimal("10"), None, 400)
    )
    inventory.set_levels(
        potok.uow(),
        SetLevels([LevelRow("MSK", "KET", stock), LevelRow("MSK", "BKS", stock)], source="bench"),
        BENCH,
    )
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    register = AtolRegister(
        name="atol-main", base_url=atol.base, login=LOGIN, password=PASSWORD, group_code=GROUP
    )
    potok.fiscal = FiscalDesk(
        rules=FiscalRules(
            enabled=True, profiles={"shop": PROFILE}, accounts=frozenset({"atol-main"})
        ),
        registers={"atol-main": register},
        poll_after_s=0,
        batch=500,
    )


def place(potok: Potok, index: int) -> int:
    placed = intake.place_order(
        potok.uow(),
        PlaceOrder(
            channel="web",
            lines=[LineRequest("KET", 1), LineRequest("BKS", 1 + index % 3)],
            delivery=DeliveryRequest(
                DeliveryMethod.COURIER,
                address=Address("Тверь", f"ул. Советская, {index}", latitude=56.86, longitude=35.9),
            ),
            customer_name="Анна Петрова",
            customer_email=f"anna{index}@example.ru",
            payment_status=PaymentStatus.PAID,
        ),
        BENCH,
    )
    assert isinstance(placed, intake.Placement)
    return placed.order.id or 0


def ship_and_refund(potok: Potok, order_id: int, index: int, at: datetime) -> None:
    """Released, picked, packed, handed over, delivered, returned whole, refunded."""
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", BENCH)
    shipment_id = shipment.id or 0
    for sku, quantity in (("KET", 1), ("BKS", 1 + index % 3)):
        picking.pick(potok.uow(), shipment_id, ScanInput(sku, quantity), BENCH)
    items = reads.get_shipment(potok.uow(), shipment_id).shipment.items
    packing.pack_parcel(
        potok.uow(),
        shipment_id,
        ParcelDraft(1800, 300, 200, 200, tuple(ParcelLine(i.item_no, i.quantity) for i in items)),
        BENCH,
    )
    number = f"OWN-{order_id}"
    tracking.hand_over_to(
        potok.uow(), potok.carriers, shipment_id, BENCH, carrier="own", tracking_number=number
    )
    event = TrackingEvent(number, TrackingStatus.DELIVERED, at, "delivered", f"d{order_id}")
    tracking.apply_tracking(potok.uow(), "own", [event])
    lines = [ReturnLineRequest(1, 1, "defective")]
    ret = requests.request_return(potok.uow(), RequestReturn(order_id, lines, approve=True), BENCH)
    handling.receive_return(potok.uow(), ret.number, "MSK", BENCH)
    requests.settle_refund(potok.uow(), ret.number, RefundStatus.PAID, BENCH)


def drain(potok: Potok) -> int:
    """Dispatcher rounds until the outbox is worked off (receipts queued)."""
    rounds = 0
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="bench")
        while dispatcher.run_round().busy:
            rounds += 1
    return rounds


def work(potok: Potok, atol: AtolSimulator) -> int:
    """The worker's fiscal job until no receipt is open; the clock moves a minute a run, so
    the waits between looks are over at once."""
    moment = [datetime.now(UTC)]

    def clock() -> datetime:
        return moment[0]

    runs = 0
    while True:
        run = sending.work_the_queue(potok.uow, potok.fiscal, clock=clock)
        runs += 1
        moment[0] += timedelta(minutes=1)
        with potok.engine.connect() as c:
            open_ = c.execute(
                sa.text(
                    "SELECT COUNT(*) FROM fiscal_receipts WHERE state IN ('queued','sent','wait')"
                )
            ).scalar_one()
        if not open_ and not run.busy:
            return runs
        if runs > 10_000:
            raise SystemExit("the receipts never closed")


def postgres_ticks() -> dict[int, int]:
    """CPU ticks (user + system) of each postgres process on this machine, from /proc."""
    found: dict[int, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith("postgres"):
            found[int(pid)] = int(fields[11]) + int(fields[12])
    return found


class PostgresCpu:
    """PostgreSQL's CPU seconds since the last look: the processes alive now, less what
    each had then (a process that ended meanwhile is left out rather than counted
    negative; other users of the server count too - read it beside the load average)."""

    def __init__(self) -> None:
        self.last = postgres_ticks()

    def since(self) -> float:
        now = postgres_ticks()
        used = sum(ticks - self.last.get(pid, 0) for pid, ticks in now.items())
        self.last = now
        return max(used, 0) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--sales", type=int, default=10_000)
    parser.add_argument("--refunds", type=int, default=1_000)
    args = parser.parse_args()
    if args.refunds > args.sales:
        raise SystemExit("--refunds are refunds of sales: at most --sales")
    atol = TimedAtol(reads_before_done=0)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        potok = bootstrap(bench_settings(url, workdir))
        migrate.upgrade(potok.engine)
        setup(potok, atol, args.sales * 4 + 10)
        load = os.getloadavg()[0]
        pg = PostgresCpu()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        orders = []
        for index in range(args.sales):
            orders.append(place(potok, index))
            if len(orders) % 1000 == 0:
                print(f"... {len(orders)} orders taken", file=sys.stderr, flush=True)
        now = datetime.now(UTC)
        for index, order_id in enumerate(orders[: args.refunds]):
            ship_and_refund(potok, order_id, index, now)
            if (index + 1) % 200 == 0:
                print(f"... {index + 1} orders refunded", file=sys.stderr, flush=True)
        cpu1, pg_made, wall1 = time.process_time(), pg.since(), time.perf_counter()
        rounds = drain(potok)
        cpu2, pg_queued, wall2 = time.process_time(), pg.since(), time.perf_counter()
        runs = work(potok, atol)
        cpu3, pg_sent, wall3 = time.process_time(), pg.since(), time.perf_counter()

        with potok.engine.connect() as c:
            rows = c.execute(
                sa.text("SELECT order_id, kind, state, basis FROM fiscal_receipts")
            ).all()
        potok.close()
    atol.stop()

    done = Counter((r.kind, r.state) for r in rows)
    sale_orders = {r.order_id for r in rows if r.kind == "sale" and r.state == "done"}
    refund_orders = {r.order_id for r in rows if r.kind == "refund" and r.state == "done"}
    missing = len(set(orders) - sale_orders) + len(set(orders[: args.refunds]) - refund_orders)
    bases = Counter(r.basis for r in rows)
    duplicated = atol.counters.repeats + sum(n - 1 for n in bases.values() if n > 1)
    schema_invalid = len(atol.invalid) + len(atol.mismatched)
    receipts = len(rows)
    queue_cpu = (cpu2 - cpu1) + pg_queued if args.db == "postgresql" else cpu2 - cpu1
    send_cpu = (cpu3 - cpu2) + pg_sent if args.db == "postgresql" else cpu3 - cpu2
    print(f"database {args.db}; load average {load:.1f} at the start (2 cores, shared)")
    print(
        f"orders and refunds made: {wall1 - wall0:.1f} s wall, {cpu1 - cpu0:.1f} s Potok CPU, "
        f"{pg_made:.1f} s PostgreSQL CPU"
    )
    print(
        f"receipts queued by the reaction ({rounds} dispatcher rounds, every reaction ran): "
        f"{wall2 - wall1:.1f} s wall, {cpu2 - cpu1:.1f} s Potok CPU, {pg_queued:.1f} s "
        f"PostgreSQL CPU; {1000 * queue_cpu / max(receipts, 1):.2f} ms CPU per receipt"
    )
    potok_send = (cpu3 - cpu2) - atol.cpu_s
    print(
        f"receipts sent and read ({runs} worker runs, the simulator in this process): "
        f"{wall3 - wall2:.1f} s wall, {cpu3 - cpu2:.1f} s CPU ({potok_send:.1f} s Potok, "
        f"{atol.cpu_s:.1f} s the simulator answering and checking the schemas), "
        f"{pg_sent:.1f} s PostgreSQL CPU; {1000 * send_cpu / max(receipts, 1):.2f} ms CPU "
        f"per receipt all told, {1000 * (send_cpu - atol.cpu_s) / max(receipts, 1):.2f} ms "
        f"without the simulator; АТОЛ saw {atol.counters.tokens} token(s), "
        f"{atol.counters.registrations} registrations, {atol.counters.reports} reports"
    )
    print(f"receipts by kind and state: {dict(sorted(done.items()))}")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
    for problem in (atol.invalid + atol.mismatched)[:5]:
        print(f"problem: {problem}")
    print(
        f"fiscal sales={args.sales} receipts={len(sale_orders)} refunds={args.refunds} "
        f"refund_receipts={len(refund_orders)} missing={missing} duplicated={duplicated} "
        f"schema_invalid={schema_invalid}"
    )


if __name__ == "__main__":
    main()
