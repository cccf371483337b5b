"""``potok serve --workers 2`` spreads keep-alive connections evenly over its processes
(``potok/api/spread.py``): eight connections all taken by one process - the other was
stopped while they connected - end up four and four once the other runs again, every
request answered on the way (the clients reconnect after ``Connection: close``)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.integration.test_dispatcher_workers import wait_until

POTOK = str(Path(sys.executable).parent / "potok")
CLIENTS = 8


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[int, list[int]]]:
    """A server of two worker processes: its port and the workers' pids."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [POTOK, "serve", "--port", str(port), "--workers", "2", "--no-jobs", "--no-access-log"],
        env={**os.environ, "POTOK_DB__URL": database_url},
        cwd=tmp_path,
        stdout=(tmp_path / "serve.out").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: answering(port), 180, "the server")
        wait_until(lambda: len(workers(process.pid)) == 2, 60, "two worker processes")
        yield port, workers(process.pid)
    finally:
        for pid in workers(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)  # a stopped worker would not stop
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def answering(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/api/v1/health")
        return connection.getresponse().status == 200
    except OSError:
        return False


def workers(server: int) -> list[int]:
    """The uvicorn worker processes under ``server`` (not multiprocessing's tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server and b"spawn_main" in command:
            found.append(int(entry))
    return sorted(found)


def owners(pids: list[int], port: int, clients: list[http.client.HTTPConnection]) -> Counter[int]:
    """How many of ``clients`` each worker holds the server's end of (from /proc)."""
    held: dict[str, int] = {}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                held[link[len("socket:[") : -1]] = pid
    server_end: dict[int, str] = {}  # client's port -> inode of the server's socket
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == port:
            server_end[int(remote.split(":")[1], 16)] = inode
    counts: Counter[int] = Counter(dict.fromkeys(pids, 0))
    for client in clients:
        assert client.sock is not None
        pid = held.get(server_end.get(client.sock.getsockname()[1], ""))
        if pid is not None:
            counts[pid] += 1
    return counts


def ask_each(clients: list[http.client.HTTPConnection]) -> None:
    """One request on every connection; one answered with ``Connection: close`` opens
    again and is asked again (as clients do), until each is open and has been answered."""
    asking = clients
    while asking:
        for client in asking:
            try:
                answer = health(client)
            except http.client.RemoteDisconnected:
                # closed while idle (uvicorn's keep-alive timeout, 5 s, on this loaded
                # machine): asked again on a new connection, as HTTP clients do with an
                # idempotent request
                client.close()
                answer = health(client)
            assert answer.status == 200
        asking = [client for client in asking if client.sock is None]


def health(client: http.client.HTTPConnection) -> http.client.HTTPResponse:
    client.request("GET", "/api/v1/health")  # a closed connection opens again
    answer = client.getresponse()
    answer.read()
    return answer


@pytest.mark.slow  # two worker processes start: about a minute on a loaded machine
@pytest.mark.parametrize("backend", ["sqlite"])  # the database plays no part
def test_connections_taken_by_one_process_are_spread_over_both(
    server: tuple[int, list[int]],
) -> None:
    port, (first, second) = server
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(CLIENTS)]
    # stopped only while the connections are made and the first takes them all (uvicorn's
    # supervisor replaces a worker that does not answer its health check for 5 s)
    os.kill(second, signal.SIGSTOP)
    try:
        for client in clients:
            client.connect()
        wait_until(
            lambda: owners([first, second], port, clients) == {first: CLIENTS, second: 0},
            30,
            "the first process to take every connection",
        )
        os.kill(second, signal.SIGCONT)

        deadline = time.monotonic() + 60
        spread = owners([first, second], port, clients)
        while spread != {first: CLIENTS // 2, second: CLIENTS // 2}:
            assert time.monotonic() < deadline, f"still {dict(spread)}"
            ask_each(clients)
            spread = owners([first, second], port, clients)
        for _ in range(20):  # and they stay where they are
            ask_each(clients)
        assert owners([first, second], port, clients) == {first: 4, second: 4}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(second, signal.SIGCONT)
        for client in clients:
            client.close()
