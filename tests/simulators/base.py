"""A simulated outside API: a real HTTP server in a thread that checks every request
against the vendor's published OpenAPI document, keeps the vendor's rate limit, and
answers with scripted faults (5xx, 429, slowness, a revoked token) when a test asks.

A request the document refuses is answered 400 and recorded in :attr:`invalid`; the
fixtures fail the test when it is not empty.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


@cache
def openapi(path: str) -> OpenAPI:
    """The vendor's document, read once per test session."""
    return OpenAPI.from_file_path(path)


class _SpecRequest:
    """A request as openapi-core reads it, addressed to the vendor's own host."""

    def __init__(
        self, host: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> None:
        self.host_url = host
        self.path = path
        self.full_url_pattern = host + path
        self.method = method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(query)),
            header=Headers(headers),
            cookie=ImmutableMultiDict(),
            path={},
        )
        self.body = body or None
        self.content_type = headers.get("Content-Type", "") if body else ""


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    at: float


class Bucket:
    """The vendor's limit as the vendor keeps it: ``burst`` at once, one more per interval."""

    def __init__(self, burst: int, interval_s: float) -> None:
        self.burst, self.interval_s = burst, interval_s
        self.tokens, self.at = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def allow(self, cost: int = 1) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) / self.interval_s)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= cost
            return True


class SimulatedApi:
    """The server and its bookkeeping; subclasses answer the vendor's paths in :meth:`route`."""

    spec_path: str = ""
    spec_host: str = ""
    unauthorised_status = 401  # what the vendor answers a token it does not accept

    def __init__(self, *, burst: int, interval_s: float) -> None:
        self.lock = threading.RLock()
        self.received: list[Received] = []
        self.invalid: list[str] = []
        self.rejected = 0  # requests over the vendor's rate limit
        self.faults: deque[Answer] = deque()
        self.bucket = Bucket(burst, interval_s)
        self.buckets: dict[str, Bucket] = {}  # families of methods with limits of their own
        self.revoked = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ scripting

    def fail(self, times: int, status: int = 500, body: Any = None) -> None:
        """The next ``times`` requests fail with ``status``."""
        for _ in range(times):
            self.faults.append(Answer(status, body or self.error_body(status)))

    def limit(self, times: int, retry_s: float = 1) -> None:
        """The next ``times`` requests are told to wait ``retry_s`` seconds (429)."""
        for _ in range(times):
            self.faults.append(Answer(429, self.error_body(429), self.retry_headers(retry_s)))

    def slow(self, times: int, delay_s: float) -> None:
        """The next ``times`` requests are answered only after ``delay_s`` seconds."""
        for _ in range(times):
            self.faults.append(Answer(0, delay_s=delay_s))

    def calls(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    # ------------------------------------------------------------------ vendor specifics

    def authorised(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        raise NotImplementedError

    def retry_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(seconds)}

    def cost(self, answer: Answer) -> int:
        return 1

    def family(self, path: str) -> str | None:
        """The family of methods with a limit of its own that ``path`` belongs to."""
        return None

    def route(self, method: str, path: str, query: str, body: Any) -> Answer:
        raise NotImplementedError

    def document(self, path: str) -> OpenAPI:
        """The vendor's document that describes ``path``."""
        return openapi(self.spec_path)

    # ------------------------------------------------------------------ serving

    def _validate(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> str | None:
        try:
            self.document(path).validate_request(
                _SpecRequest(self.spec_host, method, path, query, headers, raw)
            )
        except Exception as error:  # every refusal of the document, whatever its class
            return f"{method} {path}: {type(error).__name__}: {error}"
        return None

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        path, query = parts.path, parts.query
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if raw and kind.startswith("application/x-www-form-urlencoded"):  # RetailCRM's POSTs
            body = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        with self.lock:
            self.received.append(Received(method, path, query, headers, body, time.monotonic()))
        problem = self._validate(method, path, query, headers, raw)
        if problem is not None:
            with self.lock:
                self.invalid.append(problem)
            return Answer(400, self.error_body(400))
        if not self.authorised(headers) or self.revoked:
            return Answer(self.unauthorised_status, self.error_body(self.unauthorised_status))
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        if fault is not None and fault.status:
            return fault
        family = self.family(path)
        bucket = self.buckets[family] if family is not None else self.bucket
        if not bucket.allow():
            with self.lock:
                self.rejected += 1
            return Answer(429, self.error_body(429), self.retry_headers(1))
        with self.lock:
            answer = self.route(method, path, query, body)
        extra = self.cost(answer) - 1
        if extra:
            bucket.allow(extra)
        if fault is not None:
            answer.delay_s = fault.delay_s
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in separate writes: without TCP_NODELAY each answer
            # waits for the client's delayed ACK (40 ms) - the simulator's, not the vendor's
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                answer = api.answer(self.command, self.path, headers, raw)
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                raw_body = isinstance(answer.body, bytes)  # a file (PDF), sent as it is
                if isinstance(answer.body, bytes):
                    payload = answer.body
                else:
                    payload = b"" if answer.body is None else json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if payload and not raw_body:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        return Handler
