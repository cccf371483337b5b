"""Documents benchmark: ТОРГ-12 PDFs and УПД XML files for orders of 1-50 lines, and the
warehouse papers of their shipments.

    python benchmarks/documents.py                       # SQLite, 1,000 of each
    python benchmarks/documents.py --db postgresql       # POTOK_BENCH_DATABASE_URL
    python benchmarks/documents.py --documents 200 --papers 50   # a quicker run

It creates a fresh database, a seller and a B2B buyer with real requisites, 300 products
and ``--documents`` orders of 1-50 lines (uniformly, seeded), then through the service
layer, as the API does:

  1. issues a ТОРГ-12 for every order (next number of the series, the subject built from
     the order, the PDF rendered and stored in one transaction) - ``torg12_pdf_per_s``;
  2. issues every order's УПД (its PDF too, not timed), then makes its XML exchange file
     (read, render, store) - ``upd_xml_per_s``;
  3. validates every stored XML against the official XSD (``../shared/specs/fns``, or
     POTOK_FNS_XSD) with xmlschema - ``xsd_invalid``;
  4. sends every order to the warehouse and draws each shipment's pick list (read the
     shipment and its bins, render) - ``pick_list_pdf_per_s``;
  5. picks (a scan per line), packs and hands over ``--papers`` of them (not timed), then
     draws each one's packing slip and its 100 x 150 mm label - ``packing_slip_pdf_per_s``,
     ``label_pdf_per_s``.

The renderers alone (no database) are timed on the same subjects for comparison. The
machine's load average is printed with the figures: the machines are shared and noisy.
The last line is machine-readable:

    documents upd_xml_per_s=… torg12_pdf_per_s=… xsd_invalid=0 pick_list_pdf_per_s=…
      packing_slip_pdf_per_s=… label_pdf_per_s=…   (on one line)
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
import xmlschema

from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.documents import (
    BankAccount,
    DocumentKind,
    EntityRole,
    FileFormat,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
)
from potok.domain.documents.papers import LabelSize
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import Address, DeliveryMethod
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.renderers import render_pdf, render_xml
from potok.services import (
    catalogue,
    documents,
    intake,
    inventory,
    legal_entities,
    warehouse_papers,
)
from potok.services.fulfilment import packing, picking, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.settings import DatabaseSettings, SecuritySettings, Settings

XSD = "ON_NSCHFDOPPR_1_997_01_05_03_05.xsd"
ACTOR = Actor(ActorKind.SYSTEM, "bench")
SBER = BankAccount("ПАО Сбербанк", "044525225", "30101810400000000225", "40702810883800000000")
SELLER = LegalEntityDraft(
    code="potok",
    role=EntityRole.SELLER,
    name="Общество с ограниченной ответственностью «Поток»",
    short_name="ООО «Поток»",
    inn="7707083893",
    kpp="773601001",
    address="101000, г. Москва, ул. Мясницкая, д. 1",
    bank_accounts=(SBER,),
    signatories=(
        Signatory(SignatoryRole.HEAD, PersonName("Иванов", "Иван", "Иванович"), "Директор"),
        Signatory(SignatoryRole.DISPATCHER, PersonName("Сидоров", "Пётр"), "Кладовщик"),
    ),
    edo_id="2BM-7707083893-773601001",
    is_default=True,
)
BUYER = LegalEntityDraft(
    code="yandex",
    role=EntityRole.BUYER,
    name="Общество с ограниченной ответственностью «Яндекс»",
    inn="7736207543",
    kpp="770401001",
    address="119021, г. Москва, ул. Льва Толстого, д. 16",
    edo_id="2BE-7736207543",
)


def schema_path() -> Path:
    explicit = os.environ.get("POTOK_FNS_XSD")
    if explicit:
        return Path(explicit)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "specs" / "fns" / XSD
        if candidate.is_file():
            return candidate
    sys.exit(f"the FNS schema {XSD} was not found in ../shared/specs/fns (set POTOK_FNS_XSD)")


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'documents-bench.db'}"
    base = os.environ.get(
        "POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/potok_bench"
    )
    url = sa.engine.make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def seed(potok: Potok, count: int, rng: random.Random) -> list[int]:
    catalogue.create_channel(potok.uow(), ChannelDraft("b2b", "Wholesale", ChannelType.WEB))
    catalogue.create_warehouse(
        potok.uow(),
        WarehouseDraft(
            "MSK", "Moscow DC", WarehouseType.WAREHOUSE, "Москва", 55.66, 37.86, channels=("b2b",)
        ),
    )
    skus = []
    for n in range(300):
        sku = f"SKU-{n:04d}"
        price = Decimal(rng.randrange(5_000, 2_500_000)) / 100
        rate = Decimal(rng.choice([22, 22, 22, 10, 0]))
        catalogue.create_product(
            potok.uow(),
            ProductDraft(sku, f"Товар {n} «{rng.choice(['Альфа', 'Бета', 'Гамма'])}»", price, rate,
                         None, rng.randrange(50, 5000)),
        )  # fmt: skip
        inventory.receive_stock(potok.uow(), ReceiveStock("MSK", sku, 1_000_000), ACTOR)
        skus.append(sku)
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    legal_entities.create_legal_entity(potok.uow(), BUYER)
    order_ids = []
    address = Address("Москва", "ул. Льва Толстого, д. 16", latitude=55.73, longitude=37.59)
    for _ in range(count):
        lines = rng.sample(skus, rng.randint(1, 50))
        command = PlaceOrder(
            channel="b2b",
            lines=[LineRequest(sku, rng.randint(1, 20)) for sku in lines],
            delivery=DeliveryRequest(DeliveryMethod.COURIER, address=address),
        )
        order = intake.place_order(potok.uow(), command, ACTOR).order
        assert order.id is not None
        documents.set_order_buyer(potok.uow(), order.id, "yandex", ACTOR)
        order_ids.append(order.id)
    return order_ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--papers", type=int, default=100, help="shipments picked, packed and labelled"
    )
    args = parser.parse_args()
    schema = xmlschema.XMLSchema(str(schema_path()))
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="potok-documents-") as folder:
        workdir = Path(folder)
        url = fresh_database(args.db, workdir)
        settings = Settings(
            db=DatabaseSettings(url=url),
            security=SecuritySettings(key_file=str(workdir / "potok-keys.json")),
        )
        potok = bootstrap(settings)
        migrate.upgrade(potok.engine)
        started = time.perf_counter()
        order_ids = seed(potok, args.documents, rng)
        print(
            f"seeded {len(order_ids)} orders of 1-50 lines in {time.perf_counter() - started:.1f} s "
            f"({args.db})"
        )

        load_before = os.getloadavg()
        started = time.perf_counter()
        torg12 = [
            documents.issue_document(potok.uow(), order_id, DocumentKind.TORG12, ACTOR).document
            for order_id in order_ids
        ]
        torg12_s = time.perf_counter() - started
        upds = [
            documents.issue_document(potok.uow(), order_id, DocumentKind.UPD, ACTOR).document
            for order_id in order_ids
        ]
        started = time.perf_counter()
        files = [documents.document_file(potok.uow(), d.id, FileFormat.XML) for d in upds]
        xml_s = time.perf_counter() - started
        load_after = os.getloadavg()

        started = time.perf_counter()
        for document in torg12:
            render_pdf(document.heading, document.subject)
        render_pdf_s = time.perf_counter() - started
        started = time.perf_counter()
        for document in upds:
            render_xml(document.heading, document.subject)
        render_xml_s = time.perf_counter() - started

        invalid = sum(1 for f in files if not schema.is_valid(io.BytesIO(f.content)))
        line_counts = [len(d.subject.lines) for d in torg12]
        pdf_kb = sum(len(documents.document_file(potok.uow(), d.id, FileFormat.PDF).content) for d in torg12[:50]) / 50 / 1024  # fmt: skip
        papers = warehouse(potok, order_ids, args.papers)
        potok.close()

    n = len(order_ids)
    print(f"orders: {n}, lines per order: mean {sum(line_counts) / n:.1f}, max {max(line_counts)}")
    print(
        f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} on {os.cpu_count()} cores"
    )
    print(f"ТОРГ-12 issued (number + subject + PDF + store): {n / torg12_s:.1f}/s, {torg12_s / n * 1000:.1f} ms each, ~{pdf_kb:.0f} KiB")  # fmt: skip
    print(
        f"УПД XML made (read + render + store): {n / xml_s:.1f}/s, {xml_s / n * 1000:.2f} ms each"
    )
    print(
        f"renderers alone: ТОРГ-12 PDF {n / render_pdf_s:.1f}/s, УПД XML {n / render_xml_s:.1f}/s"
    )
    print(f"XSD: {n - invalid} of {n} valid")
    print(
        f"pick lists drawn (read + render): {papers.picks / papers.pick_s:.1f}/s; "
        f"of {papers.packed} packed shipments: packing slips {papers.packed / papers.slip_s:.1f}/s, "
        f"labels 100x150 {papers.packed / papers.label_s:.1f}/s "
        f"(picking, packing and hand-over took {papers.prepare_s:.1f} s)"
    )
    print(
        f"documents upd_xml_per_s={n / xml_s:.1f} torg12_pdf_per_s={n / torg12_s:.1f} "
        f"xsd_invalid={invalid} pick_list_pdf_per_s={papers.picks / papers.pick_s:.1f} "
        f"packing_slip_pdf_per_s={papers.packed / papers.slip_s:.1f} "
        f"label_pdf_per_s={papers.packed / papers.label_s:.1f}"
    )


@dataclass
class Papers:
    picks: int = 0
    pick_s: float = 0.0
    packed: int = 0
    prepare_s: float = 0.0
    slip_s: float = 0.0
    label_s: float = 0.0


def warehouse(potok: Potok, order_ids: list[int], count: int) -> Papers:
    """Release every order, draw the pick lists; pick, pack and hand over ``count`` of
    them, then draw their packing slips and labels."""
    figures = Papers()
    shipments = []
    for order_id in order_ids:
        shipments.extend(release.release_order(potok.uow(), order_id, "MSK", ACTOR))
    started = time.perf_counter()
    for shipment in shipments:
        assert shipment.id is not None
        warehouse_papers.pick_list_pdf(potok.uow(), shipment.id)
    figures.pick_s = time.perf_counter() - started
    figures.picks = len(shipments)

    started = time.perf_counter()
    chosen = shipments[:count]
    for number, shipment in enumerate(chosen, start=1):
        assert shipment.id is not None
        started_picking = picking.start_picking(potok.uow(), shipment.id, ACTOR)
        for item in started_picking.items:
            scan = ScanInput(item.sku, item.quantity)
            picking.pick(potok.uow(), shipment.id, scan, ACTOR)
        lines = tuple(ParcelLine(item.item_no, item.quantity) for item in started_picking.items)
        packing.pack_parcel(
            potok.uow(), shipment.id, ParcelDraft(5000, 600, 400, 400, lines), ACTOR
        )
        tracking.hand_over_to(
            potok.uow(),
            potok.carriers,
            shipment.id,
            ACTOR,
            carrier="own-courier",
            tracking_number=f"BENCH{number:08d}",
        )
    figures.prepare_s = time.perf_counter() - started
    figures.packed = len(chosen)
    started = time.perf_counter()
    for shipment in chosen:
        assert shipment.id is not None
        warehouse_papers.packing_slip_pdf(potok.uow(), shipment.id)
    figures.slip_s = time.perf_counter() - started
    started = time.perf_counter()
    for shipment in chosen:
        assert shipment.id is not None
        warehouse_papers.labels_pdf(potok.uow(), shipment.id, LabelSize.LARGE)
    figures.label_s = time.perf_counter() - started
    return figures


if __name__ == "__main__":
    main()
