"""``potok alerts``: what Potok could not settle by itself; list and acknowledge."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from potok.cli.common import cli_actor, cli_uow, console, handles_errors, open_potok
from potok.domain.alerts import AlertState
from potok.services import alerts as alert_service

app = typer.Typer(help="Alerts for operators: list and acknowledge.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


@app.command("list")
@handles_errors
def list_alerts(
    state: AlertState = typer.Option(AlertState.OPEN, "--state", help="open, acknowledged, all"),
    order_id: int | None = typer.Option(None, "--order", help="Only this order's alerts."),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """Alerts as a table, newest first (open ones unless told otherwise)."""
    potok = open_potok()
    try:
        page = alert_service.list_alerts(
            cli_uow(potok), state=state, order_id=order_id, limit=limit
        )
    finally:
        potok.close()
    if not page.items:
        console.print(f"no {state.value if state is not AlertState.ALL else ''} alerts".strip())
        return
    table = Table("id", "raised", "kind", "order", "message", "acknowledged")
    for a in page.items:
        table.add_row(
            str(a.id),
            _when(a.raised_at),
            a.kind.value,
            str(a.order_id or ""),
            a.message,
            f"{_when(a.acknowledged_at)} {a.acknowledged_by or ''}".strip(),
        )
    console.print(table)
    if page.next_cursor:
        console.print("[dim]more alerts exist; raise --limit[/]")


@app.command("ack")
@handles_errors
def acknowledge(alert_id: int = typer.Argument(..., help="The alert's number.")) -> None:
    """Acknowledge an alert: someone takes it from here."""
    potok = open_potok()
    try:
        alert = alert_service.acknowledge_alert(cli_uow(potok), alert_id, cli_actor())
    finally:
        potok.close()
    console.print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}")
