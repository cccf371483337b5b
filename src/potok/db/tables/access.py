"""Users, their sessions, API keys, and the append-only audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import UtcDateTime, id_type, json_type

users = sa.Table(
    "users",
    metadata,
    id_column(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(255), nullable=False, server_default=""),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("last_login_at", UtcDateTime(), nullable=True),
)

user_warehouses = sa.Table(
    "user_warehouses",
    metadata,
    sa.Column(
        "user_id", id_type(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "warehouse_id",
        id_type(),
        sa.ForeignKey("warehouses.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    fk("user_id", "users.id", ondelete="CASCADE"),
    sa.Column("csrf_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("user_agent", sa.String(255), nullable=True),
    sa.Index(None, "user_id"),
    sa.Index(None, "expires_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    id_column(),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", json_type(), nullable=False),
    fk("channel_id", "channels.id", nullable=True),
    sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_by", sa.String(255), nullable=True),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("rate_limit_per_minute > 0", name="rate_limit_positive"),
)

api_key_buckets = sa.Table(
    # each key's rate-limit bucket, shared by every API process (PostgreSQL): the tokens
    # left when it was last refilled, and how many the last take granted
    "api_key_buckets",
    metadata,
    sa.Column(
        "key_id",
        id_type(),
        sa.ForeignKey("api_keys.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tokens", sa.Float(), nullable=False),
    sa.Column("granted", sa.Float(), nullable=False),
    sa.Column("refilled_at", UtcDateTime(), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    id_column(),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("via", sa.String(16), nullable=False),  # api, cli, worker
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("entity_type", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.String(128), nullable=False),
    sa.Column("before", json_type(), nullable=True),
    sa.Column("after", json_type(), nullable=True),
    sa.Index(None, "occurred_at"),
    sa.Index(None, "entity_type", "entity_id"),
    sa.Index(None, "actor"),
)
