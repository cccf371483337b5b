"""Reports benchmark: the order KPIs a dashboard asks for, over a year of a million orders.

    python benchmarks/reports.py                      # 1,000,000 orders on PostgreSQL
    python benchmarks/reports.py --orders 100000

A fresh PostgreSQL database (``POTOK_BENCH_DATABASE_URL``, default ``potok_bench``) is
migrated; ``--orders`` orders spread over the year up to today are written in bulk by SQL
(``generate_series``: one channel of three, one warehouse of three, one carrier of two,
all 18 combinations; a twentieth cancelled, stage times of minutes to days), each with
its row of order facts as the reaction would write it; the daily aggregates are then
summed from those facts by SQL (checked against the reaction's code on the last 46 days). Then the
dashboard's questions are asked ``--runs`` times each through the reports service: the
last 30 days by day (and by channel), the year by month and channel, the year by week and
warehouse for a user who sees two warehouses, and the whole year by month. It prints the
p50/p95 of each, with the CPU one report took in this process and in the PostgreSQL
backends serving it, the SQL statements it sent and the database CPU per statement (means;
on a shared machine the wall times swing with the load, the CPU much less: the CPU is what
to compare between runs), and, as its last line:

    reports orders=N dashboard_p95_ms=… dashboard_db_cpu_ms=… dashboard_statements=…

``dashboard_p95_ms`` is the year-by-month view's p95, ``dashboard_db_cpu_ms`` the database
CPU one asking of it took (a mean: the kernel counts in ticks of 10 ms) and
``dashboard_statements`` the statements it sent. ``--reuse`` asks again a database
a previous run filled (for before/after figures without filling it twice).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import backends_cpu
from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.domain.analytics import Dimension, Grain, Period, order_kpis
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
SELECT o.id, c.code, (ARRAY['MSK','SPB','KZN'])[1 + (o.id / 3) % 3],
    (ARRAY['cdek','pochta'])[1 + (o.id / 9) % 2], 'RUB', o.total, o.created_at,
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

SHIPPED = "handed_over_at IS NOT NULL AND NOT cancelled"
COSTED = "shipping_cost IS NOT NULL AND shipping_estimate IS NOT NULL"
DAYS = f"""
INSERT INTO order_days (created_on, channel, warehouse, carrier, currency, orders, cancelled,
    revenue, delivered, delivered_promised, on_time, backordered, returned, units_ordered,
    units_shipped, shipped_orders, shipping_cost, shipping_estimate, costed_orders)
SELECT created_on, channel, warehouse, carrier, currency, count(*),
    count(*) FILTER (WHERE cancelled), coalesce(sum(total) FILTER (WHERE NOT cancelled), 0),
    count(delivered_at), count(*) FILTER (WHERE delivered_at IS NOT NULL
        AND promised_at IS NOT NULL), count(*) FILTER (WHERE delivered_at <= promised_at),
    count(*) FILTER (WHERE backordered), count(*) FILTER (WHERE {SHIPPED} AND returned),
    coalesce(sum(units_ordered) FILTER (WHERE {SHIPPED}), 0),
    coalesce(sum(units_shipped) FILTER (WHERE {SHIPPED}), 0), count(*) FILTER (WHERE {SHIPPED}),
    coalesce(sum(shipping_cost) FILTER (WHERE {COSTED}), 0),
    coalesce(sum(shipping_estimate) FILTER (WHERE {COSTED}), 0), count(*) FILTER (WHERE {COSTED})
FROM order_facts GROUP BY created_on, channel, warehouse, carrier, currency
"""
# The stage-time histograms as potok.domain.analytics.rollup bins them, every grouping at
# once (CUBE); the benchmark checks below that they add up as the reaction's would.
STAGE_SPANS = """
INSERT INTO order_stage_days (grouping, span, created_on, currency, channel, warehouse,
    carrier, stage, bin, orders, ms)
WITH spent AS (
    SELECT {first} AS created_on, f.currency, f.channel, f.warehouse, f.carrier, s.stage,
        greatest(extract(epoch FROM s.spent), 0) AS secs
    FROM order_facts f CROSS JOIN LATERAL (VALUES
        ('confirmed', f.confirmed_at - f.created_at), ('picked', f.picked_at - f.confirmed_at),
        ('packed', f.packed_at - f.picked_at), ('handed_over', f.handed_over_at - f.packed_at),
        ('delivered', f.delivered_at - f.handed_over_at)) AS s(stage, spent)
    WHERE s.spent IS NOT NULL
), binned AS (
    SELECT *, floor(secs)::bigint AS whole, round(secs * 1000)::bigint AS ms FROM spent
)
SELECT CASE WHEN GROUPING(channel) = 0 THEN 'c' ELSE '-' END
        || CASE WHEN GROUPING(warehouse) = 0 THEN 'w' ELSE '-' END
        || CASE WHEN GROUPING(carrier) = 0 THEN 'k' ELSE '-' END,
    '{span}', created_on, currency, CASE WHEN GROUPING(channel) = 0 THEN channel ELSE '*' END,
    CASE WHEN GROUPING(warehouse) = 0 THEN warehouse ELSE '*' END,
    CASE WHEN GROUPING(carrier) = 0 THEN carrier ELSE '*' END, stage,
    CASE WHEN whole < 100 THEN whole ELSE 100 + (length(whole::text) - 3) * 90
        + whole / (10 ^ (length(whole::text) - 2))::bigint - 10 END AS bin,
    count(*), sum(ms)
FROM binned
GROUP BY created_on, currency, stage, bin, CUBE (channel, warehouse, carrier)
"""
SPANS = {
    "d": "f.created_on",
    "w": "date_trunc('week', f.created_on)::date",
    "m": "date_trunc('month', f.created_on)::date",
}


def database(*, fresh: bool) -> str:
    """The benchmark's database, dropped and created afresh unless told to reuse it."""
    base = os.environ.get(
        "POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/potok_bench"
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


def backend_cpu(engine: sa.Engine) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving the benchmark's database
    (:func:`benchmarks.intake.backends_cpu`: every backend but the one asking, the reports'
    pool included)."""
    return backends_cpu(engine.url.render_as_string(hide_password=False))


@dataclass
class Timing:
    p95_ms: float
    db_cpu_ms: float  # the database's CPU for one asking (a mean over the runs)
    statements: float  # SQL statements one asking sent (a mean)
    line: str


class Statements:
    """Counts the SQL statements an engine sends (an executemany counts once)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


def timed(engine: sa.Engine, sent: Statements, runs: int, ask: object) -> Timing:
    """``runs`` askings: the wall p50/p95, the mean CPU of one asking here and in the
    database, the statements it sent and the database CPU per statement (the kernel counts
    CPU in ticks of 10 ms: a mean over the runs, not one asking's)."""
    took, cpu, db, statements = [], [], [], []
    for _ in range(runs):
        db_before = backend_cpu(engine)
        sent_before = sent.count
        started, cpu_before = time.perf_counter(), time.process_time()
        ask()  # type: ignore[operator]
        took.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_before) * 1000)
        statements.append(sent.count - sent_before)
        db.append((backend_cpu(engine) - db_before) * 1000)
    took.sort()
    p95 = took[max(0, round(0.95 * len(took)) - 1)]
    db_cpu, sent_mean = statistics.fmean(db), statistics.fmean(statements)
    return Timing(
        p95,
        db_cpu,
        sent_mean,
        f"p50_ms={statistics.median(took):.0f} p95_ms={p95:.0f} "
        f"cpu_ms={statistics.fmean(cpu):.1f} db_cpu_ms={db_cpu:.1f} "
        f"statements={sent_mean:.1f} db_cpu_per_statement_ms={db_cpu / max(sent_mean, 1):.2f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Ask the database a previous run filled (same --orders) instead of filling it.",
    )
    args = parser.parse_args()
    url = database(fresh=not args.reuse)
    with tempfile.TemporaryDirectory(prefix="potok-reports-") as folder:
        settings = Settings(
            db=DatabaseSettings(url=url),
            security=SecuritySettings(key_file=str(Path(folder) / "potok-keys.json")),
        )
        potok = bootstrap(settings)
        if args.reuse:
            ask(potok, args.runs)
        else:
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
    print(f"loaded {orders} orders and facts in {time.perf_counter() - loading:.0f} s")
    summing = time.perf_counter()
    with potok.engine.begin() as connection:
        connection.execute(sa.text(DAYS))
        for span, first in SPANS.items():
            connection.execute(sa.text(STAGE_SPANS.format(span=span, first=first)))
        counted = [
            connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("order_days", "order_stage_days")
        ]
    # as autovacuum leaves tables that were written to: statistics, and a visibility map so
    # that the histograms' covering index is read alone
    with potok.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("order_facts", "order_days", "order_stage_days"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    print(
        f"daily aggregates written in {time.perf_counter() - summing:.0f} s:"
        f" order_days={counted[0]} order_stage_days={counted[1]}"
    )
    check = Period(today - timedelta(days=45), today, Grain.WEEK)
    with potok.uow() as uow:
        from_facts = order_kpis(uow.reports.facts(check), check, Dimension.CARRIER)
    from_days = reports.order_report(potok.uow(), check, Dimension.CARRIER).rows
    same = [reports.flat(r) for r in from_days] == [reports.flat(r) for r in from_facts]
    print(f"the last 46 days' KPIs by week from the days equal those from the facts: {same}")
    if not same:
        raise SystemExit("the SQL above does not add up the days as the reaction does")
    ask(potok, runs)


def ask(potok: Potok, runs: int) -> None:
    """The dashboard's questions, ``runs`` times each; the last line's p95 is the year's."""
    today = datetime.now(UTC).date()
    month = Period(today - timedelta(days=29), today, Grain.DAY)
    year = Period(today - timedelta(days=364), today, Grain.MONTH)
    weeks = Period(today - timedelta(days=364), today, Grain.WEEK)
    views = [
        ("last 30 days by day", month, Dimension.NONE, None),
        ("last 30 days by day and channel", month, Dimension.CHANNEL, None),
        ("year by month and channel", year, Dimension.CHANNEL, None),
        ("year by week and warehouse, two warehouses", weeks, Dimension.WAREHOUSE, ["MSK", "SPB"]),
        ("year by month", year, Dimension.NONE, None),
    ]
    last = None
    watching = sa.create_engine(potok.engine.url, poolclass=sa.pool.NullPool)
    sent = Statements(potok.engine)
    for name, period, dimension, warehouses in views:
        last = timed(
            watching,
            sent,
            runs,
            lambda p=period, d=dimension, w=warehouses: reports.order_report(
                potok.uow(), p, d, warehouses=w
            ),
        )
        print(f"{name}: {last.line}", flush=True)
    watching.dispose()
    assert last is not None
    with potok.engine.connect() as connection:
        orders = connection.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
    print(
        f"reports orders={orders} dashboard_p95_ms={last.p95_ms:.0f} "
        f"dashboard_db_cpu_ms={last.db_cpu_ms:.1f} dashboard_statements={last.statements:.0f}"
    )


if __name__ == "__main__":
    main()
