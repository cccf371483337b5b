"""Tables of products, channels, the network and customers (the slowly changing data)."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata, timestamps
from potok.db.types import Amount, Percent, UtcDateTime, json_type

product_categories = sa.Table(
    "product_categories",
    metadata,
    id_column(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    fk("parent_id", "product_categories.id", nullable=True),
    # the codes from the root down to this one, joined by '>' (see domain.catalogue.categories)
    sa.Column("path", sa.String(600), nullable=False),
    *timestamps(),
    sa.Index(None, "parent_id"),
)

products = sa.Table(
    "products",
    metadata,
    id_column(),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("barcode", sa.String(64), nullable=True, unique=True),
    sa.Column("price", Amount(), nullable=False),
    sa.Column("vat_rate", Percent(), nullable=False),
    sa.Column("weight_g", sa.Integer(), nullable=False, server_default="0"),
    # none, lot (stock kept per lot with its dates) or serial (every unit by its number)
    sa.Column("tracking", sa.String(10), nullable=False, server_default="none"),
    # fefo or fifo; NULL takes the warehouse's strategy
    sa.Column("removal_strategy", sa.String(10), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    # more barcodes (GTINs of other packs, suppliers' codes); product_barcodes indexes them all
    sa.Column("barcodes", json_type(), nullable=False, server_default=sa.text("'[]'")),
    # what every unit must have recorded at packing: marking, imei, uin (comma-separated)
    sa.Column("unit_identifiers", sa.String(40), nullable=False, server_default=""),
    # goods of another parcel group ship apart (bulky, chilled, ...)
    sa.Column("parcel_group", sa.String(32), nullable=False, server_default=""),
    *timestamps(),
    sa.CheckConstraint("price >= 0", name="price_not_negative"),
    sa.CheckConstraint("vat_rate >= 0", name="vat_rate_not_negative"),
    sa.CheckConstraint("weight_g >= 0", name="weight_not_negative"),
)

product_barcodes = sa.Table(
    "product_barcodes",
    metadata,
    sa.Column("barcode", sa.String(64), primary_key=True),  # one product per barcode
    sa.Column(
        "product_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("products.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Index(None, "product_id"),
)

product_category_links = sa.Table(
    "product_category_links",
    metadata,
    sa.Column(
        "product_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("products.id", ondelete="CASCADE"),
        primary_key=True,
    ),  # a product is in one category at most
    # the category's code (codes never change): a category with products cannot be deleted
    sa.Column("category", sa.String(64), sa.ForeignKey("product_categories.code"), nullable=False),
    sa.Index(None, "category"),
)

channels = sa.Table(
    "channels",
    metadata,
    id_column(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("confirmation", sa.String(20), nullable=False),
    sa.Column("backorders", sa.String(20), nullable=False),
    sa.Column("safety_buffer", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("payment_deadline_minutes", sa.Integer(), nullable=True),
    # goods with fewer days of shelf life left are not sold through this channel
    sa.Column("min_shelf_life_days", sa.Integer(), nullable=False, server_default="0"),
    # the payment methods its orders may use, comma-separated
    sa.Column(
        "payment_methods",
        sa.String(255),
        nullable=False,
        server_default="online,cash_on_delivery,card_on_delivery,invoice,marketplace,in_store",
    ),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    *timestamps(),
    sa.CheckConstraint("safety_buffer >= 0", name="safety_buffer_not_negative"),
    sa.CheckConstraint("min_shelf_life_days >= 0", name="min_shelf_life_not_negative"),
)

warehouses = sa.Table(
    "warehouses",
    metadata,
    id_column(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("city", sa.String(120), nullable=False),
    sa.Column("region", sa.String(120), nullable=True),  # for region tariffs and exclusions
    sa.Column("address", sa.String(500), nullable=False, server_default=""),
    sa.Column("latitude", sa.Float(), nullable=False),
    sa.Column("longitude", sa.Float(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    # fefo or fifo, for products that do not set their own
    sa.Column("removal_strategy", sa.String(10), nullable=False, server_default="fefo"),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    # hours a reservation here may wait to be picked before the order is sourced elsewhere
    sa.Column("reservation_hours", sa.Integer(), nullable=True),
    *timestamps(),
    sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
    sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
)

warehouse_channels = sa.Table(
    "warehouse_channels",
    metadata,
    sa.Column(
        "warehouse_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("warehouses.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "channel_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("channels.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Index(None, "channel_id"),
)

customers = sa.Table(
    "customers",
    metadata,
    id_column(),
    # personal data, encrypted (see potok.security.data); found by the keyed hashes
    sa.Column("name", sa.Text(), nullable=False, server_default=""),
    sa.Column("phone", sa.Text(), nullable=True),
    sa.Column("email", sa.Text(), nullable=True),
    sa.Column("phone_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("email_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("anonymised_at", UtcDateTime(), nullable=True),
)

reference_versions = sa.Table(
    "reference_versions",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    # a fresh random token on every change, so that a cached copy never matches by chance
    sa.Column("token", sa.String(36), nullable=False),
)

__all__ = [
    "channels",
    "customers",
    "product_barcodes",
    "product_categories",
    "product_category_links",
    "products",
    "reference_versions",
    "warehouse_channels",
    "warehouses",
]
