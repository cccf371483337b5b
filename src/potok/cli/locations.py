"""``potok stock locations``: a warehouse's bins from a CSV file, listing them, placing stock."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_uow,
    console,
    errors,
    handles_errors,
    open_potok,
    print_listing,
)
from potok.domain.errors import InvalidInput

if TYPE_CHECKING:
    from potok.domain.inventory.locations import LocationDraft

app = typer.Typer(
    help="Storage locations (bins): import, list, put stock into them.", no_args_is_help=True
)

TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}


def _read(path: Path) -> tuple[list[tuple[int, str, LocationDraft]], list[str]]:
    """Rows as (line, warehouse, draft) and the problems found reading them."""
    from potok.domain.inventory.locations import LocationDraft

    rows: list[tuple[int, str, LocationDraft]] = []
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = {(name or "").strip().lower() for name in reader.fieldnames or []}
        if not {"warehouse", "code"} <= header:
            problems.append("the header needs warehouse,code[,zone,pick_sequence,active]")
            return rows, problems
        for row in reader:
            line = reader.line_num
            cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            sequence, active = cells.get("pick_sequence", ""), cells.get("active", "").lower()
            if sequence and not sequence.lstrip("-").isdigit():
                problems.append(f"line {line}: pick_sequence must be a whole number")
                continue
            if active and active not in TRUE | FALSE:
                problems.append(f"line {line}: active must be true or false")
                continue
            draft = LocationDraft(
                cells.get("code", ""),
                cells.get("zone", ""),
                int(sequence or 0),
                active not in FALSE,
            )
            rows.append((line, cells.get("warehouse", ""), draft))
    return rows, problems


@app.command("import")
@handles_errors
def import_locations(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="CSV with a header: warehouse,code[,zone,pick_sequence,active]",
    ),
) -> None:
    """Create or change bins from a file, all rows or none; bins not in the file are kept."""
    from potok.services import locations

    rows, problems = _read(file)
    for problem in problems:
        errors.print(f"[bold red]error:[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(3)
    potok = open_potok()
    try:
        result = locations.import_locations(cli_uow(potok), [(w, d) for _, w, d in rows])
    except InvalidInput as error:
        for item in error.errors[:100]:
            index = int(item.field.split("[")[1].split("]")[0]) if "[" in item.field else 0
            line = rows[index][0] if index < len(rows) else 0
            errors.print(f"line {line}: {item.field.split('.', 1)[-1]}: {item.message}")
        errors.print("nothing imported", highlight=False)
        raise typer.Exit(3) from None
    finally:
        potok.close()
    console.print(
        f"{len(rows)} bins: {result.created} created, {result.changed} changed, "
        f"{result.unchanged} unchanged"
    )


@app.command("list")
@handles_errors
def list_locations(
    warehouse: str = typer.Argument(..., help="The warehouse code."),
    zone: str | None = typer.Option(None, help="Only this zone."),
    output: Output = OUTPUT,
) -> None:
    """A warehouse's bins in walking order."""
    from potok.services import locations

    potok = open_potok()
    try:
        found = locations.list_locations(cli_uow(potok), warehouse, zone=zone)
    finally:
        potok.close()
    rows = [
        {"code": x.code, "zone": x.zone, "pick_sequence": x.pick_sequence, "active": x.active}
        for x in found
    ]
    columns = [
        Column("code", "bin"),
        Column("zone"),
        Column("pick_sequence", "pick sequence", right=True),
        Column("active", show=lambda active: "yes" if active else "no"),
    ]
    print_listing(rows, columns, output)


@app.command()
@handles_errors
def place(
    warehouse: str = typer.Argument(...),
    sku: str = typer.Argument(...),
    location: str = typer.Argument(..., help="The bin; '-' takes the position out of any bin."),
    lot: str | None = typer.Option(None, help="For products kept by lot."),
) -> None:
    """Put a stock position into a bin."""
    from potok.services import locations

    potok = open_potok()
    try:
        locations.place_stock(
            cli_uow(potok), warehouse, sku, None if location == "-" else location, lot=lot
        )
    finally:
        potok.close()
    console.print(f"{warehouse} {sku}{' lot ' + lot if lot else ''} → {location}")
