"""Marketplace connections, the marketplace orders each imported, and the journal of the
orders it could not import (yet)."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import UtcDateTime, id_type, json_type

marketplace_connections = sa.Table(
    "marketplace_connections",
    metadata,
    id_column(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("marketplace", sa.String(20), nullable=False),
    fk("channel_id", "channels.id"),
    sa.Column("base_url", sa.String(500), nullable=False),
    # the token (and Ozon's Client-Id), sealed like personal data
    sa.Column("credentials", sa.Text(), nullable=False),
    # the marketplace's warehouse id -> Potok location code
    sa.Column("warehouses", json_type(), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("poll_every_s", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    # health
    sa.Column("last_poll_at", UtcDateTime(), nullable=True),
    sa.Column("last_success_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.String(1000), nullable=True),
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("refused", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("rate_limit_waits", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("rate_limit_wait_s", sa.Float(), nullable=False, server_default="0"),
    sa.Column("imported", sa.Integer(), nullable=False, server_default="0"),
    # where the next poll reads the marketplace's changes from (RetailCRM's history id)
    sa.Column("cursor", sa.String(64), nullable=True),
    *timestamps(),
    sa.CheckConstraint("poll_every_s > 0", name="poll_every_s_positive"),
)

marketplace_orders = sa.Table(
    "marketplace_orders",
    metadata,
    id_column(),
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    sa.Column("external_id", sa.String(128), nullable=False),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("basket", sa.String(128), nullable=True),  # WB orderUid: one customer's basket
    sa.Column("warehouse", sa.String(64), nullable=False),  # the marketplace's warehouse id
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("status", sa.String(100), nullable=False),  # the marketplace's own words
    sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    # the marketplace's item of each line: [{"line_no": 1, "item": "1146425151"}]
    sa.Column("items", json_type(), nullable=False, server_default=sa.text("'[]'")),
    sa.Column("pushed", sa.String(20), nullable=True),  # packed, shipped or cancelled
    sa.Column("supply", sa.String(64), nullable=True),  # WB: the supply it was added to
    sa.Column("imported_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("connection_id", "external_id"),
    sa.Index(None, "order_id"),
    sa.Index(
        "ix_marketplace_orders_open",
        "connection_id",
        "id",
        postgresql_where=sa.text("NOT closed"),
        sqlite_where=sa.text("NOT closed"),
    ),
)

marketplace_journal = sa.Table(
    "marketplace_journal",
    metadata,
    id_column(),
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    sa.Column("external_id", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(2000), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("times_seen", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("connection_id", "external_id"),
)

marketplace_items = sa.Table(
    "marketplace_items",
    metadata,
    id_column(),
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    fk("product_id", "products.id", ondelete="CASCADE"),
    # the marketplace's id of the item as its orders name it (WB chrtId, Ozon sku)
    sa.Column("item", sa.String(64), nullable=False),
    # the marketplace's product card (WB nmId, Ozon product_id), when known
    sa.Column("product", sa.String(64), nullable=True),
    # the seller's article there (WB vendorCode, Ozon offer_id) and the barcode, when known
    sa.Column("article", sa.String(128), nullable=True),
    sa.Column("barcode", sa.String(64), nullable=True),
    *timestamps(),
    sa.UniqueConstraint("connection_id", "product_id"),
    sa.UniqueConstraint("connection_id", "item"),
)

marketplace_stickers = sa.Table(
    "marketplace_stickers",
    metadata,
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    sa.Column("external_id", sa.String(128), nullable=False),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("media_type", sa.String(32), nullable=False),  # image/png, image/svg+xml, ...
    sa.Column("part_a", sa.String(32), nullable=False),  # WB: the number printed on it
    sa.Column("part_b", sa.String(32), nullable=False),
    sa.Column("barcode", sa.String(64), nullable=False),
    sa.Column("file", sa.LargeBinary(), nullable=False),
    sa.Column("fetched_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "external_id"),
    sa.Index(None, "order_id"),
)
"""The marketplace's sticker of each order it wants on the parcel (WB: one per assembly
task), fetched once after the order was packed there."""

marketplace_returns = sa.Table(
    "marketplace_returns",
    metadata,
    id_column(),
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    sa.Column("external_id", sa.String(64), nullable=False),  # the marketplace's return id
    sa.Column("order_external_id", sa.String(128), nullable=False),
    sa.Column("campaign", sa.String(64), nullable=False),  # Market: the campaign it came to
    fk("return_id", "returns.id", ondelete="CASCADE"),
    sa.Column("kind", sa.String(20), nullable=False),  # Market: RETURN or UNREDEEMED
    sa.Column("status", sa.String(100), nullable=False),  # the marketplace's own words
    *timestamps(),
    sa.UniqueConstraint("connection_id", "external_id"),
    sa.Index(None, "return_id"),
)
"""The marketplace's returns (Market's returns and unredeemed orders) that became Potok
returns, one each: the unique pair makes two pollers racing on one return make one."""

crm_backfills = sa.Table(
    "crm_backfills",
    metadata,
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    sa.Column("state", sa.String(20), nullable=False),  # running or done
    # the orders it tells: every one of other channels with an id up to this one
    sa.Column("through_order_id", id_type(), nullable=False),
    sa.Column("after_order_id", id_type(), nullable=False),  # told so far: up to this id
    sa.Column("total", sa.Integer(), nullable=False),
    sa.Column("sent", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("created", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("refused", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("customers", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("requests", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(1000), nullable=True),
    sa.Column("worker", sa.String(200), nullable=True),  # who runs it now, until lease_until
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint("connection_id"),
    sa.CheckConstraint("state IN ('running', 'done')", name="state_known"),
    sa.CheckConstraint("after_order_id <= through_order_id", name="after_within_through"),
)
"""A CRM connection's back-fill: Potok's orders (and their customers) from before the
connection told to the CRM in batches, resumable from ``after_order_id``."""

crm_orders = sa.Table(
    "crm_orders",
    metadata,
    fk("connection_id", "marketplace_connections.id", ondelete="CASCADE"),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    # the last record of the CRM's order history applied to the order (0: none yet)
    sa.Column("history_id", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("told_at", UtcDateTime(), nullable=True),  # Potok told the CRM the order
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "order_id"),
    sa.Index(None, "order_id"),
)
"""Potok's orders the CRM knows (told by Potok, or made there), and how far the CRM's
history of each has been applied: read under the order's lock, so that two pollers reading
the same history apply each record once."""
