"""Many rows through one statement, handed to the driver as they are: for the writes of
tens of thousands of rows (a rebuild's histogram cells, the sandbox's past year), where
Core's building of every row's parameters one by one takes most of the time. The
statement is compiled once for the dialect; each value still goes through its column
type's own bind processor, so what is stored is what Core would have stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled for one dialect, with what its rows need."""

    sql: str
    names: tuple[str, ...]  # the values of a row, in this order
    order: tuple[int, ...] | None  # a positional paramstyle: where each value goes
    processors: tuple[Processor, ...]  # per value; empty: none has one


def prepare(
    dialect: sa.Dialect, statement: sa.Insert, table: sa.Table, names: Sequence[str]
) -> Prepared:
    """``statement`` (an insert into ``table``, an upsert maybe) taking rows of ``names``."""
    names = tuple(names)
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    order = None
    if compiled.positional:
        where = {name: i for i, name in enumerate(names)}
        order = tuple(where[bind] for bind in compiled.positiontup or ())
    processors = tuple(table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
    return Prepared(compiled.string, names, order, processors if any(processors) else ())


def run(connection: sa.Connection, prepared: Prepared, rows: Sequence[Sequence[Any]]) -> None:
    """Execute the prepared statement once per row (one executemany), in the given order."""
    if not rows:
        return
    if prepared.processors:
        pairs = prepared.processors
        rows = [
            tuple(v if p is None else p(v) for v, p in zip(row, pairs, strict=True)) for row in rows
        ]
    if prepared.order is None:  # a named paramstyle (psycopg): rows as mappings
        names = prepared.names
        connection.exec_driver_sql(prepared.sql, [dict(zip(names, r, strict=True)) for r in rows])
    else:
        order = prepared.order
        connection.exec_driver_sql(prepared.sql, [tuple(r[i] for i in order) for r in rows])


def insert_rows(
    connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows that all name the same columns."""
    if not rows:
        return
    names = tuple(rows[0])
    prepared = prepare(connection.dialect, table.insert(), table, names)
    run(connection, prepared, [tuple(row[n] for n in names) for row in rows])
