"""Keep-alive connections spread evenly over the API's worker processes.

``potok serve --workers N`` runs N uvicorn processes that accept from one listening
socket: whichever process wakes first takes every connection waiting, and a keep-alive
connection then stays with it for good. Thirty-two clients connecting at once were split
20/12 (or worse) between two processes, and each process answers its own connections at
about the same rate, so a process's latency grows with its share of the connections: in
one benchmark run the process with 20 answered in 150 ms at the median and 338 ms at the
99th percentile, the one with 12 in 71 and 214 ms (docs/architecture.md, intake note 27).

Each process publishes how many connections it has open in a small table shared by the
processes (a file mapped into memory, one slot per process: its pid, its open
connections, and a heartbeat its event loop writes every half second). A process with at
least two connections more than the least crowded live process answers the next request
on a keep-alive connection with ``Connection: close`` - one connection at a time, the
next only when that one has gone - and uvicorn closes the connection after the answer.
The client connects again (clients do so after ``Connection: close``), and the connection
goes to whichever process accepts it; a crowded process keeps shedding until the counts
are within one. A process whose heartbeat is older than two seconds (stopped, stuck, or
gone) is left out of the comparison, so nothing is shed towards it.

Only ``potok serve`` with several workers turns this on (it names the table in
``POTOK_API_SPREAD_TABLE``); one process, or a server started otherwise, is unchanged.
"""

from __future__ import annotations

import asyncio
import fcntl
import mmap
import os
import struct
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ENVIRONMENT = "POTOK_API_SPREAD_TABLE"
PROTOCOL = "potok.api.spread:SpreadHttp"
SLOT = struct.Struct("=qqd")  # pid, open connections, heartbeat (time.time())
BEAT_S = 0.5
STALE_S = 2.0


def make_table(path: str, slots: int) -> None:
    """Create the shared table for ``slots`` processes (``potok serve``, before the workers)."""
    with open(path, "wb") as table:
        table.write(bytes(SLOT.size * slots))


class Table:
    """This process's view of the shared table, and its own slot in it."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "r+b")  # noqa: SIM115 - open for the process's life
        self._map = mmap.mmap(self._file.fileno(), 0)
        self.slots = len(self._map) // SLOT.size
        self._all = struct.Struct("=" + "qqd" * self.slots)
        self.mine = self._claim()
        self.connections = 0
        self.leaving = 0  # connections told to close that have not gone yet

    def _claim(self) -> int:
        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            for slot in range(self.slots):
                pid = SLOT.unpack_from(self._map, slot * SLOT.size)[0]
                if pid == 0 or pid == os.getpid() or not _alive(pid):
                    SLOT.pack_into(self._map, slot * SLOT.size, os.getpid(), 0, time.time())
                    return slot
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        raise RuntimeError("the connection table has no free slot")

    def publish(self) -> None:
        SLOT.pack_into(self._map, self.mine * SLOT.size, os.getpid(), self.connections, time.time())

    def crowded(self) -> bool:
        """Whether this process has two connections (not already leaving) more than the
        least crowded live process."""
        staying = self.connections - self.leaving
        if staying < 2:
            return False
        values = self._all.unpack_from(self._map)
        fresh = time.time() - STALE_S
        least = None
        for slot in range(self.slots):
            pid, connections, beat = values[3 * slot : 3 * slot + 3]
            if slot != self.mine and pid and beat >= fresh:
                least = connections if least is None else min(least, connections)
        return least is not None and staying >= least + 2

    def release(self) -> None:
        SLOT.pack_into(self._map, self.mine * SLOT.size, 0, 0, 0.0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_table: Table | None = None


def start(loop: asyncio.AbstractEventLoop) -> None:
    """Join the table named by the environment and keep this process's heartbeat (the
    application's start, in each worker process)."""
    global _table
    path = os.environ.get(ENVIRONMENT)
    if not path or _table is not None:
        return
    _table = Table(path)

    def beat() -> None:
        if _table is not None:
            _table.publish()
            loop.call_later(BEAT_S, beat)

    beat()


def stop() -> None:
    """Leave the table (the application's shutdown)."""
    global _table
    if _table is not None:
        _table.release()
        _table = None


class SpreadHttp(HttpToolsProtocol):
    """uvicorn's HTTP protocol, counting this process's connections in the shared table
    and closing one after its answer while the process is crowded."""

    _leaving = False
    _counted = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if _table is not None:
            self._counted = True
            _table.connections += 1
            _table.publish()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._forget()  # another protocol takes the connection over
        super().handle_websocket_upgrade()

    def on_headers_complete(self) -> None:
        before = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        table = _table
        if (
            table is not None
            and self._counted
            and not self._leaving
            and cycle is not before
            and cycle.keep_alive
            and table.crowded()
        ):
            cycle.keep_alive = False  # uvicorn answers with Connection: close and closes
            self._leaving = True
            table.leaving += 1

    def _forget(self) -> None:
        table = _table
        if table is not None and self._counted:
            self._counted = False
            table.connections -= 1
            if self._leaving:
                table.leaving -= 1
            table.publish()
