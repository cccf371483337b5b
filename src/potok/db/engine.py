"""Engines for SQLite (the embedded default) and PostgreSQL, set up to behave alike.

SQLite: WAL journal, foreign keys on, and every write transaction opened with
``BEGIN IMMEDIATE`` so that writers are serialised from their first statement (a
reservation reads and writes under one lock; no lost updates, no oversell). Within a
process writers also queue on a lock, so they wait without SQLite's busy polling.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from potok.db.lite_writers import SUFFIX as WRITERS_SUFFIX
from potok.db.lite_writers import WritersQueue
from potok.settings import DatabaseSettings

WRITE_OPTION = "potok_write"
_write_locks: dict[int, WritersQueue] = {}
_locks_guard = threading.Lock()


def create_engine(settings: DatabaseSettings) -> Engine:
    """An engine for the configured URL, with each backend's connection set-up."""
    if settings.url.startswith("sqlite"):
        return _sqlite_engine(settings)
    return sa.create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_recycle=3600,
        echo=settings.echo,
        connect_args={
            "application_name": "potok",
            # UTC sessions; and plans of prepared statements kept, not re-made per call
            "options": "-c timezone=UTC -c plan_cache_mode=force_generic_plan",
        },
    )


def _sqlite_engine(settings: DatabaseSettings) -> Engine:
    engine = sa.create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        echo=settings.echo,
        connect_args={"check_same_thread": False, "timeout": 60},
        json_serializer=json_text,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by pysqlite
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=60000",
        ):
            cursor.execute(pragma)
        cursor.close()
        # SQLite's own lower() (and so ILIKE) folds only ASCII letters: use Python's
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def json_text(value: Any) -> str:
    """JSON columns' text on SQLite: orjson's (several times faster than the standard
    library's, which an order's history, decision, outbox and audit rows all went
    through), with the standard library's answer where orjson refuses a value (an integer
    wider than 64 bits); keys that are not strings become strings, as they did."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def is_sqlite(engine: Engine | sa.Connection) -> bool:
    return engine.dialect.name == "sqlite"


def write_lock(engine: Engine) -> WritersQueue | None:
    """The queue of SQLite's writers, across this process's threads and every process on
    the same database file (``db/lite_writers.py``); PostgreSQL needs none."""
    if not is_sqlite(engine):
        return None
    with _locks_guard:
        queue = _write_locks.get(id(engine))
        if queue is None:
            queue = _write_locks[id(engine)] = WritersQueue(_writers_file(engine))
        return queue


def _writers_file(engine: Engine) -> Path | None:
    """``<database>-writers`` beside a SQLite file; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if engine.url.query.get("uri") or engine.url.query.get("mode") == "memory":
        return None
    return Path(f"{database}{WRITERS_SUFFIX}")
