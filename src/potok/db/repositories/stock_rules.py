"""Min/max rules: stored per (warehouse, product), read with the figures they are judged by
(the buckets and backorders from ``db.queries.replenishment``, stock on the way from
``db.queries.incoming``, so that "incoming" means the same everywhere)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db.engine import is_sqlite
from potok.db.queries.incoming import incoming_by_position
from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.queries.replenishment import backordered_for, rule_figures
from potok.db.tables import stock_rules
from potok.domain.inventory.replenishment import StockRule, is_below_minimum
from potok.domain.kernel import ProductId, WarehouseId
from potok.services.ports import RulePage, RuleState

BATCH = 1000  # rules read at a time when a filter on their figures has to look at each
KEYS_A_STATEMENT = 2000  # SQLite: (warehouse, product) pairs looked up by one statement


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
        """Rules with their figures (all of them when neither ids nor keys are given), for
        any number of keys: one statement on PostgreSQL (the keys go as two arrays), a few
        thousand keys a statement on SQLite (bound by its parameters)."""
        if (rule_ids is not None and not rule_ids) or (keys is not None and not keys):
            return []
        if keys is not None and self.sqlite and len(keys) > KEYS_A_STATEMENT:
            listed = sorted(set(keys))
            rows = [
                row
                for start in range(0, len(listed), KEYS_A_STATEMENT)
                for row in rule_figures(
                    self.connection, keys=listed[start : start + KEYS_A_STATEMENT]
                )
            ]
            return self._with_incoming(rows)
        return self._with_incoming(rule_figures(self.connection, rule_ids=rule_ids, keys=keys))

    def unsettled(self, limit: int) -> list[int]:
        """Rules whose last seen state no longer matches their figures: crossings to announce."""
        found: list[int] = []
        after: tuple[int, int] | None = None
        while len(found) < limit:
            rows = rule_figures(self.connection, after=after, limit=BATCH)
            found.extend(s.id for s in self._with_incoming(rows) if _below(s) != s.below_minimum)
            if len(rows) < BATCH:
                break
            after = (rows[-1].warehouse_id, rows[-1].product_id)
        return found[:limit]

    def _with_incoming(self, rows: Sequence[Any]) -> list[RuleState]:
        states: list[RuleState] = []
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            incoming = incoming_by_position(
                self.connection, [(r.warehouse_id, r.product_id) for r in chunk]
            )
            for r in chunk:
                on_the_way = incoming.get((r.warehouse_id, r.product_id))
                states.append(_state(r, on_the_way.quantity if on_the_way else 0))
        return states

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
        after: tuple[int, int] | None = None
        if cursor:
            last_warehouse, last_product = decode_int_cursor(cursor, 2)
            after = (last_warehouse, last_product)
        chosen: list[RuleState] = []
        while len(chosen) <= limit:
            batch = max(limit + 1, BATCH) if only_below else limit + 1
            rows = rule_figures(
                self.connection,
                warehouse_codes=warehouses,
                sku=sku,
                after=after,
                limit=batch,
            )
            chosen.extend(s for s in self._with_incoming(rows) if not only_below or _below(s))
            if len(rows) < batch:
                break
            after = (rows[-1].warehouse_id, rows[-1].product_id)
        more = len(chosen) > limit
        chosen = chosen[:limit]
        if with_backorders:
            waiting = backordered_for(self.connection, [s.id for s in chosen])
            chosen = [replace(s, backordered=waiting.get(s.id, 0)) for s in chosen]
        last = chosen[-1] if chosen else None
        next_cursor = encode_cursor(last.warehouse_id, last.product_id) if more and last else None
        return RulePage(chosen, next_cursor)


def _below(state: RuleState) -> bool:
    projected = state.on_hand - state.reserved - state.unavailable + state.incoming
    return is_below_minimum(
        StockRule(state.min_level, state.max_level, state.safety_stock), projected
    )


def _state(row: Any, incoming: int) -> RuleState:
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
        incoming=incoming,
        backordered=int(mapping["backordered"]) if "backordered" in mapping else 0,
    )
