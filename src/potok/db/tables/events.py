"""The transactional outbox and the idempotency keys of create requests."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import fk, id_column, metadata
from potok.db.types import UtcDateTime, json_type

outbox_events = sa.Table(
    "outbox_events",
    metadata,
    id_column(),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("aggregate_type", sa.String(32), nullable=False),
    sa.Column("aggregate_id", sa.String(128), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    # the place in commit order, given by the sequencer once the row is visible; the change
    # feed and every consumer read by it (ids are handed out before commit, so out of order)
    sa.Column("position", sa.BigInteger(), nullable=True),
    # events are written without one: on PostgreSQL only sequenced events have an entry
    # (SQLite would not use a partial index for the sequencer's max(position))
    sa.Index(None, "position", unique=True, postgresql_where=sa.text("position IS NOT NULL")),
    sa.Index(
        "ix_outbox_events_unsequenced",
        "id",
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    ),
    sa.Index(None, "aggregate_type", "aggregate_id"),
)

outbox_sequencer = sa.Table(
    "outbox_sequencer",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),  # one row: 1
    # every event with a smaller id has its position, and none can still commit (PostgreSQL):
    # the sequencer looks for events to place from here, not from the start of its index,
    # which keeps an entry for every event placed since the last vacuum
    sa.Column("floor_id", sa.BigInteger(), nullable=False),
    # every event with an id up to this one has committed, or never will
    sa.Column("settled_id", sa.BigInteger(), nullable=False),
    # the highest id seen at a moment, with the transactions running then (the snapshot's
    # xmax): once all of them have ended, no event at or below it can still commit
    sa.Column("mark_id", sa.BigInteger(), nullable=True),
    sa.Column("mark_xmax", sa.BigInteger(), nullable=True),
    sa.Column("marked_at", UtcDateTime(), nullable=True),
    sa.Column("swept_at", UtcDateTime(), nullable=True),  # last looked from the very start
    sa.CheckConstraint("id = 1", name="one_row"),
)
"""Where the sequencer of PostgreSQL looks for events to place (SQLite has no need)."""

event_consumers = sa.Table(
    "event_consumers",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),  # the last event dealt with
    sa.Column("leased_by", sa.String(64), nullable=True),  # the worker that holds it
    sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),  # of the next event
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)
"""Each reader of the outbox (a webhook subscription, ...) and how far it has got."""

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    id_column(),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", json_type(), nullable=False),  # patterns: "order.*", "*", exact
    sa.Column("secret", sa.String(500), nullable=False),  # sealed with the data keys
    # after a rotation the old secret still signs until then (sealed too)
    sa.Column("previous_secret", sa.String(500), nullable=True),
    sa.Column("previous_secret_until", UtcDateTime(), nullable=True),
    sa.Column("channels", json_type(), nullable=True),  # only events of these channels' orders
    sa.Column("warehouses", json_type(), nullable=True),  # only events naming these locations
    sa.Column("description", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("paused_at", UtcDateTime(), nullable=True),  # deliveries wait until resumed
    sa.Column("paused_by", sa.String(200), nullable=True),
    sa.Column("paused_reason", sa.String(300), nullable=True),  # set when paused automatically
    # failed attempts since the last delivery that went through, and since when
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("failing_since", UtcDateTime(), nullable=True),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    id_column(),
    fk("subscription_id", "webhook_subscriptions.id", ondelete="CASCADE"),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # delivered, failed, dead
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("latency_ms", sa.Integer(), nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("attempted_at", UtcDateTime(), nullable=False),
    sa.Column("replay_id", sa.BigInteger(), nullable=True),  # made by this replay
    sa.CheckConstraint("outcome IN ('delivered', 'failed', 'dead')", name="outcome"),
    sa.Index(None, "subscription_id", "id"),
    sa.Index(None, "subscription_id", "position"),
)
"""Every attempt to deliver an event to a subscription: the delivery log and dead letters."""

webhook_replays = sa.Table(
    "webhook_replays",
    metadata,
    id_column(),
    fk("subscription_id", "webhook_subscriptions.id", ondelete="CASCADE"),
    sa.Column("after_position", sa.BigInteger(), nullable=False),  # from the event after it
    sa.Column("until_position", sa.BigInteger(), nullable=False),  # up to this one, included
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Index(None, "subscription_id"),
)
"""A subscription's past events delivered again, on request; its progress is the cursor
of the consumer ``replay:<id>``."""

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    id_column(),
    sa.Column("scope", sa.String(128), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=False),
    sa.Column("response", json_type(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("scope", "key"),
    sa.Index(None, "created_at"),
)
