"""per-key rate-limit buckets shared by every API process

Revision ID: 8b2d4f61c0e5
Revises: 5b8e0c4d7f21
Create Date: 2026-12-07 08:20:00

With several API processes on one PostgreSQL, each key's token bucket lives in the
database and the processes take tokens from it a few at a time (``db/rate_limits.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime, id_type

revision: str = "8b2d4f61c0e5"
down_revision: str | None = "5b8e0c4d7f21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key_buckets",
        sa.Column("key_id", id_type(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("granted", sa.Float(), nullable=False),
        sa.Column("refilled_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_buckets_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_key_buckets")),
    )


def downgrade() -> None:
    op.drop_table("api_key_buckets")
