"""Stock reports: levels, availability across the network, available-to-promise, the
ledger, and the reconciliation of counters against the ledger and the reservations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import (
    channels,
    products,
    reservations,
    stock,
    stock_movements,
    stock_rules,
    warehouse_channels,
    warehouses,
)
from potok.services.read_models import (
    ChannelPromise,
    Drift,
    LevelPage,
    LevelRow,
    MovementPage,
    MovementRow,
    WarehouseAvailability,
)


def list_levels(
    connection: sa.Connection,
    *,
    warehouse: str | None = None,
    sku: str | None = None,
    only_available: bool = False,
    cursor: str | None = None,
    limit: int = 100,
) -> LevelPage:
    query = (
        sa.select(
            stock.c.id,
            warehouses.c.code,
            products.c.sku,
            stock.c.on_hand,
            stock.c.reserved,
            stock.c.updated_at,
            stock.c.warehouse_id,
            stock.c.product_id,
        )
        .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
        .join(products, products.c.id == stock.c.product_id)
        .order_by(stock.c.warehouse_id, stock.c.product_id)
        .limit(limit + 1)
    )
    if warehouse:
        query = query.where(warehouses.c.code == warehouse)
    if sku:
        query = query.where(products.c.sku == sku)
    if only_available:
        query = query.where(stock.c.on_hand > stock.c.reserved)
    if cursor:
        last_warehouse, last_product = decode_int_cursor(cursor, 2)
        query = query.where(
            sa.tuple_(stock.c.warehouse_id, stock.c.product_id)
            > sa.tuple_(int(last_warehouse), int(last_product))
        )
    rows = list(connection.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        LevelRow(r.code, r.sku, r.on_hand, r.reserved, r.on_hand - r.reserved, r.updated_at)
        for r in rows
    ]
    next_cursor = encode_cursor(rows[-1].warehouse_id, rows[-1].product_id) if more else None
    return LevelPage(items, next_cursor)


def availability(connection: sa.Connection, product_id: int) -> list[WarehouseAvailability]:
    rows = connection.execute(
        sa.select(
            warehouses.c.code,
            warehouses.c.name,
            warehouses.c.type,
            warehouses.c.city,
            warehouses.c.active,
            stock.c.on_hand,
            stock.c.reserved,
            sa.func.coalesce(stock_rules.c.safety_stock, 0).label("safety_stock"),
        )
        .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
        .outerjoin(
            stock_rules,
            sa.and_(
                stock_rules.c.warehouse_id == stock.c.warehouse_id,
                stock_rules.c.product_id == stock.c.product_id,
            ),
        )
        .where(stock.c.product_id == product_id)
        .order_by(warehouses.c.code)
    )
    return [
        WarehouseAvailability(
            r.code,
            r.name,
            r.type,
            r.city,
            r.active,
            r.on_hand,
            r.reserved,
            r.on_hand - r.reserved,
            safety_stock=r.safety_stock,
        )
        for r in rows
    ]


def promises(
    connection: sa.Connection,
    product_ids: Sequence[int],
    channel_codes: Sequence[str] | None = None,
) -> dict[int, list[ChannelPromise]]:
    """Available-to-promise per product and active channel: the sellable stock of the active
    locations that serve the channel, each less its safety stock (never below zero), then
    less the channel's safety buffer, never below zero."""
    channel_query = sa.select(channels).where(channels.c.active.is_(True)).order_by(channels.c.code)
    if channel_codes:
        channel_query = channel_query.where(channels.c.code.in_(list(channel_codes)))
    channel_rows = list(connection.execute(channel_query))
    # (product, channel) -> warehouse code -> [sellable units over its positions, safety stock]
    held: dict[tuple[int, int], dict[str, list[int]]] = {}
    if product_ids and channel_rows:
        for r in connection.execute(
            sa.select(
                stock.c.product_id,
                warehouse_channels.c.channel_id,
                warehouses.c.code,
                (stock.c.on_hand - stock.c.reserved - stock.c.unavailable).label("available"),
                sa.func.coalesce(stock_rules.c.safety_stock, 0).label("safety_stock"),
            )
            .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
            .join(warehouse_channels, warehouse_channels.c.warehouse_id == warehouses.c.id)
            .outerjoin(
                stock_rules,
                sa.and_(
                    stock_rules.c.warehouse_id == stock.c.warehouse_id,
                    stock_rules.c.product_id == stock.c.product_id,
                ),
            )
            .where(
                stock.c.product_id.in_(list(product_ids)),
                warehouses.c.active.is_(True),
                warehouse_channels.c.channel_id.in_([c.id for c in channel_rows]),
            )
            .order_by(warehouses.c.code)
        ):
            place = held.setdefault((r.product_id, r.channel_id), {}).setdefault(
                r.code, [0, r.safety_stock]
            )
            place[0] += r.available
    sums: dict[tuple[int, int], int] = {}
    places: dict[tuple[int, int], list[str]] = {}
    for key, by_warehouse in held.items():
        for code, (available, safety) in by_warehouse.items():
            promisable = max(0, available - safety)
            sums[key] = sums.get(key, 0) + promisable
            if promisable > 0:
                places.setdefault(key, []).append(code)
    return {
        pid: [
            ChannelPromise(
                c.code,
                max(0, sums.get((pid, c.id), 0) - c.safety_buffer),
                c.safety_buffer,
                places.get((pid, c.id), []),
            )
            for c in channel_rows
        ]
        for pid in product_ids
    }


def list_movements(
    connection: sa.Connection,
    *,
    warehouse: str | None = None,
    sku: str | None = None,
    movement_type: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> MovementPage:
    query = (
        sa.select(stock_movements, warehouses.c.code, products.c.sku)
        .join(warehouses, warehouses.c.id == stock_movements.c.warehouse_id)
        .join(products, products.c.id == stock_movements.c.product_id)
        .order_by(stock_movements.c.id.desc())
        .limit(limit + 1)
    )
    if warehouse:
        query = query.where(warehouses.c.code == warehouse)
    if sku:
        query = query.where(products.c.sku == sku)
    if movement_type:
        query = query.where(stock_movements.c.type == movement_type)
    if since is not None:
        query = query.where(stock_movements.c.occurred_at >= since)
    if cursor:
        (last_id,) = decode_int_cursor(cursor, 1)
        query = query.where(stock_movements.c.id < int(last_id))
    rows = list(connection.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        MovementRow(
            r.id,
            r.code,
            r.sku,
            r.type,
            r.quantity,
            r.on_hand_after,
            r.reason,
            r.reference,
            r.actor,
            r.occurred_at,
        )
        for r in rows
    ]
    return MovementPage(items, encode_cursor(rows[-1].id) if more else None)


def drifts(connection: sa.Connection) -> tuple[int, list[Drift]]:
    """Every position checked against the ledger and the open reservations.

    Returns the number of positions checked and those that disagree.
    """
    ledger = (
        sa.select(
            stock_movements.c.stock_id, sa.func.sum(stock_movements.c.quantity).label("total")
        )
        .group_by(stock_movements.c.stock_id)
        .subquery()
    )
    held = (
        sa.select(reservations.c.stock_id, sa.func.sum(reservations.c.quantity).label("total"))
        .where(reservations.c.status == "open")
        .group_by(reservations.c.stock_id)
        .subquery()
    )
    ledger_total = sa.func.coalesce(ledger.c.total, 0)
    held_total = sa.func.coalesce(held.c.total, 0)
    base = (
        sa.select(
            stock.c.id,
            warehouses.c.code,
            products.c.sku,
            stock.c.on_hand,
            stock.c.reserved,
            ledger_total.label("ledger_on_hand"),
            held_total.label("open_reservations"),
        )
        .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
        .join(products, products.c.id == stock.c.product_id)
        .outerjoin(ledger, ledger.c.stock_id == stock.c.id)
        .outerjoin(held, held.c.stock_id == stock.c.id)
    )
    checked = connection.execute(sa.select(sa.func.count()).select_from(stock)).scalar_one()
    rows = connection.execute(
        base.where(
            sa.or_(stock.c.on_hand != ledger_total, stock.c.reserved != held_total)
        ).order_by(warehouses.c.code, products.c.sku)
    )
    return checked, [
        Drift(
            r.id,
            r.code,
            r.sku,
            r.on_hand,
            int(r.ledger_on_hand),
            r.reserved,
            int(r.open_reservations),
        )
        for r in rows
    ]
