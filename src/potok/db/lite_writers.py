"""SQLite's writers' queue, across threads and across processes.

SQLite lets one writer at a time into a database, and ``BEGIN IMMEDIATE`` takes that
lock at once. A writer that finds it taken does not wait in the kernel: SQLite's busy
handler sleeps and tries again (1, 2, 5, 10, 15, 20, 25 ms and on), so with several API
processes on one database file the lock often lay free while the next writer slept.
Writers therefore queue before they begin: on a lock of the process's threads, then on
an exclusive ``flock`` of a file beside the database (``<database>-writers``), which the
kernel hands to the next waiting process the moment it is released. ``BEGIN IMMEDIATE``
then finds SQLite's own lock free (a writer that does not queue here - another program,
the ``sqlite3`` shell - is still waited for by the busy handler, as before).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import threading
from pathlib import Path

log = logging.getLogger("potok.db.lite_writers")

SUFFIX = "-writers"
"""The lock file's name: the database file's with this added."""

SWITCH_S = 0.0005
"""How long a thread of an API process on SQLite may keep the GIL while another waits for
it (Python's default: 5 ms)."""


def hand_over_sooner() -> None:
    """Let a thread that waits for the GIL have it after :data:`SWITCH_S`, not 5 ms.

    The writer holding the database releases the GIL for each call into SQLite (BEGIN,
    the snapshot, the stock update, nine inserts, COMMIT) and then waits for it while the
    event loop or a thread preparing the next request runs on - up to the switch interval
    each time, with the database held. Measured under the benchmark (two processes, load
    about 12): the database held 12-15 ms per order for 4.4-4.8 ms of the writer's CPU
    with 5 ms; 8.5-8.9 ms for 3.9 ms with 0.5 ms (docs/architecture.md, note 24). With
    one process no gain was seen, so only API processes that are one of several
    (``api.workers`` above 1) do it."""
    sys.setswitchinterval(SWITCH_S)


class WritersQueue:
    """``acquire()`` / ``release()``, as a ``threading.Lock``: one writer of the database
    at a time among this process's threads and every process that queues on ``path``
    (None: the threads of this process only - an in-memory database). A lock file this
    process cannot open (a read-only directory, another user's file) leaves the queue to
    the process's threads, as before: SQLite's own lock still lets one writer in at a
    time, only less promptly."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._file: int | None = None
        self._pid = 0
        self._locked: int | None = None  # the descriptor this process holds the flock by

    def acquire(self) -> bool:
        self._threads.acquire()
        try:
            descriptor = self._descriptor()
            if descriptor is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits with the GIL released
                self._locked = descriptor
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._locked is not None:
                locked, self._locked = self._locked, None
                fcntl.flock(locked, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self) -> int | None:
        """The lock file, opened once per process (a forked child opens its own: a lock
        taken through a descriptor shared with the parent would be the parent's too),
        with the database file's permissions, as SQLite gives its ``-wal`` file."""
        if self.path is None:
            return None
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._file = None
            try:
                database = Path(str(self.path).removesuffix(SUFFIX))
                mode = database.stat().st_mode & 0o777 if database.exists() else 0o600
                self._file = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
            except OSError as error:
                log.warning(
                    "SQLite writers queue only within this process: cannot open %s (%s)",
                    self.path,
                    error,
                )
        return self._file
