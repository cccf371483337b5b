"""PostgreSQL: ``pg_dump --format=custom`` from a snapshot that Potok's own transaction
exports and reads too, so the data and the manifest's checksums show the same moment."""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from potok.backup.errors import (
    BackupToolFailed,
    BackupToolMissing,
    RestoreFailed,
    ScratchUnavailable,
)
from potok.backup.manifest import (
    Described,
    TableSum,
    schema_revision,
    table_sums,
    tables_to_sum,
)
from potok.backup.progress import Progress

LOCK_TIMEOUT = "30s"


def find_tool(
    name: str, *, path: str | None = None, roots: Sequence[str] = ("/usr/lib/postgresql",)
) -> str:
    """``pg_dump`` or ``pg_restore``: from PATH (or ``path``), else the newest
    ``<root>/<version>/bin`` of the PostgreSQL packages of Debian and Ubuntu."""
    found = shutil.which(name, path=path)
    if found:
        return found
    candidates = [hit for root in roots for hit in glob.glob(f"{glob.escape(root)}/*/bin/{name}")]
    candidates = [c for c in candidates if os.access(c, os.X_OK)]
    if not candidates:
        raise BackupToolMissing(tool=name)
    return max(candidates, key=_version_of)


def _version_of(path: str) -> tuple[int, ...]:
    match = re.search(r"/([\d.]+)/bin/[^/]+$", path)
    return tuple(int(p) for p in match[1].split(".") if p) if match else (0,)


def libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A connection URI for the PostgreSQL programs, and their environment: the password
    travels in PGPASSWORD, never on a command line that ``ps`` shows."""
    environment = dict(os.environ)
    environment["PGAPPNAME"] = "potok-backup"
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, environment


def dump(engine: Engine, target: Path, progress: Progress) -> Described:
    """Dump the database into ``target``; describe the same snapshot for the manifest."""
    pg_dump = find_tool("pg_dump")
    dsn, environment = libpq(engine.url)
    reader = engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    with reader, reader.begin(), tempfile.TemporaryFile("w+") as complaints:
        snapshot = reader.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        progress.stage("dumping with pg_dump; computing checksums")
        process = subprocess.Popen(  # noqa: S603 - a fixed program with arguments, no shell
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                "--lock-wait-timeout=60s",
                f"--file={target}",
                f"--dbname={dsn}",
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=complaints,
        )
        try:
            version = str(reader.execute(sa.text("SHOW server_version")).scalar_one())
            revision = schema_revision(reader)
            sums = table_sums(reader, tables_to_sum(reader), progress)
            progress.stage("waiting for pg_dump")
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        if code != 0:
            complaints.seek(0)
            raise BackupToolFailed(_failure("pg_dump", code, complaints.read()))
    return Described(revision, sums, f"PostgreSQL {version}")


def check_dump(dump_file: Path) -> None:
    """Let pg_restore read the dump's table of contents, before anything is dropped."""
    _run([find_tool("pg_restore"), "--list", str(dump_file)], dict(os.environ), "pg_restore")


def restore_into(url: sa.URL, dump_file: Path) -> None:
    """Load a dump into an empty schema, in one transaction, stopping at the first error.

    Objects are owned by the user who restores; grants are not restored (roles differ
    between servers). The audit trail's triggers come back with the tables, after the data.
    """
    dsn, environment = libpq(url)
    _run(
        [
            find_tool("pg_restore"),
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-acl",
            "--no-password",
            f"--dbname={dsn}",
            str(dump_file),
        ],
        environment,
        "pg_restore",
    )


def empty_schema(engine: Engine) -> None:
    """Drop the public schema with everything in it, and create it again, empty."""
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.DBAPIError as error:
        raise RestoreFailed(
            f"cannot drop and create the schema public ({_first_line(error)}); nothing was "
            "changed. Stop the Potok processes that use the database, and restore as the "
            "user that owns it"
        ) from None


def analyze(engine: Engine) -> None:
    """Fresh planner statistics: pg_restore leaves the restored tables without any."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))


def other_sessions(engine: Engine) -> int:
    """Connections to the same database besides this one (Potok processes, consoles)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            ).scalar_one()
        )


def sums_of(engine: Engine, names: Sequence[str], progress: Progress) -> dict[str, TableSum]:
    """Checksums of the named tables, all read in one snapshot."""
    reader = engine.connect().execution_options(
        isolation_level="REPEATABLE READ", postgresql_readonly=True
    )
    with reader, reader.begin():
        return table_sums(reader, names, progress)


SCRATCH_PREFIX = "potok_verify_"


@contextmanager
def scratch_database(server: Engine) -> Iterator[Engine]:
    """A new empty database on the server of ``server``, dropped again on leaving.

    Its name carries the creating process's id, so that an operator (or a test) sharing the
    server with other processes can tell which one left a scratch database behind.
    """
    name = f"{SCRATCH_PREFIX}{os.getpid()}_{secrets.token_hex(6)}"
    admin = server.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                sa.text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
            )
    except sa.exc.DBAPIError as error:
        raise ScratchUnavailable(
            f"cannot create a scratch database on {_server_of(server)} ({_first_line(error)}); "
            "the user needs the CREATEDB privilege"
        ) from None
    scratch = sa.create_engine(
        server.url.set(database=name),
        poolclass=NullPool,
        connect_args={"application_name": "potok-backup", "options": "-c timezone=UTC"},
    )
    try:
        yield scratch
    finally:
        scratch.dispose()
        with admin.connect() as connection:
            force = " WITH (FORCE)" if _version(connection) >= (13,) else ""
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"{force}'))


def _version(connection: sa.Connection) -> tuple[int, ...]:
    info = connection.dialect.server_version_info
    return tuple(int(p) for p in info) if info else (0,)


def _first_line(error: sa.exc.DBAPIError) -> str:
    text = str(error.orig if error.orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _server_of(engine: Engine) -> str:
    return engine.url.set(database=None).render_as_string(hide_password=True)


def _run(argv: list[str], environment: dict[str, str], program: str) -> None:
    finished = subprocess.run(  # noqa: S603 - a fixed program with arguments, no shell
        argv,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise BackupToolFailed(_failure(program, finished.returncode, finished.stderr))


def _failure(program: str, code: int, stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    said = "; ".join(lines[-5:]) or "no message"
    return f"{program} failed (exit {code}): {said}"
