"""The record of customer messages, and the opt-outs (kept as keyed hashes of addresses)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import notification_opt_outs, notification_preferences, notifications
from potok.security.data import DataProtector
from potok.services.notification_ports import SentRecord

# what each customer message reads and writes, built once
_INSERT = sa.insert(notifications)
_SENT = sa.select(notifications.c.id).where(
    notifications.c.event_id == sa.bindparam("event_id"),
    notifications.c.medium == sa.bindparam("medium"),
    notifications.c.outcome == "sent",
)
_OPTED_OUT = sa.select(notification_opt_outs.c.address_hash).where(
    notification_opt_outs.c.address_hash == sa.bindparam("digest")
)
_PREFERRED = sa.select(notification_preferences.c.media).where(
    notification_preferences.c.customer_id == sa.bindparam("customer_id")
)


def _normal(address: str) -> str:
    return address.strip().lower()


class NotificationRepository:
    def __init__(self, connection: sa.Connection, protector: DataProtector) -> None:
        self.connection = connection
        self.protector = protector

    def log(self, record: SentRecord) -> None:
        self.connection.execute(
            _INSERT,
            {
                "event_id": record.event_id,
                "event_type": record.event_type,
                "topic": record.topic,
                "medium": record.medium,
                "order_id": record.order_id,
                "recipient": record.recipient,
                "language": record.language,
                "template": record.template,
                "subject": record.subject[:255],
                "outcome": record.outcome,
                "attempt": record.attempt,
                "error": record.error[:500] if record.error else None,
                "created_at": record.created_at,
            },
        )

    def was_sent(self, event_id: str, medium: str) -> bool:
        """Whether a message answering this event went out already (a round repeated)."""
        found = self.connection.execute(_SENT, {"event_id": event_id, "medium": medium}).first()
        return found is not None

    def opted_out(self, address: str) -> bool:
        digest = self.protector.index(_normal(address))
        found = self.connection.execute(_OPTED_OUT, {"digest": digest}).first()
        return found is not None

    def opt_out(self, address: str, at: datetime, by: str) -> bool:
        """Record the opt-out; False when it was there already."""
        if self.opted_out(address):
            return False
        self.connection.execute(
            sa.insert(notification_opt_outs).values(
                address_hash=self.protector.index(_normal(address)), created_at=at, created_by=by
            )
        )
        return True

    def opt_in(self, address: str) -> bool:
        """Take the opt-out back; False when there was none."""
        done = self.connection.execute(
            sa.delete(notification_opt_outs).where(
                notification_opt_outs.c.address_hash == self.protector.index(_normal(address))
            )
        )
        return bool(done.rowcount)

    def preferred_media(self, customer_id: int) -> tuple[str, ...] | None:
        """The media the customer chose (empty: none at all), or None if they never did."""
        found = self.connection.execute(
            _PREFERRED, {"customer_id": customer_id}
        ).scalar_one_or_none()
        if found is None:
            return None
        return tuple(m for m in found.split(",") if m)

    def set_preference(
        self, customer_id: int, media: tuple[str, ...], at: datetime, by: str
    ) -> None:
        values = {"media": ",".join(media), "updated_at": at, "updated_by": by[:255]}
        done = self.connection.execute(
            sa.update(notification_preferences)
            .where(notification_preferences.c.customer_id == customer_id)
            .values(**values)
        )
        if not done.rowcount:
            self.connection.execute(
                sa.insert(notification_preferences).values(customer_id=customer_id, **values)
            )

    def list_page(
        self, *, order_id: int | None, outcome: str | None, cursor: str | None, limit: int
    ) -> tuple[list[SentRecord], str | None]:
        query = sa.select(notifications).order_by(notifications.c.id.desc()).limit(limit + 1)
        if order_id is not None:
            query = query.where(notifications.c.order_id == order_id)
        if outcome:
            query = query.where(notifications.c.outcome == outcome)
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(notifications.c.id < min(max(last_id, 0), 2**63 - 1))
        rows: Sequence[Any] = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        records = [
            SentRecord(
                event_id=r.event_id,
                event_type=r.event_type,
                topic=r.topic,
                medium=r.medium,
                order_id=r.order_id,
                recipient=r.recipient,
                language=r.language,
                template=r.template,
                subject=r.subject,
                outcome=r.outcome,
                attempt=r.attempt,
                error=r.error,
                created_at=r.created_at,
                id=r.id,
            )
            for r in rows
        ]
        return records, encode_cursor(rows[-1].id) if more else None
