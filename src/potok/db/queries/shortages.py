"""Orders waiting for stock, for the operators' shortages list: each backordered order with
the lines it lacks (as recorded when it went short), since when, where it holds its other
units, and what transfers and purchase orders bring of the SKUs it lacks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.incoming import list_incoming
from potok.db.queries.orders import _reach_conditions
from potok.db.queries.pagination import decode_cursor, encode_cursor
from potok.db.tables import (
    channels,
    order_history,
    order_lines,
    orders,
    purchase_order_lines,
    purchase_orders,
    reservations,
    transfer_lines,
    transfers,
    warehouses,
)
from potok.db.types import UtcDateTime
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.orders import AllocationState, OrderState
from potok.services.read_models import OrderFilter, ShortLine, ShortOrder, ShortOrderPage

HELD = ("open", "consumed")
_OPEN_PO = ("open", "partially_received")


def _went_short() -> sa.Subquery:
    """Per order, its latest backorder entry in the history (when it went short)."""
    return (
        sa.select(order_history.c.order_id, sa.func.max(order_history.c.id).label("entry_id"))
        .where(order_history.c.action == "backordered")
        .group_by(order_history.c.order_id)
        .subquery("went_short")
    )


def _expected_at(codes: Sequence[str]) -> sa.ColumnElement[bool]:
    """A transfer or purchase order brings one of the order's SKUs to one of ``codes``."""
    at = sa.select(warehouses.c.id).where(warehouses.c.code.in_(list(codes)))
    ordered = sa.exists().where(
        purchase_order_lines.c.product_id == order_lines.c.product_id,
        purchase_orders.c.id == purchase_order_lines.c.purchase_order_id,
        purchase_orders.c.status.in_(_OPEN_PO),
        purchase_order_lines.c.quantity > purchase_order_lines.c.received_quantity,
        purchase_orders.c.warehouse_id.in_(at),
    )
    shipped = sa.exists().where(
        transfer_lines.c.product_id == order_lines.c.product_id,
        transfers.c.id == transfer_lines.c.transfer_id,
        transfers.c.status == "shipped",
        transfer_lines.c.shipped_quantity > 0,
        transfers.c.to_warehouse_id.in_(at),
    )
    return sa.exists().where(order_lines.c.order_id == orders.c.id, sa.or_(ordered, shipped))


def list_short_orders(
    connection: sa.Connection,
    flt: OrderFilter,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ShortOrderPage:
    """Backordered orders the filter lets through (its channels and warehouses: the caller's
    reach), longest waiting first; ``sku`` keeps orders with a line of it, ``warehouse``
    those holding units there or expecting a SKU of theirs there."""
    short = _went_short()
    query = (
        sa.select(
            orders.c.id,
            orders.c.external_id,
            orders.c.priority,
            orders.c.promised_at,
            channels.c.code.label("channel"),
            order_history.c.occurred_at.label("since"),
            order_history.c.reason,
            order_history.c.details,
        )
        .join(channels, channels.c.id == orders.c.channel_id)
        .join(short, short.c.order_id == orders.c.id)
        .join(order_history, order_history.c.id == short.c.entry_id)
        .where(
            orders.c.allocation == AllocationState.BACKORDERED.value,
            orders.c.state != OrderState.CANCELLED.value,
            *_reach_conditions(flt),
        )
    )
    if sku:
        query = query.where(
            sa.exists().where(order_lines.c.order_id == orders.c.id, order_lines.c.sku == sku)
        )
    if warehouse:
        holds = sa.exists().where(
            reservations.c.order_id == orders.c.id,
            reservations.c.status.in_(HELD),
            reservations.c.warehouse_id.in_(
                sa.select(warehouses.c.id).where(warehouses.c.code == warehouse)
            ),
        )
        query = query.where(sa.or_(holds, _expected_at([warehouse])))
    if cursor:
        since, last_id = decode_cursor(cursor, 2)
        if not isinstance(since, str) or not isinstance(last_id, int):
            raise InvalidInput([FieldError("cursor", "start again without it", "bad-cursor")])
        try:
            bound = datetime.fromisoformat(since)
        except ValueError:
            raise InvalidInput(
                [FieldError("cursor", "start again without it", "bad-cursor")]
            ) from None
        query = query.where(
            sa.tuple_(order_history.c.occurred_at, orders.c.id)
            > sa.tuple_(sa.literal(bound, UtcDateTime()), sa.literal(last_id))
        )
    rows = list(
        connection.execute(
            query.order_by(order_history.c.occurred_at, orders.c.id).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = _rows(connection, rows)
    next_cursor = None
    if more and rows:
        next_cursor = encode_cursor(rows[-1].since.isoformat(), rows[-1].id)
    return ShortOrderPage(items, next_cursor)


def _rows(connection: sa.Connection, rows: list[Any]) -> list[ShortOrder]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    names: dict[tuple[int, int], str] = {}
    for line in connection.execute(
        sa.select(order_lines.c.order_id, order_lines.c.line_no, order_lines.c.name).where(
            order_lines.c.order_id.in_(ids)
        )
    ):
        names[(line.order_id, line.line_no)] = line.name
    holds: dict[int, list[str]] = {}
    for held in connection.execute(
        sa.select(reservations.c.order_id, warehouses.c.code)
        .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
        .where(reservations.c.order_id.in_(ids), reservations.c.status.in_(HELD))
        .distinct()
        .order_by(warehouses.c.code)
    ):
        holds.setdefault(held.order_id, []).append(held.code)
    lines = {
        r.id: [
            ShortLine(
                int(s["line_no"]),
                str(s["sku"]),
                names.get((r.id, int(s["line_no"])), ""),
                int(s["requested"]),
                int(s["available"]),
            )
            for s in (r.details or {}).get("shortages", [])
        ]
        for r in rows
    }
    wanted = sorted({line.sku for found in lines.values() for line in found})
    incoming = list_incoming(connection, skus=wanted) if wanted else []
    incoming.sort(key=lambda i: (i.expected_on is None, i.expected_on, i.warehouse, i.sku))
    return [
        ShortOrder(
            order_id=r.id,
            external_id=r.external_id,
            channel=r.channel,
            priority=r.priority,
            promised_at=r.promised_at,
            since=r.since,
            why=r.reason or "",
            lines=lines[r.id],
            holds_at=holds.get(r.id, []),
            expected=[i for i in incoming if i.sku in {line.sku for line in lines[r.id]}],
        )
        for r in rows
    ]
