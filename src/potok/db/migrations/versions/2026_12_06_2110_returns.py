"""returns (RMA): returns, their lines and steps; the order's return progress

Revision ID: c3e7a1b2d901
Revises: b7a1c0de6003
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from potok.db.types import Amount, Percent, UtcDateTime

revision: str = "c3e7a1b2d901"
down_revision: str | None = "b7a1c0de6003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.add_column(
            sa.Column("returned", sa.String(length=16), server_default="none", nullable=False)
        )
    op.create_table(
        "returns",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("shipment_id", ID, nullable=True),
        sa.Column("warehouse_id", ID, nullable=True),
        sa.Column("refund_amount", Amount(), nullable=False),
        sa.Column("refund_shipping", Amount(), nullable=False),
        sa.Column("refund_status", sa.String(length=16), nullable=False),
        sa.Column("refund_paid_at", UtcDateTime(), nullable=True),
        sa.Column("comment", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=True),
        sa.Column("inspected_at", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("refund_amount >= 0", name=op.f("ck_returns_refund_not_negative")),
        sa.CheckConstraint(
            "refund_shipping >= 0", name=op.f("ck_returns_refund_shipping_not_negative")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_returns_version_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_returns_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_returns_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("number", name=op.f("uq_returns_number")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_returns_shipment_id")),
    )
    op.create_index(op.f("ix_returns_order_id"), "returns", ["order_id"])
    op.create_index(op.f("ix_returns_status_created_at"), "returns", ["status", "created_at"])
    op.create_table(
        "return_lines",
        sa.Column("return_id", ID, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("order_line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("lot_id", ID, nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", Amount(), nullable=False),
        sa.Column("vat_rate", Percent(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("units", JSON, nullable=False),
        sa.Column("received", sa.Integer(), nullable=True),
        sa.Column("restocked", sa.Integer(), server_default="0", nullable=False),
        sa.Column("kept_unavailable", sa.Integer(), server_default="0", nullable=False),
        sa.Column("written_off", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_lines_quantity_positive")),
        sa.CheckConstraint(
            "received IS NULL OR (received >= 0 AND received <= quantity)",
            name=op.f("ck_return_lines_received_in_range"),
        ),
        sa.CheckConstraint(
            "restocked >= 0 AND kept_unavailable >= 0 AND written_off >= 0",
            name=op.f("ck_return_lines_outcomes_positive"),
        ),
        sa.CheckConstraint(
            "restocked + kept_unavailable + written_off <= COALESCE(received, 0)",
            name=op.f("ck_return_lines_outcomes_within_received"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_lines_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_return_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_return_lines_lot_id_lots")),
        sa.PrimaryKeyConstraint("return_id", "line_no", name=op.f("pk_return_lines")),
    )
    op.create_table(
        "return_steps",
        sa.Column("id", ID, sa.Identity(), nullable=False),
        sa.Column("return_id", ID, nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_steps_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_steps")),
    )
    op.create_index(op.f("ix_return_steps_return_id_id"), "return_steps", ["return_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_return_steps_return_id_id"), table_name="return_steps")
    op.drop_table("return_steps")
    op.drop_table("return_lines")
    op.drop_index(op.f("ix_returns_status_created_at"), table_name="returns")
    op.drop_index(op.f("ix_returns_order_id"), table_name="returns")
    op.drop_table("returns")
    with op.batch_alter_table("orders") as table:
        table.drop_column("returned")
