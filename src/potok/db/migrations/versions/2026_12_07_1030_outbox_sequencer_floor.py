"""outbox sequencer floor: PostgreSQL's sequencer looks for events to place from a
remembered id below which every event is placed and none can still commit, rather than
from the start of the partial index of unplaced events (which walks an entry for every
event placed since the last vacuum: quadratic on a large backlog)

Revision ID: e3a9c51d1030
Revises: c4a7e1b21040
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "e3a9c51d1030"
down_revision: str | None = "c4a7e1b21040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_sequencer",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("floor_id", sa.BigInteger(), nullable=False),
        sa.Column("settled_id", sa.BigInteger(), nullable=False),
        sa.Column("mark_id", sa.BigInteger(), nullable=True),
        sa.Column("mark_xmax", sa.BigInteger(), nullable=True),
        sa.Column("marked_at", potok.db.types.UtcDateTime(), nullable=True),
        sa.Column("swept_at", potok.db.types.UtcDateTime(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_outbox_sequencer_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_sequencer")),
    )


def downgrade() -> None:
    op.drop_table("outbox_sequencer")
