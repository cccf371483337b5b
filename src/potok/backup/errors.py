"""What can go wrong with a backup, in words an operator can act on."""

from __future__ import annotations

from potok.domain.errors import NotFound, PotokError, Rejected, Unavailable


class DamagedBackup(Rejected):
    """The file is not a Potok backup, or it was cut short or changed after it was written."""

    code = "damaged-backup"
    title = "The backup file is damaged"


class UnsupportedBackup(Rejected):
    """A sound backup that this Potok cannot restore here (newer format or schema, other kind)."""

    code = "unsupported-backup"
    title = "This backup cannot be restored here"


class BackupToolMissing(Unavailable):
    """pg_dump or pg_restore is not installed where Potok looks for it."""

    code = "backup-tool-missing"
    title = "A PostgreSQL client program is missing"
    template = (
        "{tool} was not found on PATH nor under /usr/lib/postgresql/*/bin; install the "
        "PostgreSQL client programs (Debian and Ubuntu: apt-get install postgresql-client)"
    )


class BackupToolFailed(PotokError):
    """pg_dump or pg_restore ran and failed; ``detail`` carries the end of what it said."""

    code = "backup-tool-failed"
    title = "A PostgreSQL client program failed"


class ScratchUnavailable(Unavailable):
    """The scratch database that a verification restores into could not be created."""

    code = "scratch-database-unavailable"
    title = "No scratch database for the verification"


class DatabaseFileMissing(NotFound):
    """The configured SQLite file does not exist, so there is nothing to back up."""

    code = "database-file-missing"
    title = "There is no database file"
    template = "there is no SQLite database at {path}"


class RestoreFailed(PotokError):
    """The database refused a step of the restore (rights, locks held by other sessions)."""

    code = "restore-failed"
    title = "The restore could not be carried out"
