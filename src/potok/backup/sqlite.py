"""SQLite: copies through the online backup API, which gives a consistent picture of the
database while Potok keeps writing (in WAL mode readers do not stop writers)."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from potok.backup.errors import DamagedBackup, DatabaseFileMissing
from potok.backup.manifest import (
    Described,
    TableSum,
    schema_revision,
    table_sums,
    tables_to_sum,
)
from potok.backup.progress import Progress
from potok.domain.errors import Rejected, Unavailable

CHUNK = 1 << 20


def database_path(engine: Engine) -> Path:
    """The file behind a SQLite engine; in-memory databases cannot be backed up."""
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise Rejected(f"backups need a SQLite database in a file, not '{name or ':memory:'}'")
    return Path(name)


def snapshot(source: Path, copy: Path) -> None:
    """Copy the live database into ``copy`` in one step of the backup API, as one file."""
    if not source.is_file():
        raise DatabaseFileMissing(path=str(source))
    try:
        with (
            closing(sqlite3.connect(source, timeout=60)) as live,
            closing(sqlite3.connect(copy)) as target,
        ):
            live.backup(target)  # all pages in one step: one consistent read
            target.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the copy
    except sqlite3.Error as error:
        raise Unavailable(f"cannot copy {source}: {error}") from None


def compress(copy: Path, packed: Path) -> None:
    with (
        copy.open("rb") as source,
        packed.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out,
    ):
        shutil.copyfileobj(source, out, CHUNK)


def decompress(packed: Path, copy: Path) -> None:
    try:
        with gzip.open(packed, "rb") as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    except (OSError, EOFError) as error:
        raise DamagedBackup(f"the SQLite copy in the backup cannot be unpacked ({error})") from None


def describe(copy: Path, progress: Progress) -> Described:
    """The schema revision and every table's checksum of a copy nobody else uses."""
    engine = _plain_engine(copy)
    try:
        with engine.connect() as connection:
            revision = schema_revision(connection)
            sums = table_sums(connection, tables_to_sum(connection), progress)
    finally:
        engine.dispose()
    return Described(revision, sums, f"SQLite {sqlite3.sqlite_version}")


def sums_of(copy: Path, names: list[str], progress: Progress) -> dict[str, TableSum]:
    engine = _plain_engine(copy)
    try:
        with engine.connect() as connection:
            return table_sums(connection, names, progress)
    finally:
        engine.dispose()


def integrity_problems(copy: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with a copy (nothing when it is sound)."""
    try:
        with closing(sqlite3.connect(copy)) as connection:
            found = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if found == ["ok"] else found


def replace_contents(copy: Path, target: Path) -> None:
    """Make ``target`` hold exactly what ``copy`` holds, through the backup API.

    The copy is written in one step under the database's write lock, so no Potok writer
    is interleaved with it; connections other processes keep open see the new contents.
    The file is created when there is none.
    """
    try:
        with (
            closing(sqlite3.connect(copy)) as source,
            closing(sqlite3.connect(target, timeout=60)) as live,
        ):
            source.backup(live)
    except sqlite3.Error as error:
        raise Unavailable(f"cannot write {target}: {error}") from None


def _plain_engine(path: Path) -> Engine:
    return sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
