"""API keys changed by any process, told to every process at once (PostgreSQL).

Each API process keeps the keys it verified for a moment (``security.key_cache_seconds``),
so that a busy integration does not cost a database transaction per request. With several
API processes, a key revoked through one of them must be refused by all of them at once:
the revoking transaction sends a ``NOTIFY`` on :data:`CHANNEL` (delivered when it commits,
never if it rolls back), and every process listens on its own connection and forgets the
key. While a process is not listening (starting, or its connection lost) it trusts no key
it remembers: every request asks the database, so a notification missed then cannot keep a
revoked key alive. SQLite runs in one process and needs none of this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

log = logging.getLogger("potok.db.key_changes")

CHANNEL = "potok_api_keys"
APPLICATION = "potok-key-changes"  # the listening connection, in pg_stat_activity
CHECK_S = 1.0  # how often the listening connection is checked (and a stop noticed)


def announce(connection: sa.Connection, key_id: int) -> None:
    """Tell every process, when this transaction commits, that the key changed."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_notify(CHANNEL, str(key_id))))


class KeyChangeListener:
    """A thread with a connection of its own that listens for changed keys: ``changed``
    gets each key's id (None: any key may have changed); ``listening`` is told True once
    the process hears every change from then on, False when it may miss some (it connects
    again after ``retry_s``)."""

    def __init__(
        self,
        url: sa.URL,
        changed: Callable[[int | None], None],
        listening: Callable[[bool], None],
        *,
        retry_s: float = 1.0,
    ) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.changed = changed
        self.listening = listening
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="potok-key-changes", daemon=True)

    def start(self) -> KeyChangeListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=CHECK_S * 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.conninfo,
                    autocommit=True,
                    connect_timeout=10,
                    keepalives_idle=10,
                    application_name=APPLICATION,
                ) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening(True)
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=CHECK_S):
                            self._tell(notice.payload)
                        connection.execute("SELECT 1")  # a lost connection raises here
            except (psycopg.Error, OSError) as error:
                if not self._stop.is_set():
                    log.warning("not listening for changed API keys: %s", error)
            finally:
                self.listening(False)
            self._stop.wait(self.retry_s)

    def _tell(self, payload: str) -> None:
        try:
            self.changed(int(payload))
        except ValueError:
            self.changed(None)  # not ours to read: forget every key to be safe
