"""marketplace returns: Yandex Market's returns and unredeemed orders as Potok returns

Revision ID: e3c5a7b90211
Revises: f4b0d62e1100
Create Date: 2026-12-07 11:00:00

One row per marketplace return that became a Potok return; the unique (connection,
external id) makes two pollers (or a poll and a notification) racing on one return make one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime, id_type

revision: str = "e3c5a7b90211"
down_revision: str | None = "f4b0d62e1100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "marketplace_returns",
        sa.Column("id", id_type(), sa.Identity(always=False), nullable=False),
        sa.Column("connection_id", id_type(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("order_external_id", sa.String(length=128), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("return_id", id_type(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["marketplace_connections.id"],
            name=op.f("fk_marketplace_returns_connection_id_marketplace_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_marketplace_returns_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_returns")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_marketplace_returns_connection_id_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_marketplace_returns_return_id"), "marketplace_returns", ["return_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_marketplace_returns_return_id"), table_name="marketplace_returns")
    op.drop_table("marketplace_returns")
