"""Monthly partitions of the append-only tables that grow without bound, on PostgreSQL:
the order history, the audit trail, the stock ledger and the sourcing decisions. Each is
partitioned by the month of its time column, with a default partition that takes a row
whose month has no partition yet (a clock far off, a worker down for months) so that no
write ever fails for want of one. Months are made ahead (``potok db partitions create``,
and the worker each day); old months are detached and dropped per retention
(``potok db partitions drop``), a whole month at a time, without touching a row.

SQLite keeps plain tables: it is the one-process, one-file deployment.

The outbox is not partitioned: its event ids and commit positions are unique across the
whole table (the dedupe key of every receiver, the change feed's cursor), which a
partitioned table cannot enforce unless the month is part of the key; retention already
prunes what every reader has dealt with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

PARTITIONED: dict[str, str] = {
    "order_history": "occurred_at",
    "audit_log": "occurred_at",
    "stock_movements": "occurred_at",
    "sourcing_decisions": "decided_at",
}
"""Each partitioned table and the time column whose month places a row."""


@dataclass(frozen=True, slots=True)
class Partition:
    table: str
    name: str
    month: date | None  # its first day; None: the default partition
    rows: int  # as the planner's statistics estimate (-1: never analysed)


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def is_partitioned(connection: sa.Connection, table: str) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.execute(
            sa.text(
                "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c"
                " ON c.oid = p.partrelid WHERE c.relname = :t"
                " AND c.relnamespace = current_schema()::regnamespace)"
            ),
            {"t": table},
        ).scalar()
    )


def partitions(connection: sa.Connection) -> list[Partition]:
    """Every partition of the partitioned tables, oldest month first, defaults last."""
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.execute(
        sa.text(
            "SELECT parent.relname AS table, child.relname AS name,"
            " child.reltuples::bigint AS rows FROM pg_inherits i"
            " JOIN pg_class parent ON parent.oid = i.inhparent"
            " JOIN pg_class child ON child.oid = i.inhrelid"
            " WHERE parent.relname = ANY(:tables)"
            " AND parent.relnamespace = current_schema()::regnamespace"
        ),
        {"tables": list(PARTITIONED)},
    )
    found = []
    for row in rows:
        suffix = row.name[len(row.table) + 1 :]
        month = None
        if suffix != "default":
            year, month_no = suffix.split("_")
            month = date(int(year), int(month_no), 1)
        found.append(Partition(row.table, row.name, month, int(row.rows)))
    order = list(PARTITIONED)
    return sorted(found, key=lambda p: (order.index(p.table), p.month is None, p.month or date.min))


def create_month(connection: sa.Connection, table: str, month: date) -> bool:
    """Make the month's partition of ``table`` unless it exists; rows of that month that
    went to the default partition meanwhile move into it. True when made."""
    name = partition_name(table, month)
    exists = connection.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name})
    if exists.scalar():
        return False
    key = PARTITIONED[table]
    low, high = _bound(month), _bound(add_months(month, 1))
    default = default_name(table)
    column: sa.ColumnClause[datetime] = sa.column(key)
    stamp = sa.DateTime(timezone=True)
    in_month = sa.and_(
        column >= sa.cast(sa.literal(low), stamp), column < sa.cast(sa.literal(high), stamp)
    )
    waiting = connection.execute(
        sa.select(sa.exists().select_from(sa.table(default)).where(in_month))
    ).scalar()
    if waiting:
        # the default partition holds rows of this month: out with it while they move
        connection.execute(sa.text(f"ALTER TABLE {table} DETACH PARTITION {default}"))
    connection.execute(
        sa.text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{low}') TO ('{high}')")
    )
    if waiting:
        # the names are this module's constants, never input; the bounds are dates
        moved = f"SELECT * FROM {default} WHERE {key} >= '{low}' AND {key} < '{high}'"  # noqa: S608
        connection.execute(sa.text(f"INSERT INTO {table} {moved}"))
        connection.execute(sa.delete(sa.table(default)).where(in_month))
        connection.execute(sa.text(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT"))
    return True


def create_ahead(connection: sa.Connection, today: date, months_ahead: int) -> list[str]:
    """Every partitioned table's partitions from this month to ``months_ahead`` months
    on; returns the names made (none on SQLite, or where they exist)."""
    made = []
    for table in PARTITIONED:
        if not is_partitioned(connection, table):
            continue
        month = month_start(today)
        for _ in range(months_ahead + 1):
            if create_month(connection, table, month):
                made.append(partition_name(table, month))
            month = add_months(month, 1)
    return made


def drop_before(connection: sa.Connection, table: str, keep_months: int, today: date) -> list[str]:
    """Detach and drop ``table``'s months that ended more than ``keep_months`` whole months
    before this one (the current month and ``keep_months`` before it stay); returns the
    names dropped."""
    first_kept = add_months(month_start(today), -keep_months)
    dropped = []
    for partition in partitions(connection):
        if partition.table != table or partition.month is None or partition.month >= first_kept:
            continue
        connection.execute(sa.text(f"ALTER TABLE {table} DETACH PARTITION {partition.name}"))
        connection.execute(sa.text(f"DROP TABLE {partition.name}"))
        dropped.append(partition.name)
    return dropped


def partition_names(connection: sa.Connection) -> set[str]:
    """The names of every partition in the schema (which are tables, not in the code)."""
    if connection.dialect.name != "postgresql":
        return set()
    return set(
        connection.execute(
            sa.text(
                "SELECT relname FROM pg_class WHERE relispartition"
                " AND relnamespace = current_schema()::regnamespace"
            )
        ).scalars()
    )


_MAINTENANCE_LOCK = 0x706F746F6B02  # one process at a time makes or drops months


def maintain(
    engine: sa.Engine, today: date, *, ahead: int, keep: dict[str, int]
) -> tuple[list[str], list[str]]:
    """Make every table's months up to ``ahead`` months on and drop those older than its
    ``keep`` months (0 or missing: kept); one process at a time, and never waiting long
    for a lock behind the writes (it is tried again on the next run). Returns the names
    made and dropped."""
    with engine.begin() as connection:
        if connection.dialect.name != "postgresql":
            return [], []
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_MAINTENANCE_LOCK)))
        connection.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        made = create_ahead(connection, today, ahead)
        dropped = []
        for table, months in keep.items():
            if months > 0 and is_partitioned(connection, table):
                dropped += drop_before(connection, table, months, today)
    return made, dropped
