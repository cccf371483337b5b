"""Orders' tracking tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from potok.db.tables import tracking_links

_TOKEN_OF = sa.select(tracking_links.c.token).where(
    tracking_links.c.order_id == sa.bindparam("order_id")
)
_INSERT = sa.insert(tracking_links)


class TrackingLinkRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def token_of(self, order_id: int) -> str | None:
        return self.connection.execute(_TOKEN_OF, {"order_id": order_id}).scalar_one_or_none()

    def add(self, order_id: int, token: str, at: datetime) -> None:
        """A duplicate (another transaction made the order's token first) is a lost race."""
        self.connection.execute(_INSERT, {"order_id": order_id, "token": token, "created_at": at})

    def order_of(self, token: str) -> int | None:
        return self.connection.execute(
            sa.select(tracking_links.c.order_id).where(tracking_links.c.token == token)
        ).scalar_one_or_none()
