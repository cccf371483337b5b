"""1C exchange (CommerceML 2): its sessions and uploads, how 1C's product, group and
property ids map to Potok, and which orders 1C has taken

Revision ID: c1e0c0de7001
Revises: c3e7a1b2d901
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "c1e0c0de7001"
down_revision: str | None = "c3e7a1b2d901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = potok.db.types.UtcDateTime()
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "onec_groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("onec_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent", sa.String(length=80), nullable=True),
        sa.Column(
            "choices",
            JSON,
            nullable=False,
        ),
        sa.Column("updated_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_groups")),
        sa.UniqueConstraint("onec_id", name=op.f("uq_onec_groups_onec_id")),
    )
    op.create_table(
        "onec_items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("onec_id", sa.String(length=80), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column(
            "groups",
            JSON,
            nullable=False,
        ),
        sa.Column(
            "properties",
            JSON,
            nullable=False,
        ),
        sa.Column("updated_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_items")),
        sa.UniqueConstraint("onec_id", name=op.f("uq_onec_items_onec_id")),
    )
    with op.batch_alter_table("onec_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_onec_items_sku"), ["sku"], unique=False)

    op.create_table(
        "onec_sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("started_at", AT, nullable=False),
        sa.Column("expires_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_onec_sessions_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_onec_sessions_token_hash")),
    )
    op.create_table(
        "onec_order_exports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sent_version", sa.Integer(), nullable=True),
        sa.Column(
            "sent_session", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("exported_version", sa.Integer(), nullable=True),
        sa.Column("exported_at", AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_onec_order_exports_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_session"],
            ["onec_sessions.id"],
            name=op.f("fk_onec_order_exports_sent_session_onec_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_order_exports")),
        sa.UniqueConstraint("order_id", name=op.f("uq_onec_order_exports_order_id")),
    )
    op.create_table(
        "onec_uploads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["onec_sessions.id"],
            name=op.f("fk_onec_uploads_session_id_onec_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onec_uploads")),
        sa.UniqueConstraint(
            "session_id", "name", "part", name=op.f("uq_onec_uploads_session_id_name_part")
        ),
    )


def downgrade() -> None:
    op.drop_table("onec_uploads")
    op.drop_table("onec_order_exports")
    op.drop_table("onec_sessions")
    with op.batch_alter_table("onec_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onec_items_sku"))

    op.drop_table("onec_items")
    op.drop_table("onec_groups")
