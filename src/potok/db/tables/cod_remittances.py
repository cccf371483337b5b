"""Cash on delivery remitted by carriers: one row per carrier, registry and parcel, as the
carrier's payment registry lists it (read on a schedule; a registry read twice adds
nothing)."""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables.base import metadata
from potok.db.types import Amount, UtcDateTime, id_type

cod_remittances = sa.Table(
    "cod_remittances",
    metadata,
    sa.Column("id", id_type(), primary_key=True, autoincrement=True),
    sa.Column("carrier", sa.String(32), nullable=False),
    sa.Column("registry_number", sa.String(40), nullable=False),
    sa.Column("tracking_number", sa.String(64), nullable=False),
    sa.Column(
        "shipment_id",
        id_type(),
        sa.ForeignKey("shipments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "order_id", id_type(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("expected", Amount(), nullable=False),  # what Potok asked the carrier to collect
    sa.Column("collected", Amount(), nullable=False),  # what the carrier took from the buyer
    sa.Column("commission", Amount(), nullable=False),  # the carrier's fee for remitting it
    sa.Column("transferred", Amount(), nullable=False),  # what came to the shop's account
    sa.Column("paid_on", sa.Date(), nullable=True),  # the registry's payment date
    sa.Column("payment_order", sa.String(40), nullable=True),  # the bank's payment order
    sa.Column("read_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("carrier", "registry_number", "tracking_number"),
    sa.Index(None, "order_id"),
)
