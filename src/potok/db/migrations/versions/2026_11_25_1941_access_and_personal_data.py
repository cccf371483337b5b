"""access and personal data: users, sessions, API keys, the append-only audit trail;
encrypted personal data found by keyed hashes

Revision ID: f6782b73ec24
Revises: be96740502f1
Create Date: 2026-11-25 19:41:57.617787
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types
from potok.db import audit_guard

revision: str = "f6782b73ec24"
down_revision: str | None = "be96740502f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("occurred_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_entity_type_entity_id"),
            ["entity_type", "entity_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_audit_log_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), server_default="", nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column(
            "must_change_password", sa.Boolean(), server_default=sa.text("(true)"), nullable=False
        ),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("revoked_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("last_used_at", potok.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "rate_limit_per_minute > 0", name=op.f("ck_api_keys_rate_limit_positive")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_api_keys_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("csrf_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_warehouses",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "warehouse_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_warehouses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_user_warehouses_warehouse_id_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "warehouse_id", name=op.f("pk_user_warehouses")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("email_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("anonymised_at", potok.db.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column(
            "name",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=False,
            existing_server_default=sa.text("('')"),
        )
        batch_op.alter_column(
            "phone", existing_type=sa.VARCHAR(length=20), type_=sa.Text(), existing_nullable=True
        )
        batch_op.alter_column(
            "email", existing_type=sa.VARCHAR(length=254), type_=sa.Text(), existing_nullable=True
        )
        batch_op.drop_constraint(batch_op.f("uq_customers_email"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_customers_phone"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_customers_email_hash"), ["email_hash"])
        batch_op.create_unique_constraint(batch_op.f("uq_customers_phone_hash"), ["phone_hash"])

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_name_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("customer_phone_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("customer_email_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "customer_name",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=False,
            existing_server_default=sa.text("('')"),
        )
        batch_op.alter_column(
            "customer_phone",
            existing_type=sa.VARCHAR(length=20),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "customer_email",
            existing_type=sa.VARCHAR(length=254),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "address_postal_code",
            existing_type=sa.VARCHAR(length=20),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "address_line1",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "address_line2",
            existing_type=sa.VARCHAR(length=255),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.drop_index(batch_op.f("ix_orders_customer_email"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_phone"))
        batch_op.create_index(
            batch_op.f("ix_orders_customer_email_hash"), ["customer_email_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_customer_name_hash"), ["customer_name_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_customer_phone_hash"), ["customer_phone_hash"], unique=False
        )

    audit_guard.install(op.get_bind())


def downgrade() -> None:
    audit_guard.uninstall(op.get_bind())
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_customer_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_name_hash"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_email_hash"))
        batch_op.create_index(
            batch_op.f("ix_orders_customer_phone"), ["customer_phone"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_customer_email"), ["customer_email"], unique=False
        )
        batch_op.alter_column(
            "address_line2",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "address_line1",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "address_postal_code",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=20),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "customer_email",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=254),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "customer_phone",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=20),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "customer_name",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=False,
            existing_server_default=sa.text("('')"),
        )
        batch_op.drop_column("customer_email_hash")
        batch_op.drop_column("customer_phone_hash")
        batch_op.drop_column("customer_name_hash")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_customers_phone_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_customers_email_hash"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_customers_phone"), ["phone"])
        batch_op.create_unique_constraint(batch_op.f("uq_customers_email"), ["email"])
        batch_op.alter_column(
            "email", existing_type=sa.Text(), type_=sa.VARCHAR(length=254), existing_nullable=True
        )
        batch_op.alter_column(
            "phone", existing_type=sa.Text(), type_=sa.VARCHAR(length=20), existing_nullable=True
        )
        batch_op.alter_column(
            "name",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=255),
            existing_nullable=False,
            existing_server_default=sa.text("('')"),
        )
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("email_hash")
        batch_op.drop_column("phone_hash")

    op.drop_table("user_warehouses")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_expires_at"))

    op.drop_table("sessions")
    op.drop_table("api_keys")
    op.drop_table("users")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_entity_type_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))

    op.drop_table("audit_log")
