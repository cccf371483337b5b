"""Faults survived: orders from many clients while processes die, connections drop and
PostgreSQL restarts.

    python benchmarks/faults.py --own-postgres --clients 16 --seconds 120

A fresh PostgreSQL database gets the intake benchmark's network and catalogue. With
``--own-postgres`` it lives in a cluster of the benchmark's own (``initdb`` in a temporary
folder, on a free port), which is restarted for real as one of the faults; without it, the
database is ``POTOK_BENCH_DATABASE_URL`` (default ``potok_bench``) on a server shared with
other work, which is not restarted unless ``--restart-postgres CMD`` says how
(``pg_restarts`` stays 0).

``--apis`` API servers (2; each ``potok serve`` of one process on its own port, as on a
host of its own) and ``--workers`` workers (2; ``potok worker``, the outbox dispatcher)
start against the one database - on this one machine: the hosts are stood in for by
processes, which share nothing but the database. A webhook subscription sends every event
to a receiver inside this script. Clients then place orders, each under its own
``Idempotency-Key`` and without an external id (so that only the key stands between a
retry and a second order), each through its own API server; a request that fails in any
way (refused connection, reset, timeout, 5xx, 409, 429) is sent again, same key, same
body, to the next server, until it is answered. Meanwhile, in turn, the script:

- kills one API server with SIGKILL (each in turn) and starts it again on its port;
- terminates every database connection of Potok's (``pg_terminate_backend``);
- kills one worker with SIGKILL (each in turn) and starts it again;
- restarts PostgreSQL (``pg_ctl restart -m immediate``: no checkpoint, as a crash; the
  next start recovers from the WAL) when it is the benchmark's own.

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

from intake import free_port, fresh_database, seed
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
    """API servers (each a host of its own: one process on its own port) and workers on
    one database, each killed and started again on demand, as a host's process manager
    would."""

    def __init__(self, url: str, workdir: Path, apis: int, workers: int) -> None:
        self.url, self.workdir = url, workdir
        self.ports = [free_port() for _ in range(apis)]
        self.servers = [self._start_api(n) for n in range(apis)]
        for port in self.ports:
            _wait_answering(port)
        self.workers: list[subprocess.Popen[bytes]] = []
        for _ in range(workers):
            self.workers.append(self._start_worker())
        self.turn = 0

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "POTOK_DB__URL": self.url,
            "POTOK_SECURITY__KEY_FILE": str(self.workdir / "potok-keys.json"),
            "POTOK_DB__POOL_SIZE": "8",
            "POTOK_DB__MAX_OVERFLOW": "0",
            "POTOK_API__THREADS": "8",
            "POTOK_EVENTS__ALLOW_PRIVATE_ADDRESSES": "true",
        }

    def _log(self, name: str) -> Any:
        """Where a process writes (kept when the benchmark fails)."""
        return (self.workdir / f"{name}.log").open("ab")

    def _start_worker(self, n: int | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("potok")), "worker", "--no-jobs"],
            env=self._env(),
            stdout=self._log(f"worker{len(self.workers) if n is None else n}"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start_api(self, n: int) -> subprocess.Popen[bytes]:
        command = [str(Path(sys.executable).with_name("potok")), "serve", "--port"]
        return subprocess.Popen(
            [*command, str(self.ports[n]), "--workers", "1", "--no-jobs", "--no-access-log"],
            env=self._env(),
            stdout=self._log(f"api{n}"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_api(self) -> None:
        """SIGKILL one API server (each in turn) and start it again on its port, not
        waiting for it: the clients go to the others meanwhile."""
        n = self.turn % len(self.servers)
        self.turn += 1
        os.killpg(self.servers[n].pid, signal.SIGKILL)
        self.servers[n].wait()
        self.servers[n] = self._start_api(n)

    def kill_worker(self) -> None:
        """SIGKILL one worker (each in turn) and start it again."""
        n = self.turn % len(self.workers)
        self.turn += 1
        os.killpg(self.workers[n].pid, signal.SIGKILL)
        self.workers[n].wait()
        self.workers[n] = self._start_worker(n)

    def exited(self) -> list[str]:
        """The processes that ended by themselves (not killed here): none should."""
        return [
            f"{kind} {n} (exit {process.returncode})"
            for kind, processes in (("API server", self.servers), ("worker", self.workers))
            for n, process in enumerate(processes)
            if process.poll() is not None
        ]

    def stop(self) -> None:
        for process in [*self.servers, *self.workers]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _wait_answering(port: int) -> None:
    deadline = time.monotonic() + 300  # a loaded machine starts a server slowly
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the API server on port {port} did not start: see its log")


class OwnPostgres:
    """A PostgreSQL cluster of the benchmark's own (initdb in a temporary folder, a free
    port), so that it can be restarted for real: ``pg_ctl restart -m immediate`` stops it
    as a crash or a power cut does (no checkpoint; the next start recovers from the WAL).
    Run as the ``postgres`` user when this script runs as root (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        pg_ctl = shutil.which("pg_ctl") or (str(found[-1]) if found else None)
        if pg_ctl is None:
            raise SystemExit("--own-postgres needs PostgreSQL's pg_ctl and initdb")
        self.bin = Path(pg_ctl).parent
        self.folder = Path(tempfile.mkdtemp(prefix="potok-faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self.options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            self.options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/potok_faults"

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / program), *arguments],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        """Stop at once, as a crash does, and start again (recovering from the WAL)."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-m",
            "immediate",
            "-w",
            "-o",
            self.options,
            "-l",
            str(self.folder / "log"),
            "restart",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


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

    def __init__(self, ports: list[int], key: str, skus: int, hot: int) -> None:
        self.ports, self.key, self.skus, self.hot = ports, key, skus, hot
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
            self._until_answered(key, body, index)

    def _until_answered(self, key: str, body: str, index: int) -> None:
        """Send until answered: to this client's API server first, and after a failure to
        the next (as a load balancer does when a host stops answering)."""
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
            "Idempotency-Key": key,
        }
        deadline = time.monotonic() + RETRY_FOR_S
        attempt = 0
        while time.monotonic() < deadline:
            port = self.ports[(index + attempt) % len(self.ports)]
            attempt += 1
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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
    parser.add_argument("--apis", type=int, default=2, help="API servers (one process each)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--hot", type=int, default=20)
    parser.add_argument("--history", type=int, default=5000)
    restart = parser.add_mutually_exclusive_group()
    restart.add_argument(
        "--own-postgres",
        action="store_true",
        help="run on a PostgreSQL cluster of the benchmark's own (initdb, a free port) and "
        "restart it for real as one of the faults",
    )
    restart.add_argument(
        "--restart-postgres",
        metavar="CMD",
        help="a shell command that restarts PostgreSQL (only on a machine of your own)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    workdir = Path(tempfile.mkdtemp(prefix="potok-faults-"))
    own = OwnPostgres() if args.own_postgres else None
    if own is not None:
        os.environ["POTOK_BENCH_DATABASE_URL"] = own.url  # where the intake's helpers look
        print(f"a PostgreSQL cluster of its own on port {own.port}", flush=True)
    processes: Processes | None = None
    try:
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
        processes = Processes(url, workdir, args.apis, args.workers)
        clients = Clients(processes.ports, key, args.skus, args.hot)
        faults = Counter[str]()
        threads = [
            threading.Thread(target=clients.run, args=(i,), daemon=True)
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        print(
            f"placing orders from {args.clients} clients through {args.apis} API servers"
            f" ({args.workers} workers) for {args.seconds:.0f} s,"
            f" a fault every {args.every:.0f} s ...",
            flush=True,
        )
        started = time.monotonic()
        turn = 0
        while time.monotonic() - started < args.seconds:
            time.sleep(args.every)
            kind = ("api", "connections", "worker", "postgres")[turn % 4]
            turn += 1
            if kind == "api":
                processes.kill_api()
            elif kind == "connections":
                faults["connection_drops"] += 0 if drop_connections(url) == 0 else 1
                continue
            elif kind == "worker":
                processes.kill_worker()
            elif own is not None:
                own.restart()
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
        exited = processes.exited()
    finally:
        if processes is not None:
            processes.stop()
        if own is not None:
            own.stop()
    undelivered = len(found["event_ids"] - receiver.ids)
    print()
    print(f"answered           {sum(len(v) for v in clients.answers.values())} 2xx answers")
    print(f"retries            {dict(clients.retries)}")
    print(f"refused            {dict(clients.refused)}  abandoned {clients.abandoned}")
    print(f"answers disagreeing with each other for one key: {found['inconsistent']}")
    print(f"stored without an acknowledgement: {found['unacknowledged_stored']}")
    print(f"processes that ended by themselves: {', '.join(exited) or 'none'}")
    print(
        f"events             {len(found['event_ids'])} order.created, "
        f"{receiver.deliveries} deliveries received, {undelivered} undelivered"
    )
    print(
        f"faults acknowledged={found['acknowledged']} stored={found['stored']} "
        f"lost={found['lost']} duplicated={found['duplicated']} oversold={found['oversold']} "
        f"reconcile_drift={found['reconcile_drift']} "
        f"api_kills={faults['api']} "
        f"pg_restarts={faults['postgres']} worker_kills={faults['worker']} "
        f"connection_drops={faults['connection_drops']} undelivered={undelivered}"
    )
    bad = (
        found["lost"]
        or found["duplicated"]
        or found["oversold"]
        or found["reconcile_drift"]
        or found["inconsistent"]
        or undelivered
        or clients.abandoned
        or exited
    )
    if bad:
        raise SystemExit(
            f"faults were not survived: see the figures above, and the logs of the API servers"
            f" (restarted ones) and the workers in {workdir}"
        )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
