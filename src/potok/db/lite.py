"""SQLite's counterpart of pg.py: the sqlite3 connection under a SQLAlchemy connection,
and a commit's rows written as one JSON document per table.

In process, SQLite's own work per statement is a few microseconds; SQLAlchemy's around
it (cache keys, parameter processing, result set-up) was most of an order's cost. So the
rows a unit of work staged (an order, its lines, reservations, history, decision, the
new customer, the key's answer, the audit trail and the outbox) go to SQLite the way they
go to PostgreSQL: each table's rows as one JSON array that SQLite unpacks itself
(``json_each``), every value first passed through its column's own SQLAlchemy processor,
so that what is stored is exactly what an ordinary insert would store. The stock staged
for reservation is added by one UPDATE, guarded by the table's CHECKs.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from potok.db.pg import STOCK_GUARDS, Section, StagedReservation
from potok.db.tables import stock
from potok.domain.errors import TransientConflict
from potok.domain.kernel import StockId

Convert = Callable[[Any], Any] | None


def raw(connection: sa.Connection) -> sqlite3.Connection:
    """The sqlite3 connection, inside the same transaction as ``connection``."""
    return cast(sqlite3.Connection, connection.connection.driver_connection)


def write_document(
    connection: sa.Connection,
    sections: Sequence[Section],
    reserving: StagedReservation | None = None,
) -> None:
    """The staged stock reservation, then every table's rows in one statement each (in the
    order given: a row's parents first), all inside the connection's transaction. A
    position short of the units fails with :class:`TransientConflict` (its CHECK)."""
    dialect = connection.dialect
    cursor = raw(connection).cursor()
    try:
        if reserving is not None and reserving.quantities:
            _reserve(cursor, dialect, reserving)
        for table, rows in sections:
            if not rows:
                continue
            columns = tuple(rows[0])
            statement, converters = _insert(table, columns, dialect)
            values = [
                [
                    value if convert is None else convert(value)
                    for value, convert in zip([row[c] for c in columns], converters, strict=True)
                ]
                for row in rows
            ]
            _execute(cursor, statement, (_text(values),))
    finally:
        cursor.close()


def _execute(cursor: sqlite3.Cursor, statement: str, parameters: tuple[Any, ...]) -> None:
    """Run a statement; SQLite's errors leave as SQLAlchemy's (the unit of work's
    translation names the table and the rule from them)."""
    try:
        cursor.execute(statement, parameters)
    except sqlite3.DatabaseError as error:
        raise sa.exc.DBAPIError.instance(
            statement, parameters, error, sqlite3.DatabaseError
        ) from error


def _reserve(cursor: sqlite3.Cursor, dialect: Dialect, reserving: StagedReservation) -> None:
    ids = sorted(reserving.quantities)
    at = _bind(stock.c.updated_at, dialect)
    try:
        _execute(
            cursor,
            _RESERVE,
            (
                at(reserving.at) if at is not None else reserving.at,
                _text([[i, reserving.quantities[i]] for i in ids]),
            ),
        )
    except sa.exc.IntegrityError as error:
        if not any(guard in str(error.orig) for guard in STOCK_GUARDS):
            raise
        raise TransientConflict(
            detail="another order took the stock meanwhile; retry the request"
        ) from error
    if cursor.rowcount != len(ids):
        raise TransientConflict(detail="a stock position went away; retry the request")


def set_on_hand(connection: sa.Connection, levels: Mapping[StockId, int], at: datetime) -> None:
    """Absolute on-hand quantities of many positions by one UPDATE (bulk uploads): the
    pairs travel as one JSON array, as a commit's rows do."""
    convert = _bind(stock.c.updated_at, connection.dialect)
    cursor = raw(connection).cursor()
    try:
        _execute(
            cursor,
            _SET_ON_HAND,
            (
                convert(at) if convert is not None else at,
                _text([[i, levels[i]] for i in sorted(levels)]),
            ),
        )
    finally:
        cursor.close()


_SET_ON_HAND = (
    "UPDATE stock SET on_hand = (r.value ->> 1), updated_at = ? "
    "FROM json_each(?) AS r WHERE stock.id = (r.value ->> 0)"
)

_RESERVE = (
    "UPDATE stock SET reserved = stock.reserved + (r.value ->> 1), updated_at = ? "
    "FROM json_each(?) AS r WHERE stock.id = (r.value ->> 0)"
)


def _text(values: Any) -> str:
    return orjson.dumps(values, default=_json_value).decode()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):  # a plain NUMERIC column: SQLite reads the text as a number
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} into a JSON document")


@functools.cache
def _insert(
    table: sa.Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[Convert]]:
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
    names = ", ".join(f'"{c}"' for c in columns)
    picks = ", ".join(f"value ->> {index}" for index in range(len(columns)))
    statement = f'INSERT INTO "{table.name}" ({names}) SELECT {picks} FROM json_each(?)'  # noqa: S608 - names from the table's own columns
    return statement, [_bind(table.c[c], dialect) for c in columns]


def _bind(column: sa.Column[Any], dialect: Dialect) -> Convert:
    """The column's own conversion of a Python value for SQLite (what an insert through
    SQLAlchemy applies), or None when the value goes as it is."""
    return column.type._cached_bind_processor(dialect)
