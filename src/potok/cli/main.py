"""The ``potok`` command.

Help is plain (click's layout, not rich panels): it starts faster, shows a flag as a flag
rather than ``<bool>``, and prints ``[default: ...]`` in help texts as written.
"""

from __future__ import annotations

import typer

from potok import __version__
from potok.cli import (
    alerts,
    backup,
    carriers,
    categories,
    db,
    demo,
    documents,
    events,
    files,
    forecast,
    marketplaces,
    notifications,
    orders,
    payments,
    picking,
    receipts,
    reports,
    returns,
    rules,
    security,
    serve,
    shipments,
    sourcing,
    stock,
    tasks,
    thresholds,
    transfers,
    worker,
)
from potok.cli.access import init, keys, users
from potok.cli.common import use_database

app = typer.Typer(
    name="potok",
    help="Potok - order management for retailers who sell everywhere.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(stock.app, name="stock")
app.add_typer(files.app, name="files")
app.add_typer(categories.app, name="categories")
app.add_typer(orders.app, name="orders")
app.add_typer(transfers.app, name="transfers")
app.add_typer(transfers.purchase_orders, name="purchase-orders")
app.add_typer(backup.app, name="backup")
app.add_typer(security.app, name="security")
app.add_typer(sourcing.app, name="sourcing")
app.add_typer(alerts.app, name="alerts")
app.add_typer(events.app, name="events")
app.add_typer(events.webhooks, name="webhooks")
app.add_typer(shipments.app, name="shipments")
app.add_typer(returns.app, name="returns")
app.add_typer(receipts.app, name="receipts")
app.add_typer(notifications.app, name="notifications")
app.add_typer(carriers.app, name="carriers")
app.add_typer(picking.app, name="picking")
app.add_typer(documents.app, name="documents")
app.add_typer(documents.entities, name="legal-entities")
app.add_typer(marketplaces.app, name="marketplaces")
app.add_typer(rules.app, name="rules")
app.add_typer(tasks.app, name="tasks")
app.add_typer(thresholds.app, name="thresholds")
app.add_typer(reports.app, name="reports")
app.add_typer(payments.app, name="payments")
app.add_typer(forecast.app, name="forecast")
app.command()(serve.serve)
app.command()(demo.demo)
app.command()(worker.worker)
app.add_typer(users, name="users")
app.add_typer(keys, name="keys")
app.command()(init)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"potok {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    database: str | None = typer.Option(
        None,
        "--db",
        envvar="POTOK_DB__URL",
        metavar="URL",
        help="Database URL: sqlite:///potok.db (default) or postgresql://user@host/db.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    use_database(database)


def run() -> None:
    app()
