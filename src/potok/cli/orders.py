"""``potok orders``: list, show, report a picking shortage, expire."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from potok.cli.common import (
    MAX_ID,
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    money,
    open_potok,
    print_listing,
    styled,
    when,
)

if TYPE_CHECKING:
    from potok.services.read_models import OrderSummary

app = typer.Typer(
    help="Orders: list, show, and run the payment-deadline expiry.", no_args_is_help=True
)

STATUS_STYLE = {
    "new": "cyan",
    "confirmed": "blue",
    "reserved": "green",
    "backordered": "yellow",
    "on_hold": "magenta",
    "in_fulfilment": "bright_blue",
    "partially_shipped": "bright_cyan",
    "shipped": "cyan",
    "delivered": "bright_green",
    "returned_to_sender": "red",
    "cancelled": "dim",
}

COLUMNS = [
    Column("id", "order", right=True),
    Column("channel"),
    Column("external_id", "external id"),
    Column("status", show=lambda status: styled(STATUS_STYLE.get(status, ""), status)),
    Column("payment_status", table=False),
    Column("payment_method", "paid by"),
    Column("customer", data=False),
    Column("customer_name", table=False),
    Column("customer_phone", table=False),
    Column("customer_email", table=False),
    Column("line_count", "lines", right=True),
    Column("total", right=True, show=money),
    Column("currency"),
    Column("warehouses"),
    Column("priority", table=False),
    Column("promised_at", table=False),
    Column("created_at", "created"),
    Column("updated_at", table=False),
    Column("personal_data", table=False),
    Column("missing_key", table=False),
]


def _customer(order: OrderSummary) -> str:
    if order.missing_key is not None:
        return f"(unavailable: key {order.missing_key})"
    return order.customer_name or (order.customer_phone or order.customer_email or "")


@app.command("list")
@handles_errors
def list_orders(
    status: list[str] = typer.Option([], "--status", "-s", help="Repeat for several."),
    channel: list[str] = typer.Option([], "--channel", "-c", help="Repeat for several."),
    warehouse: list[str] = typer.Option([], "--warehouse", "-w", help="Reserved at."),
    payment_method: list[str] = typer.Option(
        [],
        "--payment-method",
        help="How it is paid: online, cash_on_delivery, card_on_delivery, invoice, "
        "marketplace, in_store. Repeat for several.",
    ),
    search: str | None = typer.Option(
        None, "--search", "-q", help="Number, external id, phone, e-mail or full name."
    ),
    sort: str = typer.Option(
        "-created_at", help="created_at, updated_at, total, priority or id; '-' for descending."
    ),
    limit: int = typer.Option(30, min=1, max=500, help="At most this many orders."),
    output: Output = OUTPUT,
) -> None:
    """Orders, newest first."""
    from potok.services import orders as order_service
    from potok.services.read_models import OrderFilter

    potok = open_potok()
    try:
        page = order_service.list_orders(
            cli_uow(potok),
            OrderFilter(
                statuses=status,
                channels=channel,
                warehouses=warehouse,
                payment_methods=payment_method,
                text=search,
            ),
            sort=sort,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "id": o.id,
            "channel": o.channel,
            "external_id": o.external_id,
            "status": o.status,
            "payment_status": o.payment_status,
            "payment_method": o.payment_method or "",
            "customer": _customer(o),
            "customer_name": o.customer_name,
            "customer_phone": o.customer_phone,
            "customer_email": o.customer_email,
            "line_count": o.line_count,
            "total": o.total,
            "currency": o.currency,
            "warehouses": o.warehouses,
            "priority": o.priority,
            "promised_at": o.promised_at,
            "created_at": o.created_at,
            "updated_at": o.updated_at,
            "personal_data": o.personal_data,
            "missing_key": o.missing_key,
        }
        for o in page.items
    ]
    print_listing(
        rows,
        COLUMNS,
        output,
        more="more orders exist; narrow the filters or raise --limit" if page.next_cursor else None,
    )


@app.command()
@handles_errors
def show(
    order_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Potok's order number."),
) -> None:
    """One order: lines, reservations, holds and history."""
    from rich.table import Table

    from potok.services import orders as order_service

    potok = open_potok()
    try:
        view = order_service.get_order(cli_uow(potok), order_id)
    finally:
        potok.close()
    order = view.order
    console.print(
        f"[bold]Order {order.id}[/] ({order.channel_code} {order.external_id or ''}) "
        f"- [bold]{order.status.value}[/], payment {order.payment_status.value}"
        f"{f' ({order.payment_method.value})' if order.payment_method else ''}, "
        f"total {order.total}"
    )
    lines = Table("#", "sku", "name", "qty", "price", "reserved")
    for line in order.lines:
        lines.add_row(
            str(line.line_no),
            line.sku,
            line.name,
            str(line.quantity),
            str(line.unit_price),
            str(order.reserved_quantity(line.line_no)),
        )
    console.print(lines)
    if order.reservations:
        deep = any(r.lot or r.serials for r in order.reservations)  # lots, serial numbers
        res = Table(
            "line", "warehouse", "sku", "qty", "status", *(("lot", "serials") if deep else ())
        )
        for r in order.reservations:
            extra = (r.lot or "", ", ".join(r.serials)) if deep else ()
            res.add_row(
                str(r.line_no), r.warehouse_code, r.sku, str(r.quantity), r.status.value, *extra
            )
        console.print(res)
    history = Table("when", "who", "what", "status", "why")
    for h in view.history:
        history.add_row(
            when(h.occurred_at),
            h.actor,
            h.action,
            f"{h.from_status or ''} → {h.to_status}",
            h.reason or "",
        )
    console.print(history)


@app.command()
@handles_errors
def shortage(
    order_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Potok's order number."),
    warehouse: str = typer.Option(..., "--warehouse", "-w", help="Where the units are missing."),
    sku: str = typer.Option(..., "--sku", help="The product whose units are missing."),
    missing: int = typer.Option(
        ..., "--missing", "-n", min=1, max=1_000_000_000, help="Units not found on the shelf."
    ),
    lot: str | None = typer.Option(None, "--lot", help="When the order holds several lots."),
    note: str | None = typer.Option(None, "--note", help="Kept in the order's history."),
) -> None:
    """A picker did not find reserved units: write them off and source the order again."""
    from potok.domain.orders.commands import ReportShortage
    from potok.services import rerouting

    potok = open_potok()
    try:
        outcome = rerouting.report_shortage(
            cli_uow(potok),
            ReportShortage(order_id, warehouse, sku, missing, lot, note),
            cli_actor(),
        )
    finally:
        potok.close()
    order = outcome.order
    held = ", ".join(f"{r.quantity} {r.sku} at {r.warehouse_code}" for r in order.open_reservations)
    console.print(
        f"{outcome.sku} at {outcome.warehouse}: {outcome.missing} written off, "
        f"{outcome.on_hand} on hand, {outcome.available} available"
    )
    console.print(f"order {order.id}: [bold]{order.status.value}[/] {held}")
    if outcome.displaced:
        console.print(f"orders sourced again: {', '.join(map(str, outcome.displaced))}")
    if outcome.backordered:
        console.print(
            f"[yellow]backordered: {', '.join(map(str, outcome.backordered))}; "
            f"alerts {', '.join(map(str, outcome.alerts))}[/]"
        )


@app.command()
@handles_errors
def expire() -> None:
    """Cancel unpaid orders past their payment deadline and end timed holds, now."""
    from potok.worker.jobs import run_due_jobs

    potok = open_potok()
    try:
        report = run_due_jobs(potok)
    finally:
        potok.close()
    console.print(
        f"expired {len(report.expired_orders)} unpaid orders and {report.expired_holds} holds; "
        f"reserved {len(report.backorders_reserved)} backordered orders; "
        f"{len(report.minimum_crossings)} stock levels crossed their minimum"
    )
    if report.expired_lots is not None and report.expired_lots.positions:
        console.print(
            f"{report.expired_lots.units} units of {report.expired_lots.positions} expired lot "
            f"positions made unavailable; {len(report.expired_lots.orders_resourced)} orders "
            "sourced again"
        )
    lapsed = report.lapsed_reservations
    if lapsed is not None and lapsed.orders:
        console.print(
            f"{len(lapsed.orders)} orders whose reservations outlived their location's hours "
            f"sourced again; {len(lapsed.backordered)} backordered"
        )
