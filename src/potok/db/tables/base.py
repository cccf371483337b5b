"""The shared MetaData with one naming convention for every index and constraint."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.types import UtcDateTime, id_type

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def id_column() -> sa.Column[int]:
    return sa.Column("id", id_type(), sa.Identity(), primary_key=True)


def fk(
    column: str, target: str, *, nullable: bool = False, ondelete: str | None = None
) -> sa.Column[int]:
    return sa.Column(column, id_type(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    ]
