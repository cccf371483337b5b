"""Min/max rules: stored per (warehouse, product), read with the figures they are judged by."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db.engine import is_sqlite
from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.queries.replenishment import rule_figures
from potok.db.tables import stock_rules
from potok.domain.kernel import ProductId, WarehouseId
from potok.services.ports import RulePage, RuleState


class StockRuleRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.sqlite = is_sqlite(connection)

    def get(
        self, warehouse_id: WarehouseId, product_id: ProductId, *, lock: bool = False
    ) -> RuleState | None:
        """The rule of a SKU at a warehouse with its figures; ``lock`` holds the rule's row."""
        if lock:
            self._lock_where(
                sa.and_(
                    stock_rules.c.warehouse_id == warehouse_id,
                    stock_rules.c.product_id == product_id,
                )
            )
        found = self.states(keys=[(warehouse_id, product_id)])
        return found[0] if found else None

    def put(
        self,
        rows: Sequence[tuple[WarehouseId, ProductId, int, int, int]],
        at: datetime,
    ) -> None:
        """Create or change rules of (warehouse, product, min, max, safety stock); a changed
        rule keeps its last seen state."""
        if not rows:
            return
        insert = (
            sqlite_dialect.insert(stock_rules) if self.sqlite else postgresql.insert(stock_rules)
        )
        statement = insert.on_conflict_do_update(
            index_elements=["warehouse_id", "product_id"],
            set_={
                "min_level": insert.excluded.min_level,
                "max_level": insert.excluded.max_level,
                "safety_stock": insert.excluded.safety_stock,
                "updated_at": insert.excluded.updated_at,
            },
        )
        self.connection.execute(
            statement,
            [
                {
                    "warehouse_id": w,
                    "product_id": p,
                    "min_level": low,
                    "max_level": high,
                    "safety_stock": safety,
                    "below_minimum": False,
                    "created_at": at,
                    "updated_at": at,
                }
                for w, p, low, high, safety in sorted(rows)
            ],
        )

    def delete(self, rule_id: int) -> None:
        self.connection.execute(sa.delete(stock_rules).where(stock_rules.c.id == rule_id))

    def lock(self, rule_ids: Collection[int]) -> None:
        """Hold these rules' rows until the transaction ends, taken in id order."""
        if rule_ids:
            self._lock_where(stock_rules.c.id.in_(sorted(rule_ids)))

    def _lock_where(self, condition: sa.ColumnElement[bool]) -> None:
        if self.sqlite:
            return  # the write transaction already holds the database's write lock
        self.connection.execute(
            sa.select(stock_rules.c.id)
            .where(condition)
            .order_by(stock_rules.c.id)
            .with_for_update(of=stock_rules)
        ).all()

    def states(
        self,
        *,
        rule_ids: Collection[int] | None = None,
        keys: Collection[tuple[WarehouseId, ProductId]] | None = None,
    ) -> list[RuleState]:
        """Rules with their figures (all of them when neither ids nor keys are given)."""
        if (rule_ids is not None and not rule_ids) or (keys is not None and not keys):
            return []
        return [_state(r) for r in rule_figures(self.connection, rule_ids=rule_ids, keys=keys)]

    def unsettled(self, limit: int) -> list[int]:
        """Rules whose last seen state no longer matches their figures: crossings to announce."""
        return [r.id for r in rule_figures(self.connection, unsettled=True, limit=limit)]

    def mark(self, below: Mapping[int, bool], at: datetime) -> None:
        """Remember the state each rule was last seen in (``at`` is not the rule's edit time)."""
        if not below:
            return
        self.connection.execute(
            sa.update(stock_rules)
            .where(stock_rules.c.id == sa.bindparam("rule_id"))
            .values(below_minimum=sa.bindparam("below")),
            [{"rule_id": i, "below": below[i]} for i in sorted(below)],
        )

    def page(
        self,
        *,
        warehouses: Sequence[str] | None,
        sku: str | None,
        only_below: bool,
        with_backorders: bool,
        cursor: str | None,
        limit: int,
    ) -> RulePage:
        after = None
        if cursor:
            last_warehouse, last_product = decode_int_cursor(cursor, 2)
            after = (last_warehouse, last_product)
        rows = rule_figures(
            self.connection,
            warehouse_codes=warehouses,
            sku=sku,
            only_below=only_below,
            with_backorders=with_backorders,
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].warehouse_id, rows[-1].product_id) if more else None
        return RulePage([_state(r) for r in rows], next_cursor)


def _state(row: Any) -> RuleState:
    mapping = row._mapping
    return RuleState(
        id=row.id,
        warehouse_id=WarehouseId(row.warehouse_id),
        warehouse=row.warehouse,
        product_id=ProductId(row.product_id),
        sku=row.sku,
        min_level=row.min_level,
        max_level=row.max_level,
        safety_stock=row.safety_stock,
        below_minimum=bool(row.below_minimum),
        updated_at=row.updated_at,
        on_hand=int(row.on_hand),
        reserved=int(row.reserved),
        unavailable=int(row.unavailable),
        incoming=int(row.incoming),
        backordered=int(mapping["backordered"]) if "backordered" in mapping else 0,
    )
