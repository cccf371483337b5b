"""Reports benchmark: the order KPIs a dashboard asks for, over a year of a million orders.

    python benchmarks/reports.py                      # 1,000,000 orders on PostgreSQL
    python benchmarks/reports.py --orders 100000

A fresh PostgreSQL database (``POTOK_BENCH_DATABASE_URL``, default ``potok_bench``) is
migrated; ``--orders`` orders spread over the year up to today are written in bulk by SQL
(``generate_series``: one channel of three, one warehouse of three, one carrier of two; a
twentieth cancelled, stage times of minutes to days), each with its row of order facts as
the reaction would write it. Then the dashboard's questions are asked ``--runs`` times
each through the reports service: the last 30 days by day, and the whole year by month
(every fact of the year). It prints the p50/p95 of each and, as its last line:

    reports orders=N dashboard_p95_ms=…

``dashboard_p95_ms`` is the year-by-month view's p95, the heavier of the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.domain.analytics import Dimension, Grain, Period
from potok.services import reports
from potok.settings import DatabaseSettings, SecuritySettings, Settings

ORDERS = """
INSERT INTO orders (id, channel_id, external_id, state, allocation, payment_status, status,
    fulfilment, returned, currency, subtotal, delivery_price, delivery_vat_rate, vat_total,
    total, customer_name, delivery_method, priority, comment, version, created_at, updated_at)
SELECT n, (SELECT id FROM channels ORDER BY id OFFSET (n % 3) LIMIT 1), 'B-' || n,
    CASE WHEN n % 20 = 0 THEN 'cancelled' ELSE 'confirmed' END, 'reserved', 'paid',
    CASE WHEN n % 20 = 0 THEN 'cancelled' ELSE 'delivered' END, 'none', 'none', 'RUB',
    1000 + n % 9000, 0, 0, 0, 1000 + n % 9000, '', 'courier', 0, '', 1,
    :start + (n * :step) * interval '1 second', :start + (n * :step) * interval '1 second'
FROM generate_series(1, :count) AS n
"""

FACTS = """
INSERT INTO order_facts (order_id, channel, warehouse, carrier, currency, total, created_at,
    created_on, units_ordered, units_shipped, confirmed_at, picked_at, packed_at,
    handed_over_at, delivered_at, promised_at, cancelled, cancel_reason, backordered,
    returned, return_reason, shipping_cost, shipping_estimate, refreshed_at)
SELECT o.id, c.code, (ARRAY['MSK','SPB','KZN'])[1 + o.id % 3],
    (ARRAY['cdek','pochta'])[1 + o.id % 2], 'RUB', o.total, o.created_at,
    (o.created_at AT TIME ZONE 'UTC')::date, 1 + o.id % 3, 1 + o.id % 3,
    o.created_at + interval '5 minutes',
    o.created_at + (30 + o.id % 300) * interval '1 minute',
    o.created_at + (60 + o.id % 400) * interval '1 minute',
    o.created_at + (120 + o.id % 900) * interval '1 minute',
    o.created_at + (1440 + o.id % 4000) * interval '1 minute',
    o.created_at + interval '3 days', o.state = 'cancelled',
    CASE WHEN o.state = 'cancelled' THEN 'changed mind' END, o.id % 50 = 0,
    o.id % 30 = 0, CASE WHEN o.id % 30 = 0 THEN 'damaged' END, 350, 320, now()
FROM orders o JOIN channels c ON c.id = o.channel_id
"""


def fresh_database() -> str:
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


def timed(runs: int, ask: object) -> tuple[float, float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        ask()  # type: ignore[operator]
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[max(0, round(0.95 * len(took)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = fresh_database()
    with tempfile.TemporaryDirectory(prefix="potok-reports-") as folder:
        settings = Settings(
            db=DatabaseSettings(url=url),
            security=SecuritySettings(key_file=str(Path(folder) / "potok-keys.json")),
        )
        potok = bootstrap(settings)
        migrate.upgrade(potok.engine)
        run(potok, args.orders, args.runs)
        potok.close()


def run(potok: Potok, orders: int, runs: int) -> None:
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=364), datetime.min.time(), UTC)
    step = 365 * 86400 // orders
    loading = time.perf_counter()
    with potok.engine.begin() as connection:
        for code in ("web", "mp", "phone"):
            connection.execute(
                sa.text(
                    "INSERT INTO channels (code, name, type, currency, confirmation, backorders,"
                    " created_at, updated_at) VALUES (:c, :c, 'web', 'RUB', 'auto', 'allow',"
                    " now(), now())"
                ),
                {"c": code},
            )
        connection.execute(sa.text(ORDERS), {"start": start, "step": step, "count": orders})
        connection.execute(sa.text(FACTS))
        connection.execute(sa.text("ANALYZE order_facts"))
    print(f"loaded {orders} orders and facts in {time.perf_counter() - loading:.0f} s")
    month = Period(today - timedelta(days=29), today, Grain.DAY)
    year = Period(today - timedelta(days=364), today, Grain.MONTH)
    p50_m, p95_m = timed(runs, lambda: reports.order_report(potok.uow(), month))
    print(f"last 30 days by day: p50_ms={p50_m:.0f} p95_ms={p95_m:.0f}")
    p50_c, p95_c = timed(
        max(3, runs // 4),
        lambda: reports.order_report(potok.uow(), month, Dimension.CHANNEL),
    )
    print(f"last 30 days by day and channel: p50_ms={p50_c:.0f} p95_ms={p95_c:.0f}")
    p50_y, p95_y = timed(runs, lambda: reports.order_report(potok.uow(), year))
    print(f"year by month: p50_ms={p50_y:.0f} p95_ms={p95_y:.0f}")
    print(f"reports orders={orders} dashboard_p95_ms={p95_y:.0f}")


if __name__ == "__main__":
    main()
