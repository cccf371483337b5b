"""``potok reports``: order KPIs, cancellation and return reasons, picking per employee,
and the rebuild of the reports' read model from history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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

if TYPE_CHECKING:
    from potok.domain.analytics import Period

app = typer.Typer(help="Reports and KPIs: orders, reasons, employees.", no_args_is_help=True)

GRAINS = ("day", "week", "month")
DIMENSIONS = ("none", "channel", "warehouse", "carrier", "category")


def _day(value: str | None, default: date, name: str) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.print(f"[bold red]error:[/] --{name} {value!r}: give a date as YYYY-MM-DD")
        raise typer.Exit(2) from None


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        errors.print(f"[bold red]error:[/] --{name} {value!r}: one of {', '.join(allowed)}")
        raise typer.Exit(2)
    return value


SINCE = typer.Option(None, "--since", help="First day (YYYY-MM-DD, UTC); 29 days before --until.")
UNTIL = typer.Option(None, "--until", help="Last day (YYYY-MM-DD, UTC); today by default.")


def _period(since: str | None, until: str | None, grain: str = "day") -> Period:
    from potok.domain.analytics import Grain, Period

    last = _day(until, datetime.now(UTC).date(), "until")
    first = _day(since, last - timedelta(days=29), "since")
    return Period(first, last, Grain(_choice(grain, GRAINS, "grain")))


def _hours(seconds: object) -> str:
    return "" if not isinstance(seconds, float) else f"{seconds / 3600:.1f} h"


def _share(value: object) -> str:
    return "" if value is None else f"{float(str(value)) * 100:.1f} %"


ORDER_COLUMNS = [
    Column("period"),
    Column("key", "by"),
    Column("currency", table=False),
    Column("orders", right=True),
    Column("cancelled", table=False),
    Column("revenue", right=True),
    Column("average_order", "avg order", right=True),
    Column("cancellation_rate", "cancelled", right=True, show=_share),
    Column("delivered", table=False),
    Column("on_time_rate", "on time", right=True, show=_share),
    Column("backorder_rate", "backordered", right=True, show=_share),
    Column("fill_rate", "fill", right=True, show=_share),
    Column("return_rate", "returned", right=True, show=_share),
    Column("shipping_cost_per_order", table=False),
    Column("shipping_estimate_per_order", table=False),
    *(
        Column(f"{stage}_{q}_s", f"{stage} {q}", right=True, show=_hours, table=q == "median")
        for stage in ("confirmed", "picked", "packed", "handed_over", "delivered")
        for q in ("median", "p90")
    ),
]


@app.command("orders")
@handles_errors
def orders_report(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    grain: str = typer.Option("day", help="Cut the period by day, week or month."),
    by: str = typer.Option(
        "none",
        help="And by channel, warehouse, carrier or category (every order under each "
        "category of its products and those above them; revenue the category's lines).",
    ),
    channel: list[str] = typer.Option([], "--channel", "-c", help="Only this channel (repeat)."),
    output: Output = OUTPUT,
) -> None:
    """Order KPIs: orders, revenue, average order, rates, and the median time of each stage
    (the 90th percentile too in JSON and CSV), by the day the orders were accepted."""
    from potok.domain.analytics import Dimension
    from potok.services import reports

    period = _period(since, until, grain)
    dimension = Dimension(_choice(by, DIMENSIONS, "by"))
    potok = open_potok()
    try:
        found = reports.order_report(cli_uow(potok), period, dimension, channels=channel or None)
    finally:
        potok.close()
    print_listing(
        [reports.flat(row) for row in found.rows],
        ORDER_COLUMNS,
        output,
        title=f"Orders {period.since} - {period.until} by {period.grain.value}",
        empty="no orders in the period",
    )


@app.command("reasons")
@handles_errors
def reasons_report(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    channel: list[str] = typer.Option([], "--channel", "-c", help="Only this channel (repeat)."),
    output: Output = OUTPUT,
) -> None:
    """Why the period's orders were cancelled or returned, most frequent first."""
    from potok.services import reports

    period = _period(since, until)
    potok = open_potok()
    try:
        found = reports.reasons_report(cli_uow(potok), period, channels=channel or None)
    finally:
        potok.close()
    print_listing(
        [{"kind": r.kind, "reason": r.reason, "orders": r.orders} for r in found],
        [Column("kind"), Column("reason"), Column("orders", right=True)],
        output,
        empty="no cancellations or returns in the period",
    )


@app.command("employees")
@handles_errors
def employees_report(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    warehouse: list[str] = typer.Option([], "--warehouse", "-w", help="Only this warehouse."),
    output: Output = OUTPUT,
) -> None:
    """Units picked per person and warehouse, and units per working hour (gaps between scans
    longer than 15 minutes are breaks)."""
    from potok.services import reports

    period = _period(since, until)
    potok = open_potok()
    try:
        found = reports.employee_report(cli_uow(potok), period, warehouses=warehouse or None)
    finally:
        potok.close()
    print_listing(
        [
            {
                "actor": f.actor,
                "warehouse": f.warehouse,
                "scans": f.scans,
                "units": f.units,
                "active_hours": round(f.active_s / 3600, 2),
                "units_per_hour": f.units_per_hour,
            }
            for f in found
        ],
        [
            Column("actor"),
            Column("warehouse"),
            Column("scans", right=True),
            Column("units", right=True),
            Column("active_hours", "active h", right=True),
            Column("units_per_hour", "units/h", right=True),
        ],
        output,
        empty="no picks in the period",
    )


@app.command("rebuild")
@handles_errors
def rebuild(
    batch: int = typer.Option(1000, min=1, max=10000, help="Orders per transaction."),
) -> None:
    """Write the reports' read model (order facts) afresh from the history of every order.
    Run once after upgrading; afterwards the worker keeps it current."""
    from rich.progress import Progress

    from potok.services import reports

    potok = open_potok()
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("orders", total=None)
            done = reports.rebuild_order_facts(
                cli_uow(potok), batch=batch, progress=lambda n: bar.advance(task, n)
            )
    finally:
        potok.close()
    console.print(f"order facts written for {done} orders")


@app.command("stock")
@handles_errors
def stock_report(
    until: str | None = UNTIL,
    days: int = typer.Option(90, min=1, max=3650, help="Days of sales to judge by."),
    expiring: int = typer.Option(30, min=0, max=3650, help="Lots expiring within these days."),
    warehouse: list[str] = typer.Option([], "--warehouse", "-w", help="Only this warehouse."),
    dead: bool = typer.Option(False, "--dead", help="Only dead stock (on hand, never asked for)."),
    output: Output = OUTPUT,
) -> None:
    """Stock KPIs per SKU and warehouse: turnover and days of cover over the last DAYS,
    dead stock, and the value on hand and in lots about to expire (at product prices)."""
    from potok.services import stock_reports

    last = _day(until, datetime.now(UTC).date(), "until")
    potok = open_potok()
    try:
        found = stock_reports.stock_figures(
            cli_uow(potok),
            last,
            days=days,
            expiring_within=expiring,
            warehouses=warehouse or None,
        )
    finally:
        potok.close()
    print_listing(
        [
            {
                "warehouse": f.warehouse,
                "sku": f.sku,
                "on_hand": f.on_hand,
                "sold": f.sold,
                "turnover": f.turnover,
                "days_of_cover": f.days_of_cover,
                "dead": f.dead,
                "value": f.value,
                "expiring_units": f.expiring_units,
                "expiring_value": f.expiring_value,
            }
            for f in found
            if f.dead or not dead
        ],
        [
            Column("warehouse"),
            Column("sku"),
            Column("on_hand", "on hand", right=True),
            Column("sold", right=True),
            Column("turnover", right=True),
            Column("days_of_cover", "cover d", right=True),
            Column("dead"),
            Column("value", right=True),
            Column("expiring_units", "expiring", right=True),
            Column("expiring_value", "expiring value", right=True),
        ],
        output,
        empty="no stock",
    )


RECONCILIATION_COLUMNS = [
    Column("order_id", "order", right=True),
    Column("channel"),
    Column("payment_status", "payment"),
    Column("paid", right=True),
    Column("refunded", right=True),
    Column("currency", table=False),
    Column("gateway_status", "gateway"),
    Column("gateway_captured", "captured", right=True),
    Column("gateway_refunded", "refunded at gateway", right=True),
    Column("receipts_sold", "receipts", right=True),
    Column("receipts_refunded", "refund receipts", right=True),
    Column("differences"),
    Column("details", table=False),
]


@app.command("reconciliation")
@handles_errors
def reconciliation_report(
    since: str | None = typer.Option(
        None, "--from", help="First day (YYYY-MM-DD, UTC); 29 days before --to."
    ),
    until: str | None = typer.Option(
        None, "--to", help="Last day (YYYY-MM-DD, UTC), included; today by default."
    ),
    only_differences: bool = typer.Option(
        False, "--only-differences", help="Only the orders where something does not match."
    ),
    output: Output = OUTPUT,
) -> None:
    """Every order paid or refunded in the period against its gateway payment (ЮKassa) and
    its fiscal receipts, the differences listed (codes in the table, sentences in JSON and
    CSV); exits 1 when there is any."""
    from potok.services.payments import reconciliation

    period = _period(since, until)
    potok = open_potok()
    try:
        found = reconciliation.reconciliation_report(
            cli_uow(potok),
            period.since,
            period.until,
            receipts=reconciliation.receipts_reader(potok.fiscal.rules.enabled),
            only_differences=only_differences,
        )
    finally:
        potok.close()
    print_listing(
        [reconciliation.flat(row) for row in found.rows],
        RECONCILIATION_COLUMNS,
        output,
        title=f"Reconciliation {found.since} - {found.until}",
        empty="no order was paid or refunded in the period",
    )
    if output is Output.TABLE:
        missing = len(found.with_differences)
        checked = "" if found.receipts_checked else " (fiscal receipts are not kept: not checked)"
        console.print(f"{len(found.rows)} orders, {missing} with differences{checked}")
    if found.with_differences:
        raise typer.Exit(1)
