"""``potok notifications``: the log of customer messages, opt-outs, template previews."""

from __future__ import annotations

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

app = typer.Typer(
    help="Customer notifications: what was sent, opt-outs, template previews.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("created_at", "when"),
    Column("order_id", "order", right=True),
    Column("topic"),
    Column("template", table=False),
    Column("recipient", "to"),
    Column("outcome"),
    Column("attempt", right=True),
    Column("subject"),
    Column("error"),
]


@app.command("list")
@handles_errors
def list_notifications(
    order: int | None = typer.Option(None, min=1, help="The messages of this order."),
    outcome: str | None = typer.Option(None, help="sent, failed, dead or skipped."),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many."),
    output: Output = OUTPUT,
) -> None:
    """Message attempts, newest first (addresses masked)."""
    from potok.services import notifications

    potok = open_potok()
    try:
        items, more = notifications.list_sent(
            cli_uow(potok), order_id=order, outcome=outcome, limit=limit
        )
    finally:
        potok.close()
    rows = [
        {
            "created_at": r.created_at,
            "order_id": r.order_id,
            "topic": r.topic,
            "template": r.template,
            "recipient": r.recipient or "",
            "outcome": r.outcome,
            "attempt": r.attempt,
            "subject": r.subject,
            "error": r.error or "",
        }
        for r in items
    ]
    print_listing(
        rows, COLUMNS, output, more="more messages exist; raise --limit" if more else None
    )


@app.command("opt-out")
@handles_errors
def opt_out(email: str) -> None:
    """The customer wants no more messages at this address."""
    from potok.services import notifications

    potok = open_potok()
    try:
        changed = notifications.opt_out(cli_uow(potok), email, cli_actor())
    finally:
        potok.close()
    console.print("opted out" if changed else "was opted out already")


@app.command("opt-in")
@handles_errors
def opt_in(email: str) -> None:
    """Messages may go to this address again."""
    from potok.services import notifications

    potok = open_potok()
    try:
        changed = notifications.opt_in(cli_uow(potok), email)
    finally:
        potok.close()
    console.print("opted in again" if changed else "had not opted out")


@app.command("preview")
@handles_errors
def preview(
    topic: str = typer.Argument(..., help="order_accepted, order_shipped, refund_paid, ..."),
    language: str = typer.Option("ru", help="ru or en."),
    html: bool = typer.Option(False, "--html", help="Print the HTML part instead of the text."),
) -> None:
    """A template rendered against a sample order."""
    from potok.domain.errors import FieldError, InvalidInput
    from potok.domain.notifications import Language, Topic
    from potok.services import notifications

    if topic not in {t.value for t in Topic} or language not in ("ru", "en"):
        raise InvalidInput(
            [
                FieldError(
                    "topic",
                    "one of " + ", ".join(t.value for t in Topic) + "; language ru or en",
                    "unknown-topic",
                )
            ]
        )
    subject, text, page = notifications.preview(Topic(topic), Language(language))
    print(f"Subject: {subject}\n")
    print(page if html else text)
