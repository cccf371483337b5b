"""Queries benchmark: the operator's order list, search and stock levels over a large
catalogue and history.

    python benchmarks/queries.py                       # 1,000,000 orders, 100,000 SKUs
    python benchmarks/queries.py --orders 100000 --skus 10000
    python benchmarks/queries.py --key-file K          # fill, keeping the data keys in K
    python benchmarks/queries.py --reuse --key-file K  # ask the database that run filled
    python benchmarks/queries.py --reuse --key-file K --explain  # and the plans' buffers

A fresh PostgreSQL database (``POTOK_BENCH_DATABASE_URL``, default ``potok_bench_queries``)
is migrated and filled in bulk, not through the API: the customers' sealed names and phones
and their keyed hashes (the blind index the search matches) are computed here and sent with
``COPY``; products, stock, orders over the last year (one to three lines each), their
reservations and their first history entries are made by SQL from them. Then, through the services the API calls, each
``--runs`` times with varied arguments:

- the order list: the first page and a page further on, newest first, filtered by status,
  channel, payment status, a period, a warehouse, or none;
- search: by phone (as people type it: a customer's history), by order number, by
  external id;
- stock levels: one warehouse's page, four pages on, one SKU, only what is available, every
  warehouse;
- the order card as the console reads it (the order and its history, its sourcing with a
  dry run, shipments, documents, returns, receipts, payment), a quarter as often;
- the console's dashboard (today's orders, those waiting for an operator, alerts, stock
  below its minimum, stuck shipments), a tenth as often.

It prints the p50/p95 of each family and of each kind in it, with the mean and largest CPU
of one asking here and in the PostgreSQL backends (on a shared machine wall times swing
with the load, CPU much less). ``--explain`` then runs the statements of each kind's first
asking again under ``EXPLAIN (ANALYZE, BUFFERS)`` and prints the buffers they touched and
the rows their scans read - what grows with the table when a plan does - and the plans
that touched more than a thousand buffers. Last:

    queries orders=N list_p95_ms=... search_p95_ms=... stock_levels_p95_ms=...
      card_p95_ms=... dashboard_p95_ms=...
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import ClientCursor
from psycopg.sql import Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import backends_cpu
from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.db.personal import name_hash
from potok.services import dashboard, inventory
from potok.services import documents as document_service
from potok.services import orders as order_service
from potok.services import sourcing as sourcing_service
from potok.services.fiscal import reading as fiscal_reading
from potok.services.fulfilment import reads as shipment_reads
from potok.services.payments import reads as payment_reads
from potok.services.read_models import OrderFilter
from potok.services.returns import requests as return_requests
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

# each order's first history entry, which the order card reads with it
HISTORY = """
INSERT INTO order_history (order_id, occurred_at, actor, action, to_status, details)
SELECT id, created_at, 'api_key:shop', 'created', 'new', '{}' FROM orders
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
                    " created_at, updated_at) VALUES (:c, :c, 'web', 'RUB', 'auto', 'backorder',"
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
        connection.execute(sa.text(HISTORY))
        connection.execute(sa.text("DROP TABLE bench_customers"))
    with potok.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in (
            "products",
            "stock",
            "orders",
            "order_lines",
            "reservations",
            "order_history",
        ):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    print(
        f"loaded {orders} orders of {customers} customers, {skus} SKUs in"
        f" {time.perf_counter() - loading:.0f} s"
    )


def backend_cpu(engine: sa.Engine) -> float:
    """CPU seconds used so far by the PostgreSQL backends of the benchmark's database
    (:func:`benchmarks.intake.backends_cpu`: every backend but the one asking)."""
    return backends_cpu(engine.url.render_as_string(hide_password=False))


Ask = tuple[str, Callable[[], object]]  # what is asked (a name of its kind), and the asking


class Statements:
    """The SQL statements the services send while ``recording``, with their parameters."""

    def __init__(self, engine: sa.Engine) -> None:
        self.recording = False
        self.sent: list[tuple[str, Any]] = []
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.recording and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.sent.append((statement, parameters))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def timed(engine: sa.Engine, asks: list[Ask]) -> tuple[float, list[str]]:
    """Each asking once: the wall p95, and lines with the p50/p95 and the mean CPU of one
    asking here and in the database - of them all, then of each kind."""
    took: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    db: dict[str, list[float]] = {}
    for kind, ask in asks:
        db_before = backend_cpu(engine)
        started, cpu_before = time.perf_counter(), time.process_time()
        ask()
        took.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        cpu.setdefault(kind, []).append((time.process_time() - cpu_before) * 1000)
        db.setdefault(kind, []).append((backend_cpu(engine) - db_before) * 1000)

    def line(walls: list[float], here: list[float], there: list[float]) -> str:
        return (
            f"n={len(walls)} p50_ms={statistics.median(walls):.1f}"
            f" p95_ms={_percentile(walls, 0.95):.1f} cpu_ms={statistics.fmean(here):.1f}"
            f" db_cpu_ms={statistics.fmean(there):.1f}"
            f" db_cpu_max_ms={max(there):.1f}"
        )

    every = [t for kind in took for t in took[kind]]
    lines = [line(every, [c for v in cpu.values() for c in v], [d for v in db.values() for d in v])]
    lines += [f"  {kind:<34} {line(took[kind], cpu[kind], db[kind])}" for kind in took]
    return _percentile(every, 0.95), lines


def explained(engine: sa.Engine, statements: Statements, asks: list[Ask]) -> list[str]:
    """The first asking of each kind again, each statement it sent run under EXPLAIN
    (ANALYZE, BUFFERS): the shared buffers it touched (what grows when a plan reads more
    of a table as the table grows), the rows its scans read, and its plan when it touched
    more than a thousand.

    Potok's connections keep the generic plan of a prepared statement (one made without
    the values, ``plan_cache_mode``), so each statement is prepared and its generic plan
    explained; one PostgreSQL cannot prepare that way is explained with its values."""
    lines = []
    seen: set[str] = set()
    for kind, ask in asks:
        if kind in seen:
            continue
        seen.add(kind)
        statements.sent.clear()
        statements.recording = True
        try:
            ask()
        finally:
            statements.recording = False
        buffers = scanned = with_values = 0
        plans: list[str] = []
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            for sql, parameters in statements.sent:
                plan, text, generic = _explain(raw, sql, parameters)
                with_values += 0 if generic else 1
                touched = plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
                buffers += touched
                scanned += _rows_scanned(plan)
                if touched > 1000:
                    plans.append(f"    {touched} buffers:\n{text}")
        lines.append(
            f"  {kind:<34} statements={len(statements.sent)} buffers={buffers}"
            f" rows_scanned={scanned}"
            + (f" (with their values: {with_values})" if with_values else "")
        )
        lines.extend(plans)
    return lines


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _explain(raw: Any, sql: str, parameters: Any) -> tuple[dict[str, Any], str, bool]:
    """The JSON plan and the text of one statement's run: its generic plan when it can be
    prepared (its placeholders numbered, its values given to EXECUTE), else with its
    values written in."""
    if isinstance(parameters, dict):
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        prepared = PLACEHOLDER.sub(number, sql).replace("%%", "%")
        values = ", ".join(Literal(parameters[n]).as_string(raw) for n in names)
        execute = f"EXECUTE potok_explained({values})" if names else "EXECUTE potok_explained"
        try:
            with raw.cursor() as cursor:
                cursor.execute("SET plan_cache_mode = force_generic_plan")
                cursor.execute(f"PREPARE potok_explained AS {prepared}")
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {execute}")
                row = cursor.fetchone()
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {execute}")
                text = "\n".join(f"      {r[0]}" for r in cursor.fetchall())
                assert row is not None
                return row[0][0]["Plan"], text, True
        except psycopg.Error:
            pass
        finally:
            raw.rollback()
            with contextlib.suppress(psycopg.Error):
                raw.execute("DEALLOCATE potok_explained")  # not undone by a rollback
            raw.rollback()
    with ClientCursor(raw) as cursor:  # the values written into the statement
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", parameters)
        row = cursor.fetchone()
        assert row is not None
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", parameters)
        text = "\n".join(f"      {r[0]}" for r in cursor.fetchall())
    raw.rollback()
    return row[0][0]["Plan"], text, False


def _rows_scanned(plan: dict[str, Any]) -> int:
    """Rows the plan's scans produced, before and after their filters."""
    own = 0
    if plan.get("Node Type", "").endswith("Scan") and plan["Node Type"] != "Bitmap Index Scan":
        loops = plan.get("Actual Loops", 1)
        own = int((plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops)
    return own + sum(_rows_scanned(child) for child in plan.get("Plans", []))


def list_asks(potok: Potok, runs: int, rand: random.Random) -> list[Ask]:
    now = datetime.now(UTC)
    filters = [
        ("none", OrderFilter()),
        ("status new", OrderFilter(statuses=("new",))),
        ("status in_fulfilment+reserved", OrderFilter(statuses=("in_fulfilment", "reserved"))),
        ("channel ozon", OrderFilter(channels=("ozon",))),
        ("channel web, delivered", OrderFilter(channels=("web",), statuses=("delivered",))),
        ("payment pending", OrderFilter(payment_statuses=("pending",))),
        ("last 7 days", OrderFilter(created_from=now - timedelta(days=7))),
        (
            "200 to 190 days ago",
            OrderFilter(
                created_from=now - timedelta(days=200), created_to=now - timedelta(days=190)
            ),
        ),
        ("warehouse KZN", OrderFilter(warehouses=("KZN",))),
        ("warehouse SPB, shipped", OrderFilter(warehouses=("SPB",), statuses=("shipped",))),
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

    asks: list[Ask] = []
    for i in range(runs):
        name, flt = filters[i % len(filters)]
        asks.append((f"list: {name}", ask(flt, rand.random() < 0.3)))
    return asks


def search_asks(potok: Potok, runs: int, orders: int, rand: random.Random) -> list[Ask]:
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

    asks: list[Ask] = []
    for i in range(runs):
        kind = i % 3
        if kind == 0:  # a customer's history: their orders, found by their phone
            asks.append(("search: phone", ask(typed_phone(rand.randrange(customers)))))
        elif kind == 1:
            asks.append(("search: #number", ask(f"#{rand.randrange(1, orders + 1)}")))
        else:
            asks.append(("search: external id", ask(f"EXT-{rand.randrange(1, orders + 1)}")))
    return asks


def stock_asks(potok: Potok, runs: int, skus: int, rand: random.Random) -> list[Ask]:
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

    def everywhere() -> Callable[[], object]:
        return lambda: inventory.list_levels(potok.uow(), limit=100)

    asks: list[Ask] = []
    for i in range(runs):
        warehouse = rand.choice(WAREHOUSES)
        kind = i % 5
        if kind == 0:
            asks.append(("stock: a warehouse", first(warehouse)))
        elif kind == 1:
            asks.append(("stock: a warehouse, 4 pages", deeper(warehouse)))
        elif kind == 2:
            asks.append(("stock: one SKU", one(f"SKU-{rand.randrange(1, skus + 1):06d}")))
        elif kind == 3:
            asks.append(("stock: a warehouse, available", first(warehouse, available=True)))
        else:
            asks.append(("stock: every warehouse", everywhere()))
    return asks


def card_asks(potok: Potok, runs: int, orders: int, rand: random.Random) -> list[Ask]:
    """The order card as the console reads it: the order with its history, the stored
    sourcing decision and a dry run, shipments, documents, returns, receipts, payment."""

    def card(order_id: int) -> Callable[[], object]:
        def run() -> object:
            uow = potok.uow()
            view = order_service.get_order(uow, order_id)
            sourcing_service.explain_order(uow, order_id)
            for shipment in shipment_reads.order_shipments(uow, order_id):
                if shipment.id is not None:
                    shipment_reads.get_shipment(uow, shipment.id)
            document_service.list_documents(uow, order_id=order_id, limit=50)
            return_requests.returns_of_order(uow, order_id)
            fiscal_reading.receipts_of_order(uow, order_id)
            payment_reads.payment_or_none(uow, order_id)
            return view

        return run

    return [("order card", card(rand.randrange(1, orders + 1))) for _ in range(runs)]


def dashboard_asks(potok: Potok, runs: int) -> list[Ask]:
    """The console's first screen: today's orders by status and channel, the orders that
    wait for an operator (of any day), alerts, stock below its minimum, stuck shipments."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        ("dashboard", lambda: dashboard.dashboard(potok.uow(), OrderFilter(), since=today))
        for _ in range(runs)
    ]


FAMILIES = ("list", "search", "stock_levels", "card", "dashboard")


def ask(
    potok: Potok, orders: int, skus: int, runs: int, *, explain: bool, only: Sequence[str]
) -> None:
    rand = random.Random(13)
    engine = sa.create_engine(potok.engine.url, poolclass=sa.NullPool)
    statements = Statements(potok.engine)
    order_service.list_orders(potok.uow(), OrderFilter(), limit=50)  # warm the pool
    families = [
        ("order list", "list", list_asks(potok, runs, rand)),
        ("search by phone, number, external id", "search", search_asks(potok, runs, orders, rand)),
        ("stock levels", "stock_levels", stock_asks(potok, runs, skus, rand)),
        ("order card", "card", card_asks(potok, max(runs // 4, 1), orders, rand)),
        ("dashboard", "dashboard", dashboard_asks(potok, max(runs // 10, 1))),
    ]
    p95s: dict[str, float] = dict.fromkeys(FAMILIES, float("nan"))  # nan: not asked
    for title, key, asks in families:
        if key not in only:
            continue
        p95s[key], lines = timed(engine, asks)
        print(f"{title} ({len(asks)}): {lines[0]}", flush=True)
        for line in lines[1:]:
            print(line, flush=True)
        if explain:
            print(f"{title}, each kind's statements under EXPLAIN ANALYZE:", flush=True)
            for line in explained(engine, statements, asks):
                print(line, flush=True)
    engine.dispose()
    print(
        f"queries orders={orders} list_p95_ms={p95s['list']:.1f}"
        f" search_p95_ms={p95s['search']:.1f} stock_levels_p95_ms={p95s['stock_levels']:.1f}"
        f" card_p95_ms={p95s['card']:.1f} dashboard_p95_ms={p95s['dashboard']:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Ask the database a previous run filled (same --orders, --skus and --key-file);"
        " it is migrated to the newest schema first, nothing is loaded.",
    )
    parser.add_argument(
        "--key-file", help="The data keys (kept between runs so that --reuse reads the data)."
    )
    parser.add_argument(
        "--only",
        default=",".join(FAMILIES),
        help=f"Ask only these, separated by commas (of {', '.join(FAMILIES)}).",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="Also run each kind's statements under EXPLAIN ANALYZE: buffers and rows read.",
    )
    args = parser.parse_args()
    unknown = {name.strip() for name in args.only.split(",")} - set(FAMILIES)
    if unknown:
        parser.error(f"--only: no such queries {', '.join(sorted(unknown))}")
    if args.reuse and not args.key_file:
        parser.error("--reuse needs the --key-file the filling run was given")
    url = database(fresh=not args.reuse)
    with tempfile.TemporaryDirectory(prefix="potok-queries-") as folder:
        key_file = args.key_file or str(Path(folder) / "potok-keys.json")
        settings = Settings(
            db=DatabaseSettings(url=url), security=SecuritySettings(key_file=key_file)
        )
        potok = bootstrap(settings)
        migrate.upgrade(potok.engine)  # a reused database gets the newest indexes too
        if not args.reuse:
            fill(potok, args.orders, args.skus)
        ask(
            potok,
            args.orders,
            args.skus,
            args.runs,
            explain=args.explain,
            only=[name.strip() for name in args.only.split(",")],
        )
        potok.close()


if __name__ == "__main__":
    main()
