"""The webhook deliveries' HTTP client against real local servers: connections kept alive
and taken up again after the receiver closed them, answers read only so far, time limits,
refusals reported rather than raised further."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from potok.worker.sender import Sender, SendError
from tests.conftest import free_port


class Server:
    """A receiver whose answers the test sets: ``body`` (its length), ``delay_s`` before
    answering, ``close_idle`` (close each connection after one answer without saying so,
    as a receiver whose keep-alive timeout ran out does)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.body = b""
        self.delay_s = 0.0
        self.close_idle = False
        self.connections = 0
        self.requests: list[bytes] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server.connections += 1

            def do_POST(self) -> None:
                server.requests.append(self.rfile.read(int(self.headers["content-length"])))
                time.sleep(server.delay_s)
                self.send_response(200)
                self.send_header("content-length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)
                if server.close_idle:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a connection cut off by the client on purpose

        self.http = Quiet(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?from=potok"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.stop()


@pytest.fixture
def sender() -> Iterator[Sender]:
    made = Sender()
    yield made
    made.close()


HEADERS = {"content-type": "application/json"}


def test_deliveries_share_one_kept_alive_connection(server: Server, sender: Sender) -> None:
    for n in range(3):
        answer = sender.post(server.url, b'{"n": %d}' % n, HEADERS, timeout=5, read=100)
        assert answer.status == 200
    assert server.requests == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert server.connections == 1


def test_a_connection_the_receiver_closed_while_idle_is_replaced_and_nothing_fails(
    server: Server, sender: Sender
) -> None:
    server.close_idle = True
    for n in range(3):
        answer = sender.post(server.url, b'{"n": %d}' % n, HEADERS, timeout=5, read=100)
        assert answer.status == 200
    assert server.requests == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert server.connections == 3


def test_only_the_start_of_a_long_answer_is_read_and_its_connection_is_dropped(
    server: Server, sender: Sender
) -> None:
    server.body = b"x" * 100_000
    first = sender.post(server.url, b"{}", HEADERS, timeout=5, read=1_000)
    assert first.start == b"x" * 1_000
    # the rest was never read: the connection cannot carry another request
    second = sender.post(server.url, b"{}", HEADERS, timeout=5, read=1_000)
    assert second.status == 200
    assert server.connections == 2


def test_a_short_answer_is_read_whole_and_its_connection_kept(
    server: Server, sender: Sender
) -> None:
    server.body = b"thanks"
    first = sender.post(server.url, b"{}", HEADERS, timeout=5, read=1_000)
    sender.post(server.url, b"{}", HEADERS, timeout=5, read=1_000)
    assert first.start == b"thanks"
    assert server.connections == 1


def test_a_receiver_slower_than_the_time_limit_is_a_failure(server: Server, sender: Sender) -> None:
    server.delay_s = 2.0
    with pytest.raises(SendError, match="Timeout"):
        sender.post(server.url, b"{}", HEADERS, timeout=0.3, read=100)


def test_nobody_listening_is_a_failure(sender: Sender) -> None:
    with pytest.raises(SendError, match="ConnectError"):
        sender.post(f"http://127.0.0.1:{free_port()}/hooks", b"{}", HEADERS, timeout=2, read=100)
