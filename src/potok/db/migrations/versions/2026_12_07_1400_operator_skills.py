"""operator skills: what each operator can do (skills, languages, channels as codes), the
skills a queue asks of every task and whether it routes by the order's channel, and the
skills each task needs

Revision ID: e7a5c11d1400
Revises: c0d4e1a21430
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types
from potok.db.migration_ops import drop_plain_columns

revision: str = "e7a5c11d1400"
down_revision: str | None = "c0d4e1a21430"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "operator_skills",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("skills", _json(), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_operator_skills")),
    )
    op.add_column(
        "task_queues",
        sa.Column("skills", _json(), server_default=sa.text("'[]'"), nullable=False),
    )
    op.add_column(
        "task_queues",
        sa.Column("by_channel", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "tasks", sa.Column("skills", _json(), server_default=sa.text("'[]'"), nullable=False)
    )


def downgrade() -> None:
    drop_plain_columns("tasks", "skills")
    drop_plain_columns("task_queues", "skills", "by_channel")
    op.drop_table("operator_skills")
