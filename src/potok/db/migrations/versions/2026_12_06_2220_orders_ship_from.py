"""orders: the one location allowed to fulfil an order (a marketplace's FBS order ships
from the warehouse the marketplace sent it to)

Revision ID: b7a1c0de6004
Revises: e11e7a0d0003
Create Date: 2026-12-06 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7a1c0de6004"
down_revision: str | None = "e11e7a0d0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.add_column(sa.Column("ship_from_id", ID, nullable=True))
        table.create_foreign_key(
            op.f("fk_orders_ship_from_id_warehouses"), "warehouses", ["ship_from_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.drop_constraint(op.f("fk_orders_ship_from_id_warehouses"), type_="foreignkey")
        table.drop_column("ship_from_id")
