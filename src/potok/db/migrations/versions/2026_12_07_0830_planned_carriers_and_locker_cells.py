"""planned carriers and locker cells: the carrier sourcing chose travels to the shipment, and
a parcel locker's cell sizes are kept with the pickup-point directory

Revision ID: f2b3d4e50800
Revises: 8b2d4f61c0e5
Create Date: 2026-12-07 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.migration_ops import drop_plain_columns

revision: str = "f2b3d4e50800"
down_revision: str | None = "8b2d4f61c0e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch_op:
        batch_op.add_column(sa.Column("planned_carrier", sa.String(length=32), nullable=True))
    with op.batch_alter_table("carrier_points") as batch_op:
        batch_op.add_column(
            sa.Column("cells", sa.String(length=500), nullable=False, server_default="")
        )


def downgrade() -> None:
    drop_plain_columns("carrier_points", "cells")
    drop_plain_columns("shipments", "planned_carrier")
