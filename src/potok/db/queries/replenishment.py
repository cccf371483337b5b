"""The figures behind min/max rules: each rule with its SKU's buckets at the warehouse and
the orders waiting for the SKU. Stock on the way comes from ``db.queries.incoming``.

Every figure is a correlated sub-select on the rule's (warehouse, product), so that looking
at one rule reads one position's rows, and looking at all of them is one statement.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from potok.db.pg import int_array
from potok.db.tables import (
    order_lines,
    orders,
    products,
    stock,
    stock_rules,
    warehouse_channels,
    warehouses,
)

_BIGINTS = ARRAY(sa.BigInteger())


def _bucket(column: sa.Column[int]) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.coalesce(sa.func.sum(column), 0))
        .where(
            stock.c.warehouse_id == stock_rules.c.warehouse_id,
            stock.c.product_id == stock_rules.c.product_id,
        )
        .scalar_subquery()
    )


def backordered() -> sa.ScalarSelect[Any]:
    """Units of the SKU on backordered orders of the channels the rule's warehouse serves."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(order_lines.c.quantity), 0))
        .select_from(order_lines)
        .join(orders, orders.c.id == order_lines.c.order_id)
        .join(
            warehouse_channels,
            sa.and_(
                warehouse_channels.c.channel_id == orders.c.channel_id,
                warehouse_channels.c.warehouse_id == stock_rules.c.warehouse_id,
            ),
        )
        .where(
            order_lines.c.product_id == stock_rules.c.product_id,
            orders.c.allocation == "backordered",
            orders.c.state != "cancelled",
        )
        .scalar_subquery()
    )


def rule_figures(
    connection: sa.Connection,
    *,
    rule_ids: Collection[int] | None = None,
    keys: Collection[tuple[int, int]] | None = None,
    warehouse_codes: Sequence[str] | None = None,
    sku: str | None = None,
    with_backorders: bool = False,
    after: tuple[int, int] | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Rules with their figures, in (warehouse, product) order; rows carry ``id``,
    ``warehouse_id``, ``warehouse``, ``product_id``, ``sku``, ``min_level``, ``max_level``,
    ``safety_stock``, ``below_minimum``, ``updated_at``, ``on_hand``, ``reserved``,
    ``unavailable`` and, when asked, ``backordered``."""
    on_hand = _bucket(stock.c.on_hand)
    reserved = _bucket(stock.c.reserved)
    unavailable = _bucket(stock.c.unavailable)
    columns: list[Any] = [
        stock_rules.c.id,
        stock_rules.c.warehouse_id,
        warehouses.c.code.label("warehouse"),
        stock_rules.c.product_id,
        products.c.sku,
        stock_rules.c.min_level,
        stock_rules.c.max_level,
        stock_rules.c.safety_stock,
        stock_rules.c.below_minimum,
        stock_rules.c.updated_at,
        on_hand.label("on_hand"),
        reserved.label("reserved"),
        unavailable.label("unavailable"),
    ]
    if with_backorders:
        columns.append(backordered().label("backordered"))
    query = (
        sa.select(*columns)
        .join(warehouses, warehouses.c.id == stock_rules.c.warehouse_id)
        .join(products, products.c.id == stock_rules.c.product_id)
        .order_by(stock_rules.c.warehouse_id, stock_rules.c.product_id)
    )
    if rule_ids is not None:
        query = query.where(stock_rules.c.id.in_(sorted(rule_ids)))
    if keys is not None:
        pairs = sorted(set(keys))
        pair = sa.tuple_(stock_rules.c.warehouse_id, stock_rules.c.product_id)
        if connection.dialect.name == "postgresql" and len(pairs) > 100:
            # a bulk upload's thousands of pairs as two arrays, not as twice as many
            # parameters for the driver to find in a statement as long as the list
            given = (  # text literals: cheaper for the driver than adapting two lists
                sa.func.unnest(
                    sa.cast(sa.bindparam("rule_ws", int_array(w for w, _ in pairs)), _BIGINTS),
                    sa.cast(sa.bindparam("rule_ps", int_array(p for _, p in pairs)), _BIGINTS),
                )
                .table_valued("w", "p")
                .render_derived()
            )
            query = query.where(pair.in_(sa.select(given.c.w, given.c.p)))
        else:
            query = query.where(pair.in_(pairs))
    if warehouse_codes is not None:
        query = query.where(warehouses.c.code.in_(list(warehouse_codes)))
    if sku:
        query = query.where(products.c.sku == sku)
    if after is not None:
        query = query.where(
            sa.tuple_(stock_rules.c.warehouse_id, stock_rules.c.product_id)
            > sa.tuple_(after[0], after[1])
        )
    if limit is not None:
        query = query.limit(limit)
    return list(connection.execute(query))


def backordered_for(connection: sa.Connection, rule_ids: Collection[int]) -> dict[int, int]:
    """Backordered units per rule, for a few rules (those a report shows)."""
    if not rule_ids:
        return {}
    rows = connection.execute(
        sa.select(stock_rules.c.id, backordered().label("backordered")).where(
            stock_rules.c.id.in_(sorted(rule_ids))
        )
    )
    return {r.id: int(r.backordered) for r in rows}
