"""system tasks: the cursor of the reaction that opens tasks for failed deliveries,
returns to inspect, backordered orders and connector refusals starts at the end of the
history (a task is opened for what happens from now on, not for every past event)

Revision ID: d7e2a4c10810
Revises: d7e2a4c10800
Create Date: 2026-12-07 08:51:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "d7e2a4c10810"
down_revision: str | None = "d7e2a4c10800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REACTIONS = ("reaction:open_system_tasks",)


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
