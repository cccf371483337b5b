"""Backups of Potok's database: one file with the data and a manifest of checksums.

``create_backup`` writes it (SQLite through the online backup API, PostgreSQL through
``pg_dump`` from an exported snapshot), ``verify_backup`` restores it into a scratch
database and compares every table with the manifest, ``restore_backup`` replaces the
configured database's contents with it, and ``prune_backups`` keeps daily and weekly copies.
"""

from potok.backup.archive import BackupFile, parse_name
from potok.backup.errors import (
    BackupToolFailed,
    BackupToolMissing,
    DamagedBackup,
    DatabaseFileMissing,
    RestoreFailed,
    ScratchUnavailable,
    UnsupportedBackup,
)
from potok.backup.manifest import Manifest, Payload, TableCheck, TableSum
from potok.backup.operations import (
    CreatedBackup,
    Restored,
    Verification,
    create_backup,
    database_sums,
    read_manifest,
    restore_backup,
    verify_backup,
)
from potok.backup.progress import Progress
from potok.backup.retention import Pruning, prune_backups

__all__ = [
    "BackupFile",
    "BackupToolFailed",
    "BackupToolMissing",
    "CreatedBackup",
    "DamagedBackup",
    "DatabaseFileMissing",
    "Manifest",
    "Payload",
    "Progress",
    "Pruning",
    "RestoreFailed",
    "Restored",
    "ScratchUnavailable",
    "TableCheck",
    "TableSum",
    "UnsupportedBackup",
    "Verification",
    "create_backup",
    "database_sums",
    "parse_name",
    "prune_backups",
    "read_manifest",
    "restore_backup",
    "verify_backup",
]
