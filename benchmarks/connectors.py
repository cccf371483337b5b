"""Marketplace connectors benchmark: orders appearing on simulated Wildberries and Ozon
(real HTTP servers speaking their published formats, checking every request against their
documents) imported by polling, with the simulators failing and limiting on purpose.

    python benchmarks/connectors.py --db sqlite --orders 2000
    python benchmarks/connectors.py --db postgresql --orders 10000

It creates a fresh database (PostgreSQL: ``POTOK_BENCH_DATABASE_URL``, by default the
database ``potok_bench``; SQLite: a temporary file) with ``--skus`` products in stock at one
warehouse, connects a WB and an Ozon account to two marketplace channels, puts ``--orders``
orders on the marketplaces (half each; WB one unit a task, Ozon 1-3 products a posting),
scripts a 500 and a 429 on each, then polls both until nothing new is left - and once more,
which must import nothing. It counts Potok orders against the marketplaces' and prints:

    connectors orders_imported=10000 duplicates=0 lost=0 import_per_s=… stock_items_pushed=0 push_latency_p95_ms=- rejected_requests=0

``rejected_requests`` counts requests the simulators refused as over their rate limit (the
connector keeps the limit itself). Stock push is not built yet (it waits for the event
dispatcher), so its two figures are 0 and ``-``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator

from benchmarks.intake import bench_settings, fresh_database
from potok.bootstrap import Potok, bootstrap
from potok.connectors.marketplaces import MarketplaceClients
from potok.db import migrate
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.kernel import Actor, ActorKind
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.validation import gtin_check_digit
from potok.services import catalogue, inventory
from potok.services.marketplaces import connect_marketplace, poll_marketplace
from potok.settings import MarketplaceSettings

BENCH = Actor(ActorKind.USER, "bench")
WB_WAREHOUSE = 658434
OZON_WAREHOUSE = 22_254_230_484_000


def setup(potok: Potok, skus: int) -> list[tuple[str, str]]:
    """Channels, a warehouse serving them, products with barcodes, plenty of stock; returns
    (sku, barcode) pairs."""
    for code in ("wb", "ozon"):
        catalogue.create_channel(potok.uow(), ChannelDraft(code, code, ChannelType.MARKETPLACE))
    catalogue.create_warehouse(
        potok.uow(),
        WarehouseDraft(
            "MSK",
            "Moscow",
            WarehouseType.WAREHOUSE,
            "Москва",
            55.66,
            37.86,
            channels=("wb", "ozon"),
        ),
    )
    products = []
    for index in range(skus):
        body = f"460{800000 + index:09d}"
        barcode = body + str(gtin_check_digit(body))
        sku = f"M{index:05d}"
        catalogue.create_product(
            potok.uow(),
            ProductDraft(sku, f"Товар {index}", Decimal("990.00"), Decimal("22"), barcode),
        )
        products.append((sku, barcode))
    inventory.set_levels(
        potok.uow(),
        SetLevels([LevelRow("MSK", sku, 1_000_000) for sku, _ in products], source="bench"),
        BENCH,
    )
    return products


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="potok-connectors-"))
    url = fresh_database(args.db, workdir)
    potok = bootstrap(bench_settings(url, workdir))
    migrate.upgrade(potok.engine)
    products = setup(potok, args.skus)
    wb, ozon = WildberriesSimulator(), OzonSimulator()
    try:
        for code, kind, sim, creds, warehouse in (
            ("wb", Marketplace.WILDBERRIES, wb, Credentials(wb.token), WB_WAREHOUSE),
            (
                "ozon",
                Marketplace.OZON,
                ozon,
                Credentials(ozon.api_key, ozon.client_id),
                OZON_WAREHOUSE,
            ),
        ):
            connect_marketplace(
                potok.uow(),
                ConnectionDraft(code, kind, code, creds, sim.url, {str(warehouse): "MSK"}),
                BENCH,
            )
        on_wb = args.orders // 2
        for _ in range(on_wb):
            sku, barcode = rng.choice(products)
            wb.add_order(article=sku, barcodes=[barcode], price=99_000)
        for _ in range(args.orders - on_wb):
            chosen = rng.sample(products, rng.randint(1, 3))
            ozon.add_posting(
                products=[
                    {
                        "offer_id": sku,
                        "sku": 1_000_000 + i,
                        "quantity": rng.randint(1, 2),
                        "price": "990.00",
                    }
                    for i, (sku, _) in enumerate(chosen)
                ]
            )
        for sim in (wb, ozon):
            sim.fail(1, status=500)
            sim.limit(1, retry_s=1)
        clients = MarketplaceClients(MarketplaceSettings())
        batch = 1000
        imported = repeated = 0
        started = time.perf_counter()
        for code in ("wb", "ozon"):
            for _ in range(args.orders // batch + 10):  # faults cost a poll or two
                outcome = poll_marketplace(potok.uow(), clients, code, batch=batch)
                if outcome.error:
                    print(f"{code}: {outcome.error}", file=sys.stderr)
                    continue
                imported += len(outcome.imported)
                repeated += outcome.repeated
                if not outcome.imported and not outcome.kept_aside:
                    break
        elapsed = time.perf_counter() - started
        again = sum(
            len(poll_marketplace(potok.uow(), clients, code, batch=args.orders).imported)
            for code in ("wb", "ozon")
        )
        with potok.engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT count(*), count(DISTINCT external_id) FROM orders")
            ).one()
        duplicates = stored[0] - stored[1] + again
        lost = args.orders - stored[1]
        rejected = wb.rejected + ozon.rejected
        invalid = len(wb.invalid) + len(ozon.invalid)
        print(
            f"{args.db}: {args.orders} orders on the marketplaces, {imported} imported in "
            f"{elapsed:.1f} s ({repeated} sent again and skipped), {invalid} requests the "
            f"documents refused",
            file=sys.stderr,
        )
        print(
            f"connectors orders_imported={imported} duplicates={duplicates} lost={lost} "
            f"import_per_s={imported / elapsed:.0f} stock_items_pushed=0 push_latency_p95_ms=- "
            f"rejected_requests={rejected}"
        )
    finally:
        wb.stop()
        ozon.stop()
        potok.close()


if __name__ == "__main__":
    main()
