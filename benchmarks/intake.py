"""Order-intake benchmark: a fresh database, a real server, N concurrent HTTP clients.

    python benchmarks/intake.py --db postgresql --clients 32 --orders 5000
    python benchmarks/intake.py --db sqlite --clients 32 --orders 5000

It creates a fresh database (PostgreSQL: the database ``potok_bench``; SQLite: a
temporary file), seeds a network of 10 warehouses, 5,000 SKUs with stock and a history
of earlier orders (so that the planner sees realistic tables), starts ``potok serve``
in a separate process, and drives ``POST /api/v1/orders`` with 3-line orders from
``--clients`` concurrent connections using ``wrk`` (Debian package ``wrk``) with a Lua
script, or a lean multi-process Python client when wrk is missing. Some lines take "hot"
SKUs whose stock is scarce, so orders race for the last units. Afterwards it checks that
nothing was oversold and prints throughput, latency percentiles, the CPU each party used,
and a last machine-readable line (the performance budget: quote it as an A/B with every
change to the order path):

    intake db=postgresql clients=32 orders=5000 orders_per_s=812 p50_ms=31 p95_ms=70 p99_ms=95
      oversold=0 errors=0 share_of_ceiling_pct=30 statements_per_order=4.0 server_cpu_ms=2.1
      db_cpu_ms=1.4

(one line). ``server_cpu_ms`` is the CPU of the server's process tree per order;
``db_cpu_ms`` that of the PostgreSQL backends serving the benchmark's database (not
other databases' work on a shared machine; 0 for SQLite, whose work is the server's);
``statements_per_order`` is counted in-process after the run, on the same HTTP path, by
counting every statement psycopg (or sqlite3) sends, BEGIN and COMMIT included;
``share_of_ceiling_pct`` needs ``--ceiling`` (``-`` otherwise). ``--workers`` is the
number of server processes: 2 on PostgreSQL and 1 on SQLite unless given (several on one
SQLite file queue for its write lock, ``db/lite_writers.py``). ``--potok PATH`` serves
with another installation's ``potok`` (an A/B against another checkout with the same
schema).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from potok.bootstrap import bootstrap
from potok.db import migrate
from potok.db.tables import (
    channels,
    order_history,
    order_lines,
    orders,
    outbox_events,
    products,
    reservations,
    stock,
    stock_movements,
    warehouse_channels,
    warehouses,
)
from potok.domain.access import Permission
from potok.domain.kernel import Actor
from potok.services import access
from potok.settings import DatabaseSettings, SecuritySettings, Settings

CITIES = [  # (code, city, latitude, longitude)
    ("MSK", "Москва", 55.7558, 37.6173),
    ("SPB", "Санкт-Петербург", 59.9311, 30.3609),
    ("KZN", "Казань", 55.7963, 49.1088),
    ("EKB", "Екатеринбург", 56.8389, 60.6057),
    ("NSK", "Новосибирск", 55.0084, 82.9357),
    ("KRD", "Краснодар", 45.0355, 38.9753),
    ("NNV", "Нижний Новгород", 56.2965, 43.9361),
    ("SMR", "Самара", 53.1959, 50.1002),
    ("RND", "Ростов-на-Дону", 47.2357, 39.7015),
    ("VRN", "Воронеж", 51.6720, 39.1843),
]
HOT_UNITS_PER_WAREHOUSE = 3


@dataclass
class Run:
    orders: int
    seconds: float
    latencies_ms: dict[str, float]
    statuses: Counter[str] = field(default_factory=Counter)
    client_cpu_s: float = 0.0
    client: str = "wrk"
    errors: int = 0  # non-2xx answers or socket errors: a run with any is not a result


# ---------------------------------------------------------------------- database


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
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


def bench_settings(url: str, workdir: Path) -> Settings:
    return Settings(
        db=DatabaseSettings(url=url),
        security=SecuritySettings(key_file=str(workdir / "potok-keys.json")),
    )


def seed(
    url: str, workdir: Path, *, skus: int, hot: int, history: int, rng: random.Random
) -> tuple[list[str], str]:
    """Network, catalogue, stock, a history of past orders and an API key to take orders
    with; returns the hot SKUs and the key."""
    potok = bootstrap(bench_settings(url, workdir))
    migrate.upgrade(potok.engine)
    now = datetime.now(UTC)
    with potok.engine.begin() as c:
        c.execute(
            sa.insert(channels),
            [
                {
                    "code": "web",
                    "name": "Site",
                    "type": "web",
                    "currency": "RUB",
                    "confirmation": "auto",
                    "backorders": "backorder",
                    "safety_buffer": 0,
                    "payment_deadline_minutes": None,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        c.execute(
            sa.insert(warehouses),
            [
                {
                    "code": f"{code}-1",
                    "name": f"Склад {city}",
                    "type": "warehouse",
                    "city": city,
                    "address": "",
                    "latitude": lat,
                    "longitude": lon,
                    "priority": 0,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for code, city, lat, lon in CITIES
            ],
        )
        c.execute(
            sa.insert(warehouse_channels),
            [{"warehouse_id": i + 1, "channel_id": 1} for i in range(len(CITIES))],
        )
        c.execute(
            sa.insert(products),
            [
                {
                    "sku": f"SKU-{n:05d}",
                    "name": f"Товар {n}",
                    "price": f"{rng.randint(99, 9999)}.00",
                    "vat_rate": "22",
                    "weight_g": 500,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(1, skus + 1)
            ],
        )
        hot_ids = set(range(1, hot + 1))
        rows = []
        for w in range(1, len(CITIES) + 1):
            for p in range(1, skus + 1):
                if p in hot_ids:
                    rows.append((w, p, HOT_UNITS_PER_WAREHOUSE))
                elif rng.random() < 0.7:
                    rows.append((w, p, 1_000_000))
        c.execute(
            sa.insert(stock),
            [
                {"warehouse_id": w, "product_id": p, "on_hand": q, "reserved": 0, "updated_at": now}
                for w, p, q in rows
            ],
        )
        c.execute(
            sa.insert(stock_movements),
            [
                {
                    "stock_id": i + 1,
                    "warehouse_id": w,
                    "product_id": p,
                    "type": "import",
                    "quantity": q,
                    "on_hand_after": q,
                    "reason": "bench seed",
                    "reference": None,
                    "actor": "bench",
                    "occurred_at": now,
                }
                for i, (w, p, q) in enumerate(rows)
            ],
        )
        positions: dict[int, tuple[int, int]] = {}  # a product's first stock row and its place
        for i, (w, p, _) in enumerate(rows):
            positions.setdefault(p, (i + 1, w))
        _history(c, history, skus, hot, now, positions)
    if potok.engine.dialect.name == "postgresql":
        with potok.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))
            c.execute(sa.text("CHECKPOINT"))
    _, key = access.create_api_key(
        potok.uow(),
        name="bench",
        scopes=[Permission.ORDERS_WRITE],
        actor=Actor.system("bench"),
        rate_limit_per_minute=100_000,
    )
    potok.close()
    return [f"SKU-{n:05d}" for n in range(1, hot + 1)], key


def _history(
    c: sa.Connection,
    count: int,
    skus: int,
    hot: int,
    now: datetime,
    positions: dict[int, tuple[int, int]],
) -> None:
    """Past, fulfilled orders: the tables are never empty in production. Their
    reservations name the stock row of their product (``positions``), as real ones do."""
    batch = 5000
    for start in range(1, count + 1, batch):
        ids = range(start, min(count, start + batch - 1) + 1)
        created = [now - timedelta(minutes=i) for i in ids]
        c.execute(
            sa.insert(orders),
            [
                {
                    "id": i,
                    "channel_id": 1,
                    "external_id": f"old-{i}",
                    "state": "confirmed",
                    "allocation": "unallocated",
                    "payment_status": "paid",
                    "status": "confirmed",
                    "currency": "RUB",
                    "subtotal": "300.00",
                    "delivery_price": "0.00",
                    "delivery_vat_rate": "0",
                    "vat_total": "54.10",
                    "total": "300.00",
                    "customer_name": "",
                    "delivery_method": "courier",
                    "address_city": "Москва",
                    "address_line1": "ул. Тверская, 1",
                    "destination_latitude": 55.75,
                    "destination_longitude": 37.61,
                    "priority": 0,
                    "comment": "",
                    "version": 3,
                    "created_at": t,
                    "updated_at": t,
                }
                for i, t in zip(ids, created, strict=True)
            ],
        )
        c.execute(
            sa.insert(order_lines),
            [
                {
                    "order_id": i,
                    "line_no": n,
                    "product_id": hot + 1 + (i * 7 + n * 13) % (skus - hot),
                    "sku": "x",
                    "name": "x",
                    "quantity": 1,
                    "unit_price": "100.00",
                    "vat_rate": "22",
                    "total": "100.00",
                }
                for i in ids
                for n in (1, 2, 3)
            ],
        )
        c.execute(
            sa.insert(reservations),
            [
                {
                    "order_id": i,
                    "line_no": n,
                    "stock_id": positions[product][0],
                    "warehouse_id": positions[product][1],
                    "product_id": product,
                    "quantity": 1,
                    "status": "consumed",
                    "created_at": t,
                    "ended_at": t,
                }
                for i, t in zip(ids, created, strict=True)
                for n in (1, 2, 3)
                if (product := hot + 1 + (i * 7 + n * 13) % (skus - hot)) in positions
            ],
        )
        c.execute(
            sa.insert(order_history),
            [
                {
                    "order_id": i,
                    "occurred_at": t,
                    "actor": "bench",
                    "action": a,
                    "reason": None,
                    "from_status": None,
                    "to_status": "confirmed",
                    "details": {},
                }
                for i, t in zip(ids, created, strict=True)
                for a in ("created", "reserved")
            ],
        )
        c.execute(
            sa.insert(outbox_events),
            [
                {
                    "event_id": f"00000000-0000-0000-0000-{i:012d}",
                    "type": "order.created",
                    "aggregate_type": "order",
                    "aggregate_id": str(i),
                    "payload": {"order_id": i},
                    "occurred_at": t,
                    "published_at": t,
                }
                for i, t in zip(ids, created, strict=True)
            ],
        )
    if c.dialect.name == "postgresql":
        c.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))"
            )
        )


# ---------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, workdir: Path, port: int, workers: int, pool: int, potok: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POTOK_DB__URL": url,
        "POTOK_SECURITY__KEY_FILE": str(workdir / "potok-keys.json"),
        "POTOK_DB__POOL_SIZE": str(pool),
        "POTOK_DB__MAX_OVERFLOW": "0",
        "POTOK_API__THREADS": str(pool),
    }
    potok = potok or Path(sys.executable).with_name("potok")
    # the server's own messages go to a file, never to a pipe nobody reads while it runs
    # (a server logging many errors filled the pipe and hung the benchmark)
    log = workdir / "server.log"
    with log.open("wb") as written:
        server = subprocess.Popen(
            [
                str(potok),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-jobs",
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=written,
            start_new_session=True,
        )
    deadline = time.monotonic() + 300  # a loaded machine starts two workers slowly
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)  # the workers too
    said = log.read_text(errors="replace")[-4000:]
    raise SystemExit(f"the server did not start (its log: {log}):\n{said}")


def process_tree_cpu(root: int) -> float:
    """User+system CPU seconds of a process and all its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        stats[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def postgres_cpu() -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if "(postgres)" in raw or "(postmaster)" in raw:
            fields = raw.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def backend_pids(url: str) -> set[int]:
    """The PostgreSQL backends serving the benchmark's database (not this query's)."""
    engine = sa.create_engine(url)
    with engine.connect() as c:
        pids = c.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        found = {int(p) for p in pids}
    engine.dispose()
    return found


def backends_cpu(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving ``url``'s database, found
    by :func:`backend_pids` on a connection of its own, so that none of the benchmark's
    pooled connections is left out (Linux /proc/PID/schedstat: the scheduler's count in
    nanoseconds, where /proc/PID/stat counts in 10 ms ticks; the server on this machine).
    The other benchmarks' database CPU is read here."""
    total = 0.0
    for pid in backend_pids(url):
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue  # the backend ended meanwhile
    return total


def pids_cpu(pids: set[int]) -> dict[int, float]:
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def count_statements(
    url: str, workdir: Path, key: str, skus: int, hot: int, orders: int, *, keyed: bool
) -> float:
    """SQL statements per order on the HTTP intake path, counted in this process: every
    statement the driver sends (BEGIN and COMMIT included), over ``orders`` orders placed
    one after another through the application (no network, same code)."""
    import warnings

    with warnings.catch_warnings():  # starlette prefers httpx2 to httpx: not ours to change
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from potok.api.app import create_app

    counted: Counter[str] = Counter()
    patches: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, wrapper: Any) -> None:
        patches.append((owner, name, getattr(owner, name)))
        setattr(owner, name, wrapper(getattr(owner, name)))

    if url.startswith("sqlite"):
        import sqlite3

        def on_trace(statement: str) -> None:
            counted["statements"] += 1

        def traced(original: Any) -> Any:
            def connect(*args: Any, **kwargs: Any) -> Any:
                connection = original(*args, **kwargs)
                connection.set_trace_callback(on_trace)
                return connection

            return connect

        import sqlite3.dbapi2

        patch(sqlite3, "connect", traced)
        patch(sqlite3.dbapi2, "connect", traced)  # what SQLAlchemy's pysqlite dialect calls
    else:
        import psycopg
        from psycopg.pq import TransactionStatus

        def executes(original: Any) -> Any:
            def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
                connection = self.connection
                if (
                    not connection.autocommit
                    and connection.info.transaction_status is TransactionStatus.IDLE
                ):
                    counted["statements"] += 1  # psycopg's implicit BEGIN
                counted["statements"] += 1
                return original(self, query, params, **kwargs)

            return execute

        def executes_many(original: Any) -> Any:
            def executemany(self: Any, query: Any, params_seq: Any, **kwargs: Any) -> Any:
                params_seq = list(params_seq)
                counted["statements"] += len(params_seq)
                return original(self, query, params_seq, **kwargs)

            return executemany

        def ends(original: Any) -> Any:
            def end(self: Any) -> Any:
                if self.info.transaction_status is not TransactionStatus.IDLE:
                    counted["statements"] += 1
                return original(self)

            return end

        patch(psycopg.Cursor, "execute", executes)
        patch(psycopg.Cursor, "executemany", executes_many)
        patch(psycopg.Connection, "commit", ends)
        patch(psycopg.Connection, "rollback", ends)
    rng = random.Random(7)
    try:
        app = create_app(bench_settings(url, workdir))
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}

            def place(n: int) -> None:
                answer = client.post(
                    "/api/v1/orders",
                    headers={**headers, "Idempotency-Key": f"probe-{n}"} if keyed else headers,
                    json={
                        "channel": "web",
                        "external_id": f"probe-{n}",
                        "customer": {"name": "Bench", "phone": f"+7916{rng.randrange(10**7):07d}"},
                        "delivery": {
                            "method": "courier",
                            "address": {
                                "city": "Город",
                                "line1": "ул. Ленина, 1",
                                "latitude": 55.75,
                                "longitude": 37.62,
                            },
                        },
                        "lines": [
                            {
                                "sku": f"SKU-{rng.randint(hot + 1, skus):05d}",
                                "quantity": rng.randint(1, 3),
                            }
                            for _ in range(3)
                        ],
                    },
                )
                if answer.status_code != 201:
                    raise SystemExit(f"the statement probe's order failed: {answer.text}")

            for n in range(10):  # caches warmed, as in the measured run
                place(n)
            counted.clear()
            for n in range(10, 10 + orders):
                place(n)
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)
    return counted["statements"] / orders


# ---------------------------------------------------------------------- load


LUA = textwrap.dedent("""
    local skus, hot, cities = {}, {}, {}
    local limit, sent, counter = 0, 0, 0
    local threads = {}
    local hot_share = tonumber(os.getenv("BENCH_HOT_SHARE") or "0.1")
    local n_skus = tonumber(os.getenv("BENCH_SKUS"))
    local n_hot = tonumber(os.getenv("BENCH_HOT"))
    local run_id = os.getenv("BENCH_RUN")
    local marker_dir = os.getenv("BENCH_MARKERS")
    local keyed = os.getenv("BENCH_IDEMPOTENCY") == "1"
    local headers = {["Content-Type"] = "application/json",
                     ["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")}

    function setup(thread)
        thread:set("id", #threads + 1)
        table.insert(threads, thread)
    end

    function init(args)
        limit = tonumber(args[1])
        math.randomseed(id * 7919 + os.time())
        cities = {{55.75,37.62},{59.93,30.36},{55.80,49.11},{56.84,60.61},{55.01,82.94},
                  {45.04,38.98},{56.30,43.94},{53.20,50.10},{47.24,39.70},{51.67,39.18},
                  {56.86,35.92},{54.74,55.97},{58.01,56.25},{54.99,73.32}}
    end

    local function sku()
        if n_hot > 0 and math.random() < hot_share then
            return string.format("SKU-%05d", math.random(1, n_hot))
        end
        return string.format("SKU-%05d", math.random(n_hot + 1, n_skus))
    end

    function request()
        counter = counter + 1
        local c = cities[math.random(#cities)]
        local lines = {}
        for i = 1, 3 do
            lines[i] = string.format('{"sku":"%s","quantity":%d}', sku(), math.random(1, 3))
        end
        local body = string.format(
            '{"channel":"web","external_id":"%s-%d-%d","customer":{"name":"Bench","phone":"+7916%07d"},' ..
            '"delivery":{"method":"courier","address":{"city":"Город","line1":"ул. Ленина, 1",' ..
            '"latitude":%.4f,"longitude":%.4f}},"lines":[%s]}',
            run_id, id, counter, math.random(0, 9999999),
            c[1] + (math.random() - 0.5) / 5, c[2] + (math.random() - 0.5) / 5,
            table.concat(lines, ","))
        local sent_headers = headers
        if keyed then
            sent_headers = {["Content-Type"] = headers["Content-Type"],
                            ["Authorization"] = headers["Authorization"],
                            ["Idempotency-Key"] = string.format("%s-%d-%d", run_id, id, counter)}
        end
        return wrk.format("POST", "/api/v1/orders", sent_headers, body)
    end

    function response(status, headers, body)
        sent = sent + 1
        if sent == limit then
            -- wrk waits out its duration even when every thread stopped: tell the
            -- benchmark, which then interrupts wrk so that it reports at once
            local marker = io.open(marker_dir .. "/done-" .. id, "w")
            marker:write(sent)
            marker:close()
            wrk.thread:stop()
        end
    end

    function done(summary, latency, requests)
        io.write(string.format(
            'RESULT {"requests":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,' ..
            '"errors":%d}\\n',
            summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
            latency:percentile(99), latency.max,
            summary.errors.connect + summary.errors.read + summary.errors.write +
            summary.errors.status + summary.errors.timeout))
    end
""")


def run_wrk(port: int, clients: int, orders: int, env: dict[str, str], workdir: Path) -> Run:
    script = workdir / "intake.lua"
    script.write_text(LUA)
    markers = Path(tempfile.mkdtemp(prefix="markers-", dir=workdir))
    threads = 2 if clients >= 2 else 1
    per_thread = -(-orders // threads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    wrk = subprocess.Popen(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            "3600s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
            "--",
            str(per_thread),
        ],
        env={**os.environ, **env, "BENCH_MARKERS": str(markers)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while len(list(markers.iterdir())) < threads and wrk.poll() is None:
        time.sleep(0.05)
    wrk.send_signal(signal.SIGINT)
    stdout, stderr = wrk.communicate(timeout=60)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"wrk failed:\n{stdout}\n{stderr}")
    data = json.loads(lines[0][len("RESULT ") :])
    if data["errors"]:
        print(f"  wrk counted {data['errors']} errors (non-2xx or socket errors)")
    return Run(
        orders=data["requests"],
        seconds=min(seconds, data["duration_us"] / 1e6),
        latencies_ms={k: data[k] / 1000 for k in ("p50", "p95", "p99", "max")},
        client_cpu_s=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        errors=data["errors"],
    )


def _python_client(
    args: tuple[int, int, int, dict[str, str], int],
) -> tuple[list[float], Counter[str]]:
    port, connections, orders, env, seed = args
    import threading

    rng = random.Random(seed)
    n_skus, n_hot = int(env["BENCH_SKUS"]), int(env["BENCH_HOT"])
    hot_share = float(env["BENCH_HOT_SHARE"])
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    remaining = [orders]

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                n = remaining[0]
            lines = []
            for _ in range(3):
                p = (
                    rng.randint(1, n_hot)
                    if n_hot and rng.random() < hot_share
                    else rng.randint(n_hot + 1, n_skus)
                )
                lines.append({"sku": f"SKU-{p:05d}", "quantity": rng.randint(1, 3)})
            body = json.dumps(
                {
                    "channel": "web",
                    "external_id": f"{env['BENCH_RUN']}-{seed}-{n}",
                    "delivery": {
                        "method": "courier",
                        "address": {
                            "city": "Город",
                            "line1": "ул. Ленина, 1",
                            "latitude": 55.75,
                            "longitude": 37.62,
                        },
                    },
                    "lines": lines,
                }
            )
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {env['BENCH_KEY']}",
            }
            if env["BENCH_IDEMPOTENCY"] == "1":
                headers["Idempotency-Key"] = f"{env['BENCH_RUN']}-{seed}-{n}"
            start = time.perf_counter()
            conn.request("POST", "/api/v1/orders", body, headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed * 1000)
                statuses[str(response.status)] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses


def run_python(port: int, clients: int, orders: int, env: dict[str, str]) -> Run:
    processes = 2
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    share = [orders // processes + (1 if i < orders % processes else 0) for i in range(processes)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(
            _python_client, [(port, per[i], share[i], env, i) for i in range(processes)]
        )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    latencies = sorted(x for part in parts for x in part[0])
    statuses: Counter[str] = Counter()
    for part in parts:
        statuses.update(part[1])

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return Run(
        len(latencies),
        seconds,
        {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": latencies[-1]},
        statuses,
        (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        client="python",
        errors=sum(n for status, n in statuses.items() if not status.startswith("2")),
    )


# ---------------------------------------------------------------------- checks


def check_oversell(url: str, hot: list[str]) -> tuple[int, Counter[str], int]:
    """Rows breaking 0 <= reserved <= on_hand or reserved = open reservations; orders by
    status; units of hot SKUs reserved."""
    engine = sa.create_engine(url)
    with engine.connect() as c:
        broken = c.execute(
            sa.text("""
            SELECT count(*) FROM stock s
              LEFT JOIN (SELECT stock_id, sum(quantity) AS q FROM reservations
                          WHERE status = 'open' GROUP BY stock_id) r ON r.stock_id = s.id
             WHERE s.reserved < 0 OR s.reserved > s.on_hand OR s.reserved <> COALESCE(r.q, 0)
        """)
        ).scalar_one()
        statuses: Counter[str] = Counter(
            dict(
                c.execute(
                    sa.text(
                        "SELECT status, count(*) FROM orders WHERE external_id NOT LIKE 'old-%' GROUP BY status"
                    )
                ).all()
            )
        )
        hot_reserved = c.execute(
            sa.text(
                "SELECT COALESCE(sum(s.reserved), 0) FROM stock s JOIN products p ON p.id = s.product_id "
                "WHERE p.sku = ANY(:skus)"
                if engine.dialect.name == "postgresql"
                else "SELECT COALESCE(sum(s.reserved), 0) FROM stock s JOIN products p ON p.id = s.product_id "
                f"WHERE p.sku IN ({','.join(repr(s) for s in hot) or 'NULL'})"
            ),
            {"skus": hot} if engine.dialect.name == "postgresql" else {},
        ).scalar_one()
    engine.dispose()
    return int(broken), statuses, int(hot_reserved)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=1000, help="orders sent before measuring")
    parser.add_argument(
        "--workers", type=int, help="server processes (default: 2 on PostgreSQL, 1 on SQLite)"
    )
    parser.add_argument(
        "--pool", type=int, default=8, help="database connections per server process"
    )
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--hot", type=int, default=20, help="SKUs with scarce stock")
    parser.add_argument("--hot-share", type=float, default=0.05, help="share of lines on hot SKUs")
    parser.add_argument("--history", type=int, default=50_000, help="past orders seeded first")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--potok", type=Path, help="serve with this `potok` executable (an A/B of two checkouts)"
    )
    parser.add_argument(
        "--idempotency",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send an Idempotency-Key with every order, as a careful client does",
    )
    parser.add_argument(
        "--probe", type=int, default=200, help="orders placed to count statements (0: skip)"
    )
    parser.add_argument(
        "--ceiling",
        metavar="RUN_SH",
        help="pgbench ceiling script (e.g. ../shared/bench/pg-order-intake/run.sh)",
    )
    parser.add_argument("--count-statements", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_statements:  # the probe alone, run by a benchmark serving another checkout
        url, workdir, key, skus, hot, orders = json.loads(args.count_statements)
        print(count_statements(url, Path(workdir), key, skus, hot, orders, keyed=args.idempotency))
        return
    # a timeout or Ctrl-C must not leave the server behind: make SIGTERM unwind like Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    workers = args.workers or (1 if args.db == "sqlite" else 2)
    rng = random.Random(42)
    workdir = Path(tempfile.mkdtemp(prefix="potok-bench-"))
    print(f"preparing a fresh {args.db} database in {workdir} ...", flush=True)
    url = fresh_database(args.db, workdir)
    hot, key = seed(url, workdir, skus=args.skus, hot=args.hot, history=args.history, rng=rng)
    port = free_port()
    server = start_server(url, workdir, port, workers, args.pool, args.potok)
    env = {
        "BENCH_KEY": key,
        "BENCH_SKUS": str(args.skus),
        "BENCH_HOT": str(args.hot),
        "BENCH_HOT_SHARE": str(args.hot_share),
        "BENCH_IDEMPOTENCY": "1" if args.idempotency else "0",
    }
    try:

        def load(orders: int, run_id: str) -> Run:
            run_env = {**env, "BENCH_RUN": run_id}
            if client == "wrk":
                return run_wrk(port, args.clients, orders, run_env, workdir)
            return run_python(port, args.clients, orders, run_env)

        if args.warmup:
            print(f"warming up with {args.warmup} orders ...", flush=True)
            load(args.warmup, "warm")
        server_cpu, pg_cpu = process_tree_cpu(server.pid), postgres_cpu()
        backends = pids_cpu(backend_pids(url)) if args.db == "postgresql" else {}
        print(
            f"measuring {args.orders} orders from {args.clients} clients ({client}) ...", flush=True
        )
        run = load(args.orders, "run")
        server_cpu = process_tree_cpu(server.pid) - server_cpu
        pg_cpu = postgres_cpu() - pg_cpu
        if args.db == "postgresql":
            now = pids_cpu(backend_pids(url))
            db_cpu = sum(cpu - backends.get(pid, 0.0) for pid, cpu in now.items())
        else:
            db_cpu = 0.0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    statements = 0.0
    if args.probe and args.potok:  # counted in the served installation's own code
        probe = subprocess.run(
            [
                str(args.potok.with_name("python")),
                __file__,
                "--count-statements",
                json.dumps([url, str(workdir), key, args.skus, args.hot, args.probe]),
                *([] if args.idempotency else ["--no-idempotency"]),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        statements = float(probe.stdout.strip().splitlines()[-1])
    elif args.probe:
        statements = count_statements(
            url, workdir, key, args.skus, args.hot, args.probe, keyed=args.idempotency
        )
    broken, statuses, hot_reserved = check_oversell(url, hot)
    supply = len(hot) * len(CITIES) * HOT_UNITS_PER_WAREHOUSE
    oversold = broken + max(0, hot_reserved - supply)
    rate = run.orders / run.seconds
    cpu_total = run.seconds * (os.cpu_count() or 1)
    print()
    print(f"orders placed      {run.orders} in {run.seconds:.1f} s  ->  {rate:.0f} orders/s")
    print(
        f"latency ms         p50 {run.latencies_ms['p50']:.1f}  p95 {run.latencies_ms['p95']:.1f}  "
        f"p99 {run.latencies_ms['p99']:.1f}  max {run.latencies_ms['max']:.1f}"
    )
    print(f"order statuses     {dict(statuses)} (incl. warm-up)")
    print(f"hot SKUs           {hot_reserved} of {supply} scarce units reserved")
    print(
        f"CPU seconds        server {server_cpu:.1f}, postgres {pg_cpu:.1f} "
        f"(its backends for this database {db_cpu:.1f}), "
        f"load generator ({run.client}) {run.client_cpu_s:.1f}  of {cpu_total:.1f} available"
    )
    print(f"oversold           {oversold} (stock rows breaking an invariant: {broken})")
    print(
        f"per order          {statements:.1f} SQL statements, server CPU "
        f"{1000 * server_cpu / run.orders:.2f} ms, database CPU {1000 * db_cpu / run.orders:.2f} ms"
    )
    share = "-"
    if args.ceiling and args.db == "postgresql":
        ceiling = subprocess.run(["bash", args.ceiling, "8", "20"], capture_output=True, text=True)
        line = ceiling.stdout.strip().splitlines()[-1] if ceiling.stdout.strip() else ""
        print(f"database ceiling   {line}")
        try:
            tps = float(line.rsplit("tps=", 1)[1])
            share = f"{100 * rate / tps:.1f}"
            print(f"share of ceiling   {share} %")
        except (IndexError, ValueError):
            pass
    print(
        f"intake db={args.db} clients={args.clients} orders={run.orders} "
        f"orders_per_s={rate:.0f} p50_ms={run.latencies_ms['p50']:.0f} "
        f"p95_ms={run.latencies_ms['p95']:.0f} p99_ms={run.latencies_ms['p99']:.0f} "
        f"oversold={oversold} errors={run.errors} share_of_ceiling_pct={share} "
        f"statements_per_order={statements:.1f} server_cpu_ms={1000 * server_cpu / run.orders:.2f} "
        f"db_cpu_ms={1000 * db_cpu / run.orders:.2f}"
    )
    shutil.rmtree(workdir, ignore_errors=True)
    if run.errors or oversold:
        raise SystemExit(
            f"not a valid result: {run.errors} requests failed, {oversold} units oversold"
        )


if __name__ == "__main__":
    main()
