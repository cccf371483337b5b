"""``potok demo``: the sandbox - fictitious data in a fresh database, then the API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from potok.cli.access import show_secret
from potok.cli.common import (
    cli_actor,
    cli_uow,
    console,
    database_option,
    handles_errors,
    open_potok,
)
from potok.cli.serve import serve as serve_api

if TYPE_CHECKING:
    from potok.bootstrap import Potok
    from potok.services.unit_of_work import UnitOfWork

SANDBOX_KEY = "sandbox"


@handles_errors
def demo(
    orders: int = typer.Option(300, min=0, max=100_000, help="How many orders to place."),
    random_seed: int = typer.Option(7, "--seed", help="The same seed gives the same sandbox."),
    history_days: int = typer.Option(
        365,
        "--history-days",
        min=0,
        max=730,
        help="Days of order history up to today, for the reports, charts and forecast: the "
        "days before the placed orders' fortnight, written in bulk (14 or fewer: none).",
    ),
    fresh: bool = typer.Option(
        False, "--fresh", help="Start from an empty database (deletes Potok's tables!)."
    ),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API afterwards."),
    port: int | None = typer.Option(
        None, help="Port to serve on (POTOK_API__PORT).", show_default="8000"
    ),
    messages: Path | None = typer.Option(
        None,
        "--messages",
        help="Where the customer messages the sandbox's orders call for are written "
        "(e-mails and SMS as customers would read them). Unless an SMTP host is set "
        "(POTOK_NOTIFICATIONS__SMTP_HOST): then the e-mails go there.",
        show_default="next to the SQLite database, or potok-demo-messages.log",
    ),
) -> None:
    """Create the sandbox: Russian warehouses, stores and pickup points, four channels, a
    catalogue with stock, a year of order history, and a few hundred orders of the last
    fortnight in assorted states; then serve the API."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from potok.db import migrate
    from potok.sandbox.seed import has_data, seed

    potok = open_potok(create=True)
    try:
        if fresh:
            _wipe(potok)
            potok = open_potok(create=True)
        migrate.upgrade(potok.engine)
        if has_data(potok):
            db = database_option(potok.settings.db.url)
            console.print("the database already has data; keeping it (use --fresh to rebuild)")
            console.print(
                "its sign-in and API key were printed when it was built; "
                f"'potok {db} users reset-password admin' and "
                f"'potok {db} keys create NAME --scope SCOPE' give new ones",
                highlight=False,
            )
        else:
            _start_messages(potok)
            if history_days > 14:
                console.print("writing the order history before the last fortnight…")
            with Progress(
                TextColumn("placing sandbox orders"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
            ) as bar:
                task = bar.add_task("orders", total=orders)
                report = seed(
                    potok,
                    orders=orders,
                    seed=random_seed,
                    history_days=history_days if history_days > 14 else 0,
                    progress=lambda done: bar.update(task, completed=done),
                )
            table = Table("status", "orders", title="Sandbox ready", title_justify="left")
            for status, count in sorted(report.statuses.items()):
                table.add_row(status, str(count))
            console.print(
                f"{report.warehouses} locations, {report.channels} channels, {report.products} "
                f"products, {report.stock_rows} stock positions, {report.rules} min/max rules; "
                f"{report.orders} orders "
                f"({report.refused} refused by a channel that rejects backorders)"
            )
            if report.history is not None:
                past = report.history
                console.print(
                    f"history from {past.first} to {past.last}: {past.orders} orders "
                    f"({past.cancelled} cancelled, {past.returned} returned), "
                    f"{past.moves} stock movements",
                    highlight=False,
                )
            console.print(table)
            if report.shipments:
                shipped = Table("shipment status", "shipments", title_justify="left")
                for status, count in sorted(report.shipments.items()):
                    shipped.add_row(status, str(count))
                console.print(shipped)
            if report.returns:
                returned = Table("return made", "returns", title_justify="left")
                for stage, count in sorted(report.returns.items()):
                    returned.add_row(stage, str(count))
                console.print(returned)
            _send_messages(potok, messages, port)
            _sandbox_access(potok)
    finally:
        potok.close()
    if serve:
        serve_api(
            host=None,
            port=port,
            workers=None,
            jobs=True,
            access_log=True,
            wait_for_database=60.0,  # every option given: a default is typer's OptionInfo here
        )


def _sandbox_access(potok: Potok) -> None:
    """The first administrator and a key with every business scope, their secrets printed."""
    from potok.domain.access import KEY_SCOPES
    from potok.services import access

    password = access.ensure_first_admin(cli_uow(potok))
    secret = None
    if all(k.name != SANDBOX_KEY for k in access.list_api_keys(cli_uow(potok))):
        _, secret = access.create_api_key(
            cli_uow(potok),
            name=SANDBOX_KEY,
            scopes=sorted(KEY_SCOPES),
            actor=cli_actor(),
        )
    console.print()
    console.print("[bold]Sign-in and API key of the sandbox[/] (shown only now):")
    if password is not None:
        show_secret("  administrator 'admin', one-time password", password)
    if secret is not None:
        show_secret(f"  API key '{SANDBOX_KEY}' (every business scope)", secret)
        console.print(
            "  paste the key into the [bold]Authorize[/] button of the docs page (/docs), or "
            "send it as 'Authorization: Bearer <key>'"
        )
    console.print()


def _start_messages(potok: Potok) -> None:
    """The customer messages' cursor at the empty outbox: every sandbox event is heard."""
    from potok.domain.kernel import utc_now
    from potok.services.unit_of_work import atomically
    from potok.worker.notifier import CONSUMER

    def work(uow: UnitOfWork) -> None:
        uow.consumers.ensure(CONSUMER, uow.event_log.last_position(), utc_now())

    atomically(cli_uow(potok), work)


def messages_path(url: str, given: Path | None) -> Path:
    """Where the demo's messages go: as asked, else beside the SQLite file, else here."""
    if given is not None:
        return given
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        database = Path(str(parsed.database))
        return database.with_name(database.stem + "-messages.log")
    return Path("potok-demo-messages.log")


def _send_messages(potok: Potok, given: Path | None, port: int | None) -> None:
    """What the worker would send for the sandbox's orders, sent now: to the SMTP server
    when one is set, else e-mails and SMS written to a file."""
    from potok.worker.dispatcher import Dispatcher, new_client
    from potok.worker.notifier import Notifier

    settings = potok.settings.notifications
    path = messages_path(potok.settings.db.url, given)
    address = f"http://{potok.settings.api.host}:{port or potok.settings.api.port}"
    local = settings.model_copy(
        update={
            "log_file": str(path),
            "media": settings.media if settings.smtp_host else ["email", "sms"],
            "tracking_url": settings.tracking_url or address,
            "sms_url": None,
        }
    )
    notifier = Notifier.from_settings(local)
    if not settings.smtp_host:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    sent = 0
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="demo", notifier=notifier)
        for _ in range(10_000):
            report = dispatcher.run_round()
            sent += report.notified
            if not report.busy:
                break
        dispatcher.shut()
    where = f"the SMTP server {settings.smtp_host}" if settings.smtp_host else str(path)
    console.print(f"{sent} customer messages sent to {where}", highlight=False)


def _wipe(potok: Potok) -> None:
    from potok.db import migrate

    engine = potok.engine
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        potok.close()
        if database and database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
        return
    migrate.downgrade(engine, "base")
    potok.close()
