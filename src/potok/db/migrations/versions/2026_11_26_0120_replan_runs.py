"""sourcing: a log of batch re-plan runs (scope, method, orders considered and moved,
cost before and after, applied or a dry run)

Revision ID: f3c9d1e5b003
Revises: d5a1e7c0f001
Create Date: 2026-11-26 01:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "f3c9d1e5b003"
down_revision: str | None = "d5a1e7c0f001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replan_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("started_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("orders_considered", sa.Integer(), nullable=False),
        sa.Column("orders_changed", sa.Integer(), nullable=False),
        sa.Column("orders_skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("backorders_reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "cost_before", potok.db.types.ScaledDecimal(precision=14, scale=2), nullable=False
        ),
        sa.Column(
            "cost_after", potok.db.types.ScaledDecimal(precision=14, scale=2), nullable=False
        ),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column(
            "notes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "orders_changed >= 0 AND orders_considered >= orders_changed",
            name=op.f("ck_replan_runs_counts_sane"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replan_runs")),
    )
    op.create_index(op.f("ix_replan_runs_started_at"), "replan_runs", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_replan_runs_started_at"), table_name="replan_runs")
    op.drop_table("replan_runs")
