"""The backup file: an uncompressed POSIX tar with ``manifest.json`` first, then the payload.

The payload is ``database.sqlite.gz`` (the SQLite file, gzip-compressed) or
``database.pgdump`` (``pg_dump --format=custom``, compressed by pg_dump). The manifest
holds the payload's SHA-256, so a file that was cut short or changed is recognised before
anything is restored from it. ``tar -xOf FILE manifest.json`` shows the manifest.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from potok.backup.errors import DamagedBackup
from potok.backup.manifest import Manifest

SUFFIX = ".potok-backup"
MANIFEST_NAME = "manifest.json"
PAYLOAD_NAMES = {"sqlite": "database.sqlite.gz", "postgresql": "database.pgdump"}
NAME_PATTERN = re.compile(
    r"^potok-(?P<kind>sqlite|postgresql)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<number>\d+))?"
    + re.escape(SUFFIX)
    + "$"
)
STAMP = "%Y%m%dT%H%M%SZ"
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class BackupFile:
    """A backup in a directory, known by its name."""

    path: Path
    kind: str
    created_at: datetime
    number: int = 1  # a second backup within the same second is numbered 2, and so on


def parse_name(path: Path) -> BackupFile | None:
    """The kind and time a backup's file name carries; None for any other file."""
    match = NAME_PATTERN.match(path.name)
    if match is None:
        return None
    created_at = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
    return BackupFile(path, match["kind"], created_at, int(match["number"] or 1))


def free_path(directory: Path, kind: str, created_at: datetime) -> Path:
    """``potok-<kind>-<UTC time>.potok-backup``, numbered when that name is taken."""
    stem = f"potok-{kind}-{created_at.astimezone(UTC).strftime(STAMP)}"
    candidate = directory / f"{stem}{SUFFIX}"
    number = 2
    while candidate.exists():
        candidate = directory / f"{stem}-{number}{SUFFIX}"
        number += 1
    return candidate


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def write_archive(target: Path, manifest: Manifest, payload: Path) -> None:
    """Write the backup file whole or not at all: a ``.partial`` file renamed when complete.

    The file is readable by its owner only: it holds password hashes and (encrypted)
    personal data.
    """
    partial = target.with_name(target.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                moment = int(manifest.created_at.timestamp())
                text = manifest.to_json()
                tar.addfile(_member(MANIFEST_NAME, len(text), moment), io.BytesIO(text))
                with payload.open("rb") as data:
                    tar.addfile(_member(manifest.payload.name, manifest.payload.size, moment), data)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def _member(name: str, size: int, moment: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = moment
    info.mode = 0o600
    return info


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is done anyway
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def read_manifest(path: Path) -> Manifest:
    """The manifest of a backup file (the payload is not read)."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            return _manifest_of(tar, path)
    except (tarfile.TarError, EOFError) as error:
        raise DamagedBackup(f"{path.name} is not a readable Potok backup ({error})") from None


def extract_payload(path: Path, into: Path) -> tuple[Manifest, Path]:
    """The manifest, and the payload copied into the directory ``into`` after its size and
    SHA-256 were found to be what the manifest says."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            manifest = _manifest_of(tar, path)
            member = _payload_member(tar, manifest, path)
            source = tar.extractfile(member)
            if source is None:
                raise DamagedBackup(f"{path.name}: the database copy is not a regular file")
            target = into / manifest.payload.name
            digest, size = _copy(source, target)
    except (tarfile.TarError, EOFError) as error:
        raise DamagedBackup(f"{path.name} is not a readable Potok backup ({error})") from None
    if size != manifest.payload.size or digest != manifest.payload.sha256:
        raise DamagedBackup(
            f"{path.name}: the database copy does not match its checksum in the manifest "
            "(the file was changed or damaged after it was written)"
        )
    return manifest, target


def _manifest_of(tar: tarfile.TarFile, path: Path) -> Manifest:
    try:
        member = tar.getmember(MANIFEST_NAME)
    except KeyError:
        raise DamagedBackup(f"{path.name} is not a Potok backup (no {MANIFEST_NAME})") from None
    handle = tar.extractfile(member) if member.isfile() and member.size < 16 << 20 else None
    if handle is None:
        raise DamagedBackup(f"{path.name}: {MANIFEST_NAME} is not a small regular file")
    return Manifest.from_json(handle.read())


def _payload_member(tar: tarfile.TarFile, manifest: Manifest, path: Path) -> tarfile.TarInfo:
    expected = PAYLOAD_NAMES.get(manifest.database)
    if manifest.payload.name != expected:
        raise DamagedBackup(f"{path.name}: unexpected database copy '{manifest.payload.name}'")
    try:
        member = tar.getmember(expected)
    except KeyError:
        raise DamagedBackup(f"{path.name} holds no database copy ({expected})") from None
    if not member.isfile():
        raise DamagedBackup(f"{path.name}: the database copy is not a regular file")
    return member


def _copy(source: IO[bytes], target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while block := source.read(CHUNK):
            digest.update(block)
            out.write(block)
            size += len(block)
    return digest.hexdigest(), size
