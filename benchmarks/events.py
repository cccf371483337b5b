"""Events benchmark: orders placed through the API, webhooks to a receiver that fails a
share of requests and goes down for a while, a worker killed with SIGKILL and restarted;
then every event id is checked against what the receiver got.

    python benchmarks/events.py --db sqlite --orders 600
    python benchmarks/events.py --db postgresql --orders 1500 --clients 8

It makes a fresh database (SQLite: a temporary file; PostgreSQL: ``--database-name``,
by default ``potok_bench_events``), a small network with plenty of stock, starts ``potok
serve --no-jobs``, ``potok worker --no-jobs`` and a local receiver, and runs four phases of
``--orders`` orders each from ``--clients`` threads:

A. intake while ``potok worker`` runs its after-commit reactions, with no subscription:
   webhook deliveries off;
H. intake with a subscription to every event (``*``) at a healthy receiver: deliveries
   on. The delivery lag (from the event's time to its first arrival) is measured here;
B. the faults: the receiver answers 503 to ``--fail-share`` of requests and is down for
   ``--outage-s`` seconds in the middle, while the worker is killed with SIGKILL
   ``--kills`` times and started again;
A again, once B's events have all arrived and the subscription is gone: intake slows as
   the database grows, so H is compared with the mean of the two As.

The worker runs from the start (its start-up is not in any phase), and each phase begins
once the worker has caught up with the one before (every event placed, every reaction's
and the subscription's cursor at the end), so no phase pays for another's backlog.

Then it checks every event id of phases H and B against what the receiver got, and prints
the throughput of the phases, the lag, and a last machine-readable line:

    events emitted=N delivered=N lost=0 duplicates=D p50_lag_ms=... p99_lag_ms=... worker_kills=K outages=O
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import backend_pids, pids_cpu, process_tree_cpu
from potok.bootstrap import bootstrap
from potok.db import migrate
from potok.db.tables import event_consumers, outbox_events
from potok.domain.access import KEY_SCOPES
from potok.domain.catalogue import ProductDraft
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.kernel import Actor
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.services import access, catalogue, inventory
from potok.settings import DatabaseSettings, Settings

POTOK = str(Path(sys.executable).parent / "potok")
RECEIVER = Path(__file__).with_name("webhook_receiver.py")
SKUS = [f"SKU-{n:03d}" for n in range(40)]
INTERNAL = ("user", "api_key", "webhook")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- the receiver


@dataclass
class Receiver:
    """Starts and stops the receiver's process (an outage drops its connections) and reads
    what it got."""

    port: int
    fail_share: float
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(RECEIVER), str(self.port), str(self.fail_share), str(self.log)]
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # listening?
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise SystemExit("the receiver did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def read(self) -> tuple[dict[str, float], set[str], Counter[str]]:
        """First arrival of each accepted event, events refused at least once, and how
        often each was accepted."""
        first_seen: dict[str, float] = {}
        failed: set[str] = set()
        arrivals: Counter[str] = Counter()
        if not self.log.exists():
            return first_seen, failed, arrivals
        for line in self.log.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue  # a line being written
            event_id, at, accepted = parts
            if accepted == "1":
                arrivals[event_id] += 1
                first_seen.setdefault(event_id, float(at))
            else:
                failed.add(event_id)
        return first_seen, failed, arrivals


# ---------------------------------------------------------------------- set-up


def database(kind: str, workdir: Path, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'events.db'}"
    base = os.environ.get("POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def seed(url: str, env: dict[str, str]) -> str:
    """A channel, two warehouses, 40 products with deep stock; an API key's secret."""
    settings = Settings(db=DatabaseSettings(url=url))
    potok = bootstrap(settings)
    migrate.upgrade(potok.engine)
    actor = Actor.system("bench")
    catalogue.create_channel(potok.uow(), ChannelDraft("web", "Site", ChannelType.WEB))
    for code, city, lat, lon in [("MSK", "Москва", 55.66, 37.86), ("SPB", "СПб", 59.8, 30.38)]:
        catalogue.create_warehouse(
            potok.uow(),
            WarehouseDraft(code, code, WarehouseType.WAREHOUSE, city, lat, lon, channels=("web",)),
        )
    for sku in SKUS:
        catalogue.create_product(
            potok.uow(), ProductDraft(sku, sku, Decimal("100.00"), Decimal("22"), None, 500)
        )
        for warehouse in ("MSK", "SPB"):
            inventory.receive_stock(potok.uow(), ReceiveStock(warehouse, sku, 1_000_000), actor)
    _, secret = access.create_api_key(
        potok.uow(),
        name="bench",
        scopes=sorted(KEY_SCOPES),
        actor=actor,
        rate_limit_per_minute=100_000,
    )
    potok.close()
    return secret


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [POTOK, *args], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 300  # a busy machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("potok serve did not start")


def wait_started(log: Path, count: int) -> None:
    """Until ``count`` workers have said they deliver (their start-up done)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("delivering events") >= count:
            return
        time.sleep(0.1)
    raise SystemExit("potok worker did not start")


def order(n: int) -> dict[str, Any]:
    return {
        "channel": "web",
        "external_id": f"bench-{n}",
        "delivery": {
            "method": "courier",
            "address": {"city": "Тверь", "line1": "ул. Советская, 1"},
        },
        "lines": [{"sku": random.choice(SKUS), "quantity": random.randint(1, 3)} for _ in range(2)],
    }


def place(base: str, key: str, numbers: list[int], clients: int) -> float:
    """Place these orders from ``clients`` threads; orders per second."""
    chunks = [numbers[i::clients] for i in range(clients)]
    errors: list[str] = []

    def run(chunk: list[int]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
            for n in chunk:
                answer = client.post("/api/v1/orders", json=order(n), timeout=60)
                if answer.status_code >= 300:
                    errors.append(f"{answer.status_code} {answer.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} orders refused, first: {errors[0]}")
    return len(numbers) / elapsed


def outbox_after(url: str, first_id: int) -> dict[str, float]:
    """Event ids (that leave Potok) written after ``first_id``, with their times."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(outbox_events.c.event_id, outbox_events.c.occurred_at).where(
                outbox_events.c.id > first_id,
                outbox_events.c.aggregate_type.not_in(INTERNAL),
            )
        ).all()
    engine.dispose()
    return {r.event_id: _epoch(r.occurred_at) for r in rows}


def _epoch(value: datetime | str) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.timestamp()


def last_id(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(sa.select(sa.func.max(outbox_events.c.id))).scalar()
    engine.dispose()
    return int(found or 0)


@dataclass
class Meter:
    """CPU seconds of the server, the worker, the receiver and the database's backends,
    taken at the start and the end of a phase."""

    url: str
    server: subprocess.Popen[bytes]
    receiver: Receiver
    worker: subprocess.Popen[bytes] | None = None

    def read(self) -> dict[str, float]:
        backends = pids_cpu(backend_pids(self.url))
        taken = {
            "server": process_tree_cpu(self.server.pid),
            "worker": process_tree_cpu(self.worker.pid) if self.worker is not None else 0.0,
            "receiver": (
                process_tree_cpu(self.receiver.process.pid)
                if self.receiver.process is not None
                else 0.0
            ),
        }
        return {**taken, **{f"pg{pid}": cpu for pid, cpu in backends.items()}}

    @staticmethod
    def potok_ms(before: dict[str, float], after: dict[str, float], orders: int) -> float:
        """Milliseconds of CPU per order of Potok's side: server, worker and database (the
        receiver is the integrator's)."""
        spent = sum(
            v - before.get(k, 0.0)
            for k, v in after.items()
            if k.startswith("pg") or k in ("server", "worker")
        )
        return 1000 * spent / orders

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float], orders: int) -> str:
        """Milliseconds of CPU per order, by process, between two readings."""
        per = {
            name: 1000 * (after.get(name, 0.0) - before.get(name, 0.0)) / orders
            for name in ("server", "worker", "receiver")
        }
        db = sum(v - before.get(k, 0.0) for k, v in after.items() if k.startswith("pg"))
        per["database"] = 1000 * db / orders
        return ", ".join(f"{name} {ms:.2f}" for name, ms in per.items())


def caught_up(url: str, timeout_s: float) -> float:
    """Wait until the worker has placed every event and every cursor (reactions, the
    subscription) is at the end; the seconds it took."""
    engine = sa.create_engine(url)
    started = time.monotonic()
    behind: list[tuple[str, int]] = []
    try:
        while time.monotonic() - started < timeout_s:
            with engine.connect() as connection:
                unplaced = connection.execute(
                    sa.select(sa.func.count()).where(outbox_events.c.position.is_(None))
                ).scalar_one()
                # readers skip account administration (a subscription's own events)
                last = connection.execute(
                    sa.select(sa.func.max(outbox_events.c.position)).where(
                        outbox_events.c.aggregate_type.not_in(INTERNAL)
                    )
                ).scalar()
                behind = [
                    (r.name, int(r.position))
                    for r in connection.execute(
                        sa.select(event_consumers.c.name, event_consumers.c.position).where(
                            event_consumers.c.name.not_like("replay:%"),
                            event_consumers.c.position < (last or 0),
                        )
                    )
                ]
            if not unplaced and not behind:
                return time.monotonic() - started
            time.sleep(0.2)
    finally:
        engine.dispose()
    print(
        f"(the worker had not caught up after {timeout_s:.0f} s: {unplaced} events unplaced, "
        f"last position {last}, behind it {behind}; going on)"
    )
    return time.monotonic() - started


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker as an operator does (SIGTERM): it prints what its reactions cost."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def print_reaction_costs(log: Path, since: int, orders: int) -> None:
    """The reactions' costs the last worker printed when it stopped, per order of the
    phase it served (``reaction <name> events=... cpu_ms=... statements=...``)."""
    with log.open("rb") as text:
        text.seek(since)
        lines = text.read().decode(errors="replace").splitlines()
    found = []
    for line in lines:
        if not line.startswith("reaction "):
            continue
        name, *pairs = line.split()[1:]
        figures = dict(pair.split("=", 1) for pair in pairs)
        found.append((name, {k: float(v) for k, v in figures.items()}))
    if not found:
        print("  (the worker printed no reaction costs)")
        return
    print("  what each reaction cost the worker in that phase, per order (CPU of its thread):")
    for name, f in found:
        print(
            f"    {name:40} {f['cpu_ms'] / orders:6.2f} ms  "
            f"{f['statements'] / orders:5.2f} statements  "
            f"{f['transactions'] / orders:5.2f} transactions  ({f['events']:.0f} events)"
        )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---------------------------------------------------------------------- the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--fail-share", type=float, default=0.1)
    parser.add_argument("--outage-s", type=float, default=3.0)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--drain-timeout-s", type=float, default=180.0)
    parser.add_argument(
        "--database-name",
        default="potok_bench_events",
        help="PostgreSQL: the database made afresh for the run (one per person benchmarking)",
    )
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="potok-events-bench-"))
    url = database(options.db, workdir, options.database_name)
    port, receiver_port = free_port(), free_port()
    env = {
        **os.environ,
        "POTOK_DB__URL": url,
        "POTOK_API__PORT": str(port),
        "POTOK_EVENTS__ALLOW_PRIVATE_ADDRESSES": "true",
        "POTOK_EVENTS__POLL_S": "0.05",
        "POTOK_EVENTS__TIMEOUT_S": "2",
        "POTOK_EVENTS__LEASE_S": "4",
        "POTOK_EVENTS__BACKOFF_S": "0.05",
        "POTOK_EVENTS__BACKOFF_MAX_S": "0.5",
        "POTOK_EVENTS__MAX_ATTEMPTS": "100",
        "POTOK_SECURITY__KEY_FILE": str(workdir / "keys"),
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("POTOK_SECURITY")})
    key = seed(url, env)
    base = f"http://127.0.0.1:{port}"
    log = workdir / "processes.log"
    server = start(["serve", "--no-jobs", "--no-access-log"], env, log)
    receiver = Receiver(receiver_port, 0.0, workdir / "received.log")
    worker: subprocess.Popen[bytes] | None = None
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    settle = options.drain_timeout_s
    try:
        wait_ready(base)
        worker = start(["worker", "--no-jobs"], env, log)
        starts = 1
        wait_started(log, starts)  # its start-up is in no phase
        receiver.start()
        meter = Meter(url, server, receiver, worker)
        print(f"database {options.db}, {options.orders} orders a phase, {options.clients} clients")
        phase = iter(range(0, 10 * options.orders, options.orders))

        def numbers() -> list[int]:
            first = next(phase)
            return list(range(first, first + options.orders))

        # A: intake, the worker reacting, no subscription
        before = meter.read()
        rate_a = place(base, key, numbers(), options.clients)
        print(f"A deliveries off:          {rate_a:8.1f} orders/s")
        caught_up(url, settle)
        after = meter.read()
        cpu_a = [meter.potok_ms(before, after, options.orders)]
        print(f"  CPU ms per order (until caught up): {meter.spent(before, after, options.orders)}")

        # H: intake with deliveries to a healthy receiver
        created = api.post(
            "/api/v1/webhook-subscriptions",
            json={"url": f"http://127.0.0.1:{receiver_port}/potok", "event_types": ["*"]},
        )
        created.raise_for_status()
        subscription = created.json()["subscription"]["id"]
        first_h = last_id(url)
        before = meter.read()
        load_h = os.getloadavg()[0]
        rate_h = place(base, key, numbers(), options.clients)
        print(f"H deliveries on, healthy:  {rate_h:8.1f} orders/s")
        emitted_h = outbox_after(url, first_h)
        caught_up(url, settle)
        load_h = (load_h + os.getloadavg()[0]) / 2
        after = meter.read()
        cpu_h = meter.potok_ms(before, after, options.orders)
        print(f"  CPU ms per order (until caught up): {meter.spent(before, after, options.orders)}")

        # B: a failing receiver, an outage, killed workers
        receiver.stop()
        receiver.fail_share = options.fail_share
        receiver.start()
        first_b = last_id(url)
        downtime: list[tuple[float, float]] = []
        kills = outages = 0
        rate_b = 0.0
        load_b = numbers()

        def load() -> None:
            nonlocal rate_b
            rate_b = place(base, key, load_b, options.clients)

        loader = threading.Thread(target=load)
        started = time.time()
        loader.start()
        # the middle of the run: the receiver goes down, the worker is killed
        schedule = sorted(
            [("outage", 0.3)]
            + [("kill", 0.15 + 0.6 * (k + 1) / (options.kills + 1)) for k in range(options.kills)],
            key=lambda item: item[1],
        )
        expected = options.orders / max(rate_a, 1)
        for what, at in schedule:
            time.sleep(max(0.0, started + at * expected - time.time()))
            if what == "outage":
                receiver.stop()
                down = time.time()
                time.sleep(options.outage_s)
                receiver.start()
                downtime.append((down, time.time()))
                outages += 1
            else:
                assert worker is not None
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                kills += 1
                time.sleep(0.5)
                worker = start(["worker", "--no-jobs"], env, log)
                meter.worker = worker
                starts += 1
                wait_started(log, starts)
        loader.join()
        print(f"B faults:                  {rate_b:8.1f} orders/s")
        emitted = {**emitted_h, **outbox_after(url, first_b)}
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            first_seen, failed_ids, arrivals = receiver.read()
            if not set(emitted) - set(first_seen):
                break
            time.sleep(0.5)
        time.sleep(1)  # anything delivered twice arrives now
        first_seen, failed_ids, arrivals = receiver.read()
        delivered = {i for i in emitted if i in first_seen}
        duplicates = sum(c - 1 for i, c in arrivals.items() if i in emitted)
        healthy = [(first_seen[i] - emitted_h[i]) * 1000 for i in emitted_h if i in first_seen]
        lost = len(emitted) - len(delivered)

        # A again, the subscription gone: the database has grown since A. A worker started
        # afresh (before the phase) says what each reaction cost it when it stops
        api.delete(f"/api/v1/webhook-subscriptions/{subscription}").raise_for_status()
        caught_up(url, settle)
        assert worker is not None
        stop_worker(worker)
        marker = log.stat().st_size
        worker = start(["worker", "--no-jobs"], env, log)
        meter.worker = worker
        starts += 1
        wait_started(log, starts)
        before = meter.read()
        rate_a2 = place(base, key, numbers(), options.clients)
        alone = (rate_a + rate_a2) / 2
        print(f"A again, deliveries off:   {rate_a2:8.1f} orders/s (mean of A: {alone:.1f})")
        caught_up(url, settle)
        after = meter.read()
        cpu_a.append(meter.potok_ms(before, after, options.orders))
        print(f"  CPU ms per order (until caught up): {meter.spent(before, after, options.orders)}")
        stop_worker(worker)
        print_reaction_costs(log, marker, options.orders)
        # what a quiet machine turns into throughput: the CPU an order costs Potok with
        # deliveries and without (wall-clock orders/s follow the machine's load)
        without = sum(cpu_a) / len(cpu_a)
        print(
            f"CPU per order (server + worker + database, until caught up): without deliveries"
            f" {without:.2f} ms (mean of the As), with {cpu_h:.2f} ms:"
            f" {(cpu_h / without - 1) * 100:+.1f} %"
        )
        print(
            f"H against the mean of A:   {(rate_h / alone - 1) * 100:+.1f} % "
            f"(B with its faults: {(rate_b / alone - 1) * 100:+.1f} %)"
        )
        print(
            f"events {len(emitted)} (H {len(emitted_h)}), delivered {len(delivered)}, "
            f"lost {lost}, duplicates {duplicates}, failed attempts answered 503 for "
            f"{len(failed_ids)} events"
        )
        print(
            f"lag (H, {len(healthy)} events): p50 {percentile(healthy, 0.5):.0f} ms, "
            f"p99 {percentile(healthy, 0.99):.0f} ms, max {max(healthy, default=0):.0f} ms, "
            f"at a load average of {load_h:.1f} on {os.cpu_count()} cores (wall time: a quiet "
            "machine confirms the target)"
        )
        print(
            f"events emitted={len(emitted)} delivered={len(delivered)} lost={lost} "
            f"duplicates={duplicates} p50_lag_ms={percentile(healthy, 0.5):.0f} "
            f"p99_lag_ms={percentile(healthy, 0.99):.0f} worker_kills={kills} outages={outages}"
        )
    finally:
        api.close()
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        receiver.stop()


if __name__ == "__main__":
    main()
