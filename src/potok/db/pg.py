"""The psycopg connection under a SQLAlchemy connection, for the few hot statements of
intake, and the one-statement insert of many tables' rows that they use."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import orjson
import psycopg
import sqlalchemy as sa

from potok.domain.kernel import StockId

Section = tuple[sa.Table, Sequence[Mapping[str, Any]]]
"""Rows for one table, in a document insert."""

STOCK_GUARDS = frozenset({"ck_stock_committed_within_on_hand", "ck_stock_reserved_within_on_hand"})
"""The stock table's CHECKs that refuse to reserve more than is there."""


class StagedReservation:
    """Units to add to ``reserved`` in the commit's own statement (PostgreSQL intake).

    The stock rows are then locked only for the commit's round trip instead of from the
    reservation to the commit, and the order costs one round trip less. The database's
    own CHECK (``reserved + unavailable <= on_hand``) is the guard: when another order took
    the units meanwhile, the commit fails as a whole and the use case is run again on
    fresh figures (see :func:`insert_document`).
    """

    def __init__(self) -> None:
        self.quantities: dict[StockId, int] = {}
        self.at: datetime | None = None

    def add(self, quantities: Mapping[StockId, int], at: datetime) -> None:
        for stock_id, quantity in quantities.items():
            self.quantities[stock_id] = self.quantities.get(stock_id, 0) + quantity
        self.at = at

    def clear(self) -> None:
        self.quantities.clear()
        self.at = None


def driver(connection: sa.Connection) -> psycopg.Connection[tuple[object, ...]]:
    """The raw psycopg connection, inside the same transaction as ``connection``."""
    return cast(psycopg.Connection[tuple[object, ...]], connection.connection.driver_connection)


def outside_transaction(raw: psycopg.Connection[Any]) -> _Outside:
    """Statements of a unit of work that has not read or written anything yet run outside
    any transaction (each one its own, as autocommit), without the BEGIN psycopg would
    send first; ``with`` gives whether they do. Inside a transaction they simply join it.

    The unit of work's transaction then begins, as psycopg's own, with the next statement
    run after the block; a commit that finds none begun (:func:`alone`) may send its one
    statement on its own too: the statement is then the whole transaction, atomic as any.
    Intake is made of one read and one write that way: two statements, no BEGIN and no
    COMMIT, and no pipeline (whose bookkeeping cost the driver more than the statements).
    """
    return _Outside(raw)


class _Outside:
    """The block of :func:`outside_transaction` (a class: a generator-based context
    manager cost several times more, twice per order)."""

    __slots__ = ("outside", "raw")

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.outside = False

    def __enter__(self) -> bool:
        self.outside = outside = alone(self.raw)
        if outside:
            self.raw.autocommit = True  # idle: nothing is sent
        return outside

    def __exit__(self, *_: object) -> None:
        raw = self.raw
        if self.outside and raw.pgconn.transaction_status == _IDLE:
            raw.autocommit = False


def alone(raw: psycopg.Connection[Any]) -> bool:
    """Nothing has run in the connection's transaction yet (psycopg has not begun it)."""
    # the libpq connection's status, not `raw.info`'s: that makes an object and an enum
    return not raw.autocommit and raw.pgconn.transaction_status == _IDLE


def end_explicit(raw: psycopg.Connection[Any]) -> None:
    """After a transaction begun explicitly (autocommit with a BEGIN of its own) ended, or
    a block of :func:`outside_transaction` failed: the connection back to psycopg's own
    transactions, as the pool expects it."""
    if raw.autocommit and raw.pgconn.transaction_status == _IDLE:
        raw.autocommit = False


_IDLE = psycopg.pq.TransactionStatus.IDLE


def insert_document(
    raw: psycopg.Connection[Any],
    sections: Sequence[Section],
    reserving: StagedReservation | None = None,
) -> None:
    """Insert rows into several tables with one statement: the rows travel as one JSON
    document that the server unpacks (jsonb_populate_recordset), so a whole new order is
    one round trip and one execution, whatever its number of lines. ``reserving``: stock
    reserved by the same statement, its rows locked in a fixed order (warehouse, product);
    a position short of the units fails the statement with a CHECK violation on ``stock``
    (one of :data:`STOCK_GUARDS`).

    The statement goes through a raw cursor with numbered parameters: psycopg rewrites
    named ones with a regular expression on every call for a statement this long (over
    its cache's 4 KB), which cost more than the rest of the driver's work for an order."""
    present = [(table, rows) for table, rows in sections if rows]
    reserve = reserving is not None and bool(reserving.quantities)
    if not present and not reserve:
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in present)
    document = orjson.dumps([list(rows) for _, rows in present], default=_json_value)
    parameters: tuple[Any, ...] = (document.decode(),)
    if reserve:
        assert reserving is not None
        ids = sorted(reserving.quantities)
        parameters += (
            int_array(ids),
            int_array(reserving.quantities[i] for i in ids),
            reserving.at,
        )
    raw_cursor(raw).execute(_document_sql(shape, reserve), parameters)


def numbered(statement: str) -> tuple[str, tuple[str, ...]]:
    """A statement with ``%(name)s`` parameters as one for a raw cursor (``$1``, ``$2``,
    ... - one number per name, however often it is used), and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, statement), tuple(names)


def execute_raw(
    raw: psycopg.Connection[Any], statement: tuple[str, tuple[str, ...]], values: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """Run a :func:`numbered` statement on a raw cursor; its first row."""
    text, names = statement
    return raw_cursor(raw).execute(text, [values[name] for name in names]).fetchone()


_CURSOR = "_potok_raw_cursor"


def raw_cursor(raw: psycopg.Connection[Any]) -> psycopg.RawCursor[Any]:
    """The connection's own raw cursor for the hot statements, made once per connection and
    kept on it (it goes with the connection): a cursor made afresh per statement set up
    its adapters afresh too, about a third of the driver's CPU for the snapshot's eleven
    parameters. A connection serves one thread at a time, and so does its cursor; each
    execute replaces the last one's result."""
    cursor: psycopg.RawCursor[Any] | None = getattr(raw, _CURSOR, None)
    if cursor is None or cursor.closed:
        cursor = psycopg.RawCursor(raw)
        setattr(raw, _CURSOR, cursor)
    return cursor


def int_array(values: Iterable[int]) -> str:
    """An array of integers as PostgreSQL's text literal (``{1,2,3}``), for a parameter
    cast to ``bigint[]``: cheaper for the driver than adapting a list."""
    return "{" + ",".join(map(str, map(int, values))) + "}"  # no Python frame per value


def text_array(values: Iterable[str]) -> str:
    """An array of strings as PostgreSQL's text literal, every element quoted."""
    return (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} into a JSON document")


_RESERVE_PARTS = [
    "rq AS (SELECT * FROM unnest(CAST($2 AS bigint[]), CAST($3 AS "
    "integer[])) AS r(stock_id, quantity))",
    "rl AS MATERIALIZED (SELECT s.id FROM stock s JOIN rq ON rq.stock_id = s.id "
    "ORDER BY s.warehouse_id, s.product_id, s.id FOR UPDATE OF s)",
    "ru AS (UPDATE stock s SET reserved = s.reserved + rq.quantity, updated_at = $4 "
    "FROM rq JOIN rl ON rl.id = rq.stock_id WHERE s.id = rq.stock_id RETURNING s.id)",
]


@functools.cache
def _document_sql(shape: tuple[tuple[sa.Table, tuple[str, ...]], ...], reserve: bool) -> str:
    parts = ["d AS (SELECT CAST($1 AS jsonb) AS doc)"]
    if reserve:
        parts += _RESERVE_PARTS
    for index, (table, columns) in enumerate(shape):
        _checked(table, columns)
        names = ", ".join(columns)
        source = f"jsonb_populate_recordset(NULL::{table.name}, (SELECT doc->{index} FROM d))"
        parts.append(
            f"i{index} AS (INSERT INTO {table.name} ({names}) SELECT {names} FROM {source})"
        )
    return "WITH " + ", ".join(parts) + " SELECT 1"


def _checked(table: sa.Table, columns: tuple[str, ...]) -> None:
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no columns {unknown}")
