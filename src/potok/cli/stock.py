"""``potok stock``: CSV import, reconciliation, levels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from potok.cli import locations as locations_cli
from potok.cli import replenishment as replenishment_cli
from potok.cli import stock_counts as counts_cli
from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    errors,
    handles_errors,
    open_potok,
    print_listing,
)

if TYPE_CHECKING:
    from potok.bootstrap import Potok
    from potok.domain.errors import FieldError
    from potok.domain.inventory.commands import LevelRow
    from potok.services.stock_files import BadRow

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
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from potok.domain.inventory import MovementType
    from potok.domain.inventory.commands import LevelRow, SetLevels
    from potok.domain.inventory.errors import BulkRejected
    from potok.services import inventory
    from potok.services.stock_files import BadHeader, BadRow, parse_levels

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
    from potok.services.stock_files import BadRow

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
    from potok.services.stock_files import BadRow

    index = int(error.field.split("[")[1].split("]")[0]) if error.field.startswith("rows[") else 0
    return BadRow(chunk[index][0] if index < len(chunk) else 0, error.message)


def _report_bad(bad: list[BadRow]) -> None:
    from rich.table import Table

    table = Table("line", "problem", title=f"{len(bad)} bad rows", title_justify="left")
    for row in sorted(bad, key=lambda b: b.line)[:100]:
        table.add_row(str(row.line), row.message)
    errors.print(table)
    if len(bad) > 100:
        errors.print(f"… and {len(bad) - 100} more")


DRIFT_COLUMNS = [
    Column("warehouse"),
    Column("sku"),
    Column("on_hand", "on hand", right=True),
    Column("ledger_on_hand", "ledger", right=True),
    Column("on_hand_drift", "drift", right=True, show="{:+d}".format),
    Column("reserved", right=True),
    Column("open_reservations", "open res.", right=True),
    Column("reserved_drift", "drift", right=True, show="{:+d}".format),
    Column("unavailable", right=True),
    Column("ledger_unavailable", "ledger", right=True),
    Column("unavailable_drift", "drift", right=True, show="{:+d}".format),
    Column("serials", right=True),
    Column("serial_drift", "drift", right=True, show=lambda n: "" if n is None else f"{n:+d}"),
]


@app.command()
@handles_errors
def reconcile(output: Output = OUTPUT) -> None:
    """Recompute on-hand from the ledger and reserved from open reservations; exit 1 on drift.

    Each position that drifts is listed (nothing at all, in JSON or CSV, when none does).
    """
    from potok.services import inventory

    potok = open_potok()
    try:
        result = inventory.reconcile(cli_uow(potok))
    finally:
        potok.close()
    if not result.drifts and output is Output.TABLE:
        console.print(
            f"[green]no drift[/]: {result.checked} stock positions agree with the "
            "ledger and the open reservations"
        )
        return
    rows = [
        {
            "warehouse": d.warehouse,
            "sku": d.sku,
            "on_hand": d.on_hand,
            "ledger_on_hand": d.ledger_on_hand,
            "on_hand_drift": d.on_hand_drift,
            "reserved": d.reserved,
            "open_reservations": d.open_reservations,
            "reserved_drift": d.reserved_drift,
            "unavailable": d.unavailable,
            "ledger_unavailable": d.ledger_unavailable,
            "unavailable_drift": d.unavailable_drift,
            "serials": d.serials,
            "serial_drift": None if d.serials is None else d.serial_drift,
        }
        for d in result.drifts
    ]
    print_listing(
        rows,
        DRIFT_COLUMNS,
        output,
        title=f"{len(result.drifts)} of {result.checked} positions drift",
    )
    if result.drifts:
        raise typer.Exit(1)


LEVEL_COLUMNS = [
    Column("warehouse"),
    Column("sku"),
    Column("lot"),
    Column("expires_on", "expires"),
    Column("on_hand", "on hand", right=True),
    Column("reserved", right=True),
    Column("unavailable", right=True),
    Column("available", right=True),
    Column("incoming", table=False),
    Column("location", table=False),
]


@app.command()
@handles_errors
def levels(
    warehouse: str | None = typer.Option(None, help="Only this location."),
    sku: str | None = typer.Option(None, help="Only this SKU."),
    limit: int = typer.Option(50, min=1, max=1000, help="At most this many positions."),
    output: Output = OUTPUT,
) -> None:
    """Stock positions (one per lot): on hand, reserved, unavailable, available, incoming."""
    from potok.services import inventory

    potok = open_potok()
    try:
        page = inventory.list_levels(cli_uow(potok), warehouse=warehouse, sku=sku, limit=limit)
    finally:
        potok.close()
    rows = [
        {
            "warehouse": row.warehouse,
            "sku": row.sku,
            "lot": row.lot,
            "expires_on": row.expires_on,
            "location": row.location,
            "on_hand": row.on_hand,
            "reserved": row.reserved,
            "unavailable": row.unavailable,
            "available": row.available,
            "incoming": row.incoming,
        }
        for row in page.items
    ]
    print_listing(
        rows,
        LEVEL_COLUMNS,
        output,
        more="more positions exist; narrow the filters or raise --limit"
        if page.next_cursor
        else None,
    )


EXPIRING_COLUMNS = [
    Column("warehouse"),
    Column("sku"),
    Column("lot"),
    Column("expires_on", "expires"),
    Column(
        "days_left",
        "days left",
        right=True,
        show=lambda days: f"[red]{days}[/]" if days <= 0 else str(days),
    ),
    Column("on_hand", "on hand", right=True),
    Column("reserved", right=True),
    Column("unavailable", right=True),
]


@app.command()
@handles_errors
def expiring(
    within_days: int = typer.Option(30, "--within-days", min=0, max=3650, help="Look ahead."),
    warehouse: str | None = typer.Option(None, help="Only this location."),
    output: Output = OUTPUT,
) -> None:
    """Lots with stock that expire within the coming days, and those already expired."""
    from potok.services import expiry

    potok = open_potok()
    try:
        found = expiry.expiring_lots(cli_uow(potok), within_days=within_days, warehouse=warehouse)
    finally:
        potok.close()
    rows = [
        {
            "warehouse": lot.warehouse,
            "sku": lot.sku,
            "lot": lot.lot,
            "expires_on": lot.expires_on,
            "days_left": lot.days_left,
            "on_hand": lot.on_hand,
            "reserved": lot.reserved,
            "unavailable": lot.unavailable,
        }
        for lot in found
    ]
    print_listing(
        rows,
        EXPIRING_COLUMNS,
        output,
        empty=f"no lot with stock expires within {within_days} days",
    )
