"""Which backups to keep: the newest of each of the last N days and of the last M weeks.

Days and weeks are UTC calendar days and ISO weeks that have at least one backup, counted
back from the newest; each kind of database is counted on its own, and the newest backup
of a kind is always kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path

from potok.backup.archive import BackupFile, parse_name

_PeriodOf = Callable[[BackupFile], Hashable]


@dataclass(frozen=True, slots=True)
class Pruning:
    """The backups a pruning kept and those it deleted (or would delete, on a dry run)."""

    kept: list[BackupFile]
    deleted: list[BackupFile]


def plan_pruning(
    files: Iterable[BackupFile], *, daily: int, weekly: int
) -> tuple[list[BackupFile], list[BackupFile]]:
    """Split backups into those to keep and those to delete, newest first."""
    by_kind: dict[str, list[BackupFile]] = {}
    for item in files:
        by_kind.setdefault(item.kind, []).append(item)
    kept: list[BackupFile] = []
    deleted: list[BackupFile] = []
    for kind in sorted(by_kind):
        newest_first = sorted(
            by_kind[kind], key=lambda f: (f.created_at, f.number, f.path.name), reverse=True
        )
        keep = {newest_first[0].path}
        keep |= _newest_per_period(newest_first, daily, lambda f: f.created_at.date())
        keep |= _newest_per_period(
            newest_first, weekly, lambda f: tuple(f.created_at.isocalendar())[:2]
        )
        for item in newest_first:
            (kept if item.path in keep else deleted).append(item)
    return kept, deleted


def _newest_per_period(
    newest_first: list[BackupFile], periods: int, period_of: _PeriodOf
) -> set[Path]:
    chosen: dict[Hashable, Path] = {}
    for item in newest_first:
        period = period_of(item)
        if period not in chosen:
            if len(chosen) >= periods:
                break
            chosen[period] = item.path
    return set(chosen.values())


def prune_backups(
    directory: Path, *, daily: int = 14, weekly: int = 8, dry_run: bool = False
) -> Pruning:
    """Delete the backups in ``directory`` that the daily and weekly retention does not keep.

    Only files named like Potok's backups are considered; anything else is left alone.
    """
    files = [found for path in directory.iterdir() if (found := parse_name(path)) is not None]
    kept, deleted = plan_pruning(files, daily=daily, weekly=weekly)
    if not dry_run:
        for item in deleted:
            item.path.unlink(missing_ok=True)
    return Pruning(kept, deleted)
