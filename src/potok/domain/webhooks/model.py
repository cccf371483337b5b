"""Events as they leave Potok (CloudEvents 1.0), who subscribed to them, and how each
delivery went."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from potok.domain.errors import Conflict, NotFound, Rejected

INTERNAL_AGGREGATES = frozenset({"user", "api_key", "webhook"})
"""Events of these aggregates (administration of accounts and subscriptions) stay in the
audit trail."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An outbox row read back: the event and its place in commit order."""

    position: int
    event_id: str
    type: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventBatch:
    """A reader's next events, and how far the read went: every event up to ``through``
    that is not in ``events`` is not for this reader (another type, account
    administration), so once it has dealt with ``events`` its cursor may move there."""

    events: list[StoredEvent]
    through: int


def cloud_event(event: StoredEvent, source: str) -> dict[str, Any]:
    """The one envelope every road out uses: a CloudEvents 1.0 JSON document. ``sequence``
    (the CloudEvents sequence extension) is the event's place in commit order."""
    return {
        "specversion": "1.0",
        "id": event.event_id,
        "source": source,
        "type": event.type,
        "subject": f"{event.aggregate_type}/{event.aggregate_id}",
        "time": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "sequence": str(event.position),
        "data": event.payload,
    }


def wants(patterns: Sequence[str], event_type: str) -> bool:
    """Whether a subscription's patterns take this type: ``*``, ``order.*`` or exact."""
    if event_type.split(".", 1)[0] in INTERNAL_AGGREGATES:
        return False
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def event_order(event: StoredEvent) -> int | None:
    """The order an event is about, when it is about one (its own, a shipment's, a
    return's, a reservation's)."""
    if event.aggregate_type == "order" and event.aggregate_id.isdigit():
        return int(event.aggregate_id)
    order_id = event.payload.get("order_id")
    return order_id if isinstance(order_id, int) and not isinstance(order_id, bool) else None


def event_channel(event: StoredEvent, channel_of: Mapping[int, str]) -> str | None:
    """The sales channel an event belongs to: its order's, or the channel itself for
    ``channel.*``; None for events of no channel (stock, products, ...)."""
    if event.aggregate_type == "channel":
        return event.aggregate_id
    order_id = event_order(event)
    return None if order_id is None else channel_of.get(order_id)


WAREHOUSE_KEYS = ("warehouse", "from_warehouse", "to_warehouse")
WAREHOUSE_LISTS = ("items", "reservations", "released", "lines")


def named_warehouses(event: StoredEvent) -> set[str]:
    """The locations an event names: its ``warehouse`` (or a transfer's both ends), those of
    its items, reservations and releases, or the location itself for ``warehouse.*``."""
    found: set[str] = set()
    if event.aggregate_type == "warehouse":
        found.add(event.aggregate_id)
    payload = event.payload
    for key in WAREHOUSE_KEYS:
        if isinstance(payload.get(key), str):
            found.add(payload[key])
    for key in WAREHOUSE_LISTS:
        items = payload.get(key)
        if isinstance(items, list):
            found.update(
                i["warehouse"]
                for i in items
                if isinstance(i, dict) and isinstance(i.get("warehouse"), str)
            )
    return found


@dataclass(frozen=True, slots=True)
class Subscription:
    """A receiver outside Potok and the event types it takes."""

    id: int
    url: str
    event_types: tuple[str, ...]
    description: str | None
    created_at: datetime
    created_by: str
    position: int | None = None  # how far its deliveries have got (None: not started)
    attempts: int = 0  # failed attempts at the next event
    next_attempt_at: datetime | None = None
    paused_at: datetime | None = None  # paused: nothing is delivered until it is resumed
    paused_by: str | None = None
    paused_reason: str | None = None  # why it was paused automatically (None: by a person)
    failures: int = 0  # failed attempts since the last delivery that went through
    failing_since: datetime | None = None
    replaying: bool = False  # a replay of past events is under way
    channels: tuple[str, ...] = ()  # only events about orders of these channels (empty: all)
    warehouses: tuple[str, ...] = ()  # only events naming these locations (empty: all)
    old_secret_until: datetime | None = None  # after a rotation, the old secret signs until

    def takes(self, event: StoredEvent, channel_of: Mapping[int, str]) -> bool:
        """Whether this subscription receives the event: its types, and its channel and
        warehouse filters when set (``channel_of``: the channel of each order in play).
        An automation rule's webhook call goes to the subscription it names, and only."""
        if event.type == RULE_WEBHOOK:
            return event.payload.get("subscription_id") == self.id
        if not wants(self.event_types, event.type):
            return False
        if self.channels and event_channel(event, channel_of) not in self.channels:
            return False
        return not self.warehouses or not named_warehouses(event).isdisjoint(self.warehouses)

    @property
    def consumer(self) -> str:
        """The name of its cursor among the outbox's consumers."""
        return consumer_name(self.id)


RULE_WEBHOOK = "order.webhook_requested"
"""The event of an automation rule's ``webhook`` action (it names its subscription)."""


def consumer_name(subscription_id: int) -> str:
    return f"webhook:{subscription_id}"


def should_pause(
    failures: int,
    failing_since: datetime | None,
    now: datetime,
    *,
    after_failures: int,
    after: timedelta,
) -> bool:
    """Whether a receiver has failed long enough to be paused: ``after_failures`` failed
    attempts in a row (0: never) over at least ``after`` of time, so that one bad minute
    with many orders in flight does not pause it."""
    if after_failures <= 0 or failures < after_failures or failing_since is None:
        return False
    return now - failing_since >= after


@dataclass(frozen=True, slots=True)
class Replay:
    """A subscription's past events, from ``after_position`` (excluded) to
    ``until_position`` (included), delivered again on request; receivers deduplicate by
    ``webhook-id`` as with any repeat."""

    id: int
    subscription_id: int
    after_position: int
    until_position: int
    requested_at: datetime
    requested_by: str
    finished_at: datetime | None = None
    position: int | None = None  # how far it has got (None: finished or not started)

    @property
    def consumer(self) -> str:
        return replay_consumer_name(self.id)


def replay_consumer_name(replay_id: int) -> str:
    return f"replay:{replay_id}"


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"  # will be tried again
    DEAD = "dead"  # the last attempt failed: kept as a dead letter, the stream moves on


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one event to one subscription."""

    id: int
    subscription_id: int
    event_id: str
    event_type: str
    position: int
    attempt: int
    outcome: DeliveryOutcome
    status_code: int | None
    latency_ms: int | None
    error: str | None
    attempted_at: datetime
    replay_id: int | None = None  # made by this replay


def retry_delay(attempts: int, base_s: float, cap_s: float, rand: Callable[[], float]) -> float:
    """Seconds before the next attempt after ``attempts`` failures: doubling from ``base_s``
    up to ``cap_s``, with jitter over its upper half so that receivers coming back are not
    hit by every sender at once."""
    delay = min(cap_s, base_s * float(2 ** min(attempts - 1, 30)))
    return float(delay / 2 + rand() * delay / 2)


def retry_at(
    event_id: str, attempts: int, last_at: datetime, base_s: float, cap_s: float
) -> datetime:
    """When an event that failed ``attempts`` times, last at ``last_at``, is due again. The
    jitter is drawn from the event id and the attempt, so every worker computes the same."""
    digest = hashlib.sha256(f"{event_id}:{attempts}".encode()).digest()
    jitter = int.from_bytes(digest[:4], "big") / 2**32
    return last_at + timedelta(seconds=retry_delay(attempts, base_s, cap_s, lambda: jitter))


@dataclass(frozen=True, slots=True)
class ConsumerLag:
    """How far one reader of the outbox is behind: events placed but not dealt with, and
    when the oldest of them happened (None when it is up to date)."""

    consumer: str
    events: int
    oldest_at: datetime | None


@dataclass(frozen=True, slots=True)
class Reader:
    """One reader of the outbox (a webhook subscription, a replay, an after-commit
    reaction, customer messages, a marketplace's stock push, the NATS stream) and where
    it stands. ``holds_retention``: it is the slowest, so retention keeps every event after
    it; a reader that never moves again keeps them for ever until it is forgotten."""

    name: str
    position: int  # the last event it has dealt with
    behind: int  # events placed after it
    oldest_waiting_at: datetime | None  # when the next event it has to deal with happened
    moved_at: datetime  # when its cursor (or lease) last changed
    leased_by: str | None  # the worker moving it now
    lease_expires_at: datetime | None
    attempts: int  # failed attempts at its next event
    next_attempt_at: datetime | None
    holds_retention: bool

    @property
    def subscription_id(self) -> int | None:
        """The webhook subscription it belongs to (None: another kind of reader)."""
        kind, _, rest = self.name.partition(":")
        return int(rest) if kind == "webhook" and rest.isdigit() else None

    @property
    def replay_id(self) -> int | None:
        kind, _, rest = self.name.partition(":")
        return int(rest) if kind == "replay" and rest.isdigit() else None

    def leased_at(self, at: datetime) -> bool:
        """Whether a worker holds it (an unexpired lease) at ``at``."""
        return (
            self.leased_by is not None
            and self.lease_expires_at is not None
            and self.lease_expires_at > at
        )


@dataclass(frozen=True, slots=True)
class OutboxFigures:
    orders_placed: int
    orders_backordered: int
    unplaced: int  # committed events not yet placed in commit order
    oldest_unplaced_at: datetime | None
    consumers: list[ConsumerLag]
    deliveries: dict[str, int]  # by outcome


class SubscriptionNotFound(NotFound):
    code = "webhook-subscription-not-found"
    title = "Webhook subscription not found"
    template = "No webhook subscription {subscription_id}."


class ReaderNotFound(NotFound):
    code = "event-reader-not-found"
    title = "Reader of the events not found"
    template = "No reader of the events is called '{name}'; 'potok events readers' lists them."


class ReaderInUse(Conflict):
    code = "event-reader-in-use"
    title = "The reader is moving"
    template = (
        "The reader '{name}' is being moved by {worker} right now (its lease runs until "
        "{until}): it is not stuck. Stop what feeds it first, or wait."
    )


class ReaderOfSubscription(Conflict):
    code = "event-reader-of-a-subscription"
    title = "The reader belongs to a webhook subscription"
    template = (
        "The reader '{name}' is webhook subscription {subscription_id}'s cursor: forgetting it "
        "would skip its waiting events. Resume the subscription, or unsubscribe it (DELETE "
        "/api/v1/webhook-subscriptions/{subscription_id}), which lets its events go."
    )


class NothingToReplay(Rejected):
    code = "nothing-to-replay"
    title = "Nothing to replay"
    template = "{why}"
