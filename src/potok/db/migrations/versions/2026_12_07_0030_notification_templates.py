"""notification templates: administrators' versions of each message template

Revision ID: d5f1a0c7e301
Revises: a7e1f0c7a001
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "d5f1a0c7e301"
down_revision: str | None = "a7e1f0c7a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_templates",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("medium", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_notification_templates_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_templates")),
        sa.UniqueConstraint(
            "topic",
            "language",
            "medium",
            "version",
            name=op.f("uq_notification_templates_topic_language_medium_version"),
        ),
    )


def downgrade() -> None:
    op.drop_table("notification_templates")
