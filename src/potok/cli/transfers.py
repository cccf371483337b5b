"""``potok transfers`` and ``potok purchase-orders``: stock between warehouses, and from
suppliers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from potok.domain.inventory.purchasing import PurchaseOrder
    from potok.domain.inventory.transfers import Transfer

app = typer.Typer(
    help="Transfers between warehouses: request, ship, receive, cancel.", no_args_is_help=True
)
purchase_orders = typer.Typer(
    help="Purchase orders: stock ordered from suppliers, received in deliveries.",
    no_args_is_help=True,
)


def _pair(field: str, index: int, text: str, hint: str) -> tuple[str, int]:
    """``KEY=QTY`` as (KEY, QTY)."""
    key, sep, quantity = text.rpartition("=")
    if not sep or not key or not quantity.strip().lstrip("-").isdigit():
        raise InvalidInput([FieldError(f"{field}[{index}]", f"'{text}': write {hint}", "invalid")])
    return key, int(quantity)


def _line_no(field: str, index: int, key: str) -> int:
    if not key.isdigit():
        raise InvalidInput(
            [FieldError(f"{field}[{index}]", f"'{key}' is not a line number", "invalid")]
        )
    return int(key)


def _serials(options: list[str]) -> dict[int, list[str]]:
    """``LINE=S1,S2,...`` per option."""
    found: dict[int, list[str]] = {}
    for index, text in enumerate(options):
        key, sep, numbers = text.partition("=")
        if not sep or not numbers:
            raise InvalidInput(
                [FieldError(f"serials[{index}]", f"'{text}': write LINE=S1,S2,...", "invalid")]
            )
        found[_line_no("serials", index, key)] = [n.strip() for n in numbers.split(",")]
    return found


SERIALS = typer.Option(
    [], "--serials", help="LINE=S1,S2,...: the serial numbers of a serialised line (repeat)."
)


def _print_transfer(transfer: Transfer) -> None:
    from rich.table import Table

    table = Table(
        "line",
        "sku",
        "lot",
        "requested",
        "shipped",
        "received",
        "difference",
        "reason",
        title=f"{transfer.number} · {transfer.from_warehouse} → {transfer.to_warehouse} · "
        f"{transfer.status.value}"
        + (f" · expected {transfer.expected_on}" if transfer.expected_on else "")
        + (f" · for order {transfer.order_id}" if transfer.order_id is not None else ""),
        title_justify="left",
    )
    for line in transfer.lines:
        table.add_row(
            str(line.line_no),
            line.sku,
            line.lot or "",
            str(line.quantity),
            "" if line.shipped_quantity is None else str(line.shipped_quantity),
            "" if line.received_quantity is None else str(line.received_quantity),
            f"{line.discrepancy:+d}" if line.discrepancy else "",
            line.discrepancy_reason or "",
        )
    console.print(table)


TRANSFER_COLUMNS = [
    Column("number"),
    Column("from_warehouse", "from"),
    Column("to_warehouse", "to"),
    Column("status"),
    Column("lines", right=True),
    Column("in_transit", "in transit", right=True),
    Column("expected_on", "expected"),
    Column("order_id", "order_id", right=True),
    Column("created_at", table=False),
]


@app.command("list")
@handles_errors
def list_transfers(
    status: str | None = typer.Option(None, help="requested, shipped, received or cancelled."),
    warehouse: str | None = typer.Option(None, help="From or to this warehouse."),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many transfers."),
    output: Output = OUTPUT,
) -> None:
    """Transfers, newest first."""
    from potok.services import transfers as transfer_service

    potok = open_potok()
    try:
        page = transfer_service.list_transfers(
            cli_uow(potok),
            status=status,
            warehouses=[warehouse] if warehouse else None,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "number": t.number,
            "from_warehouse": t.from_warehouse,
            "to_warehouse": t.to_warehouse,
            "status": t.status,
            "lines": len(t.lines),
            "in_transit": sum(line.in_transit for line in t.lines),
            "expected_on": t.expected_on,
            "order_id": t.order_id,
            "created_at": t.created_at,
        }
        for t in page.items
    ]
    print_listing(
        rows,
        TRANSFER_COLUMNS,
        output,
        more="more transfers exist; narrow the filters or raise --limit"
        if page.next_cursor
        else None,
    )


@app.command("show")
@handles_errors
def show_transfer(number: str) -> None:
    """One transfer with its lines."""
    from potok.services import transfers as transfer_service

    potok = open_potok()
    try:
        _print_transfer(transfer_service.get_transfer(cli_uow(potok), number))
    finally:
        potok.close()


@app.command("create")
@handles_errors
def create_transfer(
    source: str = typer.Argument(..., help="The warehouse the stock leaves."),
    destination: str = typer.Argument(..., help="The warehouse it goes to."),
    lines: list[str] = typer.Argument(..., help="SKU=QTY, or SKU@LOT=QTY for lot products."),
    expected_on: str | None = typer.Option(None, help="When it should arrive (YYYY-MM-DD)."),
    comment: str = typer.Option(""),
) -> None:
    """Ask for stock to move; nothing moves until it is shipped."""
    from potok.domain.inventory.transfers import RequestTransfer, TransferLineRequest
    from potok.services import transfers as transfer_service

    requests = []
    for index, text in enumerate(lines):
        what, quantity = _pair("lines", index, text, "SKU=QTY or SKU@LOT=QTY")
        sku, _, lot = what.partition("@")
        requests.append(TransferLineRequest(sku, quantity, lot or None))
    expected = _date("expected_on", expected_on)

    potok = open_potok()
    try:
        transfer = transfer_service.request_transfer(
            cli_uow(potok),
            RequestTransfer(source, destination, requests, expected, comment),
            cli_actor(),
        )
        console.print(f"requested {transfer.number}")
        _print_transfer(transfer)
    finally:
        potok.close()


@app.command("ship")
@handles_errors
def ship_transfer(
    number: str,
    lines: list[str] = typer.Argument(
        None, help="LINE=QTY for lines shipping fewer units than requested; others ship in full."
    ),
    serials: list[str] = SERIALS,
) -> None:
    """The goods left the source: taken from its available stock, now in transit."""
    from potok.services import transfers as transfer_service

    quantities = {}
    for index, text in enumerate(lines or []):
        key, quantity = _pair("lines", index, text, "LINE=QTY")
        quantities[_line_no("lines", index, key)] = quantity

    potok = open_potok()
    try:
        transfer = transfer_service.ship_transfer(
            cli_uow(potok), number, cli_actor(), quantities=quantities, serials=_serials(serials)
        )
        console.print(f"shipped {transfer.number}")
        _print_transfer(transfer)
    finally:
        potok.close()


@app.command("receive")
@handles_errors
def receive_transfer(
    number: str,
    lines: list[str] = typer.Argument(
        None, help="LINE=QTY for lines that arrived other than shipped; others arrived as shipped."
    ),
    reason: list[str] = typer.Option(
        [], "--reason", help="LINE=TEXT: why a line differs (repeat per line)."
    ),
    serials: list[str] = SERIALS,
) -> None:
    """The goods arrived: what arrived enters the destination's stock."""
    from potok.domain.inventory.transfers import Receipt
    from potok.services import transfers as transfer_service

    reasons: dict[int, str] = {}
    for index, text in enumerate(reason):
        key, sep, why = text.partition("=")
        if not sep:
            raise InvalidInput(
                [FieldError(f"reason[{index}]", f"'{text}': write LINE=TEXT", "invalid")]
            )
        reasons[_line_no("reason", index, key)] = why
    receipts = {}
    for index, text in enumerate(lines or []):
        key, quantity = _pair("lines", index, text, "LINE=QTY")
        line_no = _line_no("lines", index, key)
        receipts[line_no] = Receipt(quantity, reasons.get(line_no))

    potok = open_potok()
    try:
        arrival = transfer_service.receive_transfer(
            cli_uow(potok), number, cli_actor(), receipts=receipts, serials=_serials(serials)
        )
        console.print(f"received {arrival.transfer.number}")
        _print_transfer(arrival.transfer)
        if arrival.discrepancies:
            console.print(f"{len(arrival.discrepancies)} lines differ from the shipment")
        if arrival.backorders_reserved:
            console.print(
                "backordered orders now reserved: "
                + ", ".join(str(o) for o in arrival.backorders_reserved)
            )
    finally:
        potok.close()


@app.command("cancel")
@handles_errors
def cancel_transfer(number: str, reason: str = typer.Option("")) -> None:
    """Call off a transfer that has not been shipped."""
    from potok.services import transfers as transfer_service

    potok = open_potok()
    try:
        transfer = transfer_service.cancel_transfer(
            cli_uow(potok), number, cli_actor(), reason=reason
        )
        console.print(f"cancelled {transfer.number}")
    finally:
        potok.close()


def _date(field: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput([FieldError(field, "write a date as YYYY-MM-DD", "invalid")]) from None


# ---------------------------------------------------------------------- purchase orders


def _print_order(order: PurchaseOrder) -> None:
    from rich.table import Table

    table = Table(
        "line",
        "sku",
        "ordered",
        "received",
        "outstanding",
        title=f"{order.number} · {order.supplier} → {order.warehouse} · {order.status.value}"
        + (f" · expected {order.expected_on}" if order.expected_on else ""),
        title_justify="left",
    )
    for line in order.lines:
        table.add_row(
            str(line.line_no),
            line.sku,
            str(line.quantity),
            str(line.received_quantity),
            str(line.outstanding),
        )
    console.print(table)


PURCHASE_ORDER_COLUMNS = [
    Column("number"),
    Column("supplier"),
    Column("warehouse"),
    Column("status"),
    Column("outstanding", right=True),
    Column("expected_on", "expected"),
    Column("created_at", table=False),
]


@purchase_orders.command("list")
@handles_errors
def list_orders(
    status: str | None = typer.Option(
        None, help="open, partially_received, received or cancelled."
    ),
    warehouse: str | None = typer.Option(None, help="Only this warehouse."),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many purchase orders."),
    output: Output = OUTPUT,
) -> None:
    """Purchase orders, newest first."""
    from potok.services import purchasing

    potok = open_potok()
    try:
        page = purchasing.list_purchase_orders(
            cli_uow(potok),
            status=status,
            warehouses=[warehouse] if warehouse else None,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "number": o.number,
            "supplier": o.supplier,
            "warehouse": o.warehouse,
            "status": o.status,
            "outstanding": sum(line.outstanding for line in o.lines),
            "expected_on": o.expected_on,
            "created_at": o.created_at,
        }
        for o in page.items
    ]
    print_listing(
        rows,
        PURCHASE_ORDER_COLUMNS,
        output,
        more="more purchase orders exist; narrow the filters or raise --limit"
        if page.next_cursor
        else None,
    )


@purchase_orders.command("show")
@handles_errors
def show_order(number: str) -> None:
    """One purchase order with its lines."""
    from potok.services import purchasing

    potok = open_potok()
    try:
        _print_order(purchasing.get_purchase_order(cli_uow(potok), number))
    finally:
        potok.close()


@purchase_orders.command("create")
@handles_errors
def create_order(
    supplier: str,
    warehouse: str,
    lines: list[str] = typer.Argument(..., help="SKU=QTY"),
    number: str | None = typer.Option(None, help="Your own number; else PO-000001 and on."),
    expected_on: str | None = typer.Option(None, help="YYYY-MM-DD"),
) -> None:
    """Record stock ordered from a supplier; it counts as incoming until received."""
    from potok.domain.inventory.purchasing import CreatePurchaseOrder, PurchaseLineRequest
    from potok.services import purchasing

    requests = [
        PurchaseLineRequest(*_pair("lines", index, text, "SKU=QTY"))
        for index, text in enumerate(lines)
    ]
    expected = _date("expected_on", expected_on)

    potok = open_potok()
    try:
        order = purchasing.create_purchase_order(
            cli_uow(potok),
            CreatePurchaseOrder(supplier, warehouse, requests, number, expected),
            cli_actor(),
        )
        console.print(f"created {order.number}")
        _print_order(order)
    finally:
        potok.close()


@purchase_orders.command("receive")
@handles_errors
def receive_order(
    number: str,
    lines: list[str] = typer.Argument(..., help="LINE=QTY for each line in the delivery."),
    allow_over: bool = typer.Option(False, "--allow-over", help="Accept more than is outstanding."),
    lot: list[str] = typer.Option(
        [], "--lot", help="LINE=NUMBER or LINE=NUMBER@EXPIRES_ON (YYYY-MM-DD), for lot products."
    ),
    serials: list[str] = SERIALS,
) -> None:
    """A delivery arrived: each line's units are received into the warehouse's stock."""
    from potok.domain.inventory.lots import LotInput
    from potok.services import purchasing

    quantities = {}
    for index, text in enumerate(lines):
        key, quantity = _pair("lines", index, text, "LINE=QTY")
        quantities[_line_no("lines", index, key)] = quantity
    lots = {}
    for index, text in enumerate(lot):
        key, sep, value = text.partition("=")
        lot_number, _, expires = value.partition("@")
        if not sep or not lot_number:
            raise InvalidInput(
                [
                    FieldError(
                        f"lot[{index}]", f"'{text}': write LINE=NUMBER[@YYYY-MM-DD]", "invalid"
                    )
                ]
            )
        lots[_line_no("lot", index, key)] = LotInput(
            lot_number, expires_on=_date(f"lot[{index}]", expires or None)
        )

    potok = open_potok()
    try:
        receipt = purchasing.receive_purchase_order(
            cli_uow(potok),
            number,
            quantities,
            cli_actor(),
            allow_over_receipt=allow_over,
            lots=lots,
            serials=_serials(serials),
        )
        console.print(f"received on {receipt.order.number}")
        _print_order(receipt.order)
        if receipt.backorders_reserved:
            console.print(
                "backordered orders now reserved: "
                + ", ".join(str(o) for o in receipt.backorders_reserved)
            )
    finally:
        potok.close()


@purchase_orders.command("cancel")
@handles_errors
def cancel_order(number: str, reason: str = typer.Option("")) -> None:
    """Nothing more will come on this purchase order."""
    from potok.services import purchasing

    potok = open_potok()
    try:
        order = purchasing.cancel_purchase_order(cli_uow(potok), number, cli_actor(), reason=reason)
        console.print(f"cancelled {order.number}")
    finally:
        potok.close()
