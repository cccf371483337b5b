"""``potok events`` (the outbox's figures, following the change feed) and
``potok webhooks`` (subscriptions)."""

from __future__ import annotations

from datetime import datetime

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

app = typer.Typer(
    help="Events that leave Potok: the outbox's figures, the feed, replays.", no_args_is_help=True
)
webhooks = typer.Typer(
    help="Webhook subscriptions: add, list, remove, read deliveries.", no_args_is_help=True
)

SUBSCRIPTION_COLUMNS = [
    Column("id", right=True),
    Column("url"),
    Column("event_types", "types"),
    Column("filters"),
    Column("position", right=True),
    Column("failed_attempts", "failing", right=True),
    Column("next_attempt_at", "next attempt"),
    Column("paused_at", "paused"),
    Column("description"),
]
DELIVERY_COLUMNS = [
    Column("attempted_at", "attempted"),
    Column("event_type", "type"),
    Column("event_id", "event"),
    Column("attempt", right=True),
    Column("outcome"),
    Column("status_code", "status", right=True),
    Column("latency_ms", "ms", right=True),
    Column("error"),
]
STATS_COLUMNS = [
    Column("consumer"),
    Column("backlog", right=True),
    Column("oldest_undelivered", "oldest undelivered"),
]


@app.command("stats")
@handles_errors
def stats(output: Output = OUTPUT) -> None:
    """How far behind each consumer of the outbox is (webhook subscriptions, NATS)."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        figures = event_service.outbox_figures(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {"consumer": c.consumer, "backlog": c.events, "oldest_undelivered": c.oldest_at}
        for c in figures.consumers
    ]
    print_listing(
        rows,
        STATS_COLUMNS,
        output,
        title=f"{figures.unplaced} events waiting to be placed in order",
        empty=f"no consumers; {figures.unplaced} events waiting to be placed in order",
    )


READER_COLUMNS = [
    Column("name", "reader"),
    Column("position", right=True),
    Column("behind", right=True),
    Column("oldest_waiting_at", "oldest waiting"),
    Column("moved_at", "moved"),
    Column("leased_by", "moving it"),
    Column("failed_attempts", "failing", right=True),
    Column("holds_retention", "holds retention"),
]


@app.command("readers")
@handles_errors
def readers(output: Output = OUTPUT) -> None:
    """Every reader of the outbox (subscriptions, replays, reactions, customer messages,
    marketplace stock, NATS) with where it stands, slowest first; retention keeps every
    event after the slowest."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        found = event_service.list_readers(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "name": r.name,
            "position": r.position,
            "behind": r.behind,
            "oldest_waiting_at": r.oldest_waiting_at,
            "moved_at": r.moved_at,
            "leased_by": r.leased_by,
            "failed_attempts": r.attempts,
            "holds_retention": "yes" if r.holds_retention else "",
        }
        for r in found
    ]
    print_listing(rows, READER_COLUMNS, output, empty="no readers of the outbox")


@app.command("forget-reader")
@handles_errors
def forget_reader(
    name: str = typer.Argument(..., help="The reader, as 'potok events readers' lists it."),
    reason: str | None = typer.Option(None, help="Why, for the audit trail."),
) -> None:
    """Forget a reader that no longer moves (NATS turned off, customer messages disabled,
    a marketplace connection closed), so that retention goes on; kept in the audit trail.
    A webhook subscription's cursor is refused: unsubscribe it instead."""
    from potok.services import events as event_service

    if not 1 <= len(name) <= 64:
        raise typer.BadParameter("a reader's name has 1 to 64 characters", param_hint="NAME")
    if reason is not None and not 1 <= len(reason) <= 300:
        raise typer.BadParameter("say it in 1 to 300 characters", param_hint="--reason")
    potok = open_potok()
    try:
        reader = event_service.forget_reader(cli_uow(potok), name, cli_actor(), reason=reason)
    finally:
        potok.close()
    console.print(
        f"reader {reader.name} forgotten (it stood at {reader.position}, "
        f"{reader.behind} events behind)",
        highlight=False,
    )


@app.command("tail")
@handles_errors
def tail(
    after: int | None = typer.Option(
        None,
        "--after",
        min=0,
        max=MAX_ID,
        help="Start after this position (a change feed cursor); default: from now on.",
    ),
    types: list[str] = typer.Option(
        [], "--type", "-t", help="Only these types: 'order.created', 'order.*' (repeatable)."
    ),
    follow: bool = typer.Option(
        True, "--follow/--no-follow", help="Keep waiting for new events (Ctrl+C stops)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Each event as its CloudEvents JSON document, one a line."
    ),
    poll_s: float = typer.Option(1.0, min=0.1, max=60, help="Seconds between looks."),
) -> None:
    """Follow the change feed in the terminal: every event as it is committed. Events are
    placed in commit order here too (as the worker does), so it works without one."""
    import time

    import orjson

    from potok.domain.webhooks import cloud_event
    from potok.services import events as event_service

    potok = open_potok()
    source = potok.settings.events.source
    try:
        cursor = after
        if cursor is None:
            event_service.sequence_events(cli_uow(potok), 10_000)
            cursor = event_service.last_position(cli_uow(potok))
        while True:
            event_service.sequence_events(cli_uow(potok), 10_000)
            page = event_service.read_feed(cli_uow(potok), cursor, types=types, limit=500)
            for event in page.items:
                if as_json:
                    typer.echo(orjson.dumps(cloud_event(event, source)).decode())
                else:
                    typer.echo(
                        f"{event.position:>10}  {event.occurred_at.isoformat(timespec='seconds')}"
                        f"  {event.type:<32} {event.aggregate_type}/{event.aggregate_id}"
                    )
            cursor = page.cursor
            if len(page.items) == 500:
                continue  # more is waiting
            if not follow:
                return
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return
    finally:
        potok.close()


@app.command("replay")
@handles_errors
def replay(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
    event: str | None = typer.Option(None, "--event", help="One event, by its id."),
    from_sequence: int | None = typer.Option(
        None, "--from-sequence", min=1, max=MAX_ID, help="The events from this sequence on."
    ),
    to_sequence: int | None = typer.Option(
        None, "--to-sequence", min=1, max=MAX_ID, help="... up to this one (included)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="The events from this moment on (ISO 8601; UTC if no offset)."
    ),
    until: str | None = typer.Option(None, "--until", help="... up to this moment."),
) -> None:
    """Deliver a subscription's past events again (the worker sends them, in order)."""
    from potok.services import events as event_service

    wanted = event_service.ReplayRange(
        event_id=event,
        from_position=from_sequence,
        to_position=to_sequence,
        since=_moment(since, "--since"),
        until=_moment(until, "--until"),
    )
    potok = open_potok()
    try:
        made = event_service.replay_subscription(
            cli_uow(potok), subscription_id, wanted, cli_actor()
        )
    finally:
        potok.close()
    console.print(
        f"replay {made.id} of subscription {subscription_id}: sequences "
        f"{made.after_position + 1}-{made.until_position}, delivered by the worker"
    )


def _moment(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 moment; one without an offset is taken as UTC."""
    if text is None:
        return None
    from datetime import UTC
    from datetime import datetime as moment

    try:
        parsed = moment.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not an ISO 8601 moment", param_hint=option) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@webhooks.command("pause")
@handles_errors
def pause(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
) -> None:
    """Hold deliveries: events wait behind the subscription's cursor until resumed."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        event_service.pause_subscription(cli_uow(potok), subscription_id, cli_actor())
    finally:
        potok.close()
    console.print(f"subscription {subscription_id} paused")


@webhooks.command("resume")
@handles_errors
def resume(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
) -> None:
    """Deliver again from where the subscription stopped (its failures are forgotten)."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        event_service.resume_subscription(cli_uow(potok), subscription_id)
    finally:
        potok.close()
    console.print(f"subscription {subscription_id} resumed")


@webhooks.command("rotate-secret")
@handles_errors
def rotate_secret(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
    keep_old_for_s: int = typer.Option(
        86_400,
        "--keep-old-for-s",
        min=0,
        max=7 * 86_400,
        help="Seconds the old secret keeps signing beside the new one.",
    ),
) -> None:
    """A new signing secret, printed once; the old one signs too for a while."""
    from datetime import timedelta

    from potok.services import events as event_service

    potok = open_potok()
    try:
        made = event_service.rotate_secret(
            cli_uow(potok), subscription_id, keep_old_for=timedelta(seconds=keep_old_for_s)
        )
    finally:
        potok.close()
    until = made.old_secret_until.isoformat(timespec="seconds")
    console.print(f"subscription {subscription_id}: the old secret signs too until {until}")
    console.print(f"new signing secret (shown once): {made.secret}", highlight=False)


@webhooks.command("add")
@handles_errors
def add(
    url: str = typer.Argument(..., help="Where events are POSTed (https://...)."),
    event_type: list[str] = typer.Option(
        ..., "--type", "-t", help="'*', 'order.*' or an exact type; repeat for several."
    ),
    description: str | None = typer.Option(None, help="What the receiver is, for people."),
    channel: list[str] = typer.Option(
        [], "--channel", "-c", help="Only events of this channel's orders (repeatable)."
    ),
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="Only events that name this location (repeatable)."
    ),
) -> None:
    """Subscribe a receiver; prints its signing secret - once."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        made = event_service.subscribe(
            cli_uow(potok),
            url,
            event_type,
            cli_actor(),
            description=description,
            channels=channel,
            warehouses=warehouse,
            allow_private=potok.settings.events.allow_private_addresses,
        )
    finally:
        potok.close()
    console.print(f"subscription {made.subscription.id} to {url}")
    console.print(f"signing secret (shown once): {made.secret}", highlight=False)


@webhooks.command("change")
@handles_errors
def change(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
    event_type: list[str] = typer.Option(
        [], "--type", "-t", help="New patterns: '*', 'order.*' or exact types (repeatable)."
    ),
    channel: list[str] = typer.Option(
        [], "--channel", "-c", help="A new channel filter (repeatable)."
    ),
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="A new warehouse filter (repeatable)."
    ),
    any_channel: bool = typer.Option(False, "--any-channel", help="Drop the channel filter."),
    any_warehouse: bool = typer.Option(False, "--any-warehouse", help="Drop the warehouse filter."),
) -> None:
    """Change what a subscription receives (what is not named stays as it is); checked as
    when subscribing, kept in the audit trail; holds from its next event."""
    from potok.services import events as event_service

    for given, dropped, flag in (
        (channel, any_channel, "--any-channel"),
        (warehouse, any_warehouse, "--any-warehouse"),
    ):
        if given and dropped:
            raise typer.BadParameter(f"name codes or give {flag}, not both", param_hint=flag)
    if not (event_type or channel or warehouse or any_channel or any_warehouse):
        raise typer.BadParameter(
            "name what to change: --type, --channel, --warehouse, --any-channel or --any-warehouse",
            param_hint="--type",
        )
    potok = open_potok()
    try:
        changed = event_service.change_subscription(
            cli_uow(potok),
            subscription_id,
            event_types=event_type or None,
            channels=[] if any_channel else (channel or None),
            warehouses=[] if any_warehouse else (warehouse or None),
        )
    finally:
        potok.close()
    filters = [f"channel={c}" for c in changed.channels] + [
        f"warehouse={w}" for w in changed.warehouses
    ]
    console.print(
        f"subscription {subscription_id}: {' '.join(changed.event_types)}"
        + (f" ({' '.join(filters)})" if filters else ""),
        highlight=False,
    )


@webhooks.command("list")
@handles_errors
def list_subscriptions(output: Output = OUTPUT) -> None:
    """Subscriptions and how far each has got."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        found = event_service.list_subscriptions(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "id": s.id,
            "url": s.url,
            "event_types": " ".join(s.event_types),
            "filters": " ".join(
                [f"channel={c}" for c in s.channels] + [f"warehouse={w}" for w in s.warehouses]
            ),
            "position": s.position,
            "failed_attempts": s.attempts,
            "next_attempt_at": s.next_attempt_at,
            "paused_at": s.paused_at,
            "description": s.description,
        }
        for s in found
    ]
    print_listing(rows, SUBSCRIPTION_COLUMNS, output, empty="no webhook subscriptions")


@webhooks.command("remove")
@handles_errors
def remove(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
) -> None:
    """Unsubscribe: deliveries stop and the delivery log goes."""
    from potok.services import events as event_service

    potok = open_potok()
    try:
        event_service.unsubscribe(cli_uow(potok), subscription_id)
    finally:
        potok.close()
    console.print(f"subscription {subscription_id} removed")


@webhooks.command("deliveries")
@handles_errors
def deliveries(
    subscription_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The subscription."),
    dead: bool = typer.Option(False, "--dead", help="Only dead letters."),
    limit: int = typer.Option(50, min=1, max=200, help="At most this many, newest first."),
    output: Output = OUTPUT,
) -> None:
    """A subscription's delivery log, newest first."""
    from potok.domain.webhooks import DeliveryOutcome
    from potok.services import events as event_service

    potok = open_potok()
    try:
        page = event_service.list_deliveries(
            cli_uow(potok),
            subscription_id,
            outcome=DeliveryOutcome.DEAD if dead else None,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "attempted_at": d.attempted_at,
            "event_type": d.event_type,
            "event_id": d.event_id,
            "attempt": d.attempt,
            "outcome": d.outcome.value,
            "status_code": d.status_code,
            "latency_ms": d.latency_ms,
            "error": d.error,
        }
        for d in page.items
    ]
    print_listing(
        rows,
        DELIVERY_COLUMNS,
        output,
        empty="no deliveries",
        more="more deliveries exist; raise --limit" if page.next_cursor else None,
    )
