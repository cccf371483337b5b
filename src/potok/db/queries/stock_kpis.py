"""The stock KPIs' positions a page at a time, in (warehouse, SKU) order, and their totals:
every position the stock table holds or the period's orders asked of, with what lies there
now; dead stock (on hand, not asked for once in the period) chosen by the database."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa

from potok.db.tables import order_facts, order_lines, products, stock, warehouses
from potok.db.types import Amount
from potok.domain.analytics import Period
from potok.services.report_ports import PositionRow, PositionTotals

_f = order_facts


def _asked(period: Period) -> sa.Select[tuple[str, str]]:
    """The (warehouse, SKU) pairs the period's orders (not cancelled) asked of."""
    return (
        sa.select(_f.c.warehouse.label("code"), order_lines.c.sku.label("sku"))
        .join(order_lines, order_lines.c.order_id == _f.c.order_id)
        .where(
            _f.c.created_on >= period.since,
            _f.c.created_on <= period.until,
            _f.c.cancelled.is_(False),
            _f.c.warehouse != "",
        )
    )


def _positions(period: Period, warehouses_: Sequence[str] | None) -> sa.Subquery:
    """One row per position: warehouse code, SKU, on hand and available (lots added up),
    whether the period asked for it, and the product's price."""
    held = (
        sa.select(
            warehouses.c.code.label("code"),
            products.c.sku.label("sku"),
            sa.func.sum(stock.c.on_hand).label("on_hand"),
            sa.func.sum(stock.c.on_hand - stock.c.reserved - stock.c.unavailable).label(
                "available"
            ),
        )
        .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
        .join(products, products.c.id == stock.c.product_id)
        .group_by(warehouses.c.code, products.c.sku)
    )
    asked = _asked(period)
    if warehouses_ is not None:
        held = held.where(warehouses.c.code.in_(list(warehouses_)))
        asked = asked.where(_f.c.warehouse.in_(list(warehouses_)))
    held_sq = held.subquery("held")
    asked_sq = asked.distinct().subquery("asked")
    keys = sa.union(
        sa.select(held_sq.c.code, held_sq.c.sku), sa.select(asked_sq.c.code, asked_sq.c.sku)
    ).subquery("keys")
    sold = sa.exists().where(asked_sq.c.code == keys.c.code, asked_sq.c.sku == keys.c.sku)
    on_hand = sa.func.coalesce(held_sq.c.on_hand, 0)
    return (
        sa.select(
            keys.c.code,
            keys.c.sku,
            on_hand.label("on_hand"),
            sa.func.coalesce(held_sq.c.available, 0).label("available"),
            sa.and_(on_hand > 0, ~sold).label("dead"),
            sa.func.coalesce(products.c.price, 0).label("price"),
        )
        .select_from(keys)
        .outerjoin(held_sq, sa.and_(held_sq.c.code == keys.c.code, held_sq.c.sku == keys.c.sku))
        .outerjoin(products, products.c.sku == keys.c.sku)
        .subquery("positions")
    )


class StockKpis:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def positions(
        self,
        period: Period,
        *,
        warehouses_: Sequence[str] | None = None,
        dead_only: bool = False,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[PositionRow]:
        """The positions after ``after`` in (warehouse, SKU) order, ``limit`` of them."""
        p = _positions(period, warehouses_)
        query = sa.select(p.c.code, p.c.sku, p.c.on_hand, p.c.available)
        if dead_only:
            query = query.where(p.c.dead)
        if after is not None:
            code, sku = after
            query = query.where(sa.or_(p.c.code > code, sa.and_(p.c.code == code, p.c.sku > sku)))
        query = query.order_by(p.c.code, p.c.sku)
        if limit is not None:
            query = query.limit(limit)
        return [
            PositionRow(r.code, r.sku, int(r.on_hand), int(r.available))
            for r in self.connection.execute(query)
        ]

    def totals(
        self,
        period: Period,
        *,
        warehouses_: Sequence[str] | None = None,
        dead_only: bool = False,
    ) -> PositionTotals:
        """How many positions, their value on hand, how many lie dead and their value."""
        p = _positions(period, warehouses_)
        worth = p.c.on_hand * p.c.price  # scaled integers on SQLite: read back as money
        zero = sa.literal(0)

        def money(total: sa.ColumnElement[object]) -> sa.ColumnElement[Decimal]:
            return sa.type_coerce(sa.func.coalesce(total, zero), Amount())

        query = sa.select(
            sa.func.count(),
            money(sa.func.sum(worth)),
            sa.func.coalesce(sa.func.sum(sa.case((p.c.dead, 1), else_=zero)), zero),
            money(sa.func.sum(sa.case((p.c.dead, worth), else_=zero))),
        )
        if dead_only:
            query = query.where(p.c.dead)
        count, value, dead, dead_value = self.connection.execute(query).one()
        return PositionTotals(int(count), value, int(dead), dead_value)
