"""The psycopg connection under a SQLAlchemy connection, for the few hot statements of
intake, and the one-statement insert of many tables' rows that they use."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import orjson
import psycopg
import sqlalchemy as sa

Section = tuple[sa.Table, Sequence[Mapping[str, Any]]]
"""Rows for one table, in a document insert."""


def driver(connection: sa.Connection) -> psycopg.Connection[tuple[object, ...]]:
    """The raw psycopg connection, inside the same transaction as ``connection``."""
    return cast(psycopg.Connection[tuple[object, ...]], connection.connection.driver_connection)


def insert_document(cursor: psycopg.Cursor[Any], sections: Sequence[Section]) -> None:
    """Insert rows into several tables with one statement: the rows travel as one JSON
    document that the server unpacks (jsonb_populate_recordset), so a whole new order is
    one round trip and one execution, whatever its number of lines."""
    present = [(table, rows) for table, rows in sections if rows]
    if not present:
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in present)
    document = orjson.dumps([list(rows) for _, rows in present], default=_json_value)
    cursor.execute(_document_sql(shape), {"doc": document.decode()})


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} into a JSON document")


@functools.cache
def _document_sql(shape: tuple[tuple[sa.Table, tuple[str, ...]], ...]) -> str:
    parts = ["d AS (SELECT CAST(%(doc)s AS jsonb) AS doc)"]
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
