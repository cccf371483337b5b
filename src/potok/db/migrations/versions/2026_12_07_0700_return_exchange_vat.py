"""return exchanges keep the VAT inside the replacement's worth

Revision ID: 7a1c2e90b3d4
Revises: e5f1c7e20510
Create Date: 2026-12-07 07:00:00

A return's refund VAT was the VAT of its lines even when a replacement took part of the
refund's place. Exchanges made so far are filled in from their replacement order: an
exchange order carries no delivery fee, so its stored VAT total is its lines' VAT.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.migration_ops import drop_plain_columns
from potok.db.types import Amount

revision: str = "7a1c2e90b3d4"
down_revision: str | None = "e5f1c7e20510"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("returns") as table:
        table.add_column(sa.Column("exchange_vat", Amount(), server_default="0", nullable=False))
    op.execute(
        "UPDATE returns SET exchange_vat = (SELECT orders.vat_total FROM orders"
        " WHERE orders.id = returns.exchange_order_id)"
        " WHERE exchange_order_id IS NOT NULL"
    )


def downgrade() -> None:
    drop_plain_columns("returns", "exchange_vat")
