"""Alembic environment: the engine comes from ``potok.db.migrate`` (or alembic.ini for authors)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from potok.db.migrate import not_a_partition, not_replaced
from potok.db.tables import metadata

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            user_module_prefix="potok.db.types.",
            include_name=not_a_partition(connection),
            include_object=not_replaced(connection),
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
