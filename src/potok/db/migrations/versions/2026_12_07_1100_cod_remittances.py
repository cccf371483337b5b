"""cash on delivery remitted by carriers: one row per carrier, registry and parcel; orders
of marketplace and till channels that did not say how they are paid are paid their
channel's way (marketplace, in_store), as intake now records them

Revision ID: c0d4e1a21100
Revises: 9a7e3c1f1030
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db.types import Amount, UtcDateTime, id_type

revision: str = "c0d4e1a21100"
down_revision: str | None = "9a7e3c1f1030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL_METHODS = (("marketplace", "marketplace"), ("pos", "in_store"))


def upgrade() -> None:
    op.create_table(
        "cod_remittances",
        sa.Column("id", id_type(), autoincrement=True, nullable=False),
        sa.Column("carrier", sa.String(32), nullable=False),
        sa.Column("registry_number", sa.String(40), nullable=False),
        sa.Column("tracking_number", sa.String(64), nullable=False),
        sa.Column("shipment_id", id_type(), nullable=False),
        sa.Column("order_id", id_type(), nullable=False),
        sa.Column("expected", Amount(), nullable=False),
        sa.Column("collected", Amount(), nullable=False),
        sa.Column("commission", Amount(), nullable=False),
        sa.Column("transferred", Amount(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("payment_order", sa.String(40), nullable=True),
        sa.Column("read_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_cod_remittances_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_cod_remittances_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_remittances")),
        sa.UniqueConstraint(
            "carrier",
            "registry_number",
            "tracking_number",
            name=op.f("uq_cod_remittances_carrier_registry_number_tracking_number"),
        ),
    )
    op.create_index(
        op.f("ix_cod_remittances_shipment_id"), "cod_remittances", ["shipment_id"], unique=False
    )
    op.create_index(
        op.f("ix_cod_remittances_order_id"), "cod_remittances", ["order_id"], unique=False
    )
    for channel_type, method in CHANNEL_METHODS:
        op.execute(
            sa.text(
                "UPDATE orders SET payment_method = :method WHERE payment_method IS NULL "
                "AND channel_id IN (SELECT id FROM channels WHERE type = :type "
                "AND ',' || payment_methods || ',' LIKE :taken)"
            ).bindparams(method=method, type=channel_type, taken=f"%,{method},%")
        )


def downgrade() -> None:
    # the payment methods filled in stay: they are true, and the code before reads them
    op.drop_index(op.f("ix_cod_remittances_order_id"), table_name="cod_remittances")
    op.drop_index(op.f("ix_cod_remittances_shipment_id"), table_name="cod_remittances")
    op.drop_table("cod_remittances")
