"""Events backlog benchmark: a million events wait in the outbox (the worker was down for a
long while); the dispatcher places them in commit order, delivers them to a webhook
receiver and after-commit reactions read them, and retention prunes them once dealt with -
while a writer keeps committing events one transaction at a time, as the intake does.

    python benchmarks/events_backlog.py --events 1000000
    python benchmarks/events_backlog.py --events 100000 --deliver-s 20

PostgreSQL only (``POTOK_BENCH_DATABASE_URL``, default the local server; the database
``--database-name`` is made afresh). The backlog is written with one ``INSERT ... SELECT``
(the benchmark is about reading it back, not writing it). Then, each phase timed:

1. placing: rounds of the dispatcher's sequencer until every event has its position;
2. delivering: the dispatcher's delivery rounds for ``--deliver-s`` seconds against a local
   receiver (throughput; a million deliveries would take hours, and their speed does not
   depend on the backlog's size past one window);
3. pruning: every reader moved to the end (as if all were delivered), then retention runs
   until nothing is left to prune.

The writer's commit latency is measured through each phase (it must never wait behind the
dispatcher), and the process's peak memory at the end (a backlog must not be read into
memory). Last line:

    events_backlog events=N place_s=... place_writer_p99_ms=... deliver_per_s=... deliver_writer_p99_ms=... prune_s=... prune_writer_p99_ms=... writer_max_ms=... peak_rss_mb=...
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import backends_cpu
from potok.bootstrap import Potok, bootstrap
from potok.db import migrate
from potok.db.tables import event_consumers, outbox_events
from potok.domain.kernel import Actor
from potok.domain.orders.events import OrderStatusChanged
from potok.services import events
from potok.settings import DatabaseSettings, Settings
from potok.worker.dispatcher import Dispatcher, new_client

RECEIVER = Path(__file__).with_name("webhook_receiver.py")


def fresh_database(name: str) -> str:
    base = os.environ.get("POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
    admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_backlog(potok: Potok, count: int) -> None:
    """``count`` committed order events without a position, two per order, in one go."""
    with potok.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox_events "
                "(event_id, type, aggregate_type, aggregate_id, payload, occurred_at) "
                "SELECT gen_random_uuid()::text, 'order.status_changed', 'order', "
                "((n + 1) / 2)::text, jsonb_build_object('order_id', (n + 1) / 2, "
                "'from_status', 'new', 'to_status', 'confirmed', 'reason', NULL), "
                ":at FROM generate_series(1, :count) AS n"
            ),
            {"count": count, "at": datetime.now(UTC) - timedelta(days=40)},
        )
        connection.execute(sa.text("ANALYZE outbox_events"))


class Writer:
    """Commits one order event per transaction, as fast as it can, and keeps each commit's
    latency under the name of the phase running then."""

    def __init__(self, potok: Potok) -> None:
        self.potok = potok
        self.phase = "idle"
        self.latencies: dict[str, list[float]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="writer", daemon=True)
        self.order = 10_000_000

    def run(self) -> None:
        while not self.stop.is_set():
            self.order += 1
            started = time.perf_counter()
            uow = self.potok.uow()
            with uow:
                uow.record(
                    OrderStatusChanged(
                        occurred_at=datetime.now(UTC),
                        order_id=self.order,
                        from_status="new",
                        to_status="confirmed",
                        reason=None,
                    )
                )
                uow.commit()
            took = (time.perf_counter() - started) * 1000
            self.latencies.setdefault(self.phase, []).append(took)
            time.sleep(0.01)  # a steady trickle, not a second load

    def p99(self, phase: str) -> float:
        found = sorted(self.latencies.get(phase, [0.0]))
        return found[min(len(found) - 1, int(0.99 * len(found)))]

    def worst(self) -> float:
        return max((max(v) for v in self.latencies.values() if v), default=0.0)


def process_cpu(pid: int) -> float:
    """User+system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu(potok: Potok) -> float:
    """CPU seconds used so far by the PostgreSQL backends of the benchmark's database (the
    sequencer's and the writer's; :func:`benchmarks.intake.backends_cpu`)."""
    return backends_cpu(potok.engine.url.render_as_string(hide_password=False))


def unplaced(potok: Potok) -> int:
    with potok.engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).where(outbox_events.c.position.is_(None))
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--deliver-s", type=float, default=30.0)
    parser.add_argument("--database-name", default="potok_bench_backlog")
    parser.add_argument(
        "--hold-snapshot",
        action="store_true",
        help="Keep a read-only transaction open while placing, as a backup (pg_dump) or a "
        "long report does: dead index entries cannot be skipped meanwhile.",
    )
    parser.add_argument(
        "--place-only", action="store_true", help="Stop after placing (an A/B of the sequencer)."
    )
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="potok-backlog-bench-"))
    os.environ.setdefault("POTOK_SECURITY__KEY_FILE", str(workdir / "keys"))
    settings = Settings(db=DatabaseSettings(url=fresh_database(options.database_name)))
    settings.events.allow_private_addresses = True
    settings.events.retention_days = 30
    potok = bootstrap(settings)
    migrate.upgrade(potok.engine)
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(RECEIVER), str(port), "0", str(workdir / "received.log")]
    )
    writer = Writer(potok)
    try:
        time.sleep(1)
        events.subscribe(
            potok.uow(),
            f"http://127.0.0.1:{port}/potok",
            ["*"],
            Actor.system("bench"),
            allow_private=True,
        )
        started = time.perf_counter()
        write_backlog(potok, options.events)
        print(
            f"backlog of {options.events} events written in {time.perf_counter() - started:.1f} s"
        )
        writer.thread.start()

        with new_client() as client:
            dispatcher = Dispatcher(potok, client, name="bench")

            # 1. placing the backlog in commit order, until a batch is not full (the
            # writer's trickle alone would keep every call busy)
            writer.phase = "place"
            held = None
            if options.hold_snapshot:
                held = potok.engine.connect().execution_options(isolation_level="REPEATABLE READ")
                held.execute(sa.select(sa.func.count()).select_from(event_consumers))
            most = settings.events.batch_size * 10
            started = time.perf_counter()
            db_before = backend_cpu(potok)
            batches: list[float] = []
            while True:
                took = time.perf_counter()
                placed = events.sequence_events(potok.uow(), most)
                batches.append(time.perf_counter() - took)
                if placed < most:
                    break
            place_s = time.perf_counter() - started
            place_db_cpu = backend_cpu(potok) - db_before
            if held is not None:
                held.close()
            left = unplaced(potok)
            tenth = max(len(batches) // 10, 1)
            first_ms = 1000 * sum(batches[:tenth]) / tenth
            last_ms = 1000 * sum(batches[-tenth - 1 : -1] or batches[-1:]) / tenth
            print(
                f"placed in {place_s:.1f} s ({options.events / place_s:.0f} events/s), {left} left;"
                f" PostgreSQL CPU {1000 * place_db_cpu / options.events:.3f} ms per event;"
                f" a batch of {most}: {first_ms:.0f} ms in the first tenth, {last_ms:.0f} ms in"
                " the last"
            )
            if options.place_only:
                return

            # 2. delivering from the head of the backlog, the reactions reading beside
            writer.phase = "deliver"
            delivered = rounds = 0
            started = time.perf_counter()
            cpu = time.process_time()
            receiver_cpu = process_cpu(receiver.pid)
            while time.perf_counter() - started < options.deliver_s:
                report = dispatcher.delivery_round()
                dispatcher.reaction_round(report)
                delivered += report.delivered
                rounds += 1
            deliver_s = time.perf_counter() - started
            deliver_rate = delivered / deliver_s
            cpu = time.process_time() - cpu
            receiver_cpu = process_cpu(receiver.pid) - receiver_cpu
            print(
                f"delivered {delivered} in {deliver_s:.1f} s ({deliver_rate:.0f}/s, {rounds} rounds)"
                f"; CPU per delivery: dispatcher {1000 * cpu / max(delivered, 1):.2f} ms "
                f"(with the reactions' rounds and the writer), receiver "
                f"{1000 * receiver_cpu / max(delivered, 1):.2f} ms"
            )
            dispatcher.shut()

        # 3. retention once every reader is past the backlog
        last = events.last_position(potok.uow())
        with potok.engine.begin() as connection:
            connection.execute(sa.update(event_consumers).values(position=last))
        writer.phase = "prune"
        pruned = runs = 0
        started = time.perf_counter()
        while True:
            done = events.prune_delivered(
                potok.uow(), keep_events=timedelta(days=30), keep_log=timedelta(days=30)
            )
            pruned += done.events
            runs += 1
            if done.events == 0:
                break
        prune_s = time.perf_counter() - started
        print(f"pruned {pruned} events in {prune_s:.1f} s ({runs} runs of the retention job)")
    finally:
        writer.stop.set()
        if writer.thread.is_alive():
            writer.thread.join(timeout=30)
        receiver.kill()
        receiver.wait()
        potok.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"writer commits: place p99 {writer.p99('place'):.0f} ms, deliver p99 "
        f"{writer.p99('deliver'):.0f} ms, prune p99 {writer.p99('prune'):.0f} ms, "
        f"worst {writer.worst():.0f} ms; peak memory {peak_mb:.0f} MB"
    )
    print(
        f"events_backlog events={options.events} place_s={place_s:.1f} "
        f"place_writer_p99_ms={writer.p99('place'):.0f} deliver_per_s={deliver_rate:.0f} "
        f"deliver_writer_p99_ms={writer.p99('deliver'):.0f} prune_s={prune_s:.1f} "
        f"prune_writer_p99_ms={writer.p99('prune'):.0f} writer_max_ms={writer.worst():.0f} "
        f"peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
