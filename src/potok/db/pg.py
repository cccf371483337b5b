"""The psycopg connection under a SQLAlchemy connection, for the few hot statements that
are sent in a pipeline (many statements, one round trip), and the SQL they use."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import orjson
import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


Section = tuple[sa.Table, Sequence[Mapping[str, Any]]]
"""Rows for one table, in a document insert."""


def driver(connection: sa.Connection) -> psycopg.Connection[tuple[object, ...]]:
    """The raw psycopg connection, inside the same transaction as ``connection``."""
    return cast(psycopg.Connection[tuple[object, ...]], connection.connection.driver_connection)


def insert_sql(table: sa.Table, row: Mapping[str, object]) -> str:
    """A plain INSERT with psycopg placeholders for exactly the keys of ``row``."""
    return _insert_sql(table, tuple(row))


def insert_many(
    cursor: psycopg.Cursor[Any], table: sa.Table, rows: Sequence[Mapping[str, object]]
) -> None:
    """Insert many rows with one statement: one array per column, unnested on the server."""
    if not rows:
        return
    columns = tuple(rows[0])
    cursor.execute(_insert_many_sql(table, columns), {c: [row[c] for row in rows] for c in columns})


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


def jsonb(value: Any) -> Jsonb:
    """A JSONB parameter encoded with orjson."""
    return Jsonb(value, dumps=_dumps)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_json_value).decode()


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


# names come from the table definitions (checked), never from input
@functools.cache
def _insert_sql(table: sa.Table, columns: tuple[str, ...]) -> str:
    _checked(table, columns)
    names = ", ".join(columns)
    values = ", ".join(f"%({c})s" for c in columns)
    return f"INSERT INTO {table.name} ({names}) VALUES ({values})"


@functools.cache
def _insert_many_sql(table: sa.Table, columns: tuple[str, ...]) -> str:
    _checked(table, columns)
    arrays = ", ".join(
        f"CAST(%({c})s AS {table.c[c].type.compile(dialect=_PG)}[])" for c in columns
    )
    return f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
