"""Large JSON values of intake's append-only tables compressed with LZ4 on PostgreSQL.

A value is compressed when its row passes PostgreSQL's 2 KB threshold: every order's
stored sourcing decision does (about 2.6 KB of JSON), and pglz, the default, cost about
50 µs of the backend's CPU per order for it (``pglz_compress`` under ``perf``; the commit
statement's CPU 1,605 µs with pglz against 1,552 µs with LZ4, orders replayed one after
another, interleaved, on copies of one database). LZ4 compresses nearly as small here (1.2 MB
against pglz's 1.0 MB for 800 decisions) at a fraction of the cost, and reads back faster.
Values stored before stay as they were compressed; both are read alike.

A partition takes the setting of its partitioned table when it is made, so the months
:mod:`potok.db.partitions` makes later have it too; the partitions existing when this is
installed are set one by one. A server built without LZ4 keeps pglz. SQLite compresses
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

COLUMNS = (
    ("sourcing_decisions", "record"),
    ("order_history", "details"),
    ("audit_log", "before"),
    ("audit_log", "after"),
    ("outbox_events", "payload"),
    ("idempotency_keys", "response"),
)
"""The JSON columns of the rows every order writes."""

_HAS_LZ4 = (
    "SELECT coalesce(bool_or(v = 'lz4'), false) FROM pg_settings, unnest(enumvals) AS v "
    "WHERE name = 'default_toast_compression'"
)
_WITH_PARTITIONS = (
    "SELECT CAST(c.oid AS regclass)::text FROM pg_class c WHERE c.oid = CAST(:t AS regclass) "
    "UNION ALL SELECT CAST(i.inhrelid AS regclass)::text FROM pg_inherits i "
    "WHERE i.inhparent = CAST(:t AS regclass)"
)


def install(connection: sa.Connection) -> None:
    _set(connection, "lz4")


def uninstall(connection: sa.Connection) -> None:
    _set(connection, "pglz")


def _set(connection: sa.Connection, method: str) -> None:
    if connection.dialect.name != "postgresql":
        return
    if not connection.execute(sa.text(_HAS_LZ4)).scalar():
        return
    for table, column in COLUMNS:
        for name in connection.execute(sa.text(_WITH_PARTITIONS), {"t": table}).scalars():
            # the names come from the catalogue and this module's constants, never input
            connection.execute(
                sa.text(f'ALTER TABLE {name} ALTER COLUMN "{column}" SET COMPRESSION {method}')
            )
