"""Marketplace connectors benchmark: orders appearing on simulated Wildberries, Ozon, Yandex
Market and Avito (real HTTP servers speaking their published formats, checking every request
against their documents) imported by polling, with the simulators failing and limiting on
purpose.

    python benchmarks/connectors.py --db sqlite --orders 2000
    python benchmarks/connectors.py --db postgresql --orders 10000

It creates a fresh database (PostgreSQL: ``POTOK_BENCH_DATABASE_URL``, by default the
database ``potok_bench``; SQLite: a temporary file) with ``--skus`` products in stock at one
warehouse, connects a WB, an Ozon, a Yandex Market and an Avito account to four marketplace
channels, puts ``--orders`` orders on the marketplaces (a quarter each; WB one unit a task,
Ozon 1-3 products a posting, Market 1-3 offers an order, Avito 1-2 listings an order), scripts
a 500 and a rate-limit answer on each (Market's is a 420), then polls them until nothing new
is left - and once more, which must import nothing. It counts Potok orders against the
marketplaces'. Avito's orders are put there already confirmed (``ready_to_ship``) but for
``--avito-to-confirm`` of them: Avito takes 100 transitions a minute, so confirming 2,500
orders would add 25 minutes of waiting on Avito's limit to the run and measure nothing more.

Then stock: ``--stock-skus`` SKUs are mapped on the four connections, each with three
marketplace warehouses (Market: campaigns; Avito: its one, mapped to MSK) mapped to three
Potok locations. The dispatcher's first round
pushes every figure (a new cursor: a full re-sync; ``stock_items_pushed`` counts the
figures the simulators took), then ``--stock-rounds`` rounds each receive stock of one
SKU and run one dispatcher round; ``push_latency_p95_ms`` is the 95th percentile from a
change's commit to the marketplace receiving the request carrying it (Ozon's 80 stock
requests a minute are part of it). It prints:

    connectors orders_imported=10000 duplicates=0 lost=0 import_per_s=… stock_items_pushed=30000 push_latency_p95_ms=… rejected_requests=0

``rejected_requests`` counts requests the simulators refused as over their rate limit (the
connector keeps the limit itself).
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

from tests.simulators.avito import AvitoSimulator
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator
from tests.simulators.yandex_market import YandexMarketSimulator

from benchmarks.intake import backend_pids, bench_settings, fresh_database, pids_cpu
from potok.bootstrap import Potok, bootstrap
from potok.connectors.marketplaces import MarketplaceClients
from potok.db import migrate
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.inventory.commands import LevelRow, ReceiveStock, SetLevels
from potok.domain.kernel import Actor, ActorKind
from potok.domain.marketplaces import ConnectionDraft, Credentials, ItemMapping, Marketplace
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.validation import gtin_check_digit
from potok.services import catalogue, inventory
from potok.services.marketplaces import connect_marketplace, map_items, poll_marketplace
from potok.services.unit_of_work import atomically
from potok.settings import MarketplaceSettings
from potok.worker.dispatcher import Dispatcher, new_client

BENCH = Actor(ActorKind.USER, "bench")
WB_WAREHOUSE = 658434
OZON_WAREHOUSE = 22_254_230_484_000
LOCATIONS = ("MSK", "SPB", "KZN")
WB_WAREHOUSES = {str(WB_WAREHOUSE + n): code for n, code in enumerate(LOCATIONS)}
OZON_WAREHOUSES = {str(OZON_WAREHOUSE + n): code for n, code in enumerate(LOCATIONS)}
YM_CAMPAIGN = 21_000_001
YM_CAMPAIGNS = {str(YM_CAMPAIGN + n): code for n, code in enumerate(LOCATIONS)}
WB_CHRT, OZON_ITEM, OZON_PRODUCT = 2_000_000, 5_000_000, 3_000_000
AV_LISTING = 4_100_000_000
CHANNELS = ("wb", "ozon", "ym", "av")


def setup(potok: Potok, skus: int) -> list[tuple[str, str]]:
    """Channels, a warehouse serving them, products with barcodes, plenty of stock; returns
    (sku, barcode) pairs."""
    for code in CHANNELS:
        catalogue.create_channel(potok.uow(), ChannelDraft(code, code, ChannelType.MARKETPLACE))
    for n, code in enumerate(LOCATIONS):
        catalogue.create_warehouse(
            potok.uow(),
            WarehouseDraft(
                code,
                code,
                WarehouseType.WAREHOUSE,
                "Москва",
                55.66 + n,
                37.86,
                channels=CHANNELS,
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
        SetLevels(
            [LevelRow(code, sku, 1000) for code in LOCATIONS for sku, _ in products],
            source="bench",
        ),
        BENCH,
    )
    return products


def measure_stock(
    potok: Potok,
    wb: WildberriesSimulator,
    ozon: OzonSimulator,
    ym: YandexMarketSimulator,
    av: AvitoSimulator,
    skus: list[str],
    rounds: int,
    rng: random.Random,
) -> tuple[int, float, dict[str, list[float]]]:
    """Map the SKUs, let the dispatcher's first round push everything, then time changes
    from commit to the marketplace; (figures taken, seconds of the full push, latencies)."""
    wb.warehouses = {int(w) for w in WB_WAREHOUSES}
    ozon.warehouses = {int(w) for w in OZON_WAREHOUSES}
    ozon.products = {OZON_PRODUCT + n for n in range(len(skus))}
    ozon.pair_interval_s = 0  # Ozon's 30 s per pair would refuse the rounds that follow
    map_items(
        potok.uow(), "wb", [ItemMapping(s, str(WB_CHRT + n)) for n, s in enumerate(skus)], BENCH
    )
    map_items(
        potok.uow(),
        "ozon",
        [
            ItemMapping(s, str(OZON_ITEM + n), product=str(OZON_PRODUCT + n))
            for n, s in enumerate(skus)
        ],
        BENCH,
    )
    map_items(potok.uow(), "ym", [ItemMapping(s, f"offer-{s}") for s in skus], BENCH)
    mapped_av = {s for s, _ in av_items(potok)}
    map_items(
        potok.uow(),
        "av",
        [ItemMapping(s, str(AV_LISTING + n)) for n, s in enumerate(skus) if s not in mapped_av],
        BENCH,
    )
    latencies: dict[str, list[float]] = {"wb": [], "ozon": [], "ym": [], "av": []}
    while atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000)):
        pass  # the set-up's events in commit order first: the cursors start after them
    with new_client() as http:
        dispatcher = Dispatcher(potok, http, name="bench")
        started = time.perf_counter()
        dispatcher.run_round()  # new cursors: a full push to both
        full_s = time.perf_counter() - started
        taken = (
            sum(len(v) for v in wb.stocks.values())
            + len(ozon.stocks)
            + len(ym.stocks)
            + len(av.stocks)
        )
        for _ in range(rounds):
            changed = rng.sample(skus, 1)  # one change, then the dispatcher's next round
            committed: dict[str, float] = {}
            for sku in changed:
                inventory.receive_stock(potok.uow(), ReceiveStock("MSK", sku, 1), BENCH)
                committed[sku] = time.monotonic()
            seen = len(wb.received), len(ozon.received), len(ym.received), len(av.received)
            dispatcher.run_round()
            for call in wb.received[seen[0] :]:
                for item in (call.body or {}).get("stocks", ()):
                    sku = skus[item["chrtId"] - WB_CHRT]
                    if sku in committed:
                        latencies["wb"].append(call.at - committed[sku])
            for call in ozon.received[seen[1] :]:
                for item in (call.body or {}).get("stocks", ()):
                    sku = skus[item["product_id"] - OZON_PRODUCT]
                    if sku in committed:
                        latencies["ozon"].append(call.at - committed[sku])
            for call in ym.received[seen[2] :]:
                for item in (call.body or {}).get("skus", ()):
                    sku = item["sku"].removeprefix("offer-")
                    if sku in committed:
                        latencies["ym"].append(call.at - committed[sku])
            for call in av.received[seen[3] :]:
                if call.path != AV_STOCKS:
                    continue
                for item in (call.body or {}).get("stocks", ()):
                    sku = skus[item["item_id"] - AV_LISTING]
                    if sku in committed:
                        latencies["av"].append(call.at - committed[sku])
    return taken, full_s, latencies


AV_STOCKS = "/stock-management/1/stocks"


def av_items(potok: Potok) -> list[tuple[str, str]]:
    """The Avito connection's item map as it stands (SKU, listing)."""
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT p.sku, i.item FROM marketplace_items i "
                "JOIN products p ON p.id = i.product_id "
                "JOIN marketplace_connections c ON c.id = i.connection_id WHERE c.code = 'av'"
            )
        ).all()
    return [(r[0], r[1]) for r in rows]


def percentile_ms(ordered: list[float], share: float = 0.95) -> str:
    return f"{ordered[int(share * (len(ordered) - 1))] * 1000:.0f}" if ordered else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stock-skus", type=int, default=5000)
    parser.add_argument("--stock-rounds", type=int, default=30)
    parser.add_argument("--avito-to-confirm", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="potok-connectors-"))
    url = fresh_database(args.db, workdir)
    settings = bench_settings(url, workdir)
    settings.marketplaces.stock_push_every_s = 0  # every round pushes what moved
    potok = bootstrap(settings)
    migrate.upgrade(potok.engine)
    products = setup(potok, max(args.skus, args.stock_skus))
    stock_skus = [sku for sku, _ in products[: args.stock_skus]]
    products = products[: args.skus]
    wb, ozon, ym = WildberriesSimulator(), OzonSimulator(), YandexMarketSimulator()
    av = AvitoSimulator()
    ym.campaigns = {int(c) for c in YM_CAMPAIGNS}
    try:
        for code, kind, sim, creds, warehouse in (
            ("wb", Marketplace.WILDBERRIES, wb, Credentials(wb.token), WB_WAREHOUSES),
            (
                "ozon",
                Marketplace.OZON,
                ozon,
                Credentials(ozon.api_key, ozon.client_id),
                OZON_WAREHOUSES,
            ),
            (
                "ym",
                Marketplace.YANDEX_MARKET,
                ym,
                Credentials(ym.api_key, ym.business_id),
                YM_CAMPAIGNS,
            ),
            ("av", Marketplace.AVITO, av, Credentials(av.secret, av.client_id), {"avito": "MSK"}),
        ):
            connect_marketplace(
                potok.uow(),
                ConnectionDraft(code, kind, code, creds, sim.url, warehouse),
                BENCH,
            )
        on_wb = args.orders // 4
        on_ym = args.orders // 4
        on_av = args.orders // 4
        map_items(
            potok.uow(),
            "av",
            [ItemMapping(sku, str(AV_LISTING + n)) for n, (sku, _) in enumerate(products)],
            BENCH,
        )
        for index in range(on_av):
            chosen = rng.sample(range(len(products)), rng.randint(1, 2))
            av.add_order(
                items=[
                    {"avitoId": AV_LISTING + n, "count": rng.randint(1, 2), "price": 990}
                    for n in chosen
                ],
                status="on_confirmation" if index < args.avito_to_confirm else "ready_to_ship",
            )
        for _ in range(on_wb):
            sku, barcode = rng.choice(products)
            wb.add_order(article=sku, barcodes=[barcode], price=99_000)
        for _ in range(on_ym):
            chosen = rng.sample(products, rng.randint(1, 3))
            ym.add_order(
                items=[
                    {"offerId": sku, "count": rng.randint(1, 2), "price": 990} for sku, _ in chosen
                ],
                campaign=YM_CAMPAIGN + rng.randrange(len(LOCATIONS)),
            )
        for _ in range(args.orders - on_wb - on_ym - on_av):
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
        for sim in (wb, ozon, ym, av):
            sim.fail(1, status=500)
            sim.limit(1, retry_s=1)
        clients = MarketplaceClients(MarketplaceSettings())
        batch = 1000
        imported = repeated = 0
        started = time.perf_counter()
        own_before = time.process_time()
        backends = pids_cpu(backend_pids(url)) if args.db == "postgresql" else {}
        for code in CHANNELS:
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
        own_cpu = time.process_time() - own_before
        db_cpu = (
            sum(c - backends.get(p, 0.0) for p, c in pids_cpu(backend_pids(url)).items())
            if args.db == "postgresql"
            else 0.0
        )
        again = sum(
            len(poll_marketplace(potok.uow(), clients, code, batch=args.orders).imported)
            for code in CHANNELS
        )
        with potok.engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT count(*), count(DISTINCT external_id) FROM orders")
            ).one()
        duplicates = stored[0] - stored[1] + again
        lost = args.orders - stored[1]
        by_channel = imported_by_channel(potok)
        pushed, full_s, by_marketplace = measure_stock(
            potok, wb, ozon, ym, av, stock_skus, args.stock_rounds, rng
        )
        latencies = sorted(v for values in by_marketplace.values() for v in values)
        p95 = percentile_ms(latencies)
        sims = (wb, ozon, ym, av)
        rejected = sum(sim.rejected for sim in sims)
        invalid = sum(len(sim.invalid) for sim in sims)
        print(
            f"{args.db}: {args.orders} orders on the marketplaces, {imported} imported in "
            f"{elapsed:.1f} s ({by_channel}; {repeated} sent again and skipped), "
            f"{len(av.transitions)} confirmed on Avito; CPU per order imported: this process "
            f"(Potok and the four simulators) {1000 * own_cpu / max(imported, 1):.1f} ms, "
            f"PostgreSQL backends {1000 * db_cpu / max(imported, 1):.1f} ms; {invalid} requests the "
            f"documents refused; stock: {pushed} figures pushed in {full_s:.1f} s, "
            f"{len(latencies)} changes timed, p95 WB "
            f"{percentile_ms(sorted(by_marketplace['wb']))} ms, Ozon "
            f"{percentile_ms(sorted(by_marketplace['ozon']))} ms, Market "
            f"{percentile_ms(sorted(by_marketplace['ym']))} ms, Avito "
            f"{percentile_ms(sorted(by_marketplace['av']))} ms",
            file=sys.stderr,
        )
        print(
            f"connectors orders_imported={imported} duplicates={duplicates} lost={lost} "
            f"import_per_s={imported / elapsed:.0f} stock_items_pushed={pushed} "
            f"push_latency_p95_ms={p95} "
            f"rejected_requests={rejected}"
        )
    finally:
        for sim in (wb, ozon, ym, av):
            sim.stop()
        potok.close()


def imported_by_channel(potok: Potok) -> str:
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT c.code, count(*) FROM orders o JOIN channels c ON c.id = o.channel_id "
                "GROUP BY c.code ORDER BY c.code"
            )
        ).all()
    return " ".join(f"{code}={count}" for code, count in rows)


if __name__ == "__main__":
    main()
