"""``potok stock``: CSV import, reconciliation, levels."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from potok.bootstrap import Potok
from potok.cli import locations as locations_cli
from potok.cli import replenishment as replenishment_cli
from potok.cli import stock_counts as counts_cli
from potok.cli.common import cli_actor, cli_uow, console, errors, handles_errors, open_potok
from potok.domain.errors import FieldError
from potok.domain.inventory import MovementType
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.inventory.errors import BulkRejected
from potok.services import expiry, inventory
from potok.services.stock_files import BadHeader, BadRow, parse_levels

app = typer.Typer(
    help="Stock: import levels from CSV, reconcile counters, show levels.", no_args_is_help=True
)
app.add_typer(replenishment_cli.rules, name="rules")
app.add_typer(counts_cli.app, name="counts")
app.add_typer(locations_cli.app, name="locations")
app.command("replenishment")(replenishment_cli.report)

CHUNK = 5000


@app.command("import")
@handles_errors
def import_levels(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="CSV with a header: warehouse,sku,on_hand[,expected_on_hand]",
    ),
    source: str = typer.Option("csv", help="Named in the ledger as the levels' origin."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Import the good rows even if some are bad."
    ),
) -> None:
    """Set on-hand levels from a CSV file, with a progress bar and a report of bad rows.

    Every row is checked first (format, known warehouse and SKU). With any bad row nothing is
    imported unless --skip-bad is given. Good rows are applied in chunks of 5,000 per
    transaction; each change is a ledger movement of type 'import'.
    """
    potok = open_potok()
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            try:
                parsed = list(parse_levels(handle))
            except BadHeader as error:
                errors.print(f"[bold red]error:[/] {file}: {error}", highlight=False)
                raise typer.Exit(3) from None
        good = [(n, r) for n, r in parsed if isinstance(r, LevelRow)]
        bad = [r for _, r in parsed if isinstance(r, BadRow)]
        bad.extend(_unknown_references(potok, good))
        bad_lines = {b.line for b in bad}
        good = [(n, r) for n, r in good if n not in bad_lines]
        if bad:
            _report_bad(bad)
            if not skip_bad:
                errors.print(
                    f"nothing imported: {len(bad)} bad rows of {len(parsed)}; fix them or "
                    "pass --skip-bad",
                    highlight=False,
                )
                raise typer.Exit(3)
        changed = created = 0
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rows", total=len(good))
            for start in range(0, len(good), CHUNK):
                chunk = good[start : start + CHUNK]
                try:
                    applied = inventory.set_levels(
                        cli_uow(potok),
                        SetLevels(
                            [r for _, r in chunk],
                            source=source,
                            reference=file.name,
                            movement=MovementType.IMPORT,
                        ),
                        cli_actor(),
                    )
                except BulkRejected as error:
                    _report_bad([_line_of(error_item, chunk) for error_item in error.errors])
                    errors.print(
                        f"stopped at the chunk starting on line {chunk[0][0]}; "
                        f"{start} rows were imported before it",
                        highlight=False,
                    )
                    raise typer.Exit(3) from None
                changed += applied.changed
                created += applied.created
                progress.advance(task, len(chunk))
        console.print(
            f"imported {len(good)} rows: {changed} levels changed, {created} new "
            f"positions; {len(bad)} bad rows skipped"
        )
        if bad:
            raise typer.Exit(3)
    finally:
        potok.close()


def _unknown_references(potok: Potok, good: list[tuple[int, LevelRow]]) -> list[BadRow]:
    with cli_uow(potok).read() as uow:
        warehouses = uow.warehouses.ids_for(sorted({r.warehouse for _, r in good}))
        products = uow.products.ids_for({r.sku for _, r in good})
    bad = []
    for number, row in good:
        problems = []
        if row.warehouse not in warehouses:
            problems.append(f"there is no warehouse '{row.warehouse}'")
        if row.sku not in products:
            problems.append(f"there is no product with SKU '{row.sku}'")
        if problems:
            bad.append(BadRow(number, "; ".join(problems)))
    return bad


def _line_of(error: FieldError, chunk: list[tuple[int, LevelRow]]) -> BadRow:
    index = int(error.field.split("[")[1].split("]")[0]) if error.field.startswith("rows[") else 0
    return BadRow(chunk[index][0] if index < len(chunk) else 0, error.message)


def _report_bad(bad: list[BadRow]) -> None:
    table = Table("line", "problem", title=f"{len(bad)} bad rows", title_justify="left")
    for row in sorted(bad, key=lambda b: b.line)[:100]:
        table.add_row(str(row.line), row.message)
    errors.print(table)
    if len(bad) > 100:
        errors.print(f"… and {len(bad) - 100} more")


@app.command()
@handles_errors
def reconcile() -> None:
    """Recompute on-hand from the ledger and reserved from open reservations; exit 1 on drift."""
    potok = open_potok()
    try:
        result = inventory.reconcile(cli_uow(potok))
    finally:
        potok.close()
    if not result.drifts:
        console.print(
            f"[green]no drift[/]: {result.checked} stock positions agree with the "
            "ledger and the open reservations"
        )
        return
    table = Table(
        "warehouse",
        "sku",
        "on hand",
        "ledger",
        "drift",
        "reserved",
        "open res.",
        "drift",
        "unavailable",
        "ledger",
        "drift",
        "serials",
        title=f"{len(result.drifts)} of {result.checked} positions drift",
    )
    for d in result.drifts:
        table.add_row(
            d.warehouse,
            d.sku,
            str(d.on_hand),
            str(d.ledger_on_hand),
            f"{d.on_hand_drift:+d}",
            str(d.reserved),
            str(d.open_reservations),
            f"{d.reserved_drift:+d}",
            str(d.unavailable),
            str(d.ledger_unavailable),
            f"{d.unavailable_drift:+d}",
            "" if d.serials is None else f"{d.serials} ({-d.serial_drift:+d})",
        )
    console.print(table)
    raise typer.Exit(1)


@app.command()
@handles_errors
def levels(
    warehouse: str | None = typer.Option(None, help="Only this location."),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """Show stock positions as a table."""
    potok = open_potok()
    try:
        page = inventory.list_levels(cli_uow(potok), warehouse=warehouse, sku=sku, limit=limit)
    finally:
        potok.close()
    table = Table(
        "warehouse", "sku", "lot", "expires", "on hand", "reserved", "unavailable", "available"
    )
    for row in page.items:
        table.add_row(
            row.warehouse,
            row.sku,
            row.lot or "",
            row.expires_on.isoformat() if row.expires_on else "",
            str(row.on_hand),
            str(row.reserved),
            str(row.unavailable),
            str(row.available),
        )
    console.print(table)


@app.command()
@handles_errors
def expiring(
    within_days: int = typer.Option(30, "--within-days", min=0, max=3650, help="Look ahead."),
    warehouse: str | None = typer.Option(None, help="Only this location."),
) -> None:
    """Lots with stock that expire within the coming days, and those already expired."""
    potok = open_potok()
    try:
        found = expiry.expiring_lots(cli_uow(potok), within_days=within_days, warehouse=warehouse)
    finally:
        potok.close()
    if not found:
        console.print(f"no lot with stock expires within {within_days} days")
        return
    table = Table(
        "warehouse", "sku", "lot", "expires", "days left", "on hand", "reserved", "unavailable"
    )
    for lot in found:
        table.add_row(
            lot.warehouse,
            lot.sku,
            lot.lot,
            lot.expires_on.isoformat(),
            f"[red]{lot.days_left}[/]" if lot.days_left <= 0 else str(lot.days_left),
            str(lot.on_hand),
            str(lot.reserved),
            str(lot.unavailable),
        )
    console.print(table)
