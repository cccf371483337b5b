"""The pick list of an order: its open reservations in the order a picker walks the bins."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from potok.db.tables import lots, products, reservations, stock, storage_locations, warehouses
from potok.services.read_models import PickLine


def pick_list(
    connection: sa.Connection, order_id: int, warehouse_ids: Collection[int] | None = None
) -> list[PickLine]:
    """Per warehouse, bins by pick sequence, zone and code (positions without a bin last),
    then SKU and the lot that expires first."""
    query = (
        sa.select(
            warehouses.c.code.label("warehouse"),
            storage_locations.c.code.label("location"),
            storage_locations.c.zone,
            storage_locations.c.pick_sequence,
            products.c.sku,
            products.c.name,
            lots.c.number.label("lot"),
            lots.c.expires_on,
            reservations.c.line_no,
            reservations.c.quantity,
        )
        .join(stock, stock.c.id == reservations.c.stock_id)
        .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
        .join(products, products.c.id == reservations.c.product_id)
        .outerjoin(lots, lots.c.id == stock.c.lot_id)
        .outerjoin(storage_locations, storage_locations.c.id == stock.c.location_id)
        .where(reservations.c.order_id == order_id, reservations.c.status == "open")
        .order_by(
            warehouses.c.code,
            sa.case((storage_locations.c.id.is_(None), 1), else_=0),
            storage_locations.c.pick_sequence,
            storage_locations.c.zone,
            storage_locations.c.code,
            products.c.sku,
            sa.case((lots.c.expires_on.is_(None), 1), else_=0),
            lots.c.expires_on,
            lots.c.number,
            reservations.c.line_no,
        )
    )
    if warehouse_ids is not None:
        query = query.where(reservations.c.warehouse_id.in_(sorted(warehouse_ids)))
    return [
        PickLine(
            r.warehouse,
            r.location,
            r.zone,
            r.pick_sequence,
            r.sku,
            r.name,
            r.lot,
            r.expires_on,
            r.line_no,
            r.quantity,
        )
        for r in connection.execute(query)
    ]
