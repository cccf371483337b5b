"""``potok backup``: one-file backups of the database; verify, restore, prune."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from potok.cli.common import console, errors, handles_errors, open_engine

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from potok import backup

app = typer.Typer(
    help="Backups: create one file with data and checksums, verify it, restore it, prune old "
    "copies.",
    no_args_is_help=True,
)

BACKUP_FILE = typer.Argument(
    ..., exists=True, dir_okay=False, readable=True, help="A .potok-backup file."
)


class _Watcher:
    """Rich progress for the backup stages: a spinner with the stage, a bar over tables."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._stage = progress.add_task("starting", total=None)
        self._tables: TaskID | None = None

    def stage(self, text: str) -> None:
        self._progress.update(self._stage, description=text)

    def tables(self, count: int) -> None:
        if self._tables is not None:
            self._progress.remove_task(self._tables)
        self._tables = self._progress.add_task("checksums", total=count)

    def table_done(self, name: str, rows: int) -> None:
        if self._tables is not None:
            self._progress.update(self._tables, advance=1, description=f"checksums: {name}")


@contextmanager
def _watching() -> Iterator[backup.Progress]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from potok.backup.progress import SILENT

    if not console.is_terminal:  # cron, pipes: no progress at all, not even a blank line
        yield SILENT
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,  # nothing is left behind in logs and cron mail
    ) as progress:
        yield _Watcher(progress)


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"


def _describe(manifest: backup.Manifest) -> str:
    return (
        f"{manifest.database} backup of {manifest.source}, made "
        f"{manifest.created_at:%Y-%m-%d %H:%M:%S} UTC by Potok {manifest.potok_version}; "
        f"schema {manifest.schema_revision or 'empty'}, {len(manifest.tables)} tables, "
        f"{manifest.total_rows} rows"
    )


def _checks_table(checks: list[backup.TableCheck], title: str) -> Table:
    from rich.table import Table

    table = Table("table", "rows (backup)", "rows (restored)", "checksum", title=title)
    for check in checks:
        colour = "green" if check.ok else "red"
        table.add_row(
            check.name,
            str(check.expected.rows),
            "-" if check.found is None else str(check.found.rows),
            f"[{colour}]{check.verdict}[/]",
        )
    return table


@app.command()
@handles_errors
def create(
    output: Path = typer.Option(
        Path("."), "--output", "-o", file_okay=False, help="Directory for the backup file."
    ),
) -> None:
    """Write one backup file, potok-<database>-<UTC time>.potok-backup, into --output.

    The copy is consistent while Potok keeps running: SQLite through its online backup API,
    PostgreSQL through pg_dump from a snapshot that the checksums are computed in too.
    """
    from potok import backup

    engine = open_engine()  # backups need no data keys, so none are read or made
    try:
        with _watching() as watcher:
            made = backup.create_backup(engine, output, progress=watcher)
    finally:
        engine.dispose()
    console.print(f"backup written: [bold]{made.path}[/] ({_size(made.size)})", highlight=False)
    console.print(_describe(made.manifest), highlight=False)


@app.command()
@handles_errors
def verify(file: Path = BACKUP_FILE) -> None:
    """Restore a backup into a scratch database and compare every table with its manifest.

    SQLite backups go into a temporary file; PostgreSQL backups into a temporary database
    on the configured server, dropped afterwards. Exit 0 only when every table matches.
    """
    from potok import backup

    manifest = backup.read_manifest(file)
    engine = open_engine() if manifest.database == "postgresql" else None
    try:
        with _watching() as watcher:
            result = backup.verify_backup(file, server=engine, progress=watcher)
    finally:
        if engine is not None:
            engine.dispose()
    console.print(_describe(result.manifest), highlight=False)
    console.print(_checks_table(result.checks, f"{file.name} restored and compared"))
    for problem in result.problems:
        errors.print(f"[bold red]damaged:[/] {problem}", highlight=False)
    if not result.ok:
        errors.print(
            f"[bold red]verification failed:[/] {len(result.differing)} of "
            f"{len(result.checks)} tables differ from the manifest",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(f"[green]backup verified[/]: all {len(result.checks)} tables match")


@app.command()
@handles_errors
def restore(
    file: Path = BACKUP_FILE,
    yes: bool = typer.Option(False, "--yes", help="Confirm replacing the database's contents."),
) -> None:
    """Replace everything in the configured database with the backup's contents.

    Stop every Potok process first. PostgreSQL: the public schema is dropped, created
    again and filled by pg_restore; SQLite: the file's contents are replaced. The result is
    checked against the manifest. Refused without --yes.
    """
    from potok import backup

    manifest = backup.read_manifest(file)
    engine = open_engine(create=True)  # a SQLite file is created when there is none
    try:
        target = engine.url.render_as_string(hide_password=True)
        if not yes:
            errors.print(
                f"restore replaces every row in {target} with this {_describe(manifest)}.\n"
                "Stop Potok (potok serve, cron jobs) first, then run again with --yes.",
                highlight=False,
            )
            raise typer.Exit(2)
        with _watching() as watcher:
            result = backup.restore_backup(file, engine, progress=watcher)
    finally:
        engine.dispose()
    console.print(f"restored into {target}: {_describe(result.manifest)}", highlight=False)
    if result.other_sessions:
        errors.print(
            f"[yellow]warning:[/] {result.other_sessions} other connections were open to the "
            "database during the restore; restart the Potok processes that use it",
            highlight=False,
        )
    if result.needs_upgrade:
        console.print(
            f"the backup's schema ({result.manifest.schema_revision or 'empty'}) is older than "
            f"this Potok's ({result.head_revision}): run [bold]potok db upgrade[/] before "
            "starting Potok",
            highlight=False,
        )
    if not result.ok:
        console.print(_checks_table(result.differing, "tables that differ from the backup"))
        errors.print(
            f"[bold red]restore incomplete:[/] {len(result.differing)} tables differ "
            "from the backup's manifest",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(
        f"[green]checked[/]: all {len(result.checks)} tables match the backup's checksums"
    )


@app.command()
@handles_errors
def prune(
    directory: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="The directory that holds the backups."
    ),
    daily: int = typer.Option(14, min=0, help="Keep the newest backup of this many days."),
    weekly: int = typer.Option(8, min=0, help="Keep the newest backup of this many weeks."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be deleted."),
) -> None:
    """Delete old backups, keeping the newest of each of the last --daily days and
    --weekly ISO weeks (UTC) that have one; the newest backup is always kept."""
    from potok import backup

    result = backup.prune_backups(directory, daily=daily, weekly=weekly, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for item in result.deleted:
        console.print(f"{verb} {item.path.name}", highlight=False)
    console.print(f"kept {len(result.kept)} backups; {verb} {len(result.deleted)}")
