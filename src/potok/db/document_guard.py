"""Issued documents and their files are immutable: the database refuses to change them.

A correction is a new row that names the one it corrects; nothing is ever updated or
deleted (on PostgreSQL not even by TRUNCATE).
"""

from __future__ import annotations

import sqlalchemy as sa

TABLES = ("documents", "document_files")

_PG_FUNCTION = """
    CREATE OR REPLACE FUNCTION documents_immutable() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is immutable: % refused', TG_TABLE_NAME, TG_OP;
    END $$
"""


def _pg_install() -> list[str]:
    statements = [_PG_FUNCTION]
    for table in TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION documents_immutable()"
        )
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION documents_immutable()"
        )
    return statements


def _pg_uninstall() -> list[str]:
    statements = []
    for table in TABLES:
        statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        statements.append(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
    statements.append("DROP FUNCTION IF EXISTS documents_immutable()")
    return statements


def _sqlite_install() -> list[str]:
    statements = []
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} BEFORE "
                f"{operation} ON {table} BEGIN SELECT RAISE(ABORT, "
                f"'{table} is immutable: {operation} refused'); END"
            )
    return statements


def _sqlite_uninstall() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
        for table in TABLES
        for operation in ("update", "delete")
    ]


def install(connection: sa.Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    for statement in _sqlite_install() if sqlite else _pg_install():
        connection.execute(sa.text(statement))


def uninstall(connection: sa.Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    for statement in _sqlite_uninstall() if sqlite else _pg_uninstall():
        connection.execute(sa.text(statement))
