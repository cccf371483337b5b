"""A real HTTP receiver of webhooks for the tests: it records every delivery, can answer
with failures on purpose, can be slow, and can go down and come back on the same port."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """Answers 204 to every POST unless told otherwise; ``fail_next`` requests, and those
    about ``refused_subjects``, get ``fail_status``; ``delay_s`` slows every answer;
    ``stop``/``start`` take it down."""

    port: int = field(default_factory=free_port)
    fail_next: int = 0
    fail_status: int = 503
    delay_s: float = 0.0
    refused_subjects: set[str] = field(default_factory=set)  # CloudEvents subjects failed
    received: list[Received] = field(default_factory=list)  # answered 2xx
    refused: list[Received] = field(default_factory=list)  # answered with a failure
    in_flight: dict[str, int] = field(default_factory=dict)  # path + webhook-id -> requests now
    overlaps: list[str] = field(default_factory=list)  # path + id delivered twice at once
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, 0)
                message_id = f"{self.path} {got.headers.get('webhook-id', '')}"
                with receiver._lock:
                    receiver.in_flight[message_id] = receiver.in_flight.get(message_id, 0) + 1
                    if receiver.in_flight[message_id] > 1:
                        receiver.overlaps.append(message_id)
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                    elif receiver.refused_subjects:
                        failing = json.loads(body).get("subject") in receiver.refused_subjects
                try:
                    if receiver.delay_s:
                        time.sleep(receiver.delay_s)
                    got.at = time.monotonic()
                    status = receiver.fail_status if failing else 204
                    with receiver._lock:
                        (receiver.refused if failing else receiver.received).append(got)
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                finally:
                    with receiver._lock:
                        receiver.in_flight[message_id] -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[str]:
        with self._lock:
            return [r.headers["webhook-id"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"received {len(self.received)} of {count} deliveries in {timeout}s")
