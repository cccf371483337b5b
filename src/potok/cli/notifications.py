"""``potok notifications``: the log of customer messages, opt-outs, the message templates
(list, show, set, reset, history), previews, and the on/off switches per topic and per
sales channel."""

from __future__ import annotations

from pathlib import Path

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
    help="Customer notifications: what was sent, opt-outs, templates and their previews.",
    no_args_is_help=True,
)
templates_app = typer.Typer(
    help="Message templates: list, show, set a new version, reset, history.",
    no_args_is_help=True,
)
app.add_typer(templates_app, name="templates")

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
def opt_out(email: str = typer.Argument(..., help="An e-mail address or a phone number.")) -> None:
    """The customer wants no more messages at this address or number."""
    from potok.services import notifications

    potok = open_potok()
    try:
        changed = notifications.opt_out(cli_uow(potok), email, cli_actor())
    finally:
        potok.close()
    console.print("opted out" if changed else "was opted out already")


@app.command("opt-in")
@handles_errors
def opt_in(email: str = typer.Argument(..., help="An e-mail address or a phone number.")) -> None:
    """Messages may go to this address again."""
    from potok.services import notifications

    potok = open_potok()
    try:
        changed = notifications.opt_in(cli_uow(potok), email)
    finally:
        potok.close()
    console.print("opted in again" if changed else "had not opted out")


@app.command("prefer")
@handles_errors
def prefer(
    customer: int = typer.Argument(..., min=1, help="The customer's id."),
    medium: list[str] = typer.Option(
        [], "--medium", help="email or sms; repeat for both; none: no messages at all."
    ),
) -> None:
    """How a customer wants to hear from the shop."""
    from potok.services import notifications

    potok = open_potok()
    try:
        media = notifications.set_preference(cli_uow(potok), customer, medium, cli_actor())
    finally:
        potok.close()
    console.print(f"customer {customer}: " + (", ".join(media) or "no messages"))


@app.command("preview")
@handles_errors
def preview(
    topic: str = typer.Argument(..., help="order_accepted, order_shipped, refund_paid, ..."),
    language: str = typer.Option("ru", help="ru or en."),
    medium: str = typer.Option("email", help="email or sms."),
    file: Path | None = typer.Option(
        None, "--file", help="A draft template to check and render instead of the one in force."
    ),
    html: bool = typer.Option(False, "--html", help="Print the HTML part instead of the text."),
) -> None:
    """A template (the one in force, or a draft) rendered against a sample order."""
    from potok.services import notification_templates as templates

    key = templates.parse_key(topic, language, medium)
    if file is not None:
        shown = templates.preview_source(*key, _read(file))
    else:
        potok = open_potok()
        try:
            shown = templates.preview_in_force(cli_uow(potok), *key)
        finally:
            potok.close()
    if shown.subject:
        print(f"Subject: {shown.subject}\n")
    print(shown.html if html else shown.text)


def _read(file: Path) -> str:
    from potok.domain.errors import FieldError, InvalidInput
    from potok.domain.notifications.templates import MAX_SOURCE

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput([FieldError("file", f"cannot be read: {error}", "unreadable")]) from None
    if len(text) > MAX_SOURCE:
        raise InvalidInput([FieldError("file", f"at most {MAX_SOURCE} characters", "too-long")])
    return text


TEMPLATE_COLUMNS = [
    Column("medium"),
    Column("topic"),
    Column("language"),
    Column("version", right=True),
    Column("changed_at", "changed"),
    Column("changed_by", "by"),
]


@templates_app.command("list")
@handles_errors
def list_templates(
    medium: str | None = typer.Option(None, help="Only email or sms."), output: Output = OUTPUT
) -> None:
    """Every template in force; version 0 is the shipped one."""
    from potok.services import notification_templates as templates

    potok = open_potok()
    try:
        found = templates.list_templates(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "medium": t.medium.value,
            "topic": t.topic.value,
            "language": t.language.value,
            "version": t.stored.version if t.stored else 0,
            "changed_at": t.stored.created_at if t.stored else "",
            "changed_by": t.stored.created_by if t.stored else "",
        }
        for t in found
        if medium in (None, t.medium.value)
    ]
    print_listing(rows, TEMPLATE_COLUMNS, output)


@templates_app.command("show")
@handles_errors
def show_template(
    topic: str,
    language: str = typer.Option("ru", help="ru or en."),
    medium: str = typer.Option("email", help="email or sms."),
) -> None:
    """Print the template in force (to edit it and set it back)."""
    from potok.services import notification_templates as templates

    key = templates.parse_key(topic, language, medium)
    potok = open_potok()
    try:
        found = templates.template_in_force(cli_uow(potok), *key)
    finally:
        potok.close()
    print(found.source, end="" if found.source.endswith("\n") else "\n")


@templates_app.command("set")
@handles_errors
def set_template(
    topic: str,
    file: Path = typer.Option(..., "--file", help="The Jinja2 template."),
    language: str = typer.Option("ru", help="ru or en."),
    medium: str = typer.Option("email", help="email or sms."),
) -> None:
    """Store a new version of a template, once it passes its check."""
    from potok.services import notification_templates as templates

    key = templates.parse_key(topic, language, medium)
    source = _read(file)
    potok = open_potok()
    try:
        saved = templates.save_template(cli_uow(potok), *key, source, cli_actor())
    finally:
        potok.close()
    version = saved.stored.version if saved.stored else 0
    console.print(f"{medium}/{language}/{topic}: version {version} is in force")


@templates_app.command("reset")
@handles_errors
def reset_template(
    topic: str,
    language: str = typer.Option("ru", help="ru or en."),
    medium: str = typer.Option("email", help="email or sms."),
) -> None:
    """Go back to the shipped template (a new version; the history keeps the old ones)."""
    from potok.services import notification_templates as templates

    key = templates.parse_key(topic, language, medium)
    potok = open_potok()
    try:
        templates.save_template(cli_uow(potok), *key, None, cli_actor())
    finally:
        potok.close()
    console.print(f"{medium}/{language}/{topic}: the shipped template is in force")


HISTORY_COLUMNS = [
    Column("version", right=True),
    Column("created_at", "when"),
    Column("created_by", "by"),
    Column("change"),
]


@templates_app.command("history")
@handles_errors
def template_history(
    topic: str,
    language: str = typer.Option("ru", help="ru or en."),
    medium: str = typer.Option("email", help="email or sms."),
    output: Output = OUTPUT,
) -> None:
    """Every stored version of a template, newest first."""
    from potok.services import notification_templates as templates

    key = templates.parse_key(topic, language, medium)
    potok = open_potok()
    try:
        found = templates.template_history(cli_uow(potok), *key)
    finally:
        potok.close()
    rows = [
        {
            "version": v.version,
            "created_at": v.created_at,
            "created_by": v.created_by,
            "change": "back to the shipped template"
            if v.source is None
            else f"{len(v.source)} characters",
        }
        for v in found
    ]
    print_listing(rows, HISTORY_COLUMNS, output)


SWITCH_COLUMNS = [
    Column("kind"),
    Column("code"),
    Column("state"),
    Column("changed_at", "changed"),
    Column("changed_by", "by"),
]


@app.command("switches")
@handles_errors
def list_switches(output: Output = OUTPUT) -> None:
    """Every topic and sales channel with its switch: on, off, or the settings decide."""
    from potok.services import notification_switches as switches

    potok = open_potok()
    try:
        found = switches.list_switches(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "kind": s.kind.value,
            "code": s.code,
            "state": ("on" if s.stored.enabled else "off") if s.stored else "settings",
            "changed_at": s.stored.changed_at if s.stored else "",
            "changed_by": s.stored.changed_by if s.stored else "",
        }
        for s in found
    ]
    print_listing(rows, SWITCH_COLUMNS, output)


@app.command("switch")
@handles_errors
def switch(
    kind: str = typer.Argument(..., help="topic or channel."),
    code: str = typer.Argument(..., help="The topic (order_shipped, ...) or the channel's code."),
    state: str = typer.Argument(..., help="on or off."),
) -> None:
    """Turn a topic's or a sales channel's customer messages on or off (kept in the history)."""
    from potok.domain.errors import FieldError, InvalidInput
    from potok.services import notification_switches as switches

    if state not in ("on", "off"):
        raise InvalidInput([FieldError("state", "on or off", "unknown-state")])
    potok = open_potok()
    try:
        switches.set_switch(cli_uow(potok), kind, code, state == "on", cli_actor())
    finally:
        potok.close()
    console.print(f"{kind} {code}: notifications {state}")
