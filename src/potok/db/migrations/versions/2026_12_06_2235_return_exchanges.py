"""return exchanges: the replacement order of a return and what it is worth

Revision ID: c3e7a1b2d904
Revises: c3e1c0de7001
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import Amount

revision: str = "c3e7a1b2d904"
down_revision: str | None = "c3e1c0de7001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("returns") as table:
        table.add_column(sa.Column("exchange_order_id", ID, nullable=True))
        table.add_column(sa.Column("exchange_value", Amount(), server_default="0", nullable=False))
        table.create_foreign_key(
            op.f("fk_returns_exchange_order_id_orders"), "orders", ["exchange_order_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("returns") as table:
        table.drop_constraint(op.f("fk_returns_exchange_order_id_orders"), type_="foreignkey")
        table.drop_column("exchange_value")
        table.drop_column("exchange_order_id")
