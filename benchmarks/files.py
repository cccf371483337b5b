"""Files benchmark: stock levels and the catalogue imported from XLSX and CSV, orders exported.

    python benchmarks/files.py                        # SQLite
    python benchmarks/files.py --db postgresql        # POTOK_BENCH_DATABASE_URL
    python benchmarks/files.py --stock-rows 20000     # a quicker run

It creates a fresh database with 5 warehouses, then through the services, as the CLI and
the API do:

  1. imports a catalogue of ``--products`` rows (SKU, name, price, VAT, barcode, weight)
     from XLSX, creating every product - ``catalogue_import_s``; then the same catalogue
     with new prices from CSV (every product replaced), printed;
  2. imports ``--stock-rows`` stock levels (every product at each warehouse, in turn)
     from XLSX, creating every position - ``stock_import_s``; then new levels from CSV
     (every position changed), printed;
  3. writes ``--orders`` orders of 1-3 lines straight into the tables (seeding, not timed)
     and exports them with their lines to CSV - ``orders_export_s``; then to XLSX, printed.

Each step prints its wall time and this process's CPU time: on a shared machine whose
load average is many times its cores, wall times mostly measure the queue for a core.
``peak_rss_mb`` is the process's peak resident memory over the whole run (the files are
written and read as streams; nothing holds a whole workbook). The machine's load average
is printed too: the machines are shared and noisy. The last line is machine-readable:

    files stock_rows=… stock_import_s=… catalogue_import_s=… orders_export_s=… peak_rss_mb=…
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.db.tables import channels, order_lines, orders
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.kernel import Actor, ActorKind
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.validation import gtin_check_digit
from potok.services import catalogue, catalogue_files, file_exports, stock_files
from potok.services.read_models import OrderFilter
from potok.settings import DatabaseSettings, SecuritySettings, Settings
from potok.spreadsheets import FileFormat, write_table

ACTOR = Actor(ActorKind.SYSTEM, "bench")
WAREHOUSES = ("MSK", "SPB", "KZN", "EKB", "NSK")
CITIES = {"MSK": (55.75, 37.62), "SPB": (59.94, 30.31), "KZN": (55.79, 49.12),
          "EKB": (56.84, 60.60), "NSK": (55.03, 82.92)}  # fmt: skip


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'files-bench.db'}"
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


def gtin(n: int) -> str:
    body = f"46{n:010d}"
    return body + str(gtin_check_digit(body))


def catalogue_rows(count: int, rng: random.Random, markup: int) -> Iterator[list[object]]:
    for n in range(count):
        price = Decimal(rng.randrange(5_000, 2_500_000) + markup) / 100
        yield [f"SKU-{n:06d}", f"Товар {n} «Альфа»", price, rng.choice((22, 22, 10, 0)),
               gtin(n), rng.randrange(50, 5000)]  # fmt: skip


def stock_rows(products: int, count: int, shift: int) -> Iterator[list[object]]:
    for i in range(count):
        warehouse = WAREHOUSES[i // products % len(WAREHOUSES)]
        yield [warehouse, f"SKU-{i % products:06d}", (i * 7 + shift) % 500]


def write(path: Path, fmt: FileFormat, header: list[str], rows: Iterator[list[object]]) -> Path:
    with path.open("wb") as out:
        write_table(out, fmt, header, rows)  # type: ignore[arg-type]
    return path


def seed_orders(potok: Potok, count: int, products: int, rng: random.Random) -> int:
    """Orders straight into the tables, in chunks (seeding only; intake is benchmarked
    elsewhere). Returns the number of lines."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines_total = 0
    with potok.engine.begin() as connection:
        channel_id = connection.execute(sa.select(channels.c.id)).scalar_one()
        product_ids = dict(connection.execute(sa.text("SELECT sku, id FROM products")).all())
    for first in range(0, count, 5000):
        heads, lines = [], []
        for n in range(first, min(first + 5000, count)):
            picked = rng.sample(range(products), rng.randint(1, 3))
            total = Decimal(0)
            for line_no, p in enumerate(picked, start=1):
                quantity = rng.randint(1, 5)
                price = Decimal(rng.randrange(5_000, 500_000)) / 100
                total += price * quantity
                sku = f"SKU-{p:06d}"
                lines.append({"order_id": n + 1, "line_no": line_no, "product_id": product_ids[sku],
                              "sku": sku, "name": f"Товар {p}", "quantity": quantity,
                              "unit_price": price, "vat_rate": Decimal(22),
                              "total": price * quantity})  # fmt: skip
            created = start + timedelta(seconds=n * 30)
            heads.append({"id": n + 1, "channel_id": channel_id, "external_id": f"WEB-{n:07d}",
                          "state": "confirmed", "allocation": "reserved",
                          "payment_status": "paid", "status": "delivered", "currency": "RUB",
                          "subtotal": total, "delivery_price": Decimal("0.00"),
                          "delivery_vat_rate": Decimal(22), "vat_total": Decimal("0.00"),
                          "total": total, "delivery_method": "courier",
                          "address_city": "Москва", "created_at": created,
                          "updated_at": created})  # fmt: skip
        with potok.engine.begin() as connection:
            connection.execute(sa.insert(orders), heads)
            connection.execute(sa.insert(order_lines), lines)
        lines_total += len(lines)
    if potok.engine.dialect.name == "postgresql":
        with potok.engine.begin() as connection:
            connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('orders', 'id'), :n)"), {"n": count}
            )
    return lines_total


def timed(label: str, work: object) -> float:
    """Wall seconds of ``work``; the line printed adds this process's CPU seconds, which a
    busy shared machine inflates far less (PostgreSQL's own CPU is not in them)."""
    assert callable(work)
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds = time.perf_counter() - started
    print(
        f"{label}: {seconds:.2f} s wall, {time.process_time() - cpu:.2f} s CPU ({result})",
        flush=True,
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--stock-rows", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="potok-files-") as folder:
        workdir = Path(folder)
        url = fresh_database(args.db, workdir)
        settings = Settings(
            db=DatabaseSettings(url=url),
            security=SecuritySettings(key_file=str(workdir / "potok-keys.json")),
        )
        potok = bootstrap(settings)
        migrate.upgrade(potok.engine)
        catalogue.create_channel(potok.uow(), ChannelDraft("web", "Site", ChannelType.WEB))
        for code in WAREHOUSES:
            latitude, longitude = CITIES[code]
            catalogue.create_warehouse(
                potok.uow(),
                WarehouseDraft(code, code, WarehouseType.WAREHOUSE, code, latitude, longitude,
                               channels=("web",)),
            )  # fmt: skip
        header = ["артикул", "наименование", "цена", "ставка ндс", "штрихкод", "вес, г"]
        first = write(workdir / "catalogue.xlsx", FileFormat.XLSX, header,
                      catalogue_rows(args.products, rng, 0))  # fmt: skip
        second = write(workdir / "catalogue.csv", FileFormat.CSV, header,
                       catalogue_rows(args.products, rng, 100))  # fmt: skip
        stock_header = ["warehouse", "sku", "on_hand"]
        levels_xlsx = write(workdir / "stock.xlsx", FileFormat.XLSX, stock_header,
                            stock_rows(args.products, args.stock_rows, 1))  # fmt: skip
        levels_csv = write(workdir / "stock.csv", FileFormat.CSV, stock_header,
                           stock_rows(args.products, args.stock_rows, 2))  # fmt: skip
        print(f"files: catalogue {first.stat().st_size // 1024} KiB xlsx, stock "
              f"{levels_xlsx.stat().st_size // 1024} KiB xlsx / "
              f"{levels_csv.stat().st_size // 1024} KiB csv ({args.db})")  # fmt: skip
        load_before = os.getloadavg()

        def import_products(path: Path, fmt: FileFormat) -> object:
            with path.open("rb") as source:
                summary, _ = catalogue_files.import_products(potok.uow(), source, fmt)
            return summary

        def import_levels(path: Path, fmt: FileFormat) -> object:
            with path.open("rb") as source:
                summary, _ = stock_files.import_levels(
                    potok.uow(), source, fmt, ACTOR, reference=path.name
                )
            return summary

        catalogue_s = timed("catalogue from XLSX (all new)",
                            lambda: import_products(first, FileFormat.XLSX))  # fmt: skip
        timed("catalogue from CSV (every price changed)",
              lambda: import_products(second, FileFormat.CSV))  # fmt: skip
        stock_s = timed("stock from XLSX (all new positions)",
                        lambda: import_levels(levels_xlsx, FileFormat.XLSX))  # fmt: skip
        timed("stock from CSV (every level changed)",
              lambda: import_levels(levels_csv, FileFormat.CSV))  # fmt: skip

        started = time.perf_counter()
        lines = seed_orders(potok, args.orders, args.products, rng)
        print(
            f"seeded {args.orders} orders, {lines} lines in {time.perf_counter() - started:.1f} s"
        )

        def export(fmt: FileFormat) -> object:
            with (workdir / f"orders.{fmt.value}").open("wb") as out:
                return file_exports.export_orders(potok.uow(), out, fmt, OrderFilter())

        orders_s = timed("orders to CSV (rows)", lambda: export(FileFormat.CSV))
        timed("orders to XLSX (rows)", lambda: export(FileFormat.XLSX))
        load_after = os.getloadavg()
        potok.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(
        f"files stock_rows={args.stock_rows} stock_import_s={stock_s:.2f} "
        f"catalogue_import_s={catalogue_s:.2f} orders_export_s={orders_s:.2f} "
        f"peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
