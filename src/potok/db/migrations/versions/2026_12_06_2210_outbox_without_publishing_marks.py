"""the outbox loses its publishing marks: consumers' cursors say what each reader has had
(positions since the dispatcher), so published_at and attempts were never written, and
their partial index cost every insert

Revision ID: e11e7a0d0003
Revises: 5e1f0c0de801
Create Date: 2026-12-06 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "e11e7a0d0003"
down_revision: str | None = "5e1f0c0de801"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPUBLISHED = "published_at IS NULL"


def upgrade() -> None:
    op.drop_index(
        "ix_outbox_events_unpublished",
        table_name="outbox_events",
        postgresql_where=sa.text(UNPUBLISHED),
        sqlite_where=sa.text(UNPUBLISHED),
    )
    # in place on both (SQLite 3.35+ drops columns itself): the table is never copied
    op.execute("ALTER TABLE outbox_events DROP COLUMN attempts")
    op.execute("ALTER TABLE outbox_events DROP COLUMN published_at")


def downgrade() -> None:
    with op.batch_alter_table("outbox_events") as table:
        table.add_column(
            sa.Column("published_at", potok.db.types.UtcDateTime(timezone=True), nullable=True)
        )
        table.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_outbox_events_unpublished",
        "outbox_events",
        ["id"],
        postgresql_where=sa.text(UNPUBLISHED),
        sqlite_where=sa.text(UNPUBLISHED),
    )
