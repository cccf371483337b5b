"""automation rules: rules as data with their versions, what each did to which order
(firings), and the tags rules and operators put on orders; the reaction that runs the
rules starts at the end of the history it did not exist for

Revision ID: 6ddc41ce7302
Revises: d5f1a0c7e301
Create Date: 2026-12-06 23:45:41
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import potok.db.types

revision: str = "6ddc41ce7302"
down_revision: str | None = "d5f1a0c7e301"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REACTION = "reaction:apply_automation_rules"


def upgrade() -> None:
    op.create_table(
        "automation_rules",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=2000), nullable=False),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("stop", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_automation_rules_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_rules")),
    )
    with op.batch_alter_table("automation_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_automation_rules_trigger_position"),
            ["trigger", "position"],
            unique=False,
        )

    op.create_table(
        "automation_rule_versions",
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("saved_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name=op.f("fk_automation_rule_versions_rule_id_automation_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "version", name=op.f("pk_automation_rule_versions")),
    )
    op.create_table(
        "automation_firings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("fired_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "chain",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_automation_firings_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name=op.f("fk_automation_firings_rule_id_automation_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_firings")),
        sa.UniqueConstraint(
            "rule_id", "event_id", name=op.f("uq_automation_firings_rule_id_event_id")
        ),
    )
    with op.batch_alter_table("automation_firings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_automation_firings_order_id_fired_at"),
            ["order_id", "fired_at"],
            unique=False,
        )

    op.create_table(
        "order_tags",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("tagged_at", potok.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_tags_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "tag", name=op.f("pk_order_tags")),
    )
    with op.batch_alter_table("order_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_tags_tag"), ["tag"], unique=False)

    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(position) FROM outbox_events")).scalar() or 0
    present = set(bind.execute(sa.text("SELECT name FROM event_consumers")).scalars())
    if REACTION not in present:
        consumers = sa.table(
            "event_consumers",
            sa.column("name", sa.String),
            sa.column("position", sa.BigInteger),
            sa.column("attempts", sa.Integer),
            sa.column("updated_at", potok.db.types.UtcDateTime(timezone=True)),
        )
        op.bulk_insert(
            consumers,
            [{"name": REACTION, "position": last, "attempts": 0, "updated_at": datetime.now(UTC)}],
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM event_consumers WHERE name = :name").bindparams(name=REACTION))
    with op.batch_alter_table("order_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_tags_tag"))

    op.drop_table("order_tags")
    with op.batch_alter_table("automation_firings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_firings_order_id_fired_at"))

    op.drop_table("automation_firings")
    op.drop_table("automation_rule_versions")
    with op.batch_alter_table("automation_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_rules_trigger_position"))

    op.drop_table("automation_rules")
