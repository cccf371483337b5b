"""marketplace connections (credentials sealed, warehouse map, health), the marketplace
orders each imported, and the journal of orders kept aside

Revision ID: b7a1c0de6001
Revises: a4d1c0de5002
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "b7a1c0de6001"
down_revision: str | None = "a4d1c0de5002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
AT = potok.db.types.UtcDateTime()


def upgrade() -> None:
    op.create_table(
        "marketplace_connections",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("marketplace", sa.String(length=20), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("warehouses", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("poll_every_s", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_poll_at", AT, nullable=True),
        sa.Column("last_success_at", AT, nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("rate_limit_waits", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rate_limit_wait_s", sa.Float(), server_default="0", nullable=False),
        sa.Column("imported", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.CheckConstraint(
            "poll_every_s > 0", name=op.f("ck_marketplace_connections_poll_every_s_positive")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_marketplace_connections_channel_id_channels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_connections")),
        sa.UniqueConstraint("code", name=op.f("uq_marketplace_connections_code")),
    )
    op.create_table(
        "marketplace_orders",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("basket", sa.String(length=128), nullable=True),
        sa.Column("warehouse", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("closed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("imported_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_orders_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_marketplace_orders_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_orders")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_marketplace_orders_connection_id_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_marketplace_orders_order_id"), "marketplace_orders", ["order_id"], unique=False
    )
    op.create_index(
        "ix_marketplace_orders_open",
        "marketplace_orders",
        ["connection_id", "id"],
        unique=False,
        postgresql_where=sa.text("NOT closed"),
        sqlite_where=sa.text("NOT closed"),
    )
    op.create_table(
        "marketplace_journal",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("first_seen_at", AT, nullable=False),
        sa.Column("last_seen_at", AT, nullable=False),
        sa.Column("times_seen", sa.Integer(), server_default="1", nullable=False),
        sa.Column("resolved_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_journal_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_journal")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_marketplace_journal_connection_id_external_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("marketplace_journal")
    op.drop_index(
        "ix_marketplace_orders_open",
        table_name="marketplace_orders",
        postgresql_where=sa.text("NOT closed"),
        sqlite_where=sa.text("NOT closed"),
    )
    op.drop_index(op.f("ix_marketplace_orders_order_id"), table_name="marketplace_orders")
    op.drop_table("marketplace_orders")
    op.drop_table("marketplace_connections")
