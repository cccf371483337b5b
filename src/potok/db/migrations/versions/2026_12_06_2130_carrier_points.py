"""carriers' pickup points synced into Potok (address, coordinates, hours, payment and
weight limits, storage period), and the one an order names when it is no location of Potok's

Revision ID: c4a1e5d10001
Revises: c1e0c0de7001
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import potok.db.types

revision: str = "c4a1e5d10001"
down_revision: str | None = "c1e0c0de7001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = potok.db.types.UtcDateTime()


def upgrade() -> None:
    op.create_table(
        "carrier_points",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("hours", sa.String(length=200), server_default="", nullable=False),
        sa.Column("storage_days", sa.Integer(), nullable=False),
        sa.Column(
            "cash_on_delivery", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("cards", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("weight_max_g", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("synced_at", AT, nullable=False),
        sa.CheckConstraint(
            "storage_days > 0", name=op.f("ck_carrier_points_storage_days_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_points")),
        sa.UniqueConstraint("carrier", "code", name=op.f("uq_carrier_points_carrier_code")),
    )
    op.create_index(op.f("ix_carrier_points_city"), "carrier_points", ["city"])
    with op.batch_alter_table("orders") as table:
        table.add_column(sa.Column("carrier_point", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_carrier_points_latitude_longitude"), "carrier_points", ["latitude", "longitude"]
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.drop_column("carrier_point")
    op.drop_index(op.f("ix_carrier_points_latitude_longitude"), table_name="carrier_points")
    op.drop_index(op.f("ix_carrier_points_city"), table_name="carrier_points")
    op.drop_table("carrier_points")
