"""An API process's CPU per order on the intake path, in one thread, and where it goes.

    python benchmarks/intake_profile.py --workdir /tmp/prof --orders 3000
    python benchmarks/intake_profile.py --workdir /tmp/prof --orders 3000 --profile

The first run with a ``--workdir`` seeds a fresh database (``--url``, PostgreSQL by
default; ``sqlite`` for a file in the workdir) as ``benchmarks/intake.py`` does, and keeps
the API key and the personal-data keys in the workdir; later runs with the same workdir
reuse the database, so that two checkouts can be compared on the same data, interleaved
(A B B A): run it with ``PYTHONPATH`` pointing at each checkout's ``src`` in turn.

It builds the ASGI application in this process and drives ``POST /api/v1/orders``
directly (no socket, no HTTP parsing), with the intake route's worker-thread hand-off
replaced by a call in the same thread, so that everything an order costs the
application runs in one thread: authentication, validation, idempotency, sourcing and
its stored decision, audit, personal-data sealing, history, outbox and the commit. The
orders are those of the load benchmark (3 lines, a new customer each, an Idempotency-Key
each). It prints CPU per order (``time.process_time``), mean and median over
``--orders`` orders after ``--warmup``; the last line is

    intake_profile db=postgresql orders=3000 cpu_ms_mean=1.93 cpu_ms_median=1.85 errors=0

With ``--profile`` the measured orders are then placed again under a sampler of the
process's CPU time (``ITIMER_PROF``, every ``--interval`` ms): it prints the functions
with the largest share of the samples, inclusive and self. The sampler's own cost is
left out of the timed pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import Executor, Future
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks.intake import bench_settings, fresh_database, seed


class SameThread(Executor):
    """An executor that runs its work at once in the calling thread."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the awaiting side
            future.set_exception(error)
        return future


def bodies(count: int, skus: int, hot: int, hot_share: float, seed_: int, run: str) -> list[bytes]:
    """Orders shaped as the load benchmark's (its Lua script), as JSON bytes."""
    rng = random.Random(seed_)
    cities = [(55.75, 37.62), (59.93, 30.36), (55.80, 49.11), (56.84, 60.61), (55.01, 82.94)]
    made = []
    for n in range(count):
        lat, lon = rng.choice(cities)
        lines = [
            {
                "sku": f"SKU-{rng.randint(1, hot) if rng.random() < hot_share else rng.randint(hot + 1, skus):05d}",
                "quantity": rng.randint(1, 3),
            }
            for _ in range(3)
        ]
        made.append(
            json.dumps(
                {
                    "channel": "web",
                    "external_id": f"{run}-{n}",
                    "customer": {"name": "Bench", "phone": f"+7916{rng.randrange(10**7):07d}"},
                    "delivery": {
                        "method": "courier",
                        "address": {
                            "city": "Город",
                            "line1": "ул. Ленина, 1",
                            "latitude": round(lat + (rng.random() - 0.5) / 5, 4),
                            "longitude": round(lon + (rng.random() - 0.5) / 5, 4),
                        },
                    },
                    "lines": lines,
                },
                ensure_ascii=False,
            ).encode()
        )
    return made


class Driver:
    """Sends requests to an ASGI application in this thread's event loop."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.authorization = f"Bearer {key}".encode()

    async def post(self, body: bytes, idempotency_key: str) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/orders",
            "raw_path": b"/api/v1/orders",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", self.authorization),
                (b"idempotency-key", idempotency_key.encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status


class Sampler:
    """Samples this thread's Python stack on the process's CPU time."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.inclusive: Counter[str] = Counter()
        self.own: Counter[str] = Counter()
        self.callers: Counter[tuple[str, str]] = Counter()
        self.stacks: Counter[tuple[str, ...]] = Counter()
        self.samples = 0

    def _take(self, _signal: int, frame: FrameType | None) -> None:
        self.samples += 1
        seen: set[str] = set()
        first = True
        stack: list[str] = []
        while frame is not None:
            code = frame.f_code
            name = f"{code.co_qualname} ({_short(code.co_filename)}:{code.co_firstlineno})"
            if first:
                self.own[name] += 1
                first = False
                back = frame.f_back
                if back is not None:
                    up = back.f_code
                    where = f"{_short(up.co_filename)}:{back.f_lineno}"
                    self.callers[name, f"{up.co_qualname} ({where})"] += 1
            if name not in seen:
                seen.add(name)
                self.inclusive[name] += 1
            stack.append(name)
            frame = frame.f_back
        self.stacks[tuple(reversed(stack))] += 1

    def __enter__(self) -> Sampler:
        signal.signal(signal.SIGPROF, self._take)
        signal.setitimer(signal.ITIMER_PROF, self.interval_s, self.interval_s)
        return self

    def __exit__(self, *_: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)

    def under(self, function: str, top: int) -> None:
        """What the functions called by ``function`` (its qualified name) take, inclusive."""
        children: Counter[str] = Counter()
        total = 0
        for stack, n in self.stacks.items():
            names = [name.split(" (", 1)[0] for name in stack]
            if function not in names:
                continue
            at = names.index(function)
            total += n
            children[stack[at + 1] if at + 1 < len(stack) else "(itself)"] += n
        print(f"\n-- under {function}: {100 * total / max(1, self.samples):.1f} % --")
        for name, n in children.most_common(top):
            print(f"{100 * n / max(1, self.samples):6.1f} %  {name}")

    def report(self, top: int) -> None:
        print(f"\n{self.samples} samples")
        for title, counts in (("inclusive", self.inclusive), ("self", self.own)):
            print(f"\n-- {title} --")
            for name, n in counts.most_common(top):
                print(f"{100 * n / max(1, self.samples):6.1f} %  {name}")
        print("\n-- the largest self entries by caller --")
        for name, _ in self.own.most_common(8):
            for (callee, caller), n in self.callers.most_common():
                if callee == name and n > 1:
                    print(f"{100 * n / max(1, self.samples):6.1f} %  {name}  <-  {caller}")


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


async def place(driver: Driver, orders: list[bytes], run: str) -> tuple[list[float], int]:
    spent, errors = [], 0
    clock = time.process_time
    for n, body in enumerate(orders):
        began = clock()
        status = await driver.post(body, f"{run}-{n}")
        spent.append(clock() - began)
        if status != 201:
            errors += 1
    return spent, errors


async def run(args: argparse.Namespace, url: str, workdir: Path, key: str) -> None:
    from potok.api.app import create_app

    app = create_app(bench_settings(url, workdir))
    app.state.hot_threads = SameThread()
    async with app.router.lifespan_context(app):
        driver = Driver(app, key)
        stamp = f"{os.getpid()}-{int(time.time())}"
        warm = bodies(args.warmup, args.skus, args.hot, args.hot_share, 1, f"w{stamp}")
        await place(driver, warm, f"w{stamp}")
        measured = bodies(args.orders, args.skus, args.hot, args.hot_share, 2, f"m{stamp}")
        spent, errors = await place(driver, measured, f"m{stamp}")
        mean = 1000 * sum(spent) / len(spent)
        median = 1000 * statistics.median(spent)
        if args.profile:
            again = bodies(args.orders, args.skus, args.hot, args.hot_share, 3, f"p{stamp}")
            with Sampler(args.interval / 1000) as sampler:
                await place(driver, again, f"p{stamp}")
            sampler.report(args.top)
            for function in args.under:
                sampler.under(function, args.top)
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    print(
        f"intake_profile db={kind} orders={len(spent)} cpu_ms_mean={mean:.3f} "
        f"cpu_ms_median={median:.3f} errors={errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, required=True, help="kept between runs")
    parser.add_argument(
        "--url",
        default="postgresql://postgres@127.0.0.1:5432/potok_bench_profile",
        help="the database made by the first run ('sqlite': a file in the workdir)",
    )
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--hot", type=int, default=20)
    parser.add_argument("--hot-share", type=float, default=0.05)
    parser.add_argument("--history", type=int, default=20_000, help="past orders seeded first")
    parser.add_argument("--profile", action="store_true", help="sample a second pass")
    parser.add_argument("--interval", type=float, default=1.0, help="sampling interval, ms")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument(
        "--under", action="append", default=[], help="break this function down (repeatable)"
    )
    args = parser.parse_args()
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    state_file = workdir / "state.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
    else:
        if args.url == "sqlite":
            url = fresh_database("sqlite", workdir)
        else:
            os.environ["POTOK_BENCH_DATABASE_URL"] = args.url
            url = fresh_database("postgresql", workdir)
        print(f"seeding {url} ...", file=sys.stderr, flush=True)
        _, key = seed(
            url,
            workdir,
            skus=args.skus,
            hot=args.hot,
            history=args.history,
            rng=random.Random(42),
        )
        state = {"url": url, "key": key}
        state_file.write_text(json.dumps(state))
    asyncio.run(run(args, state["url"], workdir, state["key"]))


if __name__ == "__main__":
    main()
