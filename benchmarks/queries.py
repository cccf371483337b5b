"""Queries benchmark: the operator's order list, search and stock levels over a large
catalogue and history.

    python benchmarks/queries.py                       # 1,000,000 orders, 100,000 SKUs
    python benchmarks/queries.py --orders 100000 --skus 10000
    python benchmarks/queries.py --reuse               # ask a database a run filled

A fresh PostgreSQL database (``POTOK_BENCH_DATABASE_URL``, default ``potok_bench_queries``)
is migrated and filled in bulk, not through the API: the customers' sealed names and phones
and their keyed hashes (the blind index the search matches) are computed here and sent with
``COPY``; products, stock, orders over the last year (one to three lines each) and their
reservations are made by SQL from them. Then, through the services the API calls, each
``--runs`` times with varied arguments:

- the order list: the first page and a page further on, newest first, filtered by status,
  channel, payment status, a period, a warehouse, or none;
- search: by phone (as people type it), by order number, by external id;
- stock levels: one warehouse's page, a page further on, one SKU, only what is available.

It prints the p50/p95 of each, with the mean CPU of one asking here and in the PostgreSQL
backends (on a shared machine wall times swing with the load, CPU much less), and last:

    queries orders=N list_p95_ms=... search_p95_ms=... stock_levels_p95_ms=...
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.db.personal import name_hash
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.read_models import OrderFilter
from potok.settings import DatabaseSettings, SecuritySettings, Settings

CHANNELS = ("web", "ozon", "wb", "phone", "shop")
WAREHOUSES = ("MSK", "SPB", "KZN", "EKB", "NSK", "RND", "KRD", "SMR")
STATUSES = ("new", "confirmed", "reserved", "in_fulfilment", "shipped", "delivered", "cancelled")
FIRST = ("Анна", "Иван", "Ольга", "Пётр", "Мария", "Сергей", "Елена", "Дмитрий")
LAST = ("Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева")

PRODUCTS = """
INSERT INTO products (sku, name, price, vat_rate, created_at, updated_at)
SELECT 'SKU-' || lpad(n::text, 6, '0'), 'Товар ' || n, 100 + n % 5000, 22, now(), now()
FROM generate_series(1, :skus) AS n
"""
# every SKU at three of the eight warehouses
STOCK = """
INSERT INTO stock (warehouse_id, product_id, on_hand, reserved, updated_at)
SELECT w.id, p.id, 10 + (p.id * 7 + w.id) % 90, (p.id + w.id) % 10, now()
FROM products p JOIN warehouses w ON (p.id + w.id) % 8 < 3
"""
ORDERS = """
INSERT INTO orders (id, channel_id, external_id, state, allocation, payment_status, status,
    fulfilment, returned, currency, subtotal, delivery_price, delivery_vat_rate, vat_total,
    total, customer_name, customer_phone, customer_name_hash, customer_phone_hash,
    delivery_method, priority, comment, version, created_at, updated_at)
SELECT n, (SELECT array_agg(id ORDER BY id) FROM channels)[1 + n % :channels],
    'EXT-' || n, CASE WHEN n % 25 = 0 THEN 'cancelled' ELSE 'confirmed' END, 'reserved',
    (ARRAY['pending', 'paid', 'paid', 'not_required'])[1 + n % 4],
    (ARRAY['new', 'confirmed', 'reserved', 'in_fulfilment', 'shipped', 'delivered',
        'delivered', 'delivered'])[1 + (n / 7) % 8],
    'none', 'none', 'RUB', 1000 + n % 9000, 0, 0, 0, 1000 + n % 9000,
    c.name, c.phone, c.name_hash, c.phone_hash, 'courier', n % 3, '', 1,
    :start + (n::bigint * :step) * interval '1 millisecond',
    :start + (n::bigint * :step) * interval '1 millisecond'
FROM generate_series(1, :count) AS n JOIN bench_customers c ON c.k = n % :customers
"""
LINES = """
INSERT INTO order_lines (order_id, line_no, product_id, sku, name, quantity, unit_price,
    vat_rate, total)
SELECT o.id, l.no, p.id, p.sku, p.name, 1, p.price, 22, p.price
FROM orders o CROSS JOIN LATERAL generate_series(1, 1 + o.id % 3) AS l(no)
JOIN products p ON p.id = 1 + (o.id * 31 + l.no * 7919) % :skus
"""
RESERVATIONS = """
INSERT INTO reservations (order_id, line_no, stock_id, warehouse_id, product_id, quantity,
    status, created_at)
SELECT l.order_id, l.line_no, s.id, s.warehouse_id, s.product_id, 1,
    CASE WHEN o.status IN ('shipped', 'delivered') THEN 'consumed' ELSE 'open' END, o.created_at
FROM order_lines l JOIN orders o ON o.id = l.order_id
JOIN LATERAL (SELECT id, warehouse_id, product_id FROM stock
    WHERE stock.product_id = l.product_id ORDER BY id LIMIT 1) s ON true
WHERE o.state <> 'cancelled'
"""


def database(*, fresh: bool) -> str:
    """The benchmark's database, dropped and created afresh unless told to reuse it."""
    base = os.environ.get(
        "POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/potok_bench_queries"
    )
    url = sa.engine.make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    if not fresh:
        return url.render_as_string(hide_password=False)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def phone_of(n: int) -> str:
    """Customer ``n``'s phone, as the intake stores it (normalised)."""
    return f"+79{n:09d}"


def fill(potok: Potok, orders: int, skus: int) -> None:
    customers = max(orders // 5, 1)
    start = datetime.now(UTC) - timedelta(days=365)
    step = 365 * 86_400_000 // orders
    loading = time.perf_counter()
    protector = potok.protector
    with potok.engine.begin() as connection:
        # a bulk load of rows made consistent here: the foreign keys' per-row checks off
        # (a superuser's setting, for this transaction only)
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for code in CHANNELS:
            connection.execute(
                sa.text(
                    "INSERT INTO channels (code, name, type, currency, confirmation, backorders,"
                    " created_at, updated_at) VALUES (:c, :c, 'web', 'RUB', 'auto', 'allow',"
                    " now(), now())"
                ),
                {"c": code},
            )
        for n, code in enumerate(WAREHOUSES):
            connection.execute(
                sa.text(
                    "INSERT INTO warehouses (code, name, type, city, latitude, longitude,"
                    " created_at, updated_at) VALUES (:c, :c, 'warehouse', :c, :lat, 37.6,"
                    " now(), now())"
                ),
                {"c": code, "lat": 50.0 + n},
            )
        connection.execute(sa.text(PRODUCTS), {"skus": skus})
        connection.execute(sa.text("ANALYZE products, warehouses, channels"))
        connection.execute(sa.text(STOCK))
        # the customers' sealed data and blind-index hashes, computed here, sent by COPY
        connection.execute(
            sa.text(
                "CREATE UNLOGGED TABLE bench_customers (k int PRIMARY KEY, name text,"
                " phone text, name_hash text, phone_hash text)"
            )
        )
        buffer = io.StringIO()
        for n in range(customers):
            name = f"{FIRST[n % len(FIRST)]} {LAST[(n // 8) % len(LAST)]} {n}"
            phone = phone_of(n)
            sealed_name = protector.encrypt(name)
            sealed_phone = protector.encrypt(phone)
            buffer.write(
                f"{n}\t{sealed_name}\t{sealed_phone}\t{name_hash(protector, name)}\t"
                f"{protector.index(phone)}\n"
            )
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor().copy("COPY bench_customers FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        connection.execute(
            sa.text(ORDERS),
            {
                "start": start,
                "step": step,
                "count": orders,
                "channels": len(CHANNELS),
                "customers": customers,
            },
        )
        connection.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('orders', 'id'), :n)"), {"n": orders}
        )
        # statistics of what was just written, or the planner joins millions of rows as
        # if they were a handful
        connection.execute(sa.text("ANALYZE stock, orders, bench_customers"))
        connection.execute(sa.text(LINES), {"skus": skus})
        connection.execute(sa.text("ANALYZE order_lines"))
        connection.execute(sa.text(RESERVATIONS))
        connection.execute(sa.text("DROP TABLE bench_customers"))
    with potok.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("products", "stock", "orders", "order_lines", "reservations"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    print(
        f"loaded {orders} orders of {customers} customers, {skus} SKUs in"
        f" {time.perf_counter() - loading:.0f} s"
    )


def backend_cpu(engine: sa.Engine) -> float:
    """CPU seconds used so far by the PostgreSQL backends of the benchmark's database but
    the one asking (Linux /proc, the server on this machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    with engine.connect() as connection:
        pids = connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = [int(p) for p in pids]
    total = 0.0
    for pid in found:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def timed(engine: sa.Engine, asks: list[Callable[[], object]]) -> tuple[float, str]:
    """Each asking once: the wall p95, and a line with the p50/p95 and the mean CPU of one
    asking here and in the database."""
    took, cpu, db = [], [], []
    for ask in asks:
        db_before = backend_cpu(engine)
        started, cpu_before = time.perf_counter(), time.process_time()
        ask()
        took.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_before) * 1000)
        db.append((backend_cpu(engine) - db_before) * 1000)
    took.sort()
    p95 = took[max(0, round(0.95 * len(took)) - 1)]
    return p95, (
        f"p50_ms={statistics.median(took):.1f} p95_ms={p95:.1f} "
        f"cpu_ms={statistics.fmean(cpu):.1f} db_cpu_ms={statistics.fmean(db):.1f}"
    )


def list_asks(potok: Potok, runs: int, rand: random.Random) -> list[Callable[[], object]]:
    now = datetime.now(UTC)
    filters = [
        OrderFilter(),
        OrderFilter(statuses=("new",)),
        OrderFilter(statuses=("in_fulfilment", "reserved")),
        OrderFilter(channels=("ozon",)),
        OrderFilter(channels=("web",), statuses=("delivered",)),
        OrderFilter(payment_statuses=("pending",)),
        OrderFilter(created_from=now - timedelta(days=7)),
        OrderFilter(created_from=now - timedelta(days=200), created_to=now - timedelta(days=190)),
        OrderFilter(warehouses=("KZN",)),
        OrderFilter(warehouses=("SPB",), statuses=("shipped",)),
    ]

    def ask(flt: OrderFilter, deeper: bool) -> Callable[[], object]:
        def run() -> object:
            page = order_service.list_orders(potok.uow(), flt, limit=50)
            if deeper and page.next_cursor:
                page = order_service.list_orders(
                    potok.uow(), flt, cursor=page.next_cursor, limit=50
                )
            return page

        return run

    return [ask(filters[i % len(filters)], rand.random() < 0.3) for i in range(runs)]


def search_asks(
    potok: Potok, runs: int, orders: int, rand: random.Random
) -> list[Callable[[], object]]:
    customers = max(orders // 5, 1)

    def typed_phone(n: int) -> str:
        digits = phone_of(n)[2:]  # as people type it: 8 (9xx) xxx-xx-xx, +7 9xx..., 9xx...
        return rand.choice(
            [
                f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
                f"+7{digits}",
                digits,
            ]
        )

    def ask(text: str) -> Callable[[], object]:
        return lambda: order_service.list_orders(potok.uow(), OrderFilter(text=text), limit=50)

    asks = []
    for i in range(runs):
        kind = i % 3
        if kind == 0:
            text = typed_phone(rand.randrange(customers))
        elif kind == 1:
            text = f"#{rand.randrange(1, orders + 1)}"
        else:
            text = f"EXT-{rand.randrange(1, orders + 1)}"
        asks.append(ask(text))
    return asks


def stock_asks(
    potok: Potok, runs: int, skus: int, rand: random.Random
) -> list[Callable[[], object]]:
    def first(warehouse: str, *, available: bool = False) -> Callable[[], object]:
        return lambda: inventory.list_levels(
            potok.uow(), warehouse=warehouse, only_available=available, limit=100
        )

    def deeper(warehouse: str) -> Callable[[], object]:
        def run() -> object:
            page = inventory.list_levels(potok.uow(), warehouse=warehouse, limit=100)
            for _ in range(3):
                if page.next_cursor is None:
                    break
                page = inventory.list_levels(
                    potok.uow(), warehouse=warehouse, cursor=page.next_cursor, limit=100
                )
            return page

        return run

    def one(sku: str) -> Callable[[], object]:
        return lambda: inventory.list_levels(potok.uow(), sku=sku, limit=100)

    asks: list[Callable[[], object]] = []
    for i in range(runs):
        warehouse = rand.choice(WAREHOUSES)
        kind = i % 4
        if kind == 0:
            asks.append(first(warehouse))
        elif kind == 1:
            asks.append(deeper(warehouse))
        elif kind == 2:
            asks.append(one(f"SKU-{rand.randrange(1, skus + 1):06d}"))
        else:
            asks.append(first(warehouse, available=True))
    return asks


def ask(potok: Potok, orders: int, skus: int, runs: int) -> None:
    rand = random.Random(13)
    engine = sa.create_engine(potok.engine.url, poolclass=sa.NullPool)
    order_service.list_orders(potok.uow(), OrderFilter(), limit=50)  # warm the pool
    list_p95, list_line = timed(engine, list_asks(potok, runs, rand))
    print(f"order list ({runs} pages): {list_line}")
    search_p95, search_line = timed(engine, search_asks(potok, runs, orders, rand))
    print(f"search by phone, number, external id ({runs}): {search_line}")
    stock_p95, stock_line = timed(engine, stock_asks(potok, runs, skus, rand))
    print(f"stock levels ({runs}): {stock_line}")
    engine.dispose()
    print(
        f"queries orders={orders} list_p95_ms={list_p95:.1f} search_p95_ms={search_p95:.1f}"
        f" stock_levels_p95_ms={stock_p95:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Ask the database a previous run filled (same --orders and --skus).",
    )
    parser.add_argument(
        "--key-file", help="The data keys (kept between runs so that --reuse reads the data)."
    )
    args = parser.parse_args()
    url = database(fresh=not args.reuse)
    with tempfile.TemporaryDirectory(prefix="potok-queries-") as folder:
        key_file = args.key_file or str(Path(folder) / "potok-keys.json")
        settings = Settings(
            db=DatabaseSettings(url=url), security=SecuritySettings(key_file=key_file)
        )
        potok = bootstrap(settings)
        if not args.reuse:
            migrate.upgrade(potok.engine)
            fill(potok, args.orders, args.skus)
        ask(potok, args.orders, args.skus, args.runs)
        potok.close()


if __name__ == "__main__":
    main()
