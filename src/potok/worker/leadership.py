"""One process of a fleet runs the timed jobs: the one holding the jobs' lock.

Several ``potok serve``/``potok worker`` processes on several hosts may share one
PostgreSQL database. The timed jobs are safe to run concurrently (each change locks its
order), but their schedules (carriers polled every N minutes, pickup points synced every
N hours, the batch re-plan) are kept per process: run everywhere, each would run once per
process. So each process tries, before each round, to hold a PostgreSQL session-level
advisory lock on a connection of its own; the one that holds it runs the round, the others
skip it. The lock goes with its session: when the leading process dies, is killed or
loses its connection, another process takes it over at its next try (within
``worker.interval_s``). SQLite serves one host: its process always leads.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

log = logging.getLogger("potok.worker")

JOBS_LOCK = 0x706F_746F_6B4A  # "potokJ": the key of the jobs' advisory lock


class Leadership:
    """Whether this process leads the fleet's timed jobs, held on a connection of its own
    (outside the pool, so that intake never waits for it)."""

    def __init__(self, engine: Engine, lock: int = JOBS_LOCK) -> None:
        self.lock = lock
        self._engine = (
            sa.create_engine(engine.url, poolclass=NullPool, connect_args=_options(engine))
            if engine.dialect.name == "postgresql"
            else None
        )
        self._connection: sa.Connection | None = None

    def held(self) -> bool:
        """Whether this process holds the lock now (taking it when it is free)."""
        if self._engine is None:
            return True
        if self._connection is not None:
            try:
                self._connection.exec_driver_sql("SELECT 1")
                return True
            except sa.exc.DBAPIError:
                log.warning("lost the connection that held the timed jobs' lock")
                self._forget()
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.DBAPIError:
            return False
        try:
            taken = connection.execute(
                sa.select(sa.func.pg_try_advisory_lock(self.lock))
            ).scalar_one()
        except sa.exc.DBAPIError:
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        log.info("this process now runs the timed jobs")
        self._connection = connection
        return True

    def release(self) -> None:
        """Let another process lead (closing the session releases the lock)."""
        self._forget()
        if self._engine is not None:
            self._engine.dispose()

    def _forget(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except sa.exc.DBAPIError:
                connection.invalidate()


def _options(engine: Engine) -> dict[str, object]:
    """The lock's session shows who holds it in pg_stat_activity."""
    return {"application_name": "potok-jobs-lock"}
