"""alerts for operators (an order re-routing could not cover, ...); how long a location may
keep a reservation before its order is sourced elsewhere

Revision ID: d5a1e7c0f001
Revises: 50d409dd3f05
Create Date: 2026-11-26 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "d5a1e7c0f001"
down_revision: str | None = "50d409dd3f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("raised_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("acknowledged_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_operator_alerts_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_alerts")),
    )
    op.create_index(
        "ix_operator_alerts_open",
        "operator_alerts",
        ["id"],
        unique=False,
        postgresql_where=sa.text("acknowledged_at IS NULL"),
        sqlite_where=sa.text("acknowledged_at IS NULL"),
    )
    op.create_index(
        op.f("ix_operator_alerts_order_id"), "operator_alerts", ["order_id"], unique=False
    )
    with op.batch_alter_table("warehouses") as batch:
        batch.add_column(sa.Column("reservation_hours", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("warehouses") as batch:
        batch.drop_column("reservation_hours")
    op.drop_index(op.f("ix_operator_alerts_order_id"), table_name="operator_alerts")
    op.drop_index(
        "ix_operator_alerts_open",
        table_name="operator_alerts",
        postgresql_where=sa.text("acknowledged_at IS NULL"),
        sqlite_where=sa.text("acknowledged_at IS NULL"),
    )
    op.drop_table("operator_alerts")
