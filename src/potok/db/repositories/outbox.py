"""Domain events into the outbox table, in the transaction that caused them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from potok.db.tables import outbox_events
from potok.domain.events import DomainEvent


class Outbox:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        self.connection.execute(
            sa.insert(outbox_events),
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "type": event.event_type(),
                    "aggregate_type": event.aggregate_type,
                    "aggregate_id": event.aggregate_id(),
                    "payload": event.payload(),
                    "occurred_at": event.occurred_at,
                }
                for event in events
            ],
        )
