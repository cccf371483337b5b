"""``potok stock``: file import, reconciliation, levels."""

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
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
)

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Stock: import levels from CSV or XLSX, reconcile counters, show levels.",
    no_args_is_help=True,
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
        help="CSV or XLSX with a header: warehouse,sku,on_hand[,expected_on_hand,lot,...]",
    ),
    source: str = typer.Option("csv", help="Named in the ledger as the levels' origin."),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Import the good rows even if some are bad."
    ),
    report: Path | None = typer.Option(
        None, "--report", dir_okay=False, help="Write the bad rows to this .csv or .xlsx file."
    ),
) -> None:
    """Set on-hand levels from a CSV or XLSX file, with a progress bar and a report of bad rows.

    Every row is checked first (format, known warehouse and SKU). With any bad row nothing is
    imported unless --skip-bad is given. The rows are applied in one transaction; each change
    is a ledger movement of type 'import'. The same as `potok files import stock-levels`.
    """
    from potok.cli.files import ImportKind, run_import

    run_import(ImportKind.STOCK_LEVELS, file, skip_bad=skip_bad, report=report, source=source)


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
