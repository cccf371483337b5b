"""The audit trail: written from each transaction's events, read by administrators."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import audit_log
from potok.domain.access.events import UserSignedIn
from potok.domain.events import DomainEvent
from potok.services.ports import ANONYMOUS, AuditContext, AuditEntry, AuditPage

_INSERT = sa.insert(audit_log)


def audit_rows(
    context: AuditContext,
    events: Sequence[DomainEvent],
    payloads: Sequence[dict[str, Any]] | None = None,
    unaudited: Collection[int] = (),
) -> list[dict[str, Any]]:
    """One audit row per event: who, from where, what, and the data before and after
    (``payloads``: the events' payloads when the caller has them already; ``unaudited``:
    the ids of events recorded without an audit row of their own)."""
    rows = []
    for index, event in enumerate(events):
        if unaudited and id(event) in unaudited:
            continue
        payload = dict(payloads[index]) if payloads is not None else event.payload()
        before = payload.pop("before", None)
        after = payload.pop("after", payload)  # an event with before/after: the two views
        actor = context.actor
        if isinstance(event, UserSignedIn) and actor == ANONYMOUS:
            actor = f"user:{event.username}"  # signing in is the user's own act
        rows.append(
            {
                "occurred_at": event.occurred_at,
                "actor": actor,
                "via": context.via,
                "ip": context.ip,
                "request_id": context.request_id,
                "action": event.event_type(),
                "entity_type": event.aggregate_type,
                "entity_id": event.aggregate_id(),
                "before": before,
                "after": after,
            }
        )
    return rows


class AuditLog:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.connection.execute(_INSERT, rows)

    def list(
        self,
        *,
        actor: str | None,
        entity_type: str | None,
        entity_id: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> AuditPage:
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
        for column, value in (
            (audit_log.c.actor, actor),
            (audit_log.c.entity_type, entity_type),
            (audit_log.c.entity_id, entity_id),
            (audit_log.c.action, action),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(audit_log.c.occurred_at >= since)
        if until is not None:
            query = query.where(audit_log.c.occurred_at < until)
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(audit_log.c.id < last_id)
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            AuditEntry(
                r.id,
                r.occurred_at,
                r.actor,
                r.via,
                r.ip,
                r.request_id,
                r.action,
                r.entity_type,
                r.entity_id,
                r.before,
                r.after,
            )
            for r in rows
        ]
        return AuditPage(items, encode_cursor(rows[-1].id) if more else None)
