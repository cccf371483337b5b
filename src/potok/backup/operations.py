"""The three things an operator does with backups: create one, verify one, restore one."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from potok import __version__
from potok.backup import archive, postgres, sqlite
from potok.backup.errors import DamagedBackup, UnsupportedBackup
from potok.backup.manifest import (
    FORMAT_VERSION,
    Described,
    Manifest,
    Payload,
    TableCheck,
    TableSum,
    compare,
    table_sums,
    tables_to_sum,
)
from potok.backup.progress import SILENT, Progress
from potok.db import migrate
from potok.db.engine import WRITE_OPTION
from potok.domain.errors import Rejected
from potok.domain.kernel import utc_now


@dataclass(frozen=True, slots=True)
class CreatedBackup:
    """A backup file that was written, and what its manifest says."""

    path: Path
    manifest: Manifest
    size: int


@dataclass(frozen=True, slots=True)
class Verification:
    """A backup restored somewhere and compared, table by table, with its manifest."""

    manifest: Manifest
    checks: list[TableCheck]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(check.ok for check in self.checks)

    @property
    def differing(self) -> list[TableCheck]:
        return [check for check in self.checks if not check.ok]


@dataclass(frozen=True, slots=True)
class Restored(Verification):
    """A restore, checked against the manifest; the schema may need ``potok db upgrade``."""

    head_revision: str | None = None
    other_sessions: int = 0

    @property
    def needs_upgrade(self) -> bool:
        return self.manifest.schema_revision != self.head_revision


def create_backup(
    engine: Engine,
    directory: Path,
    *,
    progress: Progress = SILENT,
    clock: Callable[[], datetime] = utc_now,
) -> CreatedBackup:
    """Write one backup file of the database into ``directory`` (created if missing)."""
    kind = _kind(engine)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        workspace = tempfile.TemporaryDirectory(prefix=".potok-backup-", dir=directory)
    except OSError as error:
        raise Rejected(f"cannot write into {directory}: {error.strerror or error}") from None
    created_at = clock()
    with workspace as work:
        scratch = Path(work)
        payload = scratch / archive.PAYLOAD_NAMES[kind]
        if kind == "sqlite":
            progress.stage("copying the SQLite database")
            copy = scratch / "copy.db"
            sqlite.snapshot(sqlite.database_path(engine), copy)
            described = sqlite.describe(copy, progress)
            progress.stage("compressing")
            sqlite.compress(copy, payload)
            copy.unlink()
        else:
            progress.stage("exporting a snapshot")
            described = postgres.dump(engine, payload, progress)
        manifest = _manifest(engine, kind, created_at, described, payload)
        target = archive.free_path(directory, kind, created_at)
        progress.stage("writing the backup file")
        archive.write_archive(target, manifest, payload)
    return CreatedBackup(target, manifest, target.stat().st_size)


def _manifest(
    engine: Engine, kind: str, created_at: datetime, described: Described, payload: Path
) -> Manifest:
    return Manifest(
        potok_version=__version__,
        database=kind,
        schema_revision=described.revision,
        created_at=created_at,
        source=engine.url.set(drivername=kind).render_as_string(hide_password=True),
        server_version=described.server_version,
        payload=Payload(payload.name, payload.stat().st_size, archive.file_sha256(payload)),
        tables=described.sums,
    )


def read_manifest(path: Path) -> Manifest:
    """What a backup file says about itself (its data is not checked)."""
    return archive.read_manifest(path)


def verify_backup(
    path: Path, *, server: Engine | None = None, progress: Progress = SILENT
) -> Verification:
    """Restore the backup into a scratch database and compare every table with the manifest.

    A SQLite backup is restored into a temporary file; a PostgreSQL backup into a
    temporary database on ``server``'s PostgreSQL (created and dropped here).
    """
    manifest = _readable(archive.read_manifest(path))
    if manifest.database == "postgresql" and (server is None or _kind(server) != "postgresql"):
        raise UnsupportedBackup(
            "verifying a PostgreSQL backup needs a PostgreSQL server to restore it into: "
            "give one with --db postgresql://user@host/database (or POTOK_DB__URL)"
        )
    names = list(manifest.tables)
    with tempfile.TemporaryDirectory(prefix="potok-verify-") as work:
        progress.stage("checking the file")
        manifest, payload = archive.extract_payload(path, Path(work))
        if manifest.database == "sqlite":
            copy = Path(work) / "scratch.db"
            progress.stage("unpacking the SQLite copy")
            sqlite.decompress(payload, copy)
            problems = sqlite.integrity_problems(copy)
            found = sqlite.sums_of(copy, names, progress) if not problems else {}
        else:
            assert server is not None
            with postgres.scratch_database(server) as scratch:
                progress.stage("restoring into a scratch database")
                postgres.restore_into(scratch.url, payload)
                found = postgres.sums_of(scratch, names, progress)
            problems = []
    return Verification(manifest, compare(manifest.tables, found), problems)


def restore_backup(path: Path, engine: Engine, *, progress: Progress = SILENT) -> Restored:
    """Replace the database's contents with the backup's, then check them against the manifest.

    Refused when the backup is of the other database kind or of a schema newer than this
    code knows; nothing is changed before the file has been found intact.
    """
    manifest = _readable(archive.read_manifest(path))
    kind = _kind(engine)
    if manifest.database != kind:
        raise UnsupportedBackup(
            f"this is a backup of a {manifest.database} database; it can be restored into "
            f"{manifest.database} only, and the configured database is {kind}"
        )
    head = _check_revision(engine, manifest)
    target_dir = None
    if kind == "sqlite":  # unpack beside the database: where there is room for it
        target_dir = sqlite.database_path(engine).resolve().parent
        target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".potok-restore-", dir=target_dir) as work:
        progress.stage("checking the file")
        manifest, payload = archive.extract_payload(path, Path(work))
        if kind == "sqlite":
            _restore_sqlite(engine, manifest, payload, Path(work), progress)
            sessions = 0
        else:
            sessions = _restore_postgres(engine, payload, progress)
    progress.stage("comparing with the manifest")
    found = database_sums(engine, list(manifest.tables), progress)
    return Restored(
        manifest,
        compare(manifest.tables, found),
        head_revision=head,
        other_sessions=sessions,
    )


def _restore_sqlite(
    engine: Engine, manifest: Manifest, payload: Path, work: Path, progress: Progress
) -> None:
    copy = work / "restore.db"
    progress.stage("unpacking the SQLite copy")
    sqlite.decompress(payload, copy)
    problems = sqlite.integrity_problems(copy)
    if problems or any(
        not check.ok
        for check in compare(manifest.tables, sqlite.sums_of(copy, list(manifest.tables), SILENT))
    ):
        raise DamagedBackup("the SQLite copy in the backup does not match its manifest")
    progress.stage("replacing the database's contents")
    sqlite.replace_contents(copy, sqlite.database_path(engine))


def _restore_postgres(engine: Engine, payload: Path, progress: Progress) -> int:
    progress.stage("checking the dump")
    postgres.check_dump(payload)
    sessions = postgres.other_sessions(engine)
    progress.stage("dropping and creating the public schema")
    postgres.empty_schema(engine)
    progress.stage("restoring with pg_restore")
    postgres.restore_into(engine.url, payload)
    progress.stage("analysing the restored tables")
    postgres.analyze(engine)
    return sessions


def database_sums(
    engine: Engine, names: list[str] | None = None, progress: Progress = SILENT
) -> dict[str, TableSum]:
    """Checksums of a live database's tables (all that a backup would hold by default)."""
    if _kind(engine) == "postgresql":
        if names is None:
            with engine.connect() as connection:
                names = tables_to_sum(connection)
        return postgres.sums_of(engine, names, progress)
    with engine.connect().execution_options(**{WRITE_OPTION: False}) as connection:
        return table_sums(connection, names or tables_to_sum(connection), progress)


def _readable(manifest: Manifest) -> Manifest:
    if manifest.format_version > FORMAT_VERSION:
        raise UnsupportedBackup(
            f"the backup has format {manifest.format_version}, written by Potok "
            f"{manifest.potok_version}; this Potok ({__version__}) reads format "
            f"{FORMAT_VERSION} and older"
        )
    return manifest


def _check_revision(engine: Engine, manifest: Manifest) -> str | None:
    """The newest revision this code knows; refuses a backup of a schema it does not know."""
    script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    head: str | None = script.get_current_head()
    known = {revision.revision for revision in script.walk_revisions()}
    if manifest.schema_revision is not None and manifest.schema_revision not in known:
        raise UnsupportedBackup(
            f"the backup's schema ({manifest.schema_revision}) is newer than this Potok "
            f"{__version__} knows (newest: {head}); restore it with Potok "
            f"{manifest.potok_version} or later"
        )
    return head


def _kind(engine: Engine | sa.Connection) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise UnsupportedBackup(f"backups of {name} databases are not supported")
    return name
