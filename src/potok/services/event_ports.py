"""What the event use cases and the dispatcher need from storage; ``potok.db`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from potok.domain.webhooks import (
    Delivery,
    DeliveryOutcome,
    EventBatch,
    OutboxFigures,
    Reader,
    Replay,
    StoredEvent,
    Subscription,
)


class EventLogStore(Protocol):
    def sequence(self, limit: int) -> int: ...

    def last_position(self) -> int: ...

    def first_position(self) -> int: ...

    def position_of(self, event_id: str) -> int | None: ...

    def positions_between(
        self, since: datetime, until: datetime | None
    ) -> tuple[int, int] | None: ...

    def channels_of(self, order_ids: Sequence[int]) -> dict[int, str]: ...

    def prune(self, before: datetime, limit: int) -> int: ...

    def waiting(self) -> bool: ...

    def oldest_unplaced_at(self) -> datetime | None: ...

    def figures(self) -> OutboxFigures: ...

    def unsequenced(self) -> int: ...

    def after(
        self,
        position: int,
        limit: int,
        *,
        types: Sequence[str] = (),
        prefixes: Sequence[str] = (),
        payloads: bool = True,
    ) -> EventBatch: ...


class ConsumerStore(Protocol):
    def ensure(self, name: str, position: int, at: datetime) -> None: ...

    def claim(self, name: str, worker: str, at: datetime, lease: timedelta) -> bool: ...

    def state(self, name: str) -> tuple[int, int, datetime | None] | None: ...

    def states(self, names: Sequence[str]) -> dict[str, tuple[int, int, datetime | None]]: ...

    def claim_at(
        self, names: Sequence[str], worker: str, position: int, at: datetime, lease: timedelta
    ) -> set[str]: ...

    def pass_over(self, names: Sequence[str], worker: str, position: int, at: datetime) -> None: ...

    def move(
        self,
        name: str,
        worker: str,
        *,
        expected: int,
        position: int,
        attempts: int,
        next_attempt_at: datetime | None,
        at: datetime,
        lease: timedelta,
        release: bool = False,
    ) -> bool: ...

    def release(self, name: str, worker: str) -> None: ...

    def drop(self, name: str) -> None: ...

    def positions(self) -> dict[str, int]: ...

    def readers(self, name: str | None = None) -> list[Reader]: ...


class WebhookStore(Protocol):
    def add(
        self,
        url: str,
        event_types: Sequence[str],
        secret: str,
        description: str | None,
        at: datetime,
        by: str,
        *,
        channels: Sequence[str] = (),
        warehouses: Sequence[str] = (),
    ) -> int: ...

    def change_filters(
        self,
        subscription_id: int,
        *,
        event_types: Sequence[str] | None = None,
        channels: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> None: ...

    def get(self, subscription_id: int) -> Subscription | None: ...

    def all(self) -> list[Subscription]: ...

    def secrets(self, subscription_id: int, at: datetime) -> list[str]: ...

    def rotate(self, subscription_id: int, secret: str, old_until: datetime) -> None: ...

    def prune_log(self, before: datetime, limit: int) -> int: ...

    def pause(
        self,
        subscription_id: int,
        at: datetime | None,
        by: str | None,
        *,
        reason: str | None = None,
    ) -> bool: ...

    def note_attempts(
        self, subscription_id: int, *, failed: int, went_through: bool, at: datetime
    ) -> tuple[int, datetime | None]: ...

    def add_replay(
        self, subscription_id: int, after: int, until: int, at: datetime, by: str
    ) -> Replay: ...

    def replays(self, subscription_id: int, *, unfinished: bool = False) -> list[Replay]: ...

    def finish_replay(self, replay_id: int, at: datetime) -> None: ...

    def delete(self, subscription_id: int) -> bool: ...

    def log(
        self, subscription_id: int, event: StoredEvent, attempt: int, **outcome: Any
    ) -> None: ...

    def log_many(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def settled_after(
        self, subscription_id: int, after: int
    ) -> tuple[set[str], dict[str, tuple[int, datetime]]]: ...

    def deliveries(
        self,
        subscription_id: int,
        *,
        outcome: DeliveryOutcome | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Delivery], str | None]: ...
