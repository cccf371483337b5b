"""1C's exchange with Potok (CommerceML 2): the exchange sessions 1C opened with ``checkauth``,
the files it uploaded in them, how 1C's catalogue ids map to Potok's SKUs, and which
orders 1C has taken."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import UtcDateTime, json_type

onec_sessions = sa.Table(
    "onec_sessions",
    metadata,
    id_column(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 of the cookie
    fk("key_id", "api_keys.id", ondelete="CASCADE"),
    sa.Column("kind", sa.String(10), nullable=False),  # catalog or sale
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

onec_uploads = sa.Table(
    "onec_uploads",
    metadata,
    id_column(),
    fk("session_id", "onec_sessions.id", ondelete="CASCADE"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("part", sa.Integer(), nullable=False),  # 1C sends a large file in parts
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("session_id", "name", "part"),
)

onec_items = sa.Table(
    "onec_items",
    metadata,
    id_column(),
    sa.Column("onec_id", sa.String(80), nullable=False, unique=True),  # 1C's Ид of the product
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("unit", sa.String(8), nullable=False),  # ОКЕИ code of its base unit
    sa.Column("groups", json_type(), nullable=False),  # 1C's group ids
    sa.Column("properties", json_type(), nullable=False),  # property id -> value
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index(None, "sku"),
)

onec_groups = sa.Table(
    "onec_groups",
    metadata,
    id_column(),
    sa.Column("onec_id", sa.String(80), nullable=False, unique=True),
    sa.Column("kind", sa.String(10), nullable=False),  # group or property
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("parent", sa.String(80), nullable=True),  # a group's parent group
    sa.Column("choices", json_type(), nullable=False),  # a property's values: id -> text
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

onec_order_exports = sa.Table(
    "onec_order_exports",
    metadata,
    id_column(),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("sent_version", sa.Integer(), nullable=True),  # the version last sent on `query`
    fk("sent_session", "onec_sessions.id", nullable=True, ondelete="SET NULL"),
    sa.Column("exported_version", sa.Integer(), nullable=True),  # the version 1C confirmed
    sa.Column("exported_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("order_id"),
)
