"""Faults survived: orders from many clients while processes die and connections drop.

    python benchmarks/faults.py --clients 16 --seconds 60

A fresh PostgreSQL database (``POTOK_BENCH_DATABASE_URL``, default ``potok_bench``) gets
the intake benchmark's network and catalogue; ``potok serve`` (2 API processes) and
``potok worker`` (the outbox dispatcher) start against it, and a webhook subscription
sends every event to a receiver inside this script. Clients then place orders, each
under its own ``Idempotency-Key`` and without an external id (so that only the key stands
between a retry and a second order); a request that fails in any way (refused
connection, reset, timeout, 5xx, 409, 429) is sent again, same key, same body, until it
is answered. Meanwhile, in turn, the script:

- kills one API process with SIGKILL (the server's supervisor starts another), and in
  another turn the whole server (its process group: the supervisor and both API
  processes), starting it again on the same port;
- terminates every database connection of Potok's (``pg_terminate_backend``: what the
  processes see when PostgreSQL restarts; the server itself is shared with other work on
  a development machine, so it is not restarted here: ``pg_restarts`` stays 0 unless
  ``--restart-postgres CMD`` gives a command that restarts it);
- kills the worker with SIGKILL and starts it again.

Then it checks, from the database: every order acknowledged with 2xx is stored exactly
once (each order carries its key in its comment), every answer to one key names the same
order, nothing was oversold, stock reconciles (``reserved`` equals the open reservations,
``on_hand`` equals the movements' sum), and every stored order's ``order.created`` event
reached the receiver. Last line:

    faults acknowledged=N stored=N lost=0 duplicated=0 oversold=0 reconcile_drift=0
      api_kills=K pg_restarts=R worker_kills=W connection_drops=D undelivered=0
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import free_port, fresh_database, seed, start_server
from potok.bootstrap import bootstrap
from potok.domain.kernel import Actor
from potok.services import events
from potok.settings import DatabaseSettings, SecuritySettings, Settings

RETRY_FOR_S = 120.0  # a client gives up on a request after this long (counted, never hidden)


class Receiver:
    """Webhook deliveries, by event id (a redelivery is counted, not stored twice)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.deliveries = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                self.rfile.read(length)
                with receiver.lock:
                    receiver.deliveries += 1
                    receiver.ids.add(self.headers.get("webhook-id", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Processes:
    """The API server and the worker, killed and started again on demand."""

    def __init__(self, url: str, workdir: Path, port: int) -> None:
        self.url, self.workdir, self.port = url, workdir, port
        self.server = start_server(url, workdir, port, 2, 8)
        self.command = self.server.args
        self.worker = self._start_worker()

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "POTOK_DB__URL": self.url,
            "POTOK_SECURITY__KEY_FILE": str(self.workdir / "potok-keys.json"),
            "POTOK_DB__POOL_SIZE": "8",
            "POTOK_DB__MAX_OVERFLOW": "0",
            "POTOK_EVENTS__ALLOW_PRIVATE_ADDRESSES": "true",
        }

    def _start_worker(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("potok")), "worker", "--no-jobs"],
            env=self._env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill_api_process(self) -> bool:
        """SIGKILL one of the API processes; the server's supervisor starts another while
        the other goes on answering."""
        children = [
            pid
            for pid in _children(self.server.pid)
            if "resource_tracker" not in _command_line(pid)
        ]
        if not children:
            return False
        os.kill(random.choice(children), signal.SIGKILL)
        return True

    def kill_api_server(self) -> None:
        """SIGKILL the whole server (the supervisor and its API processes) and start it
        again, not waiting for it: the clients find out when it answers."""
        os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()
        self.server = subprocess.Popen(
            self.command,
            env=self._env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        self.worker = self._start_worker()

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def drop_connections(url: str) -> int:
    """Terminate every other connection to the database: Potok's processes see what a
    database restart shows them."""
    engine = sa.create_engine(url)
    with engine.connect() as c:
        dropped = c.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    return int(dropped)


class Clients:
    """Threads placing orders, each retried under its key until it is answered."""

    def __init__(self, port: int, key: str, skus: int, hot: int) -> None:
        self.port, self.key, self.skus, self.hot = port, key, skus, hot
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: dict[str, list[int]] = defaultdict(list)  # key -> order ids answered
        self.retries = Counter[str]()
        self.refused: Counter[int] = Counter()
        self.abandoned = 0

    def run(self, index: int) -> None:
        rng = random.Random(index)
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"faults-{index}-{n}"
            lines = [
                {
                    "sku": f"SKU-{rng.randint(1, self.hot) if rng.random() < 0.1 else rng.randint(self.hot + 1, self.skus):05d}",
                    "quantity": rng.randint(1, 3),
                }
                for _ in range(3)
            ]
            body = json.dumps(
                {
                    "channel": "web",
                    "comment": key,
                    "customer": {"name": "Faults", "phone": f"+7916{rng.randrange(10**7):07d}"},
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
            self._until_answered(key, body)

    def _until_answered(self, key: str, body: str) -> None:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
            "Idempotency-Key": key,
        }
        deadline = time.monotonic() + RETRY_FOR_S
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("POST", "/api/v1/orders", body, headers)
                response = connection.getresponse()
                answer = response.read()
                connection.close()
            except OSError as error:
                self._retry(type(error).__name__)
                continue
            except http.client.HTTPException as error:
                self._retry(type(error).__name__)
                continue
            if 200 <= response.status < 300:
                with self.lock:
                    self.answers[key].append(int(json.loads(answer)["id"]))
                return
            if response.status in (409, 429) or response.status >= 500:
                self._retry(str(response.status))
                continue
            with self.lock:
                self.refused[response.status] += 1
            return
        with self.lock:
            self.abandoned += 1

    def _retry(self, why: str) -> None:
        with self.lock:
            self.retries[why] += 1
        time.sleep(random.uniform(0.05, 0.25))


def check(url: str, answers: dict[str, list[int]]) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        stored_rows = c.execute(
            sa.text("SELECT comment, id FROM orders WHERE comment LIKE 'faults-%'")
        ).all()
        broken = c.execute(
            sa.text("""
            SELECT count(*) FROM stock s
              LEFT JOIN (SELECT stock_id, sum(quantity) AS q FROM reservations
                          WHERE status = 'open' GROUP BY stock_id) r ON r.stock_id = s.id
             WHERE s.reserved < 0 OR s.reserved > s.on_hand OR s.reserved <> COALESCE(r.q, 0)
        """)
        ).scalar_one()
        drift = c.execute(
            sa.text("""
            SELECT count(*) FROM stock s
              LEFT JOIN (SELECT stock_id, sum(quantity) AS q FROM stock_movements
                          GROUP BY stock_id) m ON m.stock_id = s.id
             WHERE s.on_hand <> COALESCE(m.q, 0)
        """)
        ).scalar_one()
        created = c.execute(
            sa.text(
                "SELECT e.event_id FROM outbox_events e JOIN orders o "
                "ON e.aggregate_type = 'order' AND e.aggregate_id = CAST(o.id AS text) "
                "WHERE e.type = 'order.created' AND o.comment LIKE 'faults-%'"
            )
        ).scalars()
        event_ids = {str(e) for e in created}
    engine.dispose()
    by_key: dict[str, list[int]] = defaultdict(list)
    for comment, order_id in stored_rows:
        by_key[comment].append(order_id)
    acknowledged = {k: ids for k, ids in answers.items() if ids}
    lost = sum(1 for k, ids in acknowledged.items() if ids[0] not in by_key.get(k, []))
    duplicated = sum(len(ids) - 1 for ids in by_key.values())
    inconsistent = sum(1 for ids in acknowledged.values() if len(set(ids)) > 1)
    return {
        "acknowledged": len(acknowledged),
        "stored": len(stored_rows),
        "lost": lost,
        "duplicated": duplicated,
        "inconsistent": inconsistent,
        "unacknowledged_stored": sum(1 for k in by_key if k not in acknowledged),
        "oversold": int(broken),
        "reconcile_drift": int(drift),
        "event_ids": event_ids,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long orders are sent")
    parser.add_argument("--every", type=float, default=6.0, help="seconds between faults")
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--hot", type=int, default=20)
    parser.add_argument("--history", type=int, default=5000)
    parser.add_argument(
        "--restart-postgres",
        metavar="CMD",
        help="a shell command that restarts PostgreSQL (only on a machine of your own)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    workdir = Path(tempfile.mkdtemp(prefix="potok-faults-"))
    print(f"preparing a fresh database in {workdir} ...", flush=True)
    url = fresh_database("postgresql", workdir)
    _, key = seed(
        url, workdir, skus=args.skus, hot=args.hot, history=args.history, rng=random.Random(3)
    )
    receiver = Receiver()
    potok = bootstrap(
        Settings(
            db=DatabaseSettings(url=url),
            security=SecuritySettings(key_file=str(workdir / "potok-keys.json")),
        )
    )
    events.sequence_events(potok.uow(), 1_000_000)  # the seed's events are history
    events.subscribe(
        potok.uow(),
        f"http://127.0.0.1:{receiver.port}/hooks",
        ["order.created"],
        Actor.system("faults"),
        allow_private=True,
    )
    potok.close()
    port = free_port()
    processes = Processes(url, workdir, port)
    clients = Clients(port, key, args.skus, args.hot)
    faults = Counter[str]()
    threads = [
        threading.Thread(target=clients.run, args=(i,), daemon=True) for i in range(args.clients)
    ]
    try:
        for thread in threads:
            thread.start()
        print(
            f"placing orders from {args.clients} clients for {args.seconds:.0f} s, "
            f"a fault every {args.every:.0f} s ...",
            flush=True,
        )
        started = time.monotonic()
        turn = 0
        while time.monotonic() - started < args.seconds:
            time.sleep(args.every)
            kind = ("api", "connections", "worker", "api_server", "postgres")[turn % 5]
            turn += 1
            if kind == "api":
                if not processes.kill_api_process():
                    continue
            elif kind == "api_server":
                processes.kill_api_server()
            elif kind == "connections":
                faults["connection_drops"] += 0 if drop_connections(url) == 0 else 1
                continue
            elif kind == "worker":
                processes.kill_worker()
            elif args.restart_postgres:
                subprocess.run(shlex.split(args.restart_postgres), check=True)
            else:
                continue
            faults[kind] += 1
            print(f"  {time.monotonic() - started:5.1f} s  {kind} fault", flush=True)
        clients.stop.set()
        for thread in threads:
            thread.join(RETRY_FOR_S + 30)
        found = check(url, clients.answers)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not found["event_ids"] <= receiver.ids:
            time.sleep(1)
    finally:
        processes.stop()
    undelivered = len(found["event_ids"] - receiver.ids)
    print()
    print(f"answered           {sum(len(v) for v in clients.answers.values())} 2xx answers")
    print(f"retries            {dict(clients.retries)}")
    print(f"refused            {dict(clients.refused)}  abandoned {clients.abandoned}")
    print(f"answers disagreeing with each other for one key: {found['inconsistent']}")
    print(f"stored without an acknowledgement: {found['unacknowledged_stored']}")
    print(
        f"events             {len(found['event_ids'])} order.created, "
        f"{receiver.deliveries} deliveries received, {undelivered} undelivered"
    )
    print(
        f"faults acknowledged={found['acknowledged']} stored={found['stored']} "
        f"lost={found['lost']} duplicated={found['duplicated']} oversold={found['oversold']} "
        f"reconcile_drift={found['reconcile_drift']} "
        f"api_kills={faults['api'] + faults['api_server']} "
        f"pg_restarts={faults['postgres']} worker_kills={faults['worker']} "
        f"connection_drops={faults['connection_drops']} undelivered={undelivered}"
    )
    shutil.rmtree(workdir, ignore_errors=True)
    bad = (
        found["lost"]
        or found["duplicated"]
        or found["oversold"]
        or found["reconcile_drift"]
        or found["inconsistent"]
        or undelivered
        or clients.abandoned
    )
    if bad:
        raise SystemExit("faults were not survived: see the figures above")


if __name__ == "__main__":
    main()
