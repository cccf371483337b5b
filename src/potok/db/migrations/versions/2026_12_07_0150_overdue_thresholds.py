"""overdue thresholds: administrators' threshold per warehouse stage, every change kept

Revision ID: b0e7d7e00001
Revises: e3b7c1d90a15
Create Date: 2026-12-07 01:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "b0e7d7e00001"
down_revision: str | None = "e3b7c1d90a15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "overdue_thresholds",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_overdue_thresholds_version_positive")),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_overdue_thresholds_minutes_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overdue_thresholds")),
        sa.UniqueConstraint("stage", "version", name=op.f("uq_overdue_thresholds_stage_version")),
    )


def downgrade() -> None:
    op.drop_table("overdue_thresholds")
