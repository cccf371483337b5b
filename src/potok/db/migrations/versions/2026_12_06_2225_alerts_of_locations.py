"""alerts of locations: an alert that belongs to no order may belong to a warehouse (a
location shipping without a tariff), so that warehouse staff see their locations' alerts
and not another's; those raised before are given theirs from the subject they name

Revision ID: b7a1e4750001
Revises: b7a1c0de6004
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7a1e4750001"
down_revision: str | None = "b7a1c0de6004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCATION_KIND = "location_ships_without_tariff"


def upgrade() -> None:
    bind = op.get_bind()
    # SQLite cannot add a reference with ON DELETE to a table in place: the table is copied
    # (it is small, and not one of the immutable ones)
    with op.batch_alter_table("operator_alerts") as batch:
        batch.add_column(
            sa.Column(
                "warehouse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch.create_foreign_key(
            op.f("fk_operator_alerts_warehouse_id_warehouses"),
            "warehouses",
            ["warehouse_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_operator_alerts_warehouse_id"), ["warehouse_id"])
    found = bind.execute(
        sa.text(
            "SELECT id, subject FROM operator_alerts WHERE kind = :kind AND subject IS NOT NULL"
        ),
        {"kind": LOCATION_KIND},
    ).all()
    codes: dict[str, int] = dict(bind.execute(sa.text("SELECT code, id FROM warehouses")).all())
    for alert_id, subject in found:
        code = subject.rsplit(" (tariffs", 1)[0]
        if code in codes:
            bind.execute(
                sa.text("UPDATE operator_alerts SET warehouse_id = :w WHERE id = :id"),
                {"w": codes[code], "id": alert_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("operator_alerts") as batch:
        batch.drop_index(op.f("ix_operator_alerts_warehouse_id"))
        batch.drop_constraint(
            op.f("fk_operator_alerts_warehouse_id_warehouses"), type_="foreignkey"
        )
        batch.drop_column("warehouse_id")
