"""on PostgreSQL a reservation's key to its stock row carries the row's warehouse and
product (one check instead of three, db/reservation_keys.py; the positions' unique key
on the three is the ledger's); reservations without a shipment left out of the index of
their shipments

Revision ID: f162a3b030d7
Revises: 9c4e2f7b2130
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from potok.db import reservation_keys

revision: str = "f162a3b030d7"
down_revision: str | None = "9c4e2f7b2130"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPMENT = "ix_reservations_shipment_id"
WITH_SHIPMENT = "shipment_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index(SHIPMENT, table_name="reservations")
    op.create_index(
        SHIPMENT,
        "reservations",
        ["shipment_id"],
        postgresql_where=sa.text(WITH_SHIPMENT),
        sqlite_where=sa.text(WITH_SHIPMENT),
    )
    reservation_keys.install(op.get_bind())


def downgrade() -> None:
    reservation_keys.uninstall(op.get_bind())
    op.drop_index(SHIPMENT, table_name="reservations")
    op.create_index(SHIPMENT, "reservations", ["shipment_id"])
