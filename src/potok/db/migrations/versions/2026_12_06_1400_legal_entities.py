"""legal entities: sellers and B2B buyers with their requisites, the channels a seller
serves, and the buyer of a B2B order

Revision ID: a4d1c0de5001
Revises: a1f0c0de0002
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "a4d1c0de5001"
down_revision: str | None = "a1f0c0de0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "legal_entities",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("short_name", sa.String(length=510), server_default="", nullable=False),
        sa.Column("inn", sa.String(length=12), nullable=True),
        sa.Column("kpp", sa.String(length=9), nullable=True),
        sa.Column("ogrn", sa.String(length=15), nullable=True),
        sa.Column("okpo", sa.String(length=10), nullable=True),
        sa.Column("address", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("postal_address", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=255), server_default="", nullable=False),
        sa.Column("email", sa.String(length=255), server_default="", nullable=False),
        sa.Column("bank_accounts", JSON, nullable=False),
        sa.Column("signatories", JSON, nullable=False),
        sa.Column("vat_payer", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("edo_id", sa.String(length=46), nullable=True),
        sa.Column(
            "time_zone", sa.String(length=64), server_default="Europe/Moscow", nullable=False
        ),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT is_default OR role = 'seller'", name=op.f("ck_legal_entities_default_is_seller")
        ),
        sa.CheckConstraint(
            "role IN ('seller', 'buyer')", name=op.f("ck_legal_entities_role_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_entities")),
        sa.UniqueConstraint("code", name=op.f("uq_legal_entities_code")),
    )
    op.create_index(op.f("ix_legal_entities_inn"), "legal_entities", ["inn"], unique=False)
    op.create_index(
        "uq_legal_entities_one_default",
        "legal_entities",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    op.create_table(
        "legal_entity_channels",
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("legal_entity_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_legal_entity_channels_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_legal_entity_channels_legal_entity_id_legal_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_legal_entity_channels")),
    )
    op.create_index(
        op.f("ix_legal_entity_channels_legal_entity_id"),
        "legal_entity_channels",
        ["legal_entity_id"],
        unique=False,
    )
    op.create_table(
        "order_buyers",
        sa.Column("order_id", ID, nullable=False),
        sa.Column("legal_entity_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"],
            ["legal_entities.id"],
            name=op.f("fk_order_buyers_legal_entity_id_legal_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_buyers_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_buyers")),
    )
    op.create_index(
        op.f("ix_order_buyers_legal_entity_id"), "order_buyers", ["legal_entity_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_order_buyers_legal_entity_id"), table_name="order_buyers")
    op.drop_table("order_buyers")
    op.drop_index(
        op.f("ix_legal_entity_channels_legal_entity_id"), table_name="legal_entity_channels"
    )
    op.drop_table("legal_entity_channels")
    op.drop_index(
        "uq_legal_entities_one_default",
        table_name="legal_entities",
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    op.drop_index(op.f("ix_legal_entities_inn"), table_name="legal_entities")
    op.drop_table("legal_entities")
