"""after-commit reactions read the outbox as consumers: each starts at the events placed
when it arrives (a reaction never replays the history it did not exist for)

Revision ID: e11e7a0d0002
Revises: e11e7a0d0001
Create Date: 2026-12-06 21:55:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "e11e7a0d0002"
down_revision: str | None = "e11e7a0d0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REACTIONS = ("reaction:call_off_carrier_booking",)


def upgrade() -> None:
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(position) FROM outbox_events")).scalar() or 0
    consumers = sa.table(
        "event_consumers",
        sa.column("name", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("attempts", sa.Integer),
        sa.column("updated_at", potok.db.types.UtcDateTime(timezone=True)),
    )
    present = set(bind.execute(sa.text("SELECT name FROM event_consumers")).scalars())
    rows = [
        {"name": name, "position": last, "attempts": 0, "updated_at": datetime.now(UTC)}
        for name in REACTIONS
        if name not in present
    ]
    if rows:
        op.bulk_insert(consumers, rows)


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM event_consumers WHERE name IN :names").bindparams(
            sa.bindparam("names", REACTIONS, expanding=True)
        )
    )
