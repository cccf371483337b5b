"""carrier labels: the worker fetches carriers' labels (and retries bookings) with backoff

Revision ID: c4a1be1a0001
Revises: c5a1e0d20001
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import UtcDateTime

revision: str = "c4a1be1a0001"
down_revision: str | None = "c5a1e0d20001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "carrier_labels",
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('waiting', 'ready', 'failed')", name=op.f("ck_carrier_labels_state_known")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_carrier_labels_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_carrier_labels_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_carrier_labels")),
    )
    op.create_index(
        op.f("ix_carrier_labels_state_next_attempt_at"),
        "carrier_labels",
        ["state", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_carrier_labels_state_next_attempt_at"), table_name="carrier_labels")
    op.drop_table("carrier_labels")
