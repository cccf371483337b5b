"""``potok alerts``: what Potok could not settle by itself; list and acknowledge."""

from __future__ import annotations

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
    open_potok,
    print_listing,
)
from potok.domain.alerts import AlertState

app = typer.Typer(help="Alerts for operators: list and acknowledge.", no_args_is_help=True)

COLUMNS = [
    Column("id", right=True),
    Column("raised_at", "raised"),
    Column("kind"),
    Column("order_id", "order", right=True),
    Column("message"),
    Column("acknowledged_at", "acknowledged"),
    Column("acknowledged_by", "by"),
]


@app.command("list")
@handles_errors
def list_alerts(
    state: AlertState = typer.Option(AlertState.OPEN, "--state", help="Which alerts to list."),
    order_id: int | None = typer.Option(
        None, "--order", min=1, max=MAX_ID, metavar="ID", help="Only this order's alerts."
    ),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many, newest first."),
    output: Output = OUTPUT,
) -> None:
    """Alerts, newest first (open ones unless told otherwise)."""
    from potok.services import alerts as alert_service

    potok = open_potok()
    try:
        page = alert_service.list_alerts(
            cli_uow(potok), state=state, order_id=order_id, limit=limit
        )
    finally:
        potok.close()
    rows = [
        {
            "id": a.id,
            "raised_at": a.raised_at,
            "kind": a.kind,
            "order_id": a.order_id,
            "message": a.message,
            "acknowledged_at": a.acknowledged_at,
            "acknowledged_by": a.acknowledged_by,
        }
        for a in page.items
    ]
    which = "" if state is AlertState.ALL else f"{state.value} "
    print_listing(
        rows,
        COLUMNS,
        output,
        empty=f"no {which}alerts",
        more="more alerts exist; raise --limit" if page.next_cursor else None,
    )


@app.command("ack")
@handles_errors
def acknowledge(
    alert_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The alert's number."),
) -> None:
    """Acknowledge an alert: someone takes it from here."""
    from potok.services import alerts as alert_service

    potok = open_potok()
    try:
        alert = alert_service.acknowledge_alert(cli_uow(potok), alert_id, cli_actor())
    finally:
        potok.close()
    console.print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}")
