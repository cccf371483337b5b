"""The unguessable token of each order's public tracking page."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import metadata
from potok.db.types import UtcDateTime, id_type

tracking_links = sa.Table(
    "tracking_links",
    metadata,
    sa.Column(
        "order_id", id_type(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

__all__ = ["tracking_links"]
