"""PostgreSQL's CPU per order on the intake path, in its backends, for the A/B of a schema
change (an index, a key, a column's storage) that a whole benchmark on a shared machine
cannot tell from its noise.

    python benchmarks/intake_db.py --orders 2000 --variant lz4=b.sql [--variant name=c.sql]

It seeds a database as ``benchmarks/intake.py`` does, with customers and kept answers too
(so that no plan is made on an empty table), places ``--orders`` orders through the
application in this process (one after another, with an Idempotency-Key) and records the
two statements each sends: the snapshot and the commit. Then it makes one copy of the
seeded database per variant (``A`` as seeded; each ``--variant`` with its SQL file run on
its copy) and replays the recorded statements on every copy, order by order in turn, so
that the machine's drift falls on every variant alike; the backend's CPU
(``/proc/PID/schedstat``) is read around each statement, after 50 orders of warm-up.
Prepared, generic plans, no BEGIN or COMMIT: as intake sends them. Group commit does not
show here (one order per commit). Last line:

    intake_db orders=N variants=A,lz4 snapshot_us=540,534 commit_us=1605,1552
      total_us=2145,2086 change_pct=0.0,-2.8

(one line).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import bench_settings, fresh_database, seed

WARM = 50
Recorded = tuple[str, Any]


def _admin(base: str, *statements: str) -> None:
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        for statement in statements:
            c.execute(statement)  # names made by this script


def _copy(base: str, name: str, sql: Path | None = None) -> str:
    template = base.rsplit("/", 1)[1]
    _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as c:
        if sql is not None:
            c.execute(sql.read_text())
        c.execute("VACUUM ANALYZE")
    return url


def _record(url: str, workdir: Path, key: str, orders: int) -> list[tuple[Recorded, Recorded]]:
    """The snapshot and the commit of ``orders`` orders placed through the application."""
    with warnings.catch_warnings():  # starlette prefers httpx2 to httpx: not ours to change
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from potok.api.app import create_app

    sent: list[Recorded] = []
    original = psycopg.RawCursor.execute

    def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        sent.append((query, params))
        return original(self, query, params, **kwargs)

    rng = random.Random(5)
    psycopg.RawCursor.execute = execute  # type: ignore[method-assign]
    try:
        with TestClient(create_app(bench_settings(sa_url(url), workdir))) as client:
            for n in range(orders):
                answer = client.post(
                    "/api/v1/orders",
                    headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"db-{n}"},
                    json={
                        "channel": "web",
                        "external_id": f"db-{n}",
                        "customer": {"name": "Bench", "phone": f"+7916{rng.randrange(10**7):07d}"},
                        "delivery": {
                            "method": "courier",
                            "address": {
                                "city": "Город",
                                "line1": "ул. Ленина, 1",
                                "latitude": 55.75 + rng.random() / 5,
                                "longitude": 37.62,
                            },
                        },
                        "lines": [
                            {
                                "sku": f"SKU-{rng.randint(21, 5000):05d}",
                                "quantity": rng.randint(1, 3),
                            }
                            for _ in range(3)
                        ],
                    },
                )
                if answer.status_code != 201:
                    raise SystemExit(f"an order failed: {answer.text}")
    finally:
        psycopg.RawCursor.execute = original  # type: ignore[method-assign]
    pairs, snapshot = [], None
    for query, params in sent:
        if query.lstrip().startswith("WITH p AS"):
            snapshot = (query, params)
        elif query.startswith("WITH d AS") and snapshot is not None:
            pairs.append((snapshot, (query, params)))
    return pairs


def sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _cpu_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def replay(pairs: list[tuple[Recorded, Recorded]], urls: list[str]) -> list[tuple[int, int]]:
    """Every order's two statements on every copy in turn; CPU (ns) of the snapshots and of
    the commits per copy, after the warm-up."""
    connections = [psycopg.connect(url, autocommit=True) for url in urls]
    spent = [[0, 0] for _ in urls]
    try:
        for c in connections:
            c.execute("SET plan_cache_mode = force_generic_plan")  # as intake's sessions
        cursors = [psycopg.RawCursor(c) for c in connections]
        pids = [c.info.backend_pid for c in connections]
        for n, ((snapshot, s_params), (commit, c_params)) in enumerate(pairs):
            turn = n % len(urls)  # who goes first rotates
            for i in [*range(turn, len(urls)), *range(turn)]:
                before = _cpu_ns(pids[i])
                cursors[i].execute(snapshot, s_params, prepare=True).fetchall()
                read = _cpu_ns(pids[i])
                cursors[i].execute(commit, c_params, prepare=True)
                if n >= WARM:
                    spent[i][0] += read - before
                    spent[i][1] += _cpu_ns(pids[i]) - read
    finally:
        for c in connections:
            c.close()
    return [(s, c) for s, c in spent]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=SQL_FILE", help="repeatable"
    )
    args = parser.parse_args()
    variants: list[tuple[str, Path | None]] = [("A", None)]
    for spec in args.variant:
        name, _, file = spec.partition("=")
        variants.append((name, Path(file)))
    workdir = Path(tempfile.mkdtemp(prefix="potok-bench-db-"))
    base = os.environ.get(
        "POTOK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/potok_bench"
    ).replace("postgresql+psycopg://", "postgresql://", 1)
    os.environ["POTOK_BENCH_DATABASE_URL"] = base
    print("seeding ...", flush=True)
    url = fresh_database("postgresql", workdir).replace("postgresql+psycopg://", "postgresql://")
    _, key = seed(
        sa_url(url), workdir, skus=5000, hot=20, history=args.history, rng=random.Random(42)
    )
    with psycopg.connect(url, autocommit=True) as c:  # as an installation that took orders
        c.execute(
            "INSERT INTO customers (name, phone, phone_hash, created_at, updated_at) "
            "SELECT 'x', 'x', md5(g::text) || md5((g + 1)::text), now(), now() "
            "FROM generate_series(1, 20000) g"
        )
        c.execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response, "
            "created_at) SELECT 'orders.create', 'seed-' || g, md5(g::text), 201, '{}', now() "
            "FROM generate_series(1, 20000) g"
        )
        c.execute("VACUUM ANALYZE")
    print(f"recording {args.orders} orders ...", flush=True)
    pairs = _record(_copy(url, f"{url.rsplit('/', 1)[1]}_rec"), workdir, key, args.orders)
    urls = [_copy(url, f"{url.rsplit('/', 1)[1]}_{i}", sql) for i, (_, sql) in enumerate(variants)]
    print(f"replaying on {len(urls)} copies, order by order in turn ...", flush=True)
    try:
        spent = replay(pairs, urls)
    finally:
        for copy in [f"{url}_rec", *urls]:
            _admin(url, f'DROP DATABASE IF EXISTS "{copy.rsplit("/", 1)[1]}" WITH (FORCE)')
    measured = max(1, len(pairs) - WARM)
    per = [(s / measured / 1000, c / measured / 1000) for s, c in spent]
    first = per[0][0] + per[0][1]
    for (name, _), (s, c) in zip(variants, per, strict=True):
        change = 100 * (s + c - first) / first
        print(
            f"{name:12s} snapshot {s:6.0f} µs  commit {c:6.0f} µs  total {s + c:6.0f} µs  {change:+.1f} %"
        )
    print(
        f"intake_db orders={measured} variants={','.join(n for n, _ in variants)} "
        f"snapshot_us={','.join(f'{s:.0f}' for s, _ in per)} "
        f"commit_us={','.join(f'{c:.0f}' for _, c in per)} "
        f"total_us={','.join(f'{s + c:.0f}' for s, c in per)} "
        f"change_pct={','.join(f'{100 * (s + c - first) / first:.1f}' for s, c in per)}"
    )


if __name__ == "__main__":
    main()
