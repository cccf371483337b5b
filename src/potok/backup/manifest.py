"""The manifest of a backup: what it holds, and a checksum of every table's rows.

A table's checksum is SHA-256 over its rows in primary-key order, each row rendered as
one line of canonical JSON (an object with sorted keys, no spaces) followed by a newline.
Rows are read as the database stores them, without Potok's column types, so the same
backup verifies alike with older and newer code; text keys are ordered byte-wise on
PostgreSQL (``COLLATE "C"``) so that the order does not depend on a database's locale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext

from potok.backup.errors import DamagedBackup
from potok.backup.progress import SILENT, Progress
from potok.db.tables import metadata

FORMAT = "potok-backup"
FORMAT_VERSION = 1
ROW_CHECKSUM = "sha256-json-lines-v1"
ALEMBIC_TABLE = "alembic_version"
KINDS = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class TableSum:
    """How many rows a table has, and the checksum over them."""

    rows: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Described:
    """What a manifest says of a database: schema revision, checksums, server version."""

    revision: str | None
    sums: dict[str, TableSum]
    server_version: str


@dataclass(frozen=True, slots=True)
class Payload:
    """The database copy inside the backup file, and its own checksum."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything said about a backup besides the data itself."""

    potok_version: str
    database: str
    schema_revision: str | None
    created_at: datetime
    source: str
    server_version: str
    payload: Payload
    tables: dict[str, TableSum] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> bytes:
        """The manifest as the backup file stores it (indented, for people who look)."""
        document = {
            "format": FORMAT,
            "format_version": self.format_version,
            "potok_version": self.potok_version,
            "database": self.database,
            "schema_revision": self.schema_revision,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "source": self.source,
            "server_version": self.server_version,
            "row_checksum": ROW_CHECKSUM,
            "payload": {
                "name": self.payload.name,
                "size": self.payload.size,
                "sha256": self.payload.sha256,
            },
            "tables": {
                name: {"rows": s.rows, "sha256": s.sha256} for name, s in self.tables.items()
            },
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Read a stored manifest; anything malformed is a damaged backup."""
        try:
            document = json.loads(data)
            if document.get("format") != FORMAT:
                raise DamagedBackup("the file is not a Potok backup (no Potok manifest)")
            created_at = datetime.fromisoformat(document["created_at"])
            payload = document["payload"]
            manifest = cls(
                format_version=int(document["format_version"]),
                potok_version=str(document["potok_version"]),
                database=str(document["database"]),
                schema_revision=_optional_str(document["schema_revision"]),
                created_at=created_at.astimezone(UTC),
                source=str(document.get("source", "")),
                server_version=str(document.get("server_version", "")),
                payload=Payload(str(payload["name"]), int(payload["size"]), str(payload["sha256"])),
                tables={
                    str(name): TableSum(int(t["rows"]), str(t["sha256"]))
                    for name, t in document["tables"].items()
                },
            )
        except DamagedBackup:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DamagedBackup(f"the manifest of the backup is not valid ({error})") from None
        if manifest.database not in KINDS:
            raise DamagedBackup(f"the manifest names an unknown database '{manifest.database}'")
        return manifest


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table of a backup compared with a database restored from it."""

    name: str
    expected: TableSum
    found: TableSum | None

    @property
    def rows_match(self) -> bool:
        return self.found is not None and self.found.rows == self.expected.rows

    @property
    def ok(self) -> bool:
        return self.found == self.expected

    @property
    def verdict(self) -> str:
        """``ok``, ``differs``, or ``missing`` (the table is not in the database)."""
        if self.found is None:
            return "missing"
        return "ok" if self.ok else "differs"


def compare(expected: Mapping[str, TableSum], found: Mapping[str, TableSum]) -> list[TableCheck]:
    """Every table of the manifest next to what the database holds now."""
    return [TableCheck(name, want, found.get(name)) for name, want in expected.items()]


def tables_to_sum(connection: sa.Connection) -> list[str]:
    """Potok's tables that the database has, and Alembic's revision table, by name."""
    present = set(sa.inspect(connection).get_table_names())
    wanted = {t.name for t in metadata.sorted_tables} | {ALEMBIC_TABLE}
    return sorted(wanted & present)


def schema_revision(connection: sa.Connection) -> str | None:
    """The Alembic revision, read in the caller's transaction (and so in its snapshot)."""
    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def table_sums(
    connection: sa.Connection, names: Iterable[str], progress: Progress = SILENT
) -> dict[str, TableSum]:
    """Row count and checksum of each named table that exists; missing ones are left out."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    names = list(names)
    progress.tables(len(names))
    sums: dict[str, TableSum] = {}
    for name in names:
        if name in present:
            sums[name] = _table_sum(connection, inspector, name)
            progress.table_done(name, sums[name].rows)
        else:
            progress.table_done(name, 0)
    return sums


def _table_sum(connection: sa.Connection, inspector: sa.Inspector, name: str) -> TableSum:
    reflected = {c["name"]: c["type"] for c in inspector.get_columns(name)}
    columns = sorted(reflected)
    keys = inspector.get_pk_constraint(name).get("constrained_columns") or columns
    byte_order = connection.dialect.name == "postgresql"
    order = [
        sa.column(key).collate("C")
        if byte_order and isinstance(reflected[key], sa.String)
        else sa.column(key)
        for key in keys
    ]
    selected: list[sa.ColumnClause[Any]] = [sa.column(c) for c in columns]
    statement = sa.select(*selected).select_from(sa.table(name)).order_by(*order)
    digest = hashlib.sha256()
    rows = 0
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(statement)
    for row in result:
        line = json.dumps(
            {c: _plain(v) for c, v in zip(columns, row, strict=True)},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        digest.update(line.encode())
        digest.update(b"\n")
        rows += 1
    return TableSum(rows, digest.hexdigest())


def _plain(value: Any) -> Any:
    """A stored value as JSON can carry it, the same way every time."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)
