"""Stock reports: levels, availability across the network, available-to-promise, the
ledger, and the reconciliation of counters against the ledger and the reservations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import (
    channels,
    lots,
    products,
    reservations,
    serials,
    stock,
    stock_movements,
    stock_rules,
    storage_locations,
    warehouse_channels,
    warehouses,
)
from potok.services.read_models import (
    ChannelPromise,
    Drift,
    ExpiringLot,
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
    within: Sequence[str] | None = None,
) -> LevelPage:
    """A page of stock positions in (warehouse, product, position) order.

    The page is chosen from the positions alone, by the index of that order (one
    warehouse's or a few warehouses' stretch of it, from the cursor on), and only its rows
    are joined to their warehouse, product, lot and bin: a page costs the same at any depth
    and any catalogue size. Joined first, the planner walked the products in id order up
    to the cursor's (a merge join), and a warehouse named by code sorted all its positions.
    """
    page = sa.select(stock).order_by(stock.c.warehouse_id, stock.c.product_id, stock.c.id)
    ids: list[int] | None = None
    if warehouse or within is not None:  # the warehouses' ids first, for the index
        found = sa.select(warehouses.c.id).order_by(warehouses.c.id)
        if warehouse:
            found = found.where(warehouses.c.code == warehouse)
        if within is not None:
            found = found.where(warehouses.c.code.in_(within))
        ids = list(connection.execute(found).scalars())
        page = page.where(stock.c.warehouse_id.in_(ids))
    if sku:
        page = page.where(
            stock.c.product_id.in_(sa.select(products.c.id).where(products.c.sku == sku))
        )
    if only_available:
        page = page.where(stock.c.on_hand > stock.c.reserved + stock.c.unavailable)
    if cursor:
        last_warehouse, last_product, last_id = (int(v) for v in decode_int_cursor(cursor, 3))
        if ids is not None and len(ids) == 1:
            # one warehouse: the rest of its stretch, or all of it, or none of it (a
            # comparison of all three columns here is read by the planner as a range of
            # warehouses and walks another index)
            if ids[0] == last_warehouse:
                page = page.where(
                    sa.tuple_(stock.c.product_id, stock.c.id) > sa.tuple_(last_product, last_id)
                )
            elif ids[0] < last_warehouse:
                page = page.where(sa.false())
        else:
            page = page.where(
                sa.tuple_(stock.c.warehouse_id, stock.c.product_id, stock.c.id)
                > sa.tuple_(last_warehouse, last_product, last_id)
            )
    # the page's size written into the statement: a prepared statement's generic plan
    # takes a LIMIT parameter for a tenth of the table and joins every product by hash
    size = sa.bindparam("page_size", limit + 1, type_=sa.Integer(), literal_execute=True)
    chosen = page.limit(size).subquery("chosen")
    query = (
        sa.select(
            chosen.c.id,
            warehouses.c.code,
            products.c.sku,
            chosen.c.on_hand,
            chosen.c.reserved,
            chosen.c.updated_at,
            chosen.c.warehouse_id,
            chosen.c.product_id,
            chosen.c.unavailable,
            lots.c.number.label("lot"),
            lots.c.expires_on,
            storage_locations.c.code.label("location"),
        )
        .select_from(chosen)
        .join(warehouses, warehouses.c.id == chosen.c.warehouse_id)
        .join(products, products.c.id == chosen.c.product_id)
        .outerjoin(lots, lots.c.id == chosen.c.lot_id)
        .outerjoin(storage_locations, storage_locations.c.id == chosen.c.location_id)
        .order_by(chosen.c.warehouse_id, chosen.c.product_id, chosen.c.id)
    )
    rows = list(connection.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        LevelRow(
            r.code,
            r.sku,
            r.on_hand,
            r.reserved,
            r.on_hand - r.reserved - r.unavailable,
            r.updated_at,
            unavailable=r.unavailable,
            lot=r.lot,
            expires_on=r.expires_on,
            location=r.location,
        )
        for r in rows
    ]
    next_cursor = (
        encode_cursor(rows[-1].warehouse_id, rows[-1].product_id, rows[-1].id) if more else None
    )
    return LevelPage(items, next_cursor)


def availability(connection: sa.Connection, product_id: int) -> list[WarehouseAvailability]:
    rows = connection.execute(
        sa.select(
            warehouses.c.code,
            warehouses.c.name,
            warehouses.c.type,
            warehouses.c.city,
            warehouses.c.active,
            sa.func.sum(stock.c.on_hand).label("on_hand"),
            sa.func.sum(stock.c.reserved).label("reserved"),
            sa.func.sum(stock.c.unavailable).label("unavailable"),
            sa.func.coalesce(sa.func.max(stock_rules.c.safety_stock), 0).label("safety_stock"),
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
        .group_by(
            warehouses.c.code,
            warehouses.c.name,
            warehouses.c.type,
            warehouses.c.city,
            warehouses.c.active,
        )
        .order_by(warehouses.c.code)
    )
    return [  # one row per warehouse, over all lots of the product
        WarehouseAvailability(
            r.code,
            r.name,
            r.type,
            r.city,
            r.active,
            int(r.on_hand),
            int(r.reserved),
            int(r.on_hand - r.reserved - r.unavailable),
            safety_stock=int(r.safety_stock),
            unavailable=int(r.unavailable),
        )
        for r in rows
    ]


def promises(
    connection: sa.Connection,
    product_ids: Sequence[int],
    channel_codes: Sequence[str] | None = None,
    *,
    today: date | None = None,
) -> dict[int, list[ChannelPromise]]:
    """Available-to-promise per product and active channel: the sellable stock of the active
    locations that serve the channel (lots that have expired, or have fewer days left than
    the channel's minimum shelf life, left out), each less its safety stock (never below
    zero), then less the channel's safety buffer, never below zero."""
    channel_rows, held = _held(connection, product_ids, channel_codes, today)
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


def promisable_by_location(
    connection: sa.Connection, product_ids: Sequence[int], channel_code: str
) -> tuple[dict[tuple[int, str], int], dict[int, int]]:
    """What one channel may be told of each product: per location serving it (sellable,
    less the location's safety stock, never below zero), and in all (its
    available-to-promise, as :func:`promises` counts it)."""
    channel_rows, held = _held(connection, product_ids, [channel_code], None)
    at: dict[tuple[int, str], int] = {}
    total: dict[int, int] = {}
    buffers = {c.id: c.safety_buffer for c in channel_rows}
    for (pid, channel_id), by_warehouse in held.items():
        for code, (available, safety) in by_warehouse.items():
            at[(pid, code)] = max(0, available - safety)
        total[pid] = max(
            0, sum(max(0, a - s) for a, s in by_warehouse.values()) - buffers[channel_id]
        )
    return at, total


def _held(
    connection: sa.Connection,
    product_ids: Sequence[int],
    channel_codes: Sequence[str] | None,
    today: date | None,
) -> tuple[list[Any], dict[tuple[int, int], dict[str, list[int]]]]:
    """Active channels, and per (product, channel) the sellable units and safety stock of
    each active location serving the channel."""
    today = today or datetime.now(UTC).date()
    channel_query = sa.select(channels).where(channels.c.active.is_(True)).order_by(channels.c.code)
    if channel_codes:
        channel_query = channel_query.where(channels.c.code.in_(list(channel_codes)))
    channel_rows = list(connection.execute(channel_query))
    # (product, channel) -> warehouse code -> [sellable units over its positions, safety stock]
    held: dict[tuple[int, int], dict[str, list[int]]] = {}
    sell_from = {  # the earliest expiry each channel may still sell
        c.id: today + timedelta(days=max(1, c.min_shelf_life_days)) for c in channel_rows
    }
    if product_ids and channel_rows:
        for r in connection.execute(
            sa.select(
                stock.c.product_id,
                warehouse_channels.c.channel_id,
                warehouses.c.code,
                (stock.c.on_hand - stock.c.reserved - stock.c.unavailable).label("available"),
                sa.func.coalesce(stock_rules.c.safety_stock, 0).label("safety_stock"),
                lots.c.expires_on,
            )
            .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
            .join(warehouse_channels, warehouse_channels.c.warehouse_id == warehouses.c.id)
            .outerjoin(lots, lots.c.id == stock.c.lot_id)
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
            if r.expires_on is None or r.expires_on >= sell_from[r.channel_id]:
                place[0] += max(0, r.available)
    return channel_rows, held


def list_movements(
    connection: sa.Connection,
    *,
    warehouse: str | None = None,
    sku: str | None = None,
    movement_type: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
    within: Sequence[str] | None = None,
) -> MovementPage:
    query = (
        sa.select(stock_movements, warehouses.c.code, products.c.sku, lots.c.number.label("lot"))
        .join(warehouses, warehouses.c.id == stock_movements.c.warehouse_id)
        .join(products, products.c.id == stock_movements.c.product_id)
        .outerjoin(lots, lots.c.id == stock_movements.c.lot_id)
        .order_by(stock_movements.c.id.desc())
        .limit(limit + 1)
    )
    if warehouse:
        query = query.where(warehouses.c.code == warehouse)
    if within is not None:
        query = query.where(warehouses.c.code.in_(within))
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
            lot=r.lot,
            unavailable_change=r.unavailable_change,
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
            stock_movements.c.stock_id,
            sa.func.sum(stock_movements.c.quantity).label("total"),
            sa.func.sum(stock_movements.c.unavailable_change).label("unavailable"),
        )
        .group_by(stock_movements.c.stock_id)
        .subquery()
    )
    units = (  # serial numbers lying in each position
        sa.select(serials.c.stock_id, sa.func.count().label("total"))
        .where(serials.c.status.in_(["in_stock", "reserved"]))
        .group_by(serials.c.stock_id)
        .subquery()
    )
    held = (
        sa.select(reservations.c.stock_id, sa.func.sum(reservations.c.quantity).label("total"))
        .where(reservations.c.status == "open")
        .group_by(reservations.c.stock_id)
        .subquery()
    )
    ledger_total = sa.func.coalesce(ledger.c.total, 0)
    ledger_unavailable = sa.func.coalesce(ledger.c.unavailable, 0)
    held_total = sa.func.coalesce(held.c.total, 0)
    serialised = products.c.tracking == "serial"
    serial_total = sa.func.coalesce(units.c.total, 0)
    base = (
        sa.select(
            stock.c.id,
            warehouses.c.code,
            products.c.sku,
            stock.c.on_hand,
            stock.c.reserved,
            ledger_total.label("ledger_on_hand"),
            held_total.label("open_reservations"),
            stock.c.unavailable,
            ledger_unavailable.label("ledger_unavailable"),
            serialised.label("serialised"),
            serial_total.label("serials"),
        )
        .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
        .join(products, products.c.id == stock.c.product_id)
        .outerjoin(ledger, ledger.c.stock_id == stock.c.id)
        .outerjoin(held, held.c.stock_id == stock.c.id)
        .outerjoin(units, units.c.stock_id == stock.c.id)
    )
    checked = connection.execute(sa.select(sa.func.count()).select_from(stock)).scalar_one()
    rows = connection.execute(
        base.where(
            sa.or_(
                stock.c.on_hand != ledger_total,
                stock.c.reserved != held_total,
                stock.c.unavailable != ledger_unavailable,
                sa.and_(serialised, stock.c.on_hand != serial_total),
            )
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
            unavailable=r.unavailable,
            ledger_unavailable=int(r.ledger_unavailable),
            serials=int(r.serials) if r.serialised else None,
        )
        for r in rows
    ]


def expiring(
    connection: sa.Connection,
    today: date,
    within_days: int,
    warehouse: str | None = None,
    within: Sequence[str] | None = None,
) -> list[ExpiringLot]:
    """Lots with units on hand that expire within ``within_days`` or have expired, per
    warehouse, soonest first."""
    query = (
        sa.select(
            warehouses.c.code,
            products.c.sku,
            lots.c.number,
            lots.c.expires_on,
            stock.c.on_hand,
            stock.c.reserved,
            stock.c.unavailable,
        )
        .join(lots, lots.c.id == stock.c.lot_id)
        .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
        .join(products, products.c.id == stock.c.product_id)
        .where(
            stock.c.on_hand > 0,
            lots.c.expires_on <= today + timedelta(days=within_days),
        )
        .order_by(lots.c.expires_on, warehouses.c.code, products.c.sku, lots.c.number)
    )
    if warehouse:
        query = query.where(warehouses.c.code == warehouse)
    if within is not None:
        query = query.where(warehouses.c.code.in_(within))
    return [
        ExpiringLot(
            r.code,
            r.sku,
            r.number,
            r.expires_on,
            (r.expires_on - today).days,
            r.on_hand,
            r.reserved,
            r.unavailable,
        )
        for r in connection.execute(query)
    ]
