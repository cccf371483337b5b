"""Backup files without a database: names, retention, and finding the PostgreSQL programs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from potok.backup import BackupToolMissing, parse_name, prune_backups
from potok.backup.archive import free_path
from potok.backup.postgres import find_tool
from potok.backup.retention import plan_pruning
from potok.cli.common import exit_code_for

NEWEST = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # a Wednesday


def nightly(directory: Path, nights: int, kind: str = "postgresql") -> list[Path]:
    """One backup a night for ``nights`` nights, newest first."""
    made = []
    for night in range(nights):
        path = free_path(directory, kind, NEWEST - timedelta(days=night))
        path.write_bytes(b"")
        made.append(path)
    return made


def test_a_backup_name_carries_its_kind_and_utc_time(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 25, 5, 15, 9, tzinfo=UTC)
    path = free_path(tmp_path, "sqlite", moment)

    assert path.name == "potok-sqlite-20261125T051509Z.potok-backup"
    found = parse_name(path)
    assert found is not None
    assert (found.kind, found.created_at, found.number) == ("sqlite", moment, 1)
    path.write_bytes(b"")
    second = parse_name(free_path(tmp_path, "sqlite", moment))
    assert second is not None
    assert second.number == 2
    assert parse_name(tmp_path / "potok-sqlite-20261125T051509Z.potok-backup.partial") is None
    assert parse_name(tmp_path / "notes.txt") is None


def test_pruning_keeps_fourteen_nights_and_eight_weeks(tmp_path: Path) -> None:
    made = nightly(tmp_path, 120)
    (tmp_path / "notes.txt").write_text("not a backup")

    result = prune_backups(tmp_path, daily=14, weekly=8)

    kept = {item.path for item in result.kept}
    assert set(made[:14]) <= kept  # the last fourteen nights
    weeks = {item.created_at.isocalendar()[:2] for item in result.kept}
    assert len(weeks) == 8  # and one a week further back, eight weeks in all
    assert len(kept) == 14 + 5  # the nights already hold the newest of three weeks
    assert {p for p in tmp_path.iterdir() if p.suffix == ".potok-backup"} == kept
    assert (tmp_path / "notes.txt").exists()


def test_each_week_keeps_its_newest_backup(tmp_path: Path) -> None:
    made = nightly(tmp_path, 30)

    kept, _ = plan_pruning(
        [found for p in made if (found := parse_name(p)) is not None], daily=0, weekly=3
    )

    by_week: dict[tuple[int, int], datetime] = {}
    for path in made:
        found = parse_name(path)
        assert found is not None
        week = found.created_at.isocalendar()
        by_week.setdefault((week[0], week[1]), found.created_at)  # newest first
    assert sorted(item.created_at for item in kept) == sorted(by_week.values())[-3:]


def test_a_dry_run_deletes_nothing_and_the_newest_is_always_kept(tmp_path: Path) -> None:
    made = nightly(tmp_path, 5) + nightly(tmp_path, 2, kind="sqlite")

    dry = prune_backups(tmp_path, daily=0, weekly=0, dry_run=True)

    assert all(path.exists() for path in made)
    assert {item.path.name for item in dry.kept} == {made[0].name, made[5].name}
    prune_backups(tmp_path, daily=0, weekly=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([made[0].name, made[5].name])


def test_pg_dump_is_found_in_the_newest_postgresql_directory(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16"):
        program = tmp_path / version / "bin" / "pg_dump"
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)

    assert find_tool("pg_dump", path="", roots=[str(tmp_path)]) == str(
        tmp_path / "16" / "bin" / "pg_dump"
    )


def test_a_missing_pg_dump_is_a_clear_error_with_exit_code_6(tmp_path: Path) -> None:
    with pytest.raises(BackupToolMissing, match="pg_restore was not found") as caught:
        find_tool("pg_restore", path=str(tmp_path), roots=[str(tmp_path)])

    assert exit_code_for(caught.value) == 6
