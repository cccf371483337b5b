"""Automation rules, their versions and firings, and the tags rules and operators put on
orders."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import UtcDateTime, json_type

automation_rules = sa.Table(
    "automation_rules",
    metadata,
    id_column(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),  # the order rules run in
    sa.Column("trigger", sa.String(64), nullable=False),  # an order event type
    sa.Column("condition", sa.String(2000), nullable=False),
    sa.Column("actions", json_type(), nullable=False),
    sa.Column("stop", sa.Boolean(), nullable=False),  # no further rule runs after it matched
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("disabled_reason", sa.String(500), nullable=True),  # switched off at run time
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
    sa.Column("every_minutes", sa.Integer(), nullable=True),  # a schedule rule: how often
    sa.Column("next_run_at", UtcDateTime(), nullable=True),  # a schedule rule: when next
    sa.CheckConstraint("version >= 1", name="version_positive"),
    sa.Index(None, "trigger", "position"),
)

automation_rule_versions = sa.Table(
    "automation_rule_versions",
    metadata,
    fk("rule_id", "automation_rules.id", ondelete="CASCADE"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", json_type(), nullable=False),
    sa.Column("saved_at", UtcDateTime(), nullable=False),
    sa.Column("saved_by", sa.String(255), nullable=False),
    sa.PrimaryKeyConstraint("rule_id", "version"),
)

automation_firings = sa.Table(
    "automation_firings",
    metadata,
    id_column(),
    fk("rule_id", "automation_rules.id", ondelete="CASCADE"),
    sa.Column("rule_version", sa.Integer(), nullable=False),
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("event_id", sa.String(64), nullable=False),  # the event that set the rule off
    sa.Column("fired_at", UtcDateTime(), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("actions", json_type(), nullable=False),
    sa.Column("chain", json_type(), nullable=False),  # rules whose firings led to this one
    sa.UniqueConstraint("rule_id", "event_id"),  # at most once per event, however often run
    sa.Index(None, "order_id", "fired_at"),
)

order_tags = sa.Table(
    "order_tags",
    metadata,
    fk("order_id", "orders.id", ondelete="CASCADE"),
    sa.Column("tag", sa.String(64), nullable=False),
    sa.Column("tagged_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("order_id", "tag"),
    sa.Index(None, "tag"),
)
