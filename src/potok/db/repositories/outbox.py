"""Domain events into the outbox table, in the transaction that caused them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa

from potok.db.group_commit import GroupCommit
from potok.db.pg import (
    STOCK_GUARDS,
    Section,
    StagedReservation,
    alone,
    driver,
    insert_document,
    outside_transaction,
)
from potok.db.tables import outbox_events
from potok.domain.errors import TransientConflict
from potok.domain.events import DomainEvent

_INSERT = sa.insert(outbox_events)
PIPELINED_UP_TO = 1000
"""Rows a commit still sends pipelined with its statement (one round trip); more go first."""


class Outbox:
    def __init__(self, connection: sa.Connection, group: GroupCommit | None = None) -> None:
        self.connection = connection
        self.group = group  # PostgreSQL: concurrent intake commits sent together

    def add(
        self, events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]] | None = None
    ) -> None:
        if events:
            self.connection.execute(_INSERT, outbox_rows(events, payloads))

    def add_as_document(
        self,
        events: Sequence[DomainEvent],
        payloads: Sequence[dict[str, Any]],
        also: Sequence[Section] = (),
    ) -> None:
        """PostgreSQL: many events (and ``also``, rows of other tables such as their audit
        trail) in one statement whose rows travel as one JSON document: a bulk upload's
        100,000 events are not 100,000 parameter sets for the driver to bind."""
        insert_document(
            driver(self.connection), [(outbox_events, outbox_rows(events, payloads)), *also]
        )

    def write_and_commit(
        self,
        staged: list[Section],
        events: Sequence[DomainEvent],
        payloads: Sequence[dict[str, Any]] | None = None,
        reserving: StagedReservation | None = None,
    ) -> None:
        """PostgreSQL: the staged rows, the events, the stock reserved at commit and the
        COMMIT in one round trip. When nothing has run in the transaction yet (intake,
        whose read ran outside it), the one statement is sent on its own: it is the whole
        transaction, without BEGIN and COMMIT - or, with ``group``, merged with other
        threads' commits of the same moment into one (``db/group_commit.py``). Stock that
        another order took meanwhile fails it all as a :class:`TransientConflict`: the use
        case runs again on fresh figures."""
        raw = driver(self.connection)
        sections = [*staged, (outbox_events, outbox_rows(events, payloads))]
        try:
            if alone(raw) and self.group is not None:
                self.group.commit(raw, sections, reserving)
            elif alone(raw):
                with outside_transaction(raw):
                    insert_document(raw, sections, reserving)
            elif sum(len(rows) for _, rows in sections) > PIPELINED_UP_TO:
                # a document of many thousand rows (a 20,000-product catalogue) sent in
                # pipeline mode stalled for good: the server waited for the rest of the
                # message while the driver waited for the COMMIT's answer
                insert_document(raw, sections, reserving)
                raw.commit()
            else:
                with raw.pipeline():
                    insert_document(raw, sections, reserving)
                    raw.commit()
        except psycopg.errors.CheckViolation as error:
            if error.diag.table_name != "stock" or error.diag.constraint_name not in STOCK_GUARDS:
                raise
            raise TransientConflict(
                detail="another order took the stock meanwhile; retry the request"
            ) from error
        self.connection.commit()  # the driver has committed; this settles SQLAlchemy's state


def outbox_rows(
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
