"""Events that leave Potok: the change feed, the sequencer that puts committed events in
order, and webhook subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.webhooks import (
    Delivery,
    DeliveryOutcome,
    NothingToReplay,
    OutboxFigures,
    Reader,
    ReaderInUse,
    ReaderNotFound,
    ReaderOfSubscription,
    Replay,
    StoredEvent,
    Subscription,
    SubscriptionNotFound,
    new_secret,
)
from potok.domain.webhooks.catalogue import event_types
from potok.domain.webhooks.events import (
    WebhookFiltersChanged,
    WebhookPaused,
    WebhookReaderForgotten,
    WebhookReplayRequested,
    WebhookResumed,
    WebhookSecretRotated,
    WebhookSubscribed,
    WebhookUnsubscribed,
)
from potok.domain.webhooks.model import consumer_name
from potok.services.idempotency import Once, atomically_once
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.services.webhook_targets import address_problem, url_problem

MAX_PATTERNS = 50
PLACED_ON_SUBSCRIBING = 100_000  # events committed before a subscription, placed at most


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[StoredEvent]
    cursor: int  # the position to ask after next time (past events of other types too)


@dataclass(frozen=True, slots=True)
class NewSubscription:
    subscription: Subscription
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    items: list[Delivery]
    next_cursor: str | None


def outbox_figures(uow: UnitOfWork) -> OutboxFigures:
    """Orders, the outbox's backlog per consumer and deliveries by outcome, for metrics."""
    return reading(uow, lambda uow: uow.event_log.figures())


def sequence_events(uow: UnitOfWork, limit: int) -> int:
    """Place committed events in commit order (the dispatcher does this continuously)."""
    return atomically(uow, lambda uow: uow.event_log.sequence(limit))


def last_position(uow: UnitOfWork) -> int:
    """The position of the last event placed in commit order (where "from now on" starts)."""
    return reading(uow, lambda uow: uow.event_log.last_position())


def read_feed(
    uow: UnitOfWork, after: int, *, types: Sequence[str] = (), limit: int = 100
) -> FeedPage:
    """Events placed after ``after``, in commit order, of the given type patterns."""
    patterns = check_patterns(types, field="type") if types else []
    exact = [p for p in patterns if not p.endswith("*")]
    prefixes = [p[:-1] for p in patterns if p.endswith(".*")]
    if "*" in patterns:
        exact, prefixes = [], []

    def work(uow: UnitOfWork) -> FeedPage:
        batch = uow.event_log.after(after, limit, types=exact, prefixes=prefixes)
        return FeedPage(batch.events, batch.through)

    return reading(uow, work)


def check_patterns(patterns: Sequence[str], *, field: str) -> list[str]:
    """Event type patterns as given, each ``*``, ``<aggregate>.*`` or a known type."""
    known = event_types()
    aggregates = {t.split(".", 1)[0] for t in known}
    errors = []
    for n, pattern in enumerate(patterns):
        if pattern == "*" or pattern in known:
            continue
        if pattern.endswith(".*") and pattern[:-2] in aggregates:
            continue
        errors.append(
            FieldError(
                f"{field}[{n}]" if field == "event_types" else field,
                f"unknown event type '{pattern[:100]}': use '*', '<aggregate>.*' (such as "
                "'order.*') or a type from the event catalogue (such as 'order.created')",
                "unknown-event-type",
            )
        )
    if errors:
        raise InvalidInput(errors)
    return list(dict.fromkeys(patterns))


def subscribe(
    uow: UnitOfWork,
    url: str,
    patterns: Sequence[str],
    actor: Actor,
    *,
    description: str | None = None,
    channels: Sequence[str] = (),
    warehouses: Sequence[str] = (),
    allow_private: bool = False,
    once: Once[NewSubscription] | None = None,
    clock: Clock = utc_now,
) -> NewSubscription:
    """A new receiver of events from now on; its signing secret is returned only here.
    ``channels`` keeps only events about orders of these channels, ``warehouses`` only
    events that name these locations (both: both must hold)."""
    problem = url_problem(url) or address_problem(url, allow_private=allow_private)
    if problem is not None:
        raise InvalidInput([FieldError("url", f"the URL {problem}", "bad-webhook-url")])
    wanted = _checked_types(patterns)
    _check_filter_sizes(channels, warehouses)
    secret = new_secret()

    def work(uow: UnitOfWork) -> NewSubscription:
        _check_codes(uow, channels, warehouses)
        at = clock()
        subscription_id = uow.webhooks.add(
            url,
            wanted,
            secret,
            description,
            at,
            str(actor),
            channels=list(dict.fromkeys(channels)),
            warehouses=list(dict.fromkeys(warehouses)),
        )
        uow.record(
            WebhookSubscribed(
                occurred_at=at, subscription_id=subscription_id, url=url, event_types=wanted
            )
        )
        # from now on: what was committed before is placed first (the worker may be behind
        # or stopped), and the cursor starts after it
        uow.event_log.sequence(PLACED_ON_SUBSCRIBING)
        uow.consumers.ensure(consumer_name(subscription_id), uow.event_log.last_position(), at)
        found = uow.webhooks.get(subscription_id)
        assert found is not None
        return NewSubscription(found, secret)

    return atomically_once(uow, once, work)


def _checked_types(patterns: Sequence[str]) -> list[str]:
    """A subscription's event type patterns: at least one, at most ``MAX_PATTERNS``, each
    known (422 naming the field)."""
    if not patterns:
        raise InvalidInput([FieldError("event_types", "name at least one event type", "empty")])
    if len(patterns) > MAX_PATTERNS:
        raise InvalidInput(
            [FieldError("event_types", f"name at most {MAX_PATTERNS} patterns", "too-many")]
        )
    return check_patterns(patterns, field="event_types")


def _check_filter_sizes(channels: Sequence[str], warehouses: Sequence[str]) -> None:
    for field, codes in (("channels", channels), ("warehouses", warehouses)):
        if len(codes) > MAX_PATTERNS:
            raise InvalidInput([FieldError(field, f"name at most {MAX_PATTERNS}", "too-many")])


def change_subscription(
    uow: UnitOfWork,
    subscription_id: int,
    *,
    event_types: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    warehouses: Sequence[str] | None = None,
    clock: Clock = utc_now,
) -> Subscription:
    """Change what a subscription receives: its event type patterns, its channel or its
    warehouse filter (None leaves one as it is; an empty filter list drops that filter),
    checked as when subscribing and kept in the audit trail with what they were. They hold
    from the next event the subscription is handed: events it has got past stay got, and
    its cursor does not move."""
    wanted = None if event_types is None else _checked_types(event_types)
    _check_filter_sizes(channels or (), warehouses or ())

    def work(uow: UnitOfWork) -> Subscription:
        found = uow.webhooks.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        _check_codes(uow, channels or (), warehouses or ())
        before = {
            "event_types": list(found.event_types),
            "channels": list(found.channels),
            "warehouses": list(found.warehouses),
        }
        after = {
            "event_types": before["event_types"] if wanted is None else wanted,
            "channels": before["channels"] if channels is None else list(dict.fromkeys(channels)),
            "warehouses": before["warehouses"]
            if warehouses is None
            else list(dict.fromkeys(warehouses)),
        }
        if after != before:
            uow.webhooks.change_filters(
                subscription_id,
                event_types=after["event_types"],
                channels=after["channels"],
                warehouses=after["warehouses"],
            )
            uow.record(
                WebhookFiltersChanged(
                    occurred_at=clock(),
                    subscription_id=subscription_id,
                    url=found.url,
                    before=before,
                    after=after,
                )
            )
        changed = uow.webhooks.get(subscription_id)
        assert changed is not None
        return changed

    return atomically(uow, work)


def list_readers(uow: UnitOfWork) -> list[Reader]:
    """Every reader of the outbox with where it stands, slowest first."""
    return reading(uow, lambda uow: uow.consumers.readers())


def forget_reader(
    uow: UnitOfWork,
    name: str,
    actor: Actor,
    *,
    reason: str | None = None,
    clock: Clock = utc_now,
) -> Reader:
    """Drop a reader that no longer moves (the NATS stream turned off, customer messages
    disabled, a marketplace connection closed), so that retention stops keeping events for
    it; kept in the audit trail with where it stood. A replay's reader ends the replay. A
    webhook subscription's cursor is refused (unsubscribe instead: forgetting it would skip
    its waiting events), and so is a reader a worker holds now. Should the reader come back
    (the stream turned on again), it starts from the newest event; an after-commit
    reaction starts from the oldest event still kept."""

    def work(uow: UnitOfWork) -> Reader:
        found = uow.consumers.readers(name)
        if not found:
            raise ReaderNotFound(name=name)
        reader = found[0]
        at = clock()
        subscription_id = reader.subscription_id
        if subscription_id is not None and uow.webhooks.get(subscription_id) is not None:
            raise ReaderOfSubscription(name=name, subscription_id=subscription_id)
        if reader.leased_at(at):
            until = reader.lease_expires_at
            assert until is not None
            raise ReaderInUse(
                name=name,
                worker=reader.leased_by,
                until=until.isoformat(timespec="seconds").replace("+00:00", "Z"),
            )
        if reader.replay_id is not None:
            uow.webhooks.finish_replay(reader.replay_id, at)  # its cursor goes with it
        else:
            uow.consumers.drop(name)
        uow.record(
            WebhookReaderForgotten(
                occurred_at=at,
                reader=name,
                position=reader.position,
                behind=reader.behind,
                by=str(actor),
                reason=reason,
            )
        )
        return reader

    return atomically(uow, work)


def _check_codes(uow: UnitOfWork, channels: Sequence[str], warehouses: Sequence[str]) -> None:
    """Every channel and warehouse a filter names exists (422 naming the one that does not)."""
    errors = []
    known = uow.channels.ids_for(list(channels)) if channels else {}
    for n, code in enumerate(channels):
        if code not in known:
            errors.append(FieldError(f"channels[{n}]", f"no channel '{code}'", "unknown-channel"))
    places = uow.warehouses.ids_for(list(warehouses)) if warehouses else {}
    for n, code in enumerate(warehouses):
        if code not in places:
            errors.append(
                FieldError(f"warehouses[{n}]", f"no location '{code}'", "unknown-warehouse")
            )
    if errors:
        raise InvalidInput(errors)


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    subscription: Subscription
    secret: str  # shown once
    old_secret_until: datetime  # the old secret signs too until then


def rotate_secret(
    uow: UnitOfWork,
    subscription_id: int,
    *,
    keep_old_for: timedelta,
    once: Once[RotatedSecret] | None = None,
    clock: Clock = utc_now,
) -> RotatedSecret:
    """A new signing secret for the subscription, returned only here. Until
    ``keep_old_for`` has passed every delivery carries two signatures, one by each secret,
    so the receiver can switch to the new secret whenever it is ready; then only the new
    one signs. Rotating again during a grace period drops the older secret at once."""
    secret = new_secret()

    def work(uow: UnitOfWork) -> RotatedSecret:
        found = uow.webhooks.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        at = clock()
        until = at + keep_old_for
        uow.webhooks.rotate(subscription_id, secret, until)
        uow.record(
            WebhookSecretRotated(
                occurred_at=at, subscription_id=subscription_id, url=found.url, old_until=until
            )
        )
        rotated = uow.webhooks.get(subscription_id)
        assert rotated is not None
        return RotatedSecret(rotated, secret, until)

    return atomically_once(uow, once, work)


def list_subscriptions(uow: UnitOfWork) -> list[Subscription]:
    return reading(uow, lambda uow: uow.webhooks.all())


def get_subscription(uow: UnitOfWork, subscription_id: int) -> Subscription:
    def work(uow: UnitOfWork) -> Subscription:
        found = uow.webhooks.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        return found

    return reading(uow, work)


def unsubscribe(uow: UnitOfWork, subscription_id: int, *, clock: Clock = utc_now) -> None:
    """Stop deliveries to the receiver and forget its delivery log."""

    def work(uow: UnitOfWork) -> None:
        found = uow.webhooks.get(subscription_id)
        if found is None or not uow.webhooks.delete(subscription_id):
            raise SubscriptionNotFound(subscription_id=subscription_id)
        uow.consumers.drop(consumer_name(subscription_id))
        uow.record(
            WebhookUnsubscribed(occurred_at=clock(), subscription_id=subscription_id, url=found.url)
        )

    atomically(uow, work)


def pause_subscription(
    uow: UnitOfWork, subscription_id: int, actor: Actor, *, clock: Clock = utc_now
) -> Subscription:
    """Hold deliveries to the receiver: its events wait behind its cursor, none is lost,
    and resuming delivers them in order. Pausing a paused one changes nothing."""

    def work(uow: UnitOfWork) -> Subscription:
        found = uow.webhooks.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        if found.paused_at is None:
            at = clock()
            uow.webhooks.pause(subscription_id, at, str(actor))
            uow.record(
                WebhookPaused(occurred_at=at, subscription_id=subscription_id, url=found.url)
            )
        paused = uow.webhooks.get(subscription_id)
        assert paused is not None
        return paused

    return atomically(uow, work)


def pause_failing(
    uow: UnitOfWork, subscription_id: int, failures: int, since: datetime, at: datetime
) -> bool:
    """Inside the dispatcher's transaction: pause a receiver that has failed ``failures``
    times in a row since ``since``, and tell the operators with an alert. False when it
    was paused already (or is gone)."""
    from potok.domain.alerts import AlertKind
    from potok.domain.alerts.events import AlertRaised

    found = uow.webhooks.get(subscription_id)
    if found is None or found.paused_at is not None:
        return False
    since_text = since.isoformat(timespec="seconds").replace("+00:00", "Z")
    reason = f"{failures} failed attempts in a row since {since_text}"
    uow.webhooks.pause(subscription_id, at, str(Actor.system("dispatcher")), reason=reason)
    uow.record(
        WebhookPaused(occurred_at=at, subscription_id=subscription_id, url=found.url, reason=reason)
    )
    message = (
        f"webhook subscription {subscription_id} ({found.url[:300]}) was paused: {reason}. "
        "Its events wait; fix the receiver, then resume the subscription to deliver them."
    )
    alert = uow.alerts.add(AlertKind.WEBHOOK_PAUSED, None, message, at)
    uow.record(
        AlertRaised(
            occurred_at=at, alert_id=alert.id, kind=alert.kind.value, order_id=None, message=message
        )
    )
    return True


def resume_subscription(
    uow: UnitOfWork, subscription_id: int, *, clock: Clock = utc_now
) -> Subscription:
    """Deliver again, from where the subscription stopped; its run of failures is
    forgotten (a subscription paused after prolonged failure starts counting afresh).
    Resuming an active one changes nothing."""

    def work(uow: UnitOfWork) -> Subscription:
        found = uow.webhooks.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        if found.paused_at is not None:
            uow.webhooks.pause(subscription_id, None, None)
            uow.record(
                WebhookResumed(occurred_at=clock(), subscription_id=subscription_id, url=found.url)
            )
        resumed = uow.webhooks.get(subscription_id)
        assert resumed is not None
        return resumed

    return atomically(uow, work)


def list_deliveries(
    uow: UnitOfWork,
    subscription_id: int,
    *,
    outcome: DeliveryOutcome | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """The subscription's delivery log, newest first; ``dead`` gives its dead letters."""

    def work(uow: UnitOfWork) -> DeliveryPage:
        if uow.webhooks.get(subscription_id) is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        items, next_cursor = uow.webhooks.deliveries(
            subscription_id, outcome=outcome, cursor=cursor, limit=limit
        )
        return DeliveryPage(items, next_cursor)

    return reading(uow, work)


@dataclass(frozen=True, slots=True)
class ReplayRange:
    """What to deliver again: one event (``event_id``), the events from a position on
    (``from_position``, up to ``to_position`` when given), or those that happened between
    two moments (``since``, up to ``until`` when given)."""

    event_id: str | None = None
    from_position: int | None = None
    to_position: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def replay_subscription(
    uow: UnitOfWork,
    subscription_id: int,
    wanted: ReplayRange,
    actor: Actor,
    *,
    once: Once[Replay] | None = None,
    clock: Clock = utc_now,
) -> Replay:
    """Deliver a subscription's past events again, in order, beside its usual deliveries
    (which go on). Only what the subscription takes is sent, and never past where it has
    got: later events reach it anyway."""
    ways = [wanted.event_id is not None, wanted.from_position is not None, wanted.since is not None]
    if sum(ways) != 1:
        raise InvalidInput(
            [FieldError("event_id", "name one of event_id, from_sequence or since", "one-of")]
        )
    if wanted.to_position is not None and wanted.from_position is None:
        raise InvalidInput(
            [FieldError("to_sequence", "goes with from_sequence", "goes-with-from-sequence")]
        )
    if wanted.until is not None and wanted.since is None:
        raise InvalidInput([FieldError("until", "goes with since", "goes-with-since")])

    def work(uow: UnitOfWork) -> Replay:
        found = uow.webhooks.get(subscription_id)
        if found is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        reached = found.position if found.position is not None else 0
        log = uow.event_log
        if wanted.event_id is not None:
            position = log.position_of(wanted.event_id)
            if position is None:
                raise NothingToReplay(why=f"no event {wanted.event_id} is kept")
            after, until = position - 1, position
        elif wanted.from_position is not None:
            after = max(wanted.from_position, 1) - 1
            until = reached if wanted.to_position is None else wanted.to_position
        else:
            assert wanted.since is not None
            span = log.positions_between(wanted.since, wanted.until)
            if span is None:
                raise NothingToReplay(why="no kept event happened in that time")
            after, until = span[0] - 1, span[1]
        until = min(until, reached)
        oldest = log.first_position()
        if after + 1 < oldest:
            raise NothingToReplay(
                why=f"the events before sequence {oldest} are no longer kept (retention)"
            )
        if until <= after:
            raise NothingToReplay(
                why=f"no event in that range has reached the subscription yet (it is at "
                f"sequence {reached}; later ones will be delivered anyway)"
            )
        at = clock()
        replay = uow.webhooks.add_replay(subscription_id, after, until, at, str(actor))
        uow.consumers.ensure(replay.consumer, after, at)
        uow.record(
            WebhookReplayRequested(
                occurred_at=at,
                subscription_id=subscription_id,
                replay_id=replay.id,
                after_sequence=after,
                until_sequence=until,
            )
        )
        return replay

    return atomically_once(uow, once, work)


def list_replays(uow: UnitOfWork, subscription_id: int) -> list[Replay]:
    """The subscription's replays, oldest first, with how far each has got."""

    def work(uow: UnitOfWork) -> list[Replay]:
        if uow.webhooks.get(subscription_id) is None:
            raise SubscriptionNotFound(subscription_id=subscription_id)
        return uow.webhooks.replays(subscription_id)

    return reading(uow, work)


PRUNE_CHUNK = 5_000  # rows deleted per transaction
PRUNE_CHUNKS = 20  # transactions per run at most; the next run carries on


@dataclass(frozen=True, slots=True)
class Pruned:
    events: int
    deliveries: int


def prune_delivered(
    uow: UnitOfWork,
    *,
    keep_events: timedelta | None,
    keep_log: timedelta | None,
    clock: Clock = utc_now,
) -> Pruned:
    """Retention: delete events older than ``keep_events`` that every consumer has dealt
    with (never the newest), and delivery attempts older than ``keep_log``; None keeps
    them. Many small transactions, so that writers never wait behind a long one."""
    now = clock()

    def run(prune: Callable[[UnitOfWork], int]) -> int:
        total = 0
        for _ in range(PRUNE_CHUNKS):
            done = atomically(uow, prune)
            total += done
            if done < PRUNE_CHUNK:
                break
        return total

    events = deliveries = 0
    if keep_events is not None:
        before = now - keep_events
        events = run(lambda uow: uow.event_log.prune(before, PRUNE_CHUNK))
    if keep_log is not None:
        log_before = now - keep_log
        deliveries = run(lambda uow: uow.webhooks.prune_log(log_before, PRUNE_CHUNK))
    return Pruned(events=events, deliveries=deliveries)
