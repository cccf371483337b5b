"""``potok stock counts``: make count sheets, enter what was counted, approve or cancel."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
)
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory.counts import CountEntry, CountStatus, StockCount

app = typer.Typer(
    help="Stock counts (stocktaking): sheets per warehouse or zone, entries, approval.",
    no_args_is_help=True,
)


def _entry(index: int, text: str) -> CountEntry:
    """``SKU=QTY`` or ``SKU@LOT=QTY``."""
    what, sep, quantity = text.rpartition("=")
    sku, _, lot = what.partition("@")
    if not sep or not sku or not quantity.strip().lstrip("-").isdigit():
        raise InvalidInput(
            [FieldError(f"entries[{index}]", f"'{text}': write SKU=QTY or SKU@LOT=QTY", "invalid")]
        )
    return CountEntry(sku, int(quantity), lot or None)


def _from_file(path: Path) -> list[CountEntry]:
    """A CSV with the columns sku,counted[,lot]."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    entries = []
    for number, row in enumerate(rows, start=2):
        counted = (row.get("counted") or "").strip()
        if not (row.get("sku") or "").strip() or not counted.isdigit():
            raise InvalidInput(
                [FieldError(f"line {number}", "needs a sku and a whole counted number", "invalid")]
            )
        entries.append(CountEntry(row["sku"].strip(), int(counted), (row.get("lot") or None)))
    return entries


def _print(count: StockCount, *, expected: bool) -> None:
    from rich.table import Table

    table = Table(
        "bin",
        "sku",
        "lot",
        *(["expected"] if expected else []),
        "counted",
        *(["difference"] if expected else []),
        "counted by",
        title=f"{count.number} · {count.warehouse_code}"
        + (f" zone {count.zone}" if count.zone else "")
        + f" · {count.status.value}",
        title_justify="left",
    )
    for line in count.lines:
        counted = "" if line.counted is None else str(line.counted)
        difference = "" if line.difference is None else f"{line.difference:+d}"
        table.add_row(
            line.location or "",
            line.sku,
            line.lot or "",
            *([str(line.expected)] if expected else []),
            counted,
            *([difference] if expected else []),
            line.counted_by or "",
        )
    console.print(table)
    console.print(f"{len(count.lines) - len(count.uncounted)} of {len(count.lines)} lines counted")


LIST_COLUMNS = [
    Column("number"),
    Column("warehouse"),
    Column("zone"),
    Column("status"),
    Column("counted", table=False),
    Column("lines", table=False),
    Column("progress", "counted", data=False),
    Column("created_by", "created by"),
    Column("created_at", "created"),
    Column("approved_by", table=False),
    Column("approved_at", table=False),
]


@app.command("list")
@handles_errors
def list_counts(
    warehouse: str | None = typer.Option(None, help="Only this warehouse."),
    status: CountStatus | None = typer.Option(None, help="Only counts in this state."),
    limit: int = typer.Option(50, min=1, max=1000, help="At most this many counts."),
    output: Output = OUTPUT,
) -> None:
    """Stock counts, newest first."""
    from potok.services import stock_counts

    potok = open_potok()
    try:
        page = stock_counts.list_counts(
            cli_uow(potok),
            warehouses=[warehouse] if warehouse else None,
            status=status.value if status else None,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "number": c.number,
            "warehouse": c.warehouse,
            "zone": c.zone,
            "status": c.status,
            "counted": c.counted,
            "lines": c.lines,
            "progress": f"{c.counted}/{c.lines}",
            "created_by": c.created_by,
            "created_at": c.created_at,
            "approved_by": c.approved_by,
            "approved_at": c.approved_at,
        }
        for c in page.items
    ]
    print_listing(
        rows,
        LIST_COLUMNS,
        output,
        more="more counts exist; narrow the filters or raise --limit" if page.next_cursor else None,
    )


@app.command()
@handles_errors
def show(
    number: str = typer.Argument(..., help="CNT-000001"),
    expected: bool = typer.Option(
        False, "--expected", help="Show expected quantities and differences (not blind)."
    ),
) -> None:
    """A count sheet; blind (without expected quantities) unless --expected is given."""
    from potok.services import stock_counts

    potok = open_potok()
    try:
        count = stock_counts.get_count(cli_uow(potok), number)
    finally:
        potok.close()
    _print(count, expected=expected)


@app.command()
@handles_errors
def create(
    warehouse: str = typer.Argument(..., help="The warehouse code."),
    zone: str | None = typer.Option(None, help="Count this zone only."),
    sku: list[str] = typer.Option([], "--sku", help="Count this SKU only; repeat for several."),
) -> None:
    """Make a count sheet with the on-hand of each position as it stands now."""
    from potok.services import stock_counts
    from potok.services.stock_counts import CreateCount

    potok = open_potok()
    try:
        count = stock_counts.create_count(
            cli_uow(potok), CreateCount(warehouse, zone, tuple(sku)), cli_actor()
        )
    finally:
        potok.close()
    console.print(f"created {count.number}: {len(count.lines)} lines to count")


@app.command()
@handles_errors
def enter(
    number: str = typer.Argument(..., help="CNT-000001"),
    entries: list[str] = typer.Argument(None, help="SKU=QTY or SKU@LOT=QTY, several allowed."),
    file: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="CSV with a header: sku,counted[,lot]"
    ),
) -> None:
    """Enter counted quantities; a line entered again takes the newer quantity."""
    from potok.services import stock_counts

    found = [_entry(i, text) for i, text in enumerate(entries or [])]
    if file is not None:
        found.extend(_from_file(file))
    potok = open_potok()
    try:
        count = stock_counts.enter_counts(cli_uow(potok), number, found, cli_actor())
    finally:
        potok.close()
    console.print(
        f"{number}: {len(found)} entries; "
        f"{len(count.lines) - len(count.uncounted)} of {len(count.lines)} lines counted"
    )


@app.command()
@handles_errors
def submit(number: str = typer.Argument(..., help="CNT-000001")) -> None:
    """The counters are done: the sheet waits for approval."""
    from potok.services import stock_counts

    potok = open_potok()
    try:
        count = stock_counts.submit_count(cli_uow(potok), number)
    finally:
        potok.close()
    console.print(f"{count.number} submitted; {len(count.uncounted)} lines uncounted")


@app.command()
@handles_errors
def approve(number: str = typer.Argument(..., help="CNT-000001")) -> None:
    """Post each counted difference to the stock ledger as a 'count' movement."""
    from rich.table import Table

    from potok.services import stock_counts

    potok = open_potok()
    try:
        approval = stock_counts.approve_count(cli_uow(potok), number, cli_actor())
    finally:
        potok.close()
    table = Table("bin", "sku", "lot", "expected", "counted", "difference", "on hand", title=number)
    for p in approval.postings:
        table.add_row(
            p.location or "",
            p.sku,
            p.lot or "",
            str(p.expected),
            str(p.counted),
            f"{p.difference:+d}",
            f"{p.on_hand_before} → {p.on_hand_after}" + (" *" if p.moved_since_snapshot else ""),
        )
    console.print(table)
    if any(p.moved_since_snapshot for p in approval.postings):
        console.print("* stock moved since the sheet was made: the difference was added to it")
    if approval.orders_resourced:
        console.print(f"orders sourced again: {', '.join(map(str, approval.orders_resourced))}")
    console.print(f"{number} approved; {len(approval.count.uncounted)} lines left uncounted")


@app.command()
@handles_errors
def cancel(number: str = typer.Argument(..., help="CNT-000001")) -> None:
    """Cancel a count that is not approved; nothing is posted."""
    from potok.services import stock_counts

    potok = open_potok()
    try:
        stock_counts.cancel_count(cli_uow(potok), number)
    finally:
        potok.close()
    console.print(f"{number} cancelled")
