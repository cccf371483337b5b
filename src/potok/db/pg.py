"""The psycopg connection under a SQLAlchemy connection, for the few hot statements of
intake, and the one-statement insert of many tables' rows that they use."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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


@contextmanager
def pipeline_beginning(raw: psycopg.Connection[Any]) -> Iterator[None]:
    """A pipeline whose statements open the transaction themselves when the connection is
    idle: BEGIN is queued in front of them and travels in their round trip (then
    :func:`end_explicit` must follow the transaction's COMMIT or ROLLBACK).

    psycopg opens a transaction itself before the first statement and, in pipeline mode,
    waits for that BEGIN's answer: a round trip of its own. Here psycopg is told to
    leave transactions to the caller (autocommit) and the BEGIN is queued in front of
    the statement instead. Every later statement of the unit of work then runs inside
    that transaction all the same: psycopg sends a BEGIN of its own only to an idle
    connection, and this one is not idle until its COMMIT or ROLLBACK.

    Autocommit is switched before the pipeline starts: switching it inside one makes
    psycopg sync the pipeline first to learn the transaction's state, a round trip of
    its own (libpq's trace showed three per order instead of two).
    """
    begin = not raw.autocommit and raw.info.transaction_status is _IDLE
    if begin:
        raw.autocommit = True  # idle and outside a pipeline: nothing is sent
    with raw.pipeline():
        if begin:
            raw.execute(b"BEGIN")
        yield


def end_explicit(raw: psycopg.Connection[Any]) -> None:
    """After the COMMIT or ROLLBACK of a transaction :func:`pipeline_beginning` opened: the
    connection back to psycopg's own transactions, as the pool expects it."""
    if raw.autocommit and raw.info.transaction_status is _IDLE:
        raw.autocommit = False


_IDLE = psycopg.pq.TransactionStatus.IDLE


def insert_document(
    cursor: psycopg.Cursor[Any],
    sections: Sequence[Section],
    reserving: StagedReservation | None = None,
) -> None:
    """Insert rows into several tables with one statement: the rows travel as one JSON
    document that the server unpacks (jsonb_populate_recordset), so a whole new order is
    one round trip and one execution, whatever its number of lines. ``reserving``: stock
    reserved by the same statement, its rows locked in a fixed order (warehouse, product);
    a position short of the units fails the statement with a CHECK violation on ``stock``
    (one of :data:`STOCK_GUARDS`)."""
    present = [(table, rows) for table, rows in sections if rows]
    reserve = reserving is not None and bool(reserving.quantities)
    if not present and not reserve:
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in present)
    document = orjson.dumps([list(rows) for _, rows in present], default=_json_value)
    parameters: dict[str, Any] = {"doc": document.decode()}
    if reserve:
        assert reserving is not None
        ids = sorted(reserving.quantities)
        parameters |= {
            "stock_ids": ids,
            "quantities": [reserving.quantities[i] for i in ids],
            "at": reserving.at,
        }
    cursor.execute(_document_sql(shape, reserve), parameters)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} into a JSON document")


_RESERVE_PARTS = [
    "rq AS (SELECT * FROM unnest(CAST(%(stock_ids)s AS bigint[]), CAST(%(quantities)s AS "
    "integer[])) AS r(stock_id, quantity))",
    "rl AS MATERIALIZED (SELECT s.id FROM stock s JOIN rq ON rq.stock_id = s.id "
    "ORDER BY s.warehouse_id, s.product_id, s.id FOR UPDATE OF s)",
    "ru AS (UPDATE stock s SET reserved = s.reserved + rq.quantity, updated_at = %(at)s "
    "FROM rq JOIN rl ON rl.id = rq.stock_id WHERE s.id = rq.stock_id RETURNING s.id)",
]


@functools.cache
def _document_sql(shape: tuple[tuple[sa.Table, tuple[str, ...]], ...], reserve: bool) -> str:
    parts = ["d AS (SELECT CAST(%(doc)s AS jsonb) AS doc)"]
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
