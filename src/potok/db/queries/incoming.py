"""Incoming stock: what shipped transfers and open purchase orders bring to each warehouse.

A shipped transfer line brings its shipped quantity until it is received; a purchase order
line brings what is ordered and not yet received, until the order is received in full or
cancelled. The earliest ``expected_on`` of the documents is the date shown.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from potok.db.tables import (
    products,
    purchase_order_lines,
    purchase_orders,
    transfer_lines,
    transfers,
    warehouses,
)
from potok.services.read_models import Incoming, IncomingRow, IncomingSource

_FROM = warehouses.alias("incoming_from")
_OPEN_PO = ("open", "partially_received")


def _sources(
    connection: sa.Connection,
    *,
    warehouse_ids: Collection[int] | None = None,
    product_ids: Collection[int] | None = None,
    warehouse_codes: Collection[str] | None = None,
    sku: str | None = None,
) -> Iterable[Any]:
    """Rows of (warehouse_id, warehouse, product_id, sku, kind, number, quantity,
    expected_on, origin) for every document bringing stock."""
    in_transit = (
        sa.select(
            transfers.c.to_warehouse_id.label("warehouse_id"),
            transfer_lines.c.product_id.label("product_id"),
            sa.literal("transfer").label("kind"),
            transfers.c.number.label("number"),
            transfer_lines.c.shipped_quantity.label("quantity"),
            transfers.c.expected_on.label("expected_on"),
            _FROM.c.code.label("origin"),
            transfers.c.id.label("document_id"),
            transfer_lines.c.line_no.label("line_no"),
        )
        .join(transfers, transfers.c.id == transfer_lines.c.transfer_id)
        .join(_FROM, _FROM.c.id == transfers.c.from_warehouse_id)
        .where(transfers.c.status == "shipped", transfer_lines.c.shipped_quantity > 0)
    )
    ordered = (
        sa.select(
            purchase_orders.c.warehouse_id.label("warehouse_id"),
            purchase_order_lines.c.product_id.label("product_id"),
            sa.literal("purchase_order").label("kind"),
            purchase_orders.c.number.label("number"),
            (purchase_order_lines.c.quantity - purchase_order_lines.c.received_quantity).label(
                "quantity"
            ),
            purchase_orders.c.expected_on.label("expected_on"),
            purchase_orders.c.supplier.label("origin"),
            purchase_orders.c.id.label("document_id"),
            purchase_order_lines.c.line_no.label("line_no"),
        )
        .join(purchase_orders, purchase_orders.c.id == purchase_order_lines.c.purchase_order_id)
        .where(
            purchase_orders.c.status.in_(_OPEN_PO),
            purchase_order_lines.c.quantity > purchase_order_lines.c.received_quantity,
        )
    )
    both = sa.union_all(in_transit, ordered).subquery()
    query = (
        sa.select(both, warehouses.c.code.label("warehouse"), products.c.sku)
        .join(warehouses, warehouses.c.id == both.c.warehouse_id)
        .join(products, products.c.id == both.c.product_id)
        .order_by(
            warehouses.c.code,
            products.c.sku,
            both.c.kind.desc(),  # transfers first
            both.c.document_id,
            both.c.line_no,
        )
    )
    if warehouse_ids is not None:
        query = query.where(both.c.warehouse_id.in_(sorted(set(warehouse_ids))))
    if product_ids is not None:
        query = query.where(both.c.product_id.in_(sorted(set(product_ids))))
    if warehouse_codes is not None:
        query = query.where(warehouses.c.code.in_(sorted(set(warehouse_codes))))
    if sku is not None:
        query = query.where(products.c.sku == sku)
    return connection.execute(query)


def _earliest(current: date | None, other: date | None) -> date | None:
    if current is None:
        return other
    if other is None:
        return current
    return min(current, other)


def incoming_by_position(
    connection: sa.Connection, keys: Collection[tuple[int, int]]
) -> dict[tuple[int, int], Incoming]:
    """Incoming quantity and earliest expected date per (warehouse_id, product_id) asked for;
    positions with nothing incoming are left out."""
    wanted = set(keys)
    if not wanted:
        return {}
    result: dict[tuple[int, int], Incoming] = {}
    for start in range(0, len(wanted), 2000):
        chunk = sorted(wanted)[start : start + 2000]
        asked = set(chunk)  # a row of another chunk's key is counted with that chunk only
        for r in _sources(
            connection,
            warehouse_ids={w for w, _ in chunk},
            product_ids={p for _, p in chunk},
        ):
            key = (r.warehouse_id, r.product_id)
            if key not in asked:
                continue
            before = result.get(key)
            result[key] = Incoming(
                (before.quantity if before else 0) + r.quantity,
                _earliest(before.expected_on, r.expected_on) if before else r.expected_on,
            )
    return result


def incoming_by_codes(
    connection: sa.Connection, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Incoming]:
    """As :func:`incoming_by_position`, keyed by (warehouse code, SKU)."""
    if not keys:
        return {}
    found: dict[tuple[str, str], Incoming] = {}
    for row in list_incoming(
        connection,
        warehouses=sorted({w for w, _ in keys}),
        skus=sorted({s for _, s in keys}),
    ):
        if (row.warehouse, row.sku) in keys:
            found[(row.warehouse, row.sku)] = Incoming(row.quantity, row.expected_on)
    return found


def list_incoming(
    connection: sa.Connection,
    *,
    warehouses: Sequence[str] | None = None,
    sku: str | None = None,
    skus: Sequence[str] | None = None,
) -> list[IncomingRow]:
    """Every (warehouse, SKU) with stock on its way, and the documents bringing it."""
    rows: dict[tuple[str, str], IncomingRow] = {}
    for r in _sources(connection, warehouse_codes=warehouses, sku=sku):
        if skus is not None and r.sku not in skus:
            continue
        key = (r.warehouse, r.sku)
        source = IncomingSource(r.kind, r.number, r.quantity, r.expected_on, r.origin)
        before = rows.get(key)
        if before is None:
            rows[key] = IncomingRow(r.warehouse, r.sku, r.quantity, r.expected_on, [source])
        else:
            before.sources.append(source)
            rows[key] = IncomingRow(
                r.warehouse,
                r.sku,
                before.quantity + r.quantity,
                _earliest(before.expected_on, r.expected_on),
                before.sources,
            )
    return list(rows.values())
