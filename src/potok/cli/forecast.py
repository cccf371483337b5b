"""``potok forecast``: daily demand forecasts per SKU and warehouse, their backtest against
the seasonal naive, one SKU's history and forecast, and reorder points built on them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import typer

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
    from potok.services.forecasting import StoredForecast
    from potok.services.reorders import Reorder

app = typer.Typer(help="Demand forecasts, their accuracy and reorder points.", no_args_is_help=True)

UNTIL = typer.Option(None, "--until", help="Last day of history (YYYY-MM-DD); today by default.")
DAYS = typer.Option(365, "--days", min=14, max=3650, help="Days of history to learn from.")
HORIZON = typer.Option(28, "--horizon", min=1, max=180, help="Days to forecast.")


def _until(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.print(f"[bold red]error:[/] --until {value!r}: give a date as YYYY-MM-DD")
        raise typer.Exit(2) from None


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


@app.command("run")
@handles_errors
def run_command(
    until: str | None = UNTIL,
    days: int = DAYS,
    horizon: int = HORIZON,
    by_channel: bool = typer.Option(
        False, "--by-channel", help="A series per SKU, warehouse and sales channel."
    ),
    output: Output = OUTPUT,
) -> None:
    """Forecast every series and store the run (as the worker does on its schedule): each
    series' method, daily forecast and accuracy against the seasonal naive."""
    from potok.services import forecasting

    potok = open_potok()
    try:
        stored = forecasting.run_forecast(
            cli_uow(potok), _until(until), days=days, horizon=horizon, by_channel=by_channel
        )
    finally:
        potok.close()
    run = stored.run
    print_listing(
        [
            {
                "sku": s.sku,
                "warehouse": s.warehouse,
                "channel": s.channel,
                "method": s.method,
                "next_7_days": round(sum(s.forecast[:7]), 2),
                "mase": s.accuracy.mase if s.accuracy else None,
                "mase_seasonal_naive": s.baseline.mase if s.baseline else None,
                "note": s.note,
            }
            for s in run.series
        ],
        [
            Column("sku"),
            Column("warehouse"),
            Column("channel"),
            Column("method"),
            Column("next_7_days", "next 7 days", right=True),
            Column("mase", right=True, show=_num),
            Column("mase_seasonal_naive", "naive mase", right=True, show=_num),
            Column("note"),
        ],
        output,
        empty="no demand in the period",
    )
    for note in run.notes:
        errors.print(note, highlight=False)
    summary = f"run {stored.id} stored: {len(run.series)} series, {horizon} days ahead"
    if run.total is not None and run.total_baseline is not None:
        summary += f"; mase {_num(run.total.mase)} (seasonal naive {_num(run.total_baseline.mase)})"
    errors.print(summary, highlight=False)


@app.command("backtest")
@handles_errors
def backtest_command(
    until: str | None = UNTIL,
    days: int = DAYS,
    horizon: int = HORIZON,
    output: Output = OUTPUT,
) -> None:
    """Each series' method chosen on earlier origins and scored on the last HORIZON days it
    never saw, against the seasonal naive: MASE, WAPE and bias per series and overall."""
    from potok.services import forecasting

    potok = open_potok()
    try:
        demand = forecasting.load_demand(cli_uow(potok), _until(until), days=days)
    finally:
        potok.close()
    run = forecasting.forecast_demand(demand, horizon)
    rows = [
        {
            "sku": s.sku,
            "warehouse": s.warehouse,
            "method": s.method,
            "mase": s.accuracy.mase if s.accuracy else None,
            "mase_seasonal_naive": s.baseline.mase if s.baseline else None,
            "wape": s.accuracy.wape if s.accuracy else None,
            "bias": s.accuracy.bias if s.accuracy else None,
            "note": s.note,
        }
        for s in run.series
    ]
    print_listing(
        rows,
        [
            Column("sku"),
            Column("warehouse"),
            Column("method"),
            Column("mase", right=True, show=_num),
            Column("mase_seasonal_naive", "naive mase", right=True, show=_num),
            Column("wape", right=True, show=_num),
            Column("bias", right=True, show=_num),
            Column("note"),
        ],
        output,
        empty="no demand in the period",
    )
    for note in run.notes:
        errors.print(note, highlight=False)
    if run.total is not None and run.total_baseline is not None:
        t, b = run.total, run.total_baseline
        errors.print(
            f"overall, {len(run.series)} series, last {horizon} days unseen: "
            f"mase {_num(t.mase)} (seasonal naive {_num(b.mase)}), "
            f"wape {_num(t.wape)} (naive {_num(b.wape)}), bias {_num(t.bias)}",
            highlight=False,
        )


def _from_run(stored: StoredForecast) -> str:
    return (
        f"from run {stored.id} of {stored.ran_at:%Y-%m-%d %H:%M} UTC "
        f"(history up to {stored.until}, {stored.run.horizon} days ahead)"
    )


@app.command("show")
@handles_errors
def show_command(
    sku: str = typer.Argument(..., help="The SKU."),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Only this one."),
    output: Output = OUTPUT,
) -> None:
    """One SKU's forecast per warehouse (and channel), day by day, with an 80 % interval:
    read from the newest stored run, not forecast again."""
    from datetime import timedelta

    from potok.services import stored_forecasts

    potok = open_potok()
    try:
        stored = stored_forecasts.latest_forecast(
            cli_uow(potok), sku=sku, warehouses=[warehouse] if warehouse else None
        )
    finally:
        potok.close()
    first = stored.until + timedelta(days=1)
    rows = [
        {
            "warehouse": s.warehouse,
            "channel": s.channel,
            "day": first + timedelta(days=j),
            "method": s.method,
            "forecast": round(v, 2),
            "low": round(max(0.0, v - 1.2816 * s.sigma), 2),
            "high": round(v + 1.2816 * s.sigma, 2),
        }
        for s in stored.run.series
        for j, v in enumerate(s.forecast)
    ]
    print_listing(
        rows,
        [
            Column("warehouse"),
            Column("channel"),
            Column("day"),
            Column("method"),
            Column("forecast", right=True),
            Column("low", right=True),
            Column("high", right=True),
        ],
        output,
        empty=f"no forecast of {sku} in the stored run",
    )
    for s in stored.run.series:
        if s.note:
            errors.print(f"{s.warehouse}: {s.note}", highlight=False)
    errors.print(_from_run(stored), highlight=False)


@app.command("reorder")
@handles_errors
def reorder_command(
    lead_days: int = typer.Option(7, "--lead-days", min=1, max=180, help="Lead time in days."),
    review_days: int = typer.Option(7, "--review-days", min=1, max=180, help="Review period."),
    service: float = typer.Option(
        0.95, "--service-level", help="Target service level: 0.8, 0.9, 0.95, 0.98 or 0.99."
    ),
    warehouse: list[str] = typer.Option([], "--warehouse", "-w", help="Only this warehouse."),
    all_: bool = typer.Option(False, "--all", help="Every series, not only those to order."),
    output: Output = OUTPUT,
) -> None:
    """Reorder points and order-up-to levels from the newest stored forecast run and the
    stock now, beside the min/max rules, with the suggested quantity and why."""
    from potok.services import forecasting, stored_forecasts

    if service not in forecasting.Z_FOR:
        errors.print(f"[bold red]error:[/] --service-level {service}: one of 0.8, 0.9, ...")
        raise typer.Exit(2)
    potok = open_potok()
    try:
        stored, found = stored_forecasts.reorder_from_latest(
            cli_uow(potok),
            lead_days=lead_days,
            review_days=review_days,
            service_level=service,
            warehouses=warehouse or None,
        )
    finally:
        potok.close()
    print_listing(
        [
            {
                "warehouse": s.warehouse,
                "sku": s.sku,
                "reorder_point": s.reorder_point,
                "order_up_to": s.order_up_to,
                "position": s.position,
                "min": s.min_level,
                "max": s.max_level,
                "suggested_quantity": s.suggested_quantity,
                "why": s.why,
            }
            for s in found
            if all_ or s.suggested_quantity > 0
        ],
        [
            Column("warehouse"),
            Column("sku"),
            Column("reorder_point", "rop", right=True),
            Column("order_up_to", "up to", right=True),
            Column("position", right=True),
            Column("min", right=True),
            Column("max", right=True),
            Column("suggested_quantity", "order", right=True),
            Column("why", table=False),
        ],
        output,
        empty="nothing to order",
    )
    errors.print(f"{len(found)} series looked at, {_from_run(stored)}", highlight=False)


def _reorder_of(
    warehouse: str,
    skus: list[str],
    lead_days: int,
    review_days: int,
    service: float,
    expected_on: str | None,
) -> Reorder:
    from potok.services.reorders import Reorder

    expected = None
    if expected_on is not None:
        try:
            expected = date.fromisoformat(expected_on)
        except ValueError:
            errors.print(f"[bold red]error:[/] --expected-on {expected_on!r}: give YYYY-MM-DD")
            raise typer.Exit(2) from None
    return Reorder(warehouse, skus, lead_days, review_days, service, expected)


SKUS = typer.Option([], "--sku", "-s", help="Only these SKUs (repeat); all to order by default.")
LEAD = typer.Option(7, "--lead-days", min=1, max=180, help="Lead time in days.")
REVIEW = typer.Option(7, "--review-days", min=1, max=180, help="Review period in days.")
SERVICE = typer.Option(0.95, "--service-level", help="0.8, 0.9, 0.95, 0.98 or 0.99.")
EXPECTED = typer.Option(None, "--expected-on", help="When it should arrive (YYYY-MM-DD).")


@app.command("order")
@handles_errors
def order_command(
    warehouse: str = typer.Option(..., "--warehouse", "-w", help="The warehouse to restock."),
    supplier: str = typer.Option(..., "--supplier", help="Who the purchase order goes to."),
    sku: list[str] = SKUS,
    lead_days: int = LEAD,
    review_days: int = REVIEW,
    service: float = SERVICE,
    expected_on: str | None = EXPECTED,
) -> None:
    """Record a purchase order for the suggested quantities of a warehouse's positions to
    order (as `reorder` shows them); run again, it finds them ordered."""
    from potok.services import reorders
    from potok.services.forecasting import Z_FOR

    if service not in Z_FOR:
        errors.print(f"[bold red]error:[/] --service-level {service}: one of 0.8, 0.9, ...")
        raise typer.Exit(2)
    reorder = _reorder_of(warehouse, sku, lead_days, review_days, service, expected_on)
    potok = open_potok()
    try:
        order = reorders.order_suggested(cli_uow(potok), reorder, supplier, cli_actor())
    finally:
        potok.close()
    lines = ", ".join(f"{line.sku} {line.quantity}" for line in order.lines)
    console.print(f"created {order.number} to {order.supplier} for {order.warehouse}: {lines}")


@app.command("transfer")
@handles_errors
def transfer_command(
    warehouse: str = typer.Option(..., "--warehouse", "-w", help="The warehouse to restock."),
    from_warehouse: str = typer.Option(..., "--from", help="Where the stock comes from."),
    sku: list[str] = SKUS,
    lead_days: int = LEAD,
    review_days: int = REVIEW,
    service: float = SERVICE,
    expected_on: str | None = EXPECTED,
) -> None:
    """Request a transfer of the suggested quantities from another warehouse, at most what
    it has available; run again, it finds them on their way."""
    from potok.services import reorders
    from potok.services.forecasting import Z_FOR

    if service not in Z_FOR:
        errors.print(f"[bold red]error:[/] --service-level {service}: one of 0.8, 0.9, ...")
        raise typer.Exit(2)
    reorder = _reorder_of(warehouse, sku, lead_days, review_days, service, expected_on)
    potok = open_potok()
    try:
        made = reorders.transfer_suggested(cli_uow(potok), reorder, from_warehouse, cli_actor())
    finally:
        potok.close()
    lines = ", ".join(f"{line.sku} {line.quantity}" for line in made.lines)
    console.print(f"requested {made.number} {made.from_warehouse} -> {made.to_warehouse}: {lines}")
    if made.comment:
        console.print(made.comment, highlight=False)
