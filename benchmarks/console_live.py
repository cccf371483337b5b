"""Console live updates benchmark: many open pages listening to ``/live`` while orders are
placed through the API; how long a change takes to reach every page, and whether any page
missed one.

    python benchmarks/console_live.py --db sqlite --listeners 50 --orders 300
    python benchmarks/console_live.py --db postgresql --listeners 200 --orders 600

It makes a fresh database (as ``benchmarks/events.py`` does), starts ``potok serve
--no-jobs`` (no worker: the console's hub places events in commit order itself), opens
``--listeners`` event streams as a browser's EventSource would (reconnecting with
``Last-Event-ID`` when the server closes a stream), places ``--orders`` orders from
``--clients`` threads, and prints, for the ``order.created`` changes, the delay from the
moment the API answered the POST to the moment each page got the change, and a last
machine-readable line:

    console_live listeners=L orders=N delivered=D missed=M p50_ms=... p99_ms=... max_ms=...
        rate=... messages_per_page=... changes_per_page=... reloads=...

``messages_per_page`` counts the server-sent events a page got and ``changes_per_page`` the
changes they told: changes of one order that arrive together are told as one message
(``types`` lists what happened), so messages stay near one per order however many events
each order makes (a server without coalescing sends one per change); ``reloads`` counts the times a page fell so
far behind that it was told to read itself again whole.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.events import database, free_port, order, percentile, seed, start, wait_ready


class Page:
    """One open console page: a stream of changes, kept open as EventSource keeps it."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key
        self.seen: dict[int, float] = {}  # order number -> when its creation arrived
        self.messages = 0  # server-sent events received (one per thing changed, per batch)
        self.changes = 0  # the changes they told (several when told as one)
        self.reloads = 0  # "read the whole page again" ("*": the page fell behind)
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        last: str | None = None
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "text/event-stream"}
        with httpx.Client(base_url=self.base, timeout=httpx.Timeout(5, read=60)) as client:
            while not self.stop.is_set():
                sent = dict(headers, **({"Last-Event-ID": last} if last else {}))
                try:
                    with client.stream("GET", "/live", headers=sent) as stream:
                        self.ready.set()
                        for line in stream.iter_lines():
                            if self.stop.is_set():
                                return
                            if line.startswith("id: "):
                                last = line[4:]
                            elif line.startswith("data: "):
                                change = json.loads(line[6:])
                                self.messages += 1
                                if change["topic"] == "*":
                                    self.reloads += 1
                                # several changes of one order may arrive told as one
                                types = change.get("types") or [change["type"]]
                                self.changes += len(types)
                                if change["topic"] == "order" and "order.created" in types:
                                    self.seen.setdefault(int(change["id"]), time.monotonic())
                except httpx.HTTPError:
                    time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--drain-timeout-s", type=float, default=60.0)
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="potok-live-bench-"))
    url = database(options.db, workdir)
    port = free_port()
    env = {
        **os.environ,
        "POTOK_DB__URL": url,
        "POTOK_API__PORT": str(port),
        "POTOK_API__THREADS": "64",
        "POTOK_SECURITY__KEY_FILE": str(workdir / "keys"),
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("POTOK_SECURITY")})
    key = seed(url, env)
    base = f"http://127.0.0.1:{port}"
    server = start(["serve", "--no-jobs", "--no-access-log"], env, workdir / "server.log")
    pages: list[Page] = []
    try:
        wait_ready(base)
        pages = [Page(base, key) for _ in range(options.listeners)]
        for page in pages:
            page.thread.start()
        for page in pages:
            page.ready.wait(60)
        time.sleep(1.5)  # every stream joined the hub
        answered: dict[int, float] = {}
        lock = threading.Lock()

        def place(numbers: list[int]) -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
                for n in numbers:
                    made = api.post("/api/v1/orders", json=order(n), timeout=60)
                    if made.status_code != 201:
                        raise SystemExit(f"order refused: {made.status_code} {made.text[:200]}")
                    with lock:
                        answered[made.json()["id"]] = time.monotonic()

        numbers = list(range(options.orders))
        started = time.perf_counter()
        threads = [
            threading.Thread(target=place, args=(numbers[i :: options.clients],))
            for i in range(options.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = options.orders / (time.perf_counter() - started)
        deadline = time.monotonic() + options.drain_timeout_s
        while time.monotonic() < deadline:
            if all(set(answered) <= set(p.seen) for p in pages):
                break
            time.sleep(0.2)
        delays = [
            max(0.0, (p.seen[n] - at) * 1000)
            for p in pages
            for n, at in answered.items()
            if n in p.seen
        ]
        missed = sum(1 for p in pages for n in answered if n not in p.seen)
        p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
        print(f"database {options.db}, {options.listeners} pages listening, {rate:.1f} orders/s")
        print(f"changes delivered {len(delays)}, missed {missed}")
        print(f"delay from the API's answer to the page: p50 {p50:.0f} ms, p99 {p99:.0f} ms")
        messages = sum(p.messages for p in pages) / max(len(pages), 1)
        told = sum(p.changes for p in pages) / max(len(pages), 1)
        reloads = sum(p.reloads for p in pages)
        print(
            f"messages per page {messages:.0f} telling {told:.0f} changes of "
            f"{options.orders} orders ({messages / max(options.orders, 1):.2f} messages per "
            f"order); whole-page reloads asked {reloads}"
        )
        print(
            f"console_live listeners={options.listeners} orders={options.orders} "
            f"delivered={len(delays)} missed={missed} p50_ms={p50:.0f} p99_ms={p99:.0f} "
            f"max_ms={max(delays, default=0):.0f} rate={rate:.1f} "
            f"messages_per_page={messages:.0f} changes_per_page={told:.0f} reloads={reloads}"
        )
    finally:
        for page in pages:
            page.stop.set()
        server.terminate()
        try:
            server.wait(60)  # open streams end within 50 s
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
