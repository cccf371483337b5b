"""Operations the migrations share.

SQLite cannot alter most of a table in place, so Alembic's batch mode copies it into a new
table and drops the old one; dropping a table that other tables' rows refer to fails while
foreign keys are enforced. Dropping a plain column (no index, key or constraint on it) is
something SQLite does in place since 3.35, so the migrations ask for that instead.
"""

from __future__ import annotations

from alembic import op


def drop_plain_columns(table: str, *columns: str) -> None:
    """Drop columns that no index, key or constraint uses, in place on every database."""
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        return
    for column in columns:
        op.drop_column(table, column)
