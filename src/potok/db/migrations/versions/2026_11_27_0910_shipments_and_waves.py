"""shipments (items, steps, parcels, unit codes), picking waves; orders' fulfilment
progress and the reservations a started shipment holds

Revision ID: a1f0c0de0002
Revises: a1f0c0de0001
Create Date: 2026-11-27 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from potok.db.types import UtcDateTime

revision: str = "a1f0c0de0002"
down_revision: str | None = "a1f0c0de0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, sa.Identity(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "waves",
        _id(),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("warehouse_id", ID, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_waves_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves")),
        sa.UniqueConstraint("number", name=op.f("uq_waves_number")),
    )
    op.create_index(
        op.f("ix_waves_warehouse_id_status"), "waves", ["warehouse_id", "status"], unique=False
    )
    op.create_table(
        "shipments",
        _id(),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", ID, nullable=False),
        sa.Column("parcel_group", sa.String(32), nullable=False, server_default=""),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("wave_id", ID, nullable=True),
        sa.Column("carrier", sa.String(32), nullable=True),
        sa.Column("carrier_ref", sa.String(64), nullable=True),
        sa.Column("tracking_number", sa.String(64), nullable=True),
        sa.Column("label", sa.String(500), nullable=True),
        sa.Column("tariff", sa.String(64), nullable=True),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column("eta_on", sa.Date(), nullable=True),
        sa.Column("storage_until", UtcDateTime(), nullable=True),
        sa.Column("handed_over_at", UtcDateTime(), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_shipments_seq_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_shipments_version_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_shipments_warehouse_id_warehouses")
        ),
        sa.ForeignKeyConstraint(["wave_id"], ["waves.id"], name=op.f("fk_shipments_wave_id_waves")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("order_id", "seq", name=op.f("uq_shipments_order_id_seq")),
    )
    op.create_index(
        op.f("ix_shipments_warehouse_id_status"),
        "shipments",
        ["warehouse_id", "status"],
        unique=False,
    )
    op.create_index(op.f("ix_shipments_wave_id"), "shipments", ["wave_id"], unique=False)
    op.create_index(
        op.f("ix_shipments_status_updated_at"), "shipments", ["status", "updated_at"], unique=False
    )
    op.create_index(
        op.f("ix_shipments_carrier_tracking_number"),
        "shipments",
        ["carrier", "tracking_number"],
        unique=False,
    )
    op.create_index(
        "uq_shipments_pending",
        "shipments",
        ["order_id", "warehouse_id", "parcel_group"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "shipment_items",
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("stock_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("packed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("serials", JSON, nullable=False),
        sa.Column("picked_serials", JSON, nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_shipment_items_quantity_not_negative")),
        sa.CheckConstraint(
            "picked >= 0 AND picked <= quantity",
            name=op.f("ck_shipment_items_picked_within_quantity"),
        ),
        sa.CheckConstraint(
            "packed >= 0 AND packed <= picked",
            name=op.f("ck_shipment_items_packed_within_picked"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_items_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_shipment_items_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["stock_id"], ["stock.id"], name=op.f("fk_shipment_items_stock_id_stock")
        ),
        sa.PrimaryKeyConstraint("shipment_id", "item_no", name=op.f("pk_shipment_items")),
    )
    op.create_index(
        op.f("ix_shipment_items_product_id"), "shipment_items", ["product_id"], unique=False
    )
    op.create_table(
        "shipment_steps",
        _id(),
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_steps_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_steps")),
    )
    op.create_index(
        op.f("ix_shipment_steps_shipment_id_id"), "shipment_steps", ["shipment_id", "id"]
    )
    op.create_index(op.f("ix_shipment_steps_occurred_at"), "shipment_steps", ["occurred_at"])
    op.create_table(
        "parcels",
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("parcel_no", sa.Integer(), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("length_mm", sa.Integer(), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("contents", JSON, nullable=False),
        sa.Column("packed_at", UtcDateTime(), nullable=False),
        sa.Column("packed_by", sa.String(255), nullable=False),
        sa.CheckConstraint("weight_g > 0", name=op.f("ck_parcels_weight_positive")),
        sa.CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0",
            name=op.f("ck_parcels_dimensions_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_parcels_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shipment_id", "parcel_no", name=op.f("pk_parcels")),
    )
    op.create_table(
        "shipment_codes",
        _id(),
        sa.Column("shipment_id", ID, nullable=False),
        sa.Column("parcel_no", sa.Integer(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("code_key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_codes_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_codes")),
    )
    op.create_index(
        op.f("ix_shipment_codes_shipment_id"), "shipment_codes", ["shipment_id"], unique=False
    )
    op.create_index(
        "uq_shipment_codes_active",
        "shipment_codes",
        ["kind", "code_key"],
        unique=True,
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(
            sa.Column("fulfilment", sa.String(24), nullable=False, server_default="none")
        )
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.add_column(sa.Column("shipment_id", ID, nullable=True))
        batch_op.create_index("ix_reservations_shipment_id", ["shipment_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_reservations_shipment_id_shipments", "shipments", ["shipment_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.drop_constraint("fk_reservations_shipment_id_shipments", type_="foreignkey")
        batch_op.drop_index("ix_reservations_shipment_id")
        batch_op.drop_column("shipment_id")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("fulfilment")
    op.drop_index("uq_shipment_codes_active", table_name="shipment_codes")
    op.drop_index(op.f("ix_shipment_codes_shipment_id"), table_name="shipment_codes")
    op.drop_table("shipment_codes")
    op.drop_table("parcels")
    op.drop_index(op.f("ix_shipment_steps_occurred_at"), table_name="shipment_steps")
    op.drop_index(op.f("ix_shipment_steps_shipment_id_id"), table_name="shipment_steps")
    op.drop_table("shipment_steps")
    op.drop_index(op.f("ix_shipment_items_product_id"), table_name="shipment_items")
    op.drop_table("shipment_items")
    op.drop_index("uq_shipments_pending", table_name="shipments")
    op.drop_index(op.f("ix_shipments_carrier_tracking_number"), table_name="shipments")
    op.drop_index(op.f("ix_shipments_status_updated_at"), table_name="shipments")
    op.drop_index(op.f("ix_shipments_wave_id"), table_name="shipments")
    op.drop_index(op.f("ix_shipments_warehouse_id_status"), table_name="shipments")
    op.drop_table("shipments")
    op.drop_index(op.f("ix_waves_warehouse_id_status"), table_name="waves")
    op.drop_table("waves")
