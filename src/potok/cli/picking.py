"""``potok picking``: waves (many orders of one warehouse picked in one walk), their lines
per bin in walking order, scans; and one shipment's pick list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from potok.cli.common import cli_actor, cli_uow, console, handles_errors, open_potok
from potok.cli.shipments import OUTPUT, Output, emit, when

app = typer.Typer(
    help="Picking: make and list waves, show a wave's or a shipment's lines, scan.",
    no_args_is_help=True,
)

if TYPE_CHECKING:
    from potok.domain.fulfilment.picking import WaveLine

LINE_COLUMNS = ["bin", "zone", "sku", "lot", "quantity", "picked", "sort into"]


def _rows(lines: Sequence[WaveLine]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for line in lines:
        sort = ", ".join(f"slot {s.slot} (order {s.order_id}): {s.quantity}" for s in line.sort)
        rows.append(
            [line.location, line.zone, line.sku, line.lot, line.quantity, line.picked, sort]
        )
    return rows


@app.command()
@handles_errors
def wave(
    warehouse: str = typer.Option(..., "--warehouse", "-w"),
    max_orders: int = typer.Option(50, "--max", min=1, max=200),
    order: list[int] = typer.Option([], "--order", help="These orders (repeat) instead."),
    output: Output = OUTPUT,
) -> None:
    """A wave of the most urgent orders ready at a warehouse; prints its lines."""
    from potok.services.fulfilment import release

    potok = open_potok()
    try:
        view = release.create_wave(
            cli_uow(potok), warehouse, cli_actor(), max_orders=max_orders, order_ids=order or None
        )
    finally:
        potok.close()
    if output is Output.TABLE:
        console.print(
            f"wave [bold]{view.wave.number}[/] at {warehouse}: {len(view.shipments)} orders"
        )
    emit(LINE_COLUMNS, _rows(view.lines), output)


@app.command("waves")
@handles_errors
def list_waves(
    warehouse: list[str] = typer.Option([], "--warehouse", "-w"),
    status: str | None = typer.Option(None, "--status", help="open, picking, done, cancelled"),
    limit: int = typer.Option(50, min=1, max=200),
    output: Output = OUTPUT,
) -> None:
    """Waves, newest first."""
    from potok.services.fulfilment import reads

    potok = open_potok()
    try:
        page = reads.list_waves(
            cli_uow(potok), warehouses=warehouse or None, status=status, limit=limit
        )
    finally:
        potok.close()
    emit(
        ["wave", "warehouse", "status", "shipments", "by", "created", "finished"],
        [
            [
                w.number,
                w.warehouse_code,
                w.status.value,
                len(w.shipment_ids),
                w.created_by,
                when(w.created_at),
                when(w.finished_at),
            ]
            for w in page.items
        ],
        output,
    )


@app.command()
@handles_errors
def show(
    number: str = typer.Argument(..., help="The wave's number, W-000001."),
    output: Output = OUTPUT,
) -> None:
    """A wave's lines per bin in walking order, with the slots their units go into."""
    from potok.services.fulfilment import reads

    potok = open_potok()
    try:
        view = reads.get_wave(cli_uow(potok), number)
    finally:
        potok.close()
    if output is Output.TABLE:
        console.print(
            f"wave [bold]{view.wave.number}[/] at {view.wave.warehouse_code} - "
            f"{view.wave.status.value}, {view.left} units left"
        )
    emit(LINE_COLUMNS, _rows(view.lines), output)


@app.command("list")
@handles_errors
def pick_list(shipment_id: int = typer.Argument(..., min=1), output: Output = OUTPUT) -> None:
    """One shipment's pick list in walking order."""
    from potok.services.fulfilment import reads

    potok = open_potok()
    try:
        shipment, lines = reads.pick_list(cli_uow(potok), shipment_id)
    finally:
        potok.close()
    if output is Output.TABLE:
        console.print(f"shipment {shipment.number} - {shipment.status.value}")
    emit(LINE_COLUMNS, _rows(lines), output)


@app.command()
@handles_errors
def scan(
    number: str = typer.Argument(..., help="The wave's number."),
    code: str = typer.Argument(..., help="The product's barcode or SKU."),
    quantity: int = typer.Option(1, "--quantity", "-n", min=1, max=100_000),
    bin_code: str | None = typer.Option(None, "--bin"),
    lot: str | None = typer.Option(None, "--lot"),
    serial: str | None = typer.Option(None, "--serial"),
) -> None:
    """Confirm a scan in a wave; says which slot gets how many."""
    from potok.services.fulfilment import picking

    potok = open_potok()
    try:
        outcome = picking.pick_in_wave(
            cli_uow(potok),
            number,
            picking.ScanInput(code, quantity, bin_code, lot, serial),
            cli_actor(),
        )
    finally:
        potok.close()
    for take in outcome.takes:
        console.print(f"slot {take.slot} (order {take.order_id}): {take.quantity}")
    console.print(f"{outcome.left} left in the wave")
