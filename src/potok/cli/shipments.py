"""``potok shipments``: list and show shipments, send an order to a warehouse, pick, report
a shortage, pack a parcel, hand over. Services are imported when a command runs, so that
``potok --help`` stays quick."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Any

import typer

from potok.cli.common import cli_actor, cli_uow, console, csv_cell, handles_errors, open_potok

app = typer.Typer(
    help="Shipments: list, show, release an order, pick, short-pick, pack, hand over.",
    no_args_is_help=True,
)


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


OUTPUT = typer.Option(Output.TABLE, "--output", "-o", help="table, json or csv.")


def emit(columns: list[str], rows: list[list[Any]], output: Output, title: str = "") -> None:
    """Rows as a table (never cut when not on a terminal), JSON objects or CSV."""
    if output is Output.JSON:
        sys.stdout.write(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str)
        )
        sys.stdout.write("\n")
        return
    if output is Output.CSV:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[csv_cell(v) for v in r] for r in rows])
        return
    from rich.table import Table

    table = Table(*columns, title=title or None, title_justify="left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    if not console.is_terminal:
        console.width = max(console.width, 400)
    console.print(table)


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


@app.command("list")
@handles_errors
def list_shipments(
    warehouse: list[str] = typer.Option([], "--warehouse", "-w", help="Repeat for several."),
    status: list[str] = typer.Option([], "--status", "-s", help="pending, picking, packed, …"),
    order_id: int | None = typer.Option(None, "--order", min=1),
    wave: str | None = typer.Option(None, "--wave"),
    limit: int = typer.Option(50, min=1, max=500),
    output: Output = OUTPUT,
) -> None:
    """Shipments, newest first."""
    from potok.services.fulfilment import reads

    potok = open_potok()
    try:
        page = reads.list_shipments(
            cli_uow(potok),
            warehouses=warehouse or None,
            statuses=status,
            order_id=order_id,
            wave=wave,
            limit=limit,
        )
    finally:
        potok.close()
    emit(
        [
            "id",
            "number",
            "order",
            "warehouse",
            "status",
            "units",
            "parcels",
            "carrier",
            "tracking",
            "wave",
            "updated",
        ],
        [
            [
                s.id,
                s.number,
                s.order_id,
                s.warehouse_code,
                s.status.value,
                s.units,
                len(s.parcels),
                s.carrier,
                s.tracking_number,
                s.wave,
                when(s.updated_at),
            ]
            for s in page.items
        ],
        output,
    )


@app.command()
@handles_errors
def show(shipment_id: int = typer.Argument(..., min=1)) -> None:
    """One shipment: items, parcels, codes and every step."""
    from potok.services.fulfilment import reads

    potok = open_potok()
    try:
        view = reads.get_shipment(cli_uow(potok), shipment_id)
    finally:
        potok.close()
    s = view.shipment
    console.print(
        f"[bold]Shipment {s.number}[/] (id {s.id}) of order {s.order_id} at {s.warehouse_code}"
        f" - [bold]{s.status.value}[/]"
        + (f", {s.carrier} {s.tracking_number or ''}" if s.carrier else "")
        + (f", expected {s.eta_on}" if s.eta_on else "")
    )
    emit(
        ["item", "line", "sku", "lot", "bin", "qty", "picked", "packed"],
        [
            [i.item_no, i.line_no, i.sku, i.lot, i.location, i.quantity, i.picked, i.packed]
            for i in s.items
        ],
        Output.TABLE,
    )
    for p in s.parcels:
        contents = ", ".join(f"item {k}: {v}" for k, v in sorted(p.contents.items()))
        console.print(
            f"parcel {p.parcel_no}: {p.weight_g} g, {p.length_mm}x{p.width_mm}x{p.height_mm} mm"
            f" - {contents}"
        )
    missing = s.missing_identifiers()
    if missing and s.items:
        console.print(f"[yellow]missing: {'; '.join(missing)}[/]")
    emit(
        ["when", "who", "what", "status", "why"],
        [
            [
                when(x.occurred_at),
                x.actor,
                x.action,
                f"{x.from_status or ''} → {x.to_status}",
                x.reason,
            ]
            for x in view.steps
        ],
        Output.TABLE,
    )


@app.command()
@handles_errors
def release(
    order_id: int = typer.Argument(..., min=1),
    warehouse: str = typer.Option(..., "--warehouse", "-w"),
) -> None:
    """Send an order to a warehouse for picking (its pending shipment there)."""
    from potok.services.fulfilment import release as releasing

    potok = open_potok()
    try:
        made = releasing.release_order(cli_uow(potok), order_id, warehouse, cli_actor())
    finally:
        potok.close()
    for s in made:
        console.print(f"shipment {s.number} (id {s.id}) pending at {s.warehouse_code}")


@app.command()
@handles_errors
def pick(
    shipment_id: int = typer.Argument(..., min=1),
    code: str = typer.Argument(..., help="The product's barcode or SKU."),
    quantity: int = typer.Option(1, "--quantity", "-n", min=1, max=100_000),
    bin_code: str | None = typer.Option(None, "--bin"),
    lot: str | None = typer.Option(None, "--lot"),
    serial: str | None = typer.Option(None, "--serial"),
) -> None:
    """Confirm a scan on a shipment's pick list (the first starts its picking)."""
    from potok.services.fulfilment import picking

    potok = open_potok()
    try:
        outcome = picking.pick(
            cli_uow(potok),
            shipment_id,
            picking.ScanInput(code, quantity, bin_code, lot, serial),
            cli_actor(),
        )
    finally:
        potok.close()
    for take in outcome.takes:
        console.print(f"item {take.item_no}: {take.quantity} picked")
    console.print(f"{outcome.left} left to pick")


@app.command()
@handles_errors
def short(
    shipment_id: int = typer.Argument(..., min=1),
    missing: int = typer.Option(..., "--missing", "-n", min=1, max=100_000),
    sku: str | None = typer.Option(None, "--sku"),
    item_no: int | None = typer.Option(None, "--item", min=1),
    lot: str | None = typer.Option(None, "--lot"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Units not on the shelf: pick short, write the shelf down, source the rest again."""
    from potok.services.fulfilment import picking

    potok = open_potok()
    try:
        outcome = picking.short_pick(
            cli_uow(potok),
            shipment_id,
            picking.ShortPick(missing, item_no, sku, lot, note),
            cli_actor(),
        )
    finally:
        potok.close()
    console.print(
        f"shipment {outcome.shipment.number}: {outcome.shipment.units} units now; order "
        f"{outcome.order.id} [bold]{outcome.order.status.value}[/]"
    )
    if outcome.added_here:
        console.print(
            f"picked from another shelf here: items {[i.item_no for i in outcome.added_here]}"
        )
    if not outcome.resourced:
        console.print(f"[yellow]the rest is backordered; alerts {outcome.alerts}[/]")


def _pairs(values: list[str], what: str) -> list[tuple[int, str]]:
    pairs = []
    for value in values:
        item, sep, rest = value.partition("=")
        if not sep or not item.isdigit() or not rest:
            raise typer.BadParameter(f"'{value}': write ITEM={what}")
        pairs.append((int(item), rest))
    return pairs


@app.command()
@handles_errors
def pack(
    shipment_id: int = typer.Argument(..., min=1),
    items: list[str] = typer.Argument(..., help="ITEM=UNITS, e.g. 1=2 2=1."),
    weight_g: int = typer.Option(..., "--weight-g", min=1, max=1_000_000),
    dimensions: str = typer.Option(
        ..., "--dims", help="Length x width x height in mm: 400x300x200."
    ),
    marking: list[str] = typer.Option([], "--marking", help="ITEM=CODE, once per unit."),
    imei: list[str] = typer.Option([], "--imei", help="ITEM=IMEI, once per unit."),
    uin: list[str] = typer.Option([], "--uin", help="ITEM=UIN, once per unit."),
) -> None:
    """Pack picked units into a parcel with the identifiers each unit needs."""
    from potok.domain.fulfilment import ParcelDraft, ParcelLine, UnitIdentifier
    from potok.services.fulfilment import packing

    sizes = dimensions.lower().split("x")
    if len(sizes) != 3 or not all(s.isdigit() for s in sizes):
        raise typer.BadParameter("write the dimensions as LxWxH in mm, e.g. 400x300x200")
    codes: dict[int, list[tuple[UnitIdentifier, str]]] = {}
    for kind, given in (
        (UnitIdentifier.MARKING, marking),
        (UnitIdentifier.IMEI, imei),
        (UnitIdentifier.UIN, uin),
    ):
        for item, code in _pairs(given, "CODE"):
            codes.setdefault(item, []).append((kind, code))
    lines = tuple(
        ParcelLine(item, int(units), tuple(codes.get(item, ())))
        for item, units in _pairs(items, "UNITS")
        if units.isdigit()
    )
    potok = open_potok()
    try:
        shipment, parcel = packing.pack_parcel(
            cli_uow(potok),
            shipment_id,
            ParcelDraft(weight_g, int(sizes[0]), int(sizes[1]), int(sizes[2]), lines),
            cli_actor(),
        )
    finally:
        potok.close()
    console.print(
        f"parcel {parcel.parcel_no} packed; shipment {shipment.number} {shipment.status.value}"
    )


@app.command()
@handles_errors
def handover(
    shipment_id: int = typer.Argument(..., min=1),
    carrier: str | None = typer.Option(None, "--carrier"),
    tracking: str | None = typer.Option(None, "--tracking"),
) -> None:
    """Hand a packed shipment over: its stock leaves the books. To a carrier Potok knows
    (``potok carriers list``) it is booked first."""
    from potok.services.fulfilment import tracking as carriers

    potok = open_potok()
    try:
        shipment = carriers.hand_over_to(
            cli_uow(potok),
            potok.carriers,
            shipment_id,
            cli_actor(),
            carrier=carrier,
            tracking_number=tracking,
        )
    finally:
        potok.close()
    console.print(f"shipment {shipment.number} {shipment.status.value}")


@app.command("plan-carrier")
@handles_errors
def plan_carrier(
    shipment_id: int = typer.Argument(..., min=1),
    carrier: str = typer.Argument(..., help="a carrier of `potok carriers list`"),
    reason: str | None = typer.Option(None, "--reason", help="why, kept in its steps"),
) -> None:
    """Change the carrier a shipment is to be booked with, before it is booked (nothing is
    asked of the carrier; the hand-over books with it)."""
    from potok.services.fulfilment.carrier_plans import plan_carrier as plan

    potok = open_potok()
    try:
        shipment = plan(
            cli_uow(potok), potok.carriers, shipment_id, carrier, cli_actor(), reason=reason
        )
    finally:
        potok.close()
    console.print(f"shipment {shipment.number} is to be booked with {shipment.planned_carrier}")
