"""The transactional outbox and the idempotency keys of create requests."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import id_column, metadata
from potok.db.types import UtcDateTime, json_type

outbox_events = sa.Table(
    "outbox_events",
    metadata,
    id_column(),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("aggregate_type", sa.String(32), nullable=False),
    sa.Column("aggregate_id", sa.String(128), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Index(
        "ix_outbox_events_unpublished",
        "id",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    ),
    sa.Index(None, "aggregate_type", "aggregate_id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    id_column(),
    sa.Column("scope", sa.String(128), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=False),
    sa.Column("response", json_type(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("scope", "key"),
    sa.Index(None, "created_at"),
)
