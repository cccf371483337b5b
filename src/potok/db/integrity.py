"""What the database's integrity errors mean, named from the tables that raised them.

PostgreSQL names the constraint it enforced; SQLite says only which kind failed, so the
statement that failed tells the table, and the table definitions tell who may refer to
it. Either way the caller hears which records hold the row, never a bare 500.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from potok.db.tables import metadata
from potok.domain.errors import (
    DuplicateRow,
    IntegrityConflict,
    MissingReference,
    StillReferenced,
    TextTooLong,
    ValueOutOfRange,
)

_STATEMENT = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?",
    re.IGNORECASE | re.DOTALL,
)
_SQLITE_COLUMNS = re.compile(r"constraint failed: ([\w.]+(?:, [\w.]+)*)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def words(table: str) -> str:
    """``storage_locations`` as people say it: "storage locations"."""
    return table.replace("_", " ")


def holding_tables(table: str) -> list[sa.Table]:
    """Tables whose rows keep a row of ``table`` from going (no cascade, no set-null)."""
    found = []
    for other in metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table.name == table and key.ondelete is None:
                found.append(other)
                break
    return found


def holders(connection: sa.Connection, table: str, key: Any) -> list[str]:
    """The tables that hold rows referring to the row of ``table`` whose id is ``key``."""
    held = []
    for other in holding_tables(table):
        columns = [
            k.parent
            for k in other.foreign_keys
            if k.column.table.name == table and k.ondelete is None
        ]
        condition = sa.or_(*(column == key for column in columns))
        if connection.execute(sa.select(sa.literal(1)).where(condition).limit(1)).first():
            held.append(words(other.name))
    return held


def still_held(connection: sa.Connection, table: str, key: Any) -> str | None:
    """Why the row cannot be deleted ("is referred to by routing rules"), or None.

    Repositories call this after their own, better-worded checks, so that a table added
    later that refers to the row is named too rather than failing the delete."""
    found = holders(connection, table, key)
    return f"is referred to by {', '.join(found)}" if found else None


def _foreign_key(name: str) -> sa.ForeignKey | None:
    """The foreign key whose conventional name is ``name`` (PostgreSQL cuts names at 63)."""
    for table in metadata.sorted_tables:
        for key in table.foreign_keys:
            conventional = f"fk_{table.name}_{key.parent.name}_{key.column.table.name}"
            if conventional[:63] == name[:63]:
                return key
    return None


def _statement_table(statement: str | None) -> tuple[str, str] | None:
    match = _STATEMENT.match(statement or "")
    if match is None:
        return None
    return match.group(1).split()[0].upper(), match.group(2)


def integrity_conflict(
    original: BaseException, statement: str | None, sqlstate: str | None
) -> IntegrityConflict | ValueOutOfRange | TextTooLong | None:
    """The typed conflict for an integrity error, or None when it is not one."""
    message = str(original)
    found = _statement_table(statement)
    verb, table = found if found else ("", "")
    diag = getattr(original, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if sqlstate == "22003" or isinstance(original, OverflowError) or "too large" in message:
        return ValueOutOfRange(where=table or "a number")
    if sqlstate == "22001":
        return TextTooLong(where=words(table) or "its column")
    if sqlstate == "23503" or "FOREIGN KEY constraint failed" in message:
        key = _foreign_key(constraint) if constraint else None
        parent = key.column.table.name if key is not None else None
        if verb == "DELETE" or (parent is not None and parent == table):
            target = parent or table
            named = [words(key.parent.table.name)] if key is not None else []
            listed = named or [words(t.name) for t in holding_tables(target)]
            return StillReferenced(
                entity=words(target).rstrip("s") if target else "record",
                holders=", ".join(listed) or "other records",
                table=target,
                constraint=constraint or "a foreign key",
            )
        refers_to = words(parent) if parent else "a record"
        return MissingReference(
            entity=words(table) or "record",
            refers_to=refers_to,
            table=table,
            constraint=constraint or "a foreign key",
        )
    if sqlstate == "23505" or "UNIQUE constraint failed" in message:
        columns_found = _SQLITE_COLUMNS.search(message)
        columns = (
            ", ".join(c.split(".")[-1] for c in columns_found.group(1).split(", "))
            if columns_found
            else constraint.removeprefix(f"uq_{table}_").replace("_", ", ")
        )
        return DuplicateRow(
            table=words(table) or "records",
            columns=columns or "values",
            constraint=constraint or "a unique key",
        )
    if sqlstate in ("23514", "23502") or "constraint failed" in message:
        check = _SQLITE_CHECK.search(message)
        return IntegrityConflict(
            table=words(table) or "records",
            constraint=constraint or (check.group(1) if check else message.split(":")[0]),
        )
    return None
