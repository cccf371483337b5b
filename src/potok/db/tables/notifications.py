"""Customer notifications: every message attempt (to whom, masked; which template; what
became of it), and the addresses that asked for none."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import id_column, metadata
from potok.db.types import UtcDateTime, id_type

notifications = sa.Table(
    "notifications",
    metadata,
    id_column(),
    sa.Column("event_id", sa.String(64), nullable=False),  # the outbox event it answers
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("medium", sa.String(16), nullable=False),  # email
    sa.Column("order_id", id_type(), nullable=True),
    sa.Column("recipient", sa.String(255), nullable=True),  # masked: a***@example.ru
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("template", sa.String(64), nullable=False),  # ru/order_shipped
    sa.Column("subject", sa.String(255), nullable=False, server_default=""),
    sa.Column("outcome", sa.String(16), nullable=False),  # sent, failed, dead, skipped
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "event_id"),
    sa.Index(None, "order_id", "id"),
    sa.CheckConstraint("attempt >= 1", name="attempt_positive"),
)

notification_opt_outs = sa.Table(
    "notification_opt_outs",
    metadata,
    sa.Column("address_hash", sa.String(64), primary_key=True),  # keyed hash of the address
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
)


notification_templates = sa.Table(
    "notification_templates",
    metadata,
    id_column(),
    sa.Column("topic", sa.String(32), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("medium", sa.String(16), nullable=False),  # email, sms
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("source", sa.Text(), nullable=True),  # none: back to the shipped template
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.UniqueConstraint("topic", "language", "medium", "version"),
    sa.CheckConstraint("version >= 1", name="version_positive"),
)
notification_preferences = sa.Table(
    "notification_preferences",
    metadata,
    sa.Column(
        "customer_id",
        id_type(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("media", sa.String(32), nullable=False),  # "email,sms"; empty: no messages
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
)

notification_switches = sa.Table(
    "notification_switches",
    metadata,
    id_column(),
    sa.Column("kind", sa.String(16), nullable=False),  # topic, channel
    sa.Column("code", sa.String(64), nullable=False),  # order_shipped, or a channel's code
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("changed_at", UtcDateTime(), nullable=False),
    sa.Column("changed_by", sa.String(255), nullable=False),
    sa.Index(None, "kind", "code", "id"),  # the newest change of a switch is in force
    sa.CheckConstraint("kind IN ('topic', 'channel')", name="kind_known"),
)

__all__ = [
    "notification_opt_outs",
    "notification_preferences",
    "notification_switches",
    "notification_templates",
    "notifications",
]
