"""Domain events into the outbox table, in the transaction that caused them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa

from potok.db.pg import (
    STOCK_GUARDS,
    Section,
    StagedReservation,
    driver,
    end_explicit,
    insert_document,
)
from potok.db.tables import outbox_events
from potok.domain.errors import TransientConflict
from potok.domain.events import DomainEvent

_INSERT = sa.insert(outbox_events)


class Outbox:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(
        self, events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]] | None = None
    ) -> None:
        if events:
            self.connection.execute(_INSERT, _rows(events, payloads))

    def write_and_commit(
        self,
        staged: list[Section],
        events: Sequence[DomainEvent],
        payloads: Sequence[dict[str, Any]] | None = None,
        reserving: StagedReservation | None = None,
    ) -> None:
        """PostgreSQL: the staged rows, the events, the stock reserved at commit and the
        COMMIT in one round trip. Stock that another order took meanwhile fails it all as
        a :class:`TransientConflict`: the use case runs again on fresh figures."""
        raw = driver(self.connection)
        sections = [*staged, (outbox_events, _rows(events, payloads))]
        try:
            with raw.pipeline(), raw.cursor() as cursor:
                insert_document(cursor, sections, reserving)
                if raw.autocommit:  # the transaction was begun explicitly: no wait for COMMIT
                    cursor.execute(b"COMMIT")
                else:
                    raw.commit()
            end_explicit(raw)
        except psycopg.errors.CheckViolation as error:
            if error.diag.table_name != "stock" or error.diag.constraint_name not in STOCK_GUARDS:
                raise
            raise TransientConflict(
                detail="another order took the stock meanwhile; retry the request"
            ) from error
        self.connection.commit()  # the driver has committed; this settles SQLAlchemy's state


def _rows(
    events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    return [
        {
            "event_id": str(uuid.uuid4()),
            "type": event.event_type(),
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id(),
            "payload": payloads[index] if payloads is not None else event.payload(),
            "occurred_at": event.occurred_at,
        }
        for index, event in enumerate(events)
    ]
