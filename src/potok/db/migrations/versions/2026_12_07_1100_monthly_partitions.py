"""monthly partitions: on PostgreSQL the order history, the audit trail, the stock ledger
and the sourcing decisions become tables partitioned by the month of their time column
(primary key: the id and that column), with a default partition and months from the
oldest row's (at most two years back) to two months ahead; SQLite keeps plain tables

Revision ID: f4b0d62e1100
Revises: e3a9c51d1030
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "f4b0d62e1100"
down_revision: str | None = "e3a9c51d1030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (time column, indexes (name, columns), foreign keys (name, definition))
TABLES: dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = {
    "order_history": (
        "occurred_at",
        [("ix_order_history_order_id_id", "order_id, id")],
        [
            (
                "fk_order_history_order_id_orders",
                "FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE",
            )
        ],
    ),
    "audit_log": (
        "occurred_at",
        [
            ("ix_audit_log_occurred_at", "occurred_at"),
            ("ix_audit_log_entity_type_entity_id", "entity_type, entity_id"),
            ("ix_audit_log_actor", "actor"),
        ],
        [],
    ),
    "stock_movements": (
        "occurred_at",
        [
            ("ix_stock_movements_stock_id_id", "stock_id, id"),
            ("ix_stock_movements_occurred_at", "occurred_at"),
        ],
        [
            ("fk_stock_movements_stock_id_stock", "FOREIGN KEY (stock_id) REFERENCES stock (id)"),
            (
                "fk_stock_movements_warehouse_id_warehouses",
                "FOREIGN KEY (warehouse_id) REFERENCES warehouses (id)",
            ),
            (
                "fk_stock_movements_product_id_products",
                "FOREIGN KEY (product_id) REFERENCES products (id)",
            ),
            ("fk_stock_movements_lot_id_lots", "FOREIGN KEY (lot_id) REFERENCES lots (id)"),
        ],
    ),
    "sourcing_decisions": (
        "decided_at",
        [("ix_sourcing_decisions_order_id_id", "order_id, id")],
        [
            (
                "fk_sourcing_decisions_order_id_orders",
                "FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE",
            )
        ],
    ),
}
AHEAD = 2  # months made ahead of the current one
BACK = 24  # months at most behind it (older rows go to the default partition)

AUDIT_GUARD = [
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def _month(day: date, plus: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + plus
    return date(index // 12, index % 12 + 1, 1)


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def _rebuild(table: str, *, partitioned: bool) -> None:
    """Move ``table`` into a new table of the same columns, partitioned by month or plain."""
    key, indexes, foreign_keys = TABLES[table]
    bind = op.get_bind()
    old = f"{table}_old"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{table} TO pk_{old}")
    for name, _ in indexes:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    tail = f" PARTITION BY RANGE ({key})" if partitioned else ""
    op.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        f" INCLUDING IDENTITY){tail}"
    )
    primary = f"id, {key}" if partitioned else "id"
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({primary})")
    for name, columns in indexes:
        op.execute(f"CREATE INDEX {name} ON {table} ({columns})")
    for name, definition in foreign_keys:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    if partitioned:
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        today = datetime.now(UTC).date()
        oldest: datetime | None = bind.execute(
            sa.select(sa.func.min(sa.column(key))).select_from(sa.table(old))
        ).scalar()
        month = _month(today)
        if oldest is not None:
            month = max(_month(oldest.date()), _month(today, -BACK))
        while month <= _month(today, AHEAD):
            op.execute(
                f"CREATE TABLE {table}_{month:%Y_%m} PARTITION OF {table}"
                f" FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(_month(month, 1))}')"
            )
            month = _month(month, 1)
    # the names are this file's constants, never input
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608
    sequence = bind.execute(sa.select(sa.func.pg_get_serial_sequence(table, "id"))).scalar()
    top = bind.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar()  # noqa: S608
    bind.execute(sa.select(sa.func.setval(sequence, int(top or 0) + 1, False)))
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER SEQUENCE {sequence} RENAME TO {table}_id_seq")
    if table == "audit_log":
        for statement in AUDIT_GUARD:
            op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        _rebuild(table, partitioned=False)
