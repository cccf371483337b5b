"""The webhook deliveries' HTTP client: one POST, its status and the start of its answer,
over connections kept alive per delivery thread.

Built on the standard library's ``http.client`` rather than httpx: a profile of the worker
delivering a backlog showed httpx's layers (its pool's locks, per-request models) costing
about four times the CPU of the request itself, and a delivery is one small POST whose
answer is all but ignored. What a receiver may do is bounded as it was: redirects are
never followed (``http.client`` does not follow them), every socket operation has the
delivery's time limit, at most ``read`` bytes of an answer are read (a longer one is cut
off with its connection), header lines and counts are capped by ``http.client``, and no
proxy from the environment is used.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit


class SendError(Exception):
    """The request did not get an answer: no connection, a time-out, a broken answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    start: bytes  # the first bytes of the body, at most what was asked for


_Key = tuple[str, str, int]

# what a kept-alive connection the receiver closed while it was idle fails with (before
# any answer came): worth one more try on a new connection
_STALE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, http.client.BadStatusLine)


class _Stale(Exception):
    def __init__(self, problem: BaseException) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Sender:
    """POSTs over kept-alive connections, one set per thread (each delivery lane is a
    thread, so a connection is never shared by two requests at once)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, read: int
    ) -> Answer:
        """POST ``body`` to ``url``; the status and up to ``read`` bytes of the answer."""
        parts = urlsplit(url)
        scheme = parts.scheme
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (scheme, host, port)
        kept = self._kept().pop(key, None)
        if kept is not None:
            try:
                return self._exchange(key, kept, target, body, headers, timeout, read)
            except _Stale:
                pass  # closed by the receiver while idle: once more on a new connection
        connection = self._connect(key, timeout)
        try:
            return self._exchange(key, connection, target, body, headers, timeout, read)
        except _Stale as stale:
            raise SendError(_describe(stale.problem)) from stale.problem

    def close(self) -> None:
        """Close every connection of every thread."""
        with self._lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()

    # ------------------------------------------------------------------ the parts

    def _kept(self) -> dict[_Key, http.client.HTTPConnection]:
        kept: dict[_Key, http.client.HTTPConnection] | None = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = {}
        return kept

    def _connect(self, key: _Key, timeout: float) -> http.client.HTTPConnection:
        scheme, host, port = key
        connection: http.client.HTTPConnection
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        with self._lock:
            self._all.append(connection)
        return connection

    def _exchange(
        self,
        key: _Key,
        connection: http.client.HTTPConnection,
        target: str,
        body: bytes,
        headers: dict[str, str],
        timeout: float,
        read: int,
    ) -> Answer:
        reused = connection.sock is not None
        try:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            start = response.read(read)
            finished = response.isclosed() or not response.read(1)
        except (OSError, http.client.HTTPException) as problem:
            self._drop(connection)
            if reused and isinstance(problem, _STALE):
                raise _Stale(problem) from problem
            raise SendError(_describe(problem)) from problem
        if finished and not response.will_close:
            self._kept()[key] = connection  # read to its end: fit for the next request
        else:
            self._drop(connection)  # longer than we read, or the receiver closes it
        return Answer(response.status, start)

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            if connection in self._all:
                self._all.remove(connection)


def _describe(problem: BaseException) -> str:
    if isinstance(problem, socket.timeout | TimeoutError):
        return "Timeout: the receiver did not answer in time"
    if isinstance(problem, ConnectionRefusedError):
        return "ConnectError: connection refused"
    text = str(problem) or "no details"
    return f"{type(problem).__name__}: {text}"
