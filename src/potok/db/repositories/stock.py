"""Stock positions: reading candidates, reserving without oversell, and the ledger.

Reservations on PostgreSQL are one statement that locks the positions in a fixed key
order (warehouse, then product, then position: a product kept by lot has one per lot),
checks that every one still has enough, and only then adds to ``reserved`` - all of the
order's positions or none. On SQLite the whole write transaction already holds the
database's write lock, so a read followed by guarded updates is exact. The CHECK
constraints (``0 <= reserved``, ``reserved + unavailable <= on_hand``) stand behind both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from potok.db import lite
from potok.db.engine import is_sqlite
from potok.db.pg import StagedReservation, driver, insert_document
from potok.db.repositories import stock_uploads
from potok.db.tables import (
    channels,
    lots,
    orders,
    products,
    reservations,
    serials,
    stock,
    stock_movements,
    warehouse_channels,
    warehouses,
)
from potok.db.types import UtcDateTime
from potok.domain.inventory import Movement, StockLevel
from potok.domain.kernel import ChannelId, LotId, OrderId, ProductId, StockId, WarehouseId
from potok.domain.sourcing import Candidate, Position
from potok.services.ports import (
    Holder,
    LotDates,
    SerialPick,
    StoredLot,
    UploadApplied,
    UploadChange,
    UploadPlan,
    UploadRows,
)

_PG_RESERVE = (  # psycopg placeholders: sent on the driver connection
    """
    WITH req AS (
        SELECT * FROM unnest(CAST(%(stock_ids)s AS bigint[]), CAST(%(quantities)s AS integer[]))
            AS r(stock_id, quantity)
    ), locked AS (
        SELECT s.id, s.on_hand - s.reserved - s.unavailable AS available
          FROM stock s JOIN req ON req.stock_id = s.id
         ORDER BY s.warehouse_id, s.product_id, s.id
           FOR UPDATE OF s
    ), verdict AS (
        SELECT count(*) = (SELECT count(*) FROM req)
               AND coalesce(bool_and(l.available >= r.quantity), false) AS ok
          FROM locked l JOIN req r ON r.stock_id = l.id
    )
    UPDATE stock s
       SET reserved = s.reserved + r.quantity, updated_at = %(at)s
      FROM req r, verdict v
     WHERE s.id = r.stock_id AND v.ok AND s.on_hand - s.reserved - s.unavailable >= r.quantity
    RETURNING s.id
    """
)

_PG_RELEASE = """
    WITH req AS (
        SELECT * FROM unnest(CAST(%(stock_ids)s AS bigint[]), CAST(%(quantities)s AS integer[]))
            AS r(stock_id, quantity)
    ), locked AS (
        SELECT s.id FROM stock s JOIN req ON req.stock_id = s.id
         ORDER BY s.warehouse_id, s.product_id, s.id
           FOR UPDATE OF s
    )
    UPDATE stock s
       SET reserved = s.reserved - r.quantity, updated_at = %(at)s
      FROM req r
     WHERE s.id = r.stock_id AND s.id IN (SELECT id FROM locked)
    RETURNING s.id
    """


_SELECT_CANDIDATES = (
    sa.select(
        stock.c.id,
        stock.c.warehouse_id,
        stock.c.product_id,
        (stock.c.on_hand - stock.c.reserved - stock.c.unavailable).label("available"),
        warehouses.c.code,
        warehouses.c.city,
        warehouses.c.priority,
        warehouses.c.latitude,
        warehouses.c.longitude,
        warehouses.c.type.label("kind"),
        warehouses.c.region,
        stock.c.lot_id,
        lots.c.number.label("lot"),
        lots.c.expires_on,
        stock.c.received_at,
        sa.func.coalesce(products.c.removal_strategy, warehouses.c.removal_strategy).label(
            "removal"
        ),
        (products.c.tracking == "serial").label("serialised"),
    )
    .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
    .join(products, products.c.id == stock.c.product_id)
    .outerjoin(lots, lots.c.id == stock.c.lot_id)
    .join(
        warehouse_channels,
        sa.and_(
            warehouse_channels.c.warehouse_id == stock.c.warehouse_id,
            warehouse_channels.c.channel_id == sa.bindparam("channel_id"),
        ),
    )
    .where(
        stock.c.product_id.in_(sa.bindparam("product_ids", expanding=True)),
        warehouses.c.active.is_(True),
        sa.or_(lots.c.expires_on.is_(None), lots.c.expires_on >= sa.bindparam("sell_until")),
    )
)
_CANDIDATES = _SELECT_CANDIDATES.where(stock.c.on_hand > stock.c.reserved + stock.c.unavailable)
_CANDIDATES_WITH_HELD = _SELECT_CANDIDATES.where(
    sa.or_(
        stock.c.on_hand > stock.c.reserved + stock.c.unavailable,
        stock.c.id.in_(sa.bindparam("held", expanding=True)),
    )
)


def sellable_from(today: date, min_shelf_life_days: int) -> date:
    """The earliest expiry date a channel may still sell: never an expired lot (one that
    expires today is expired), and never one with fewer days left than the channel asks."""
    return today + timedelta(days=max(1, min_shelf_life_days))


_SQLITE_AVAILABLE = sa.select(
    stock.c.id, stock.c.on_hand - stock.c.reserved - stock.c.unavailable
).where(stock.c.id.in_(sa.bindparam("ids", expanding=True)))
_SQLITE_RESERVE = (  # built once: building them per call cost more than running them
    sa.update(stock)
    .where(
        stock.c.id == sa.bindparam("sid"),
        stock.c.on_hand - stock.c.reserved - stock.c.unavailable >= sa.bindparam("qty"),
    )
    .values(reserved=stock.c.reserved + sa.bindparam("qty"), updated_at=sa.bindparam("at"))
)
_MIN_SHELF_LIFE = sa.select(channels.c.min_shelf_life_days).where(
    channels.c.id == sa.bindparam("channel_id")
)


class StockRepository:
    def __init__(
        self,
        connection: sa.Connection,
        reserving: StagedReservation | None = None,
    ) -> None:
        self.connection = connection
        self.sqlite = is_sqlite(connection)
        self.reserving = reserving  # PostgreSQL's unit of work: stock reserved at commit

    # ------------------------------------------------------------------ bulk uploads

    @property
    def uploads_in_bulk(self) -> bool:
        return not self.sqlite

    def plan_upload(self, rows: UploadRows) -> UploadPlan:
        return stock_uploads.plan_upload(self.connection, rows)

    def apply_upload(self, rows: UploadRows, change: UploadChange) -> UploadApplied:
        return stock_uploads.apply_upload(self.connection, rows, change)

    # ------------------------------------------------------------------ sourcing

    def candidates(
        self,
        product_ids: Collection[ProductId],
        channel_id: ChannelId,
        *,
        today: date,
        held: Collection[StockId] = (),
    ) -> tuple[list[Candidate], list[Position]]:
        """Active locations serving the channel, with their sellable stock of these products:
        one position per lot, leaving out lots expired or too short-dated for the channel.
        Positions in ``held`` (an order's own reservations) are read even with nothing
        left available."""
        min_days = self.connection.execute(_MIN_SHELF_LIFE, {"channel_id": channel_id}).scalar()
        parameters: dict[str, object] = {
            "product_ids": sorted(product_ids),
            "channel_id": channel_id,
            "sell_until": sellable_from(today, min_days or 0),
        }
        if held:
            parameters["held"] = sorted(held)
        rows = self.connection.execute(_CANDIDATES_WITH_HELD if held else _CANDIDATES, parameters)
        return candidates_from_rows(rows)

    # ------------------------------------------------------------------ reservations

    def reserve(
        self, quantities: Mapping[StockId, int], at: datetime, *, at_commit: bool = False
    ) -> bool:
        """Add to ``reserved`` on every position, or on none when any lacks the units.

        ``at_commit`` (PostgreSQL): the units are added by the commit's own statement, and
        a position short of them then fails the commit as a lost race; for a transaction
        that reads nothing of these positions after, and reserves one order only."""
        if not quantities:
            return True
        if at_commit and self.reserving is not None:
            self.reserving.add(quantities, at)
            return True
        ids = sorted(quantities)
        if not self.sqlite:
            updated = (
                driver(self.connection)
                .execute(
                    _PG_RESERVE,
                    {"stock_ids": ids, "quantities": [quantities[i] for i in ids], "at": at},
                )
                .fetchall()
            )
            return len(updated) == len(ids)
        available = dict(self.connection.execute(_SQLITE_AVAILABLE, {"ids": ids}).all())
        if any(available.get(i, 0) < quantities[i] for i in ids):
            return False
        result = self.connection.execute(
            _SQLITE_RESERVE, [{"sid": i, "qty": quantities[i], "at": at} for i in ids]
        )
        if result.rowcount != len(ids):  # cannot happen under SQLite's write lock
            raise RuntimeError("stock changed under the write lock")
        return True

    def release(self, quantities: Mapping[StockId, int], at: datetime) -> None:
        """Take reservations back off ``reserved``."""
        if not quantities:
            return
        ids = sorted(quantities)
        if not self.sqlite:
            updated = (
                driver(self.connection)
                .execute(
                    _PG_RELEASE,
                    {"stock_ids": ids, "quantities": [quantities[i] for i in ids], "at": at},
                )
                .fetchall()
            )
            count = len(updated)
        else:
            count = self.connection.execute(
                sa.update(stock)
                .where(stock.c.id == sa.bindparam("sid"))
                .values(reserved=stock.c.reserved - sa.bindparam("qty"), updated_at=at),
                [{"sid": i, "qty": quantities[i]} for i in ids],
            ).rowcount
        if count != len(ids):
            raise RuntimeError(f"released {count} of {len(ids)} stock positions")

    def holders(self, stock_id: StockId) -> list[Holder]:
        """Orders with open reservations here: lowest priority and newest first."""
        rows = self.connection.execute(
            sa.select(reservations.c.order_id, sa.func.sum(reservations.c.quantity).label("qty"))
            .join(orders, orders.c.id == reservations.c.order_id)
            .where(
                reservations.c.stock_id == stock_id,
                reservations.c.status == "open",
                reservations.c.shipment_id.is_(None),  # not what a shipment is picking
            )
            .group_by(reservations.c.order_id, orders.c.priority, orders.c.created_at)
            .order_by(orders.c.priority, orders.c.created_at.desc(), reservations.c.order_id.desc())
        )
        return [Holder(OrderId(row.order_id), int(row.qty)) for row in rows]

    # ------------------------------------------------------------------ levels

    def _level_query(self) -> sa.Select[Any]:
        return (
            sa.select(
                stock.c.id,
                stock.c.warehouse_id,
                warehouses.c.code,
                stock.c.product_id,
                products.c.sku,
                stock.c.on_hand,
                stock.c.reserved,
                stock.c.unavailable,
                stock.c.lot_id,
                lots.c.number.label("lot"),
                lots.c.expires_on,
            )
            .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
            .join(products, products.c.id == stock.c.product_id)
            .outerjoin(lots, lots.c.id == stock.c.lot_id)
        )

    def level(
        self,
        warehouse_id: WarehouseId,
        product_id: ProductId,
        *,
        lock: bool = False,
        lot_id: LotId | None = None,
    ) -> StockLevel | None:
        """The position of a product (of one lot, or of no lot) at a warehouse."""
        query = self._level_query().where(
            stock.c.warehouse_id == warehouse_id,
            stock.c.product_id == product_id,
            stock.c.lot_id.is_(None) if lot_id is None else stock.c.lot_id == lot_id,
        )
        if lock:
            query = query.with_for_update(of=stock)
        row = self.connection.execute(query).first()
        return _level(row) if row else None

    def levels_for_keys(
        self, keys: Collection[tuple[WarehouseId, ProductId]], *, lock: bool = False
    ) -> dict[tuple[WarehouseId, ProductId], StockLevel]:
        """Many positions at once, locked in key order when asked (bulk uploads).

        Read per warehouse with a list of products (one index scan each on PostgreSQL; a
        list of (warehouse, product) pairs would be planned as one scan per pair)."""
        result: dict[tuple[WarehouseId, ProductId], StockLevel] = {}
        by_warehouse: dict[WarehouseId, list[ProductId]] = {}
        for warehouse_id, product_id in sorted(set(keys)):
            by_warehouse.setdefault(warehouse_id, []).append(product_id)
        if not self.sqlite:
            return self._levels_by_arrays(by_warehouse, lock=lock)
        for warehouse_id, product_ids in by_warehouse.items():
            for start in range(0, len(product_ids), 2000):
                query = (
                    self._level_query()
                    .where(
                        stock.c.warehouse_id == warehouse_id,
                        stock.c.product_id.in_(product_ids[start : start + 2000]),
                        stock.c.lot_id.is_(None),
                    )
                    .order_by(stock.c.product_id)
                )
                if lock:
                    query = query.with_for_update(of=stock)
                for row in self.connection.execute(query):
                    level = _level(row)
                    result[(level.warehouse_id, level.product_id)] = level
        return result

    def _levels_by_arrays(
        self, by_warehouse: Mapping[WarehouseId, list[ProductId]], *, lock: bool
    ) -> dict[tuple[WarehouseId, ProductId], StockLevel]:
        """PostgreSQL: the keys travel as two arrays joined to the positions (BULK at a
        time), in key order. Not thousands of parameters for the driver to find in a
        statement as long as the list, and not ``= ANY(array)`` either: a filter the
        planner tests row by row against the whole array when its statistics are young."""
        keys = [(w, p) for w, products in by_warehouse.items() for p in products]
        result: dict[tuple[WarehouseId, ProductId], StockLevel] = {}
        for start in range(0, len(keys), BULK):
            some = keys[start : start + BULK]
            given = (
                sa.func.unnest(
                    _bigints("ws", [w for w, _ in some]), _bigints("ps", [p for _, p in some])
                )
                .table_valued("w", "p")
                .render_derived()
            )
            query = (
                self._level_query()
                .join(
                    given,
                    sa.and_(stock.c.warehouse_id == given.c.w, stock.c.product_id == given.c.p),
                )
                .where(stock.c.lot_id.is_(None))
                .order_by(stock.c.warehouse_id, stock.c.product_id)
            )
            if lock:
                query = query.with_for_update(of=stock)
            for row in self.connection.execute(query):
                level = _level(row)
                result[(level.warehouse_id, level.product_id)] = level
        return result

    def ensure_position(
        self,
        warehouse_id: WarehouseId,
        product_id: ProductId,
        at: datetime,
        *,
        lot_id: LotId | None = None,
    ) -> StockId:
        """The position's id, creating an empty one when the SKU (or this lot of it) was
        never kept here."""
        insert = sqlite_dialect.insert(stock) if self.sqlite else postgresql.insert(stock)
        values = insert.values(
            warehouse_id=warehouse_id,
            product_id=product_id,
            lot_id=lot_id,
            on_hand=0,
            reserved=0,
            updated_at=at,
        )
        if lot_id is None:
            statement = values.on_conflict_do_nothing(
                index_elements=["warehouse_id", "product_id"], index_where=stock.c.lot_id.is_(None)
            )
        else:
            statement = values.on_conflict_do_nothing(
                index_elements=["warehouse_id", "product_id", "lot_id"]
            )
        self.connection.execute(statement)
        return StockId(
            self.connection.execute(
                sa.select(stock.c.id).where(
                    stock.c.warehouse_id == warehouse_id,
                    stock.c.product_id == product_id,
                    stock.c.lot_id.is_(None) if lot_id is None else stock.c.lot_id == lot_id,
                )
            ).scalar_one()
        )

    def ensure_positions(self, keys: Iterable[tuple[WarehouseId, ProductId]], at: datetime) -> None:
        rows = [
            {"warehouse_id": w, "product_id": p, "on_hand": 0, "reserved": 0, "updated_at": at}
            for w, p in sorted(set(keys))
        ]
        if not rows:
            return
        if not self.sqlite and len(rows) > 100:  # one statement per BULK rows, arrays unnested
            for start in range(0, len(rows), BULK):
                some = rows[start : start + BULK]
                given = {
                    "ws": [r["warehouse_id"] for r in some],
                    "ps": [r["product_id"] for r in some],
                    "at": at,
                }
                self.connection.execute(_ENSURE_POSITIONS_MANY, given)
            return
        insert = sqlite_dialect.insert(stock) if self.sqlite else postgresql.insert(stock)
        self.connection.execute(
            insert.on_conflict_do_nothing(
                index_elements=["warehouse_id", "product_id"], index_where=stock.c.lot_id.is_(None)
            ),
            rows,
        )

    def set_on_hand(self, levels: Mapping[StockId, int], at: datetime) -> None:
        """Set absolute on-hand quantities (counts and uploads), in key order."""
        if not levels:
            return
        if self.sqlite and len(levels) > 100:  # one statement, the pairs as one JSON array
            lite.set_on_hand(self.connection, levels, at)
            return
        if not self.sqlite and len(levels) > 100:
            # one statement per 10,000 rows (arrays unnested) instead of one per row; the
            # rows are locked already (levels_for_keys), so their order does not matter
            ids = sorted(levels)
            for start in range(0, len(ids), 10_000):
                chunk = ids[start : start + 10_000]
                given = {"ids": chunk, "levels": [levels[i] for i in chunk], "at": at}
                self.connection.execute(_SET_ON_HAND_MANY, given)
            return
        self.connection.execute(
            sa.update(stock)
            .where(stock.c.id == sa.bindparam("sid"))
            .values(on_hand=sa.bindparam("on_hand"), updated_at=at),
            [{"sid": sid, "on_hand": levels[sid]} for sid in sorted(levels)],
        )

    def add_movements(self, movements: Sequence[Movement]) -> list[int]:
        """Append to the ledger; returns the new entries' ids in the same order."""
        if not movements:
            return []
        result = self.connection.execute(
            sa.insert(stock_movements).returning(
                stock_movements.c.id, sort_by_parameter_order=True
            ),
            [_movement_row(m) for m in movements],
        )
        return list(result.scalars())

    def append_movements(self, movements: Sequence[Movement]) -> None:
        """Append many entries to the ledger when their ids are not needed (bulk uploads):
        one statement whose rows travel as one JSON document."""
        if not movements:
            return
        if len(movements) <= 100:
            self.connection.execute(
                sa.insert(stock_movements), [_movement_row(m) for m in movements]
            )
            return
        if self.sqlite:  # the rows as one JSON document, as a commit writes them
            lite.write_document(self.connection, [(stock_movements, _movement_rows(movements))])
            return
        insert_document(driver(self.connection), [(stock_movements, _movement_rows(movements))])

    # ------------------------------------------------------------------ lots, serials, expiry

    def ensure_lot(self, product_id: ProductId, lot: LotDates, at: datetime) -> StoredLot:
        """The lot of a product with this number, created with these dates when first seen;
        returns what is stored, so that the caller can compare the dates."""
        insert = sqlite_dialect.insert(lots) if self.sqlite else postgresql.insert(lots)
        self.connection.execute(
            insert.values(
                product_id=product_id,
                number=lot.number,
                produced_on=lot.produced_on,
                expires_on=lot.expires_on,
                created_at=at,
            ).on_conflict_do_nothing(index_elements=["product_id", "number"])
        )
        row = self.connection.execute(
            sa.select(lots.c.id, lots.c.produced_on, lots.c.expires_on).where(
                lots.c.product_id == product_id, lots.c.number == lot.number
            )
        ).one()
        return StoredLot(LotId(row.id), LotDates(lot.number, row.produced_on, row.expires_on))

    def lot_id(self, product_id: ProductId, number: str) -> LotId | None:
        found = self.connection.execute(
            sa.select(lots.c.id).where(lots.c.product_id == product_id, lots.c.number == number)
        ).scalar()
        return LotId(found) if found is not None else None

    def mark_received(self, stock_id: StockId, at: datetime) -> None:
        """Remember the first receipt of a position (FIFO picks the oldest first)."""
        self.connection.execute(
            sa.update(stock)
            .where(stock.c.id == stock_id, stock.c.received_at.is_(None))
            .values(received_at=at)
        )

    def add_serials(
        self, level: StockLevel, serial_numbers: Sequence[str], at: datetime
    ) -> list[str]:
        """Put units with these serial numbers in stock at the position; when some are in
        stock, reserved or travelling already, add none and return those."""
        if not serial_numbers:
            return []
        known = {
            row.serial: row
            for row in self.connection.execute(
                sa.select(serials.c.id, serials.c.serial, serials.c.status).where(
                    serials.c.product_id == level.product_id,
                    serials.c.serial.in_(list(serial_numbers)),
                )
            )
        }
        taken = sorted(s for s, row in known.items() if row.status not in _GONE)
        if taken:
            return taken
        placed = {
            "status": "in_stock",
            "stock_id": level.stock_id,
            "warehouse_id": level.warehouse_id,
            "lot_id": level.lot_id,
            "order_id": None,
            "line_no": None,
            "updated_at": at,
        }
        back = [known[s].id for s in serial_numbers if s in known]  # shipped or written off
        if back:
            self.connection.execute(
                sa.update(serials).where(serials.c.id.in_(back)).values(received_at=at, **placed)
            )
        new = [s for s in serial_numbers if s not in known]
        if new:
            self.connection.execute(
                sa.insert(serials),
                [
                    {"product_id": level.product_id, "serial": s, "received_at": at, **placed}
                    for s in new
                ],
            )
        return []

    def serials_at(self, stock_id: StockId) -> dict[str, str]:
        """Serial numbers lying in a position (in stock or reserved), with their status."""
        return {
            row.serial: row.status
            for row in self.connection.execute(
                sa.select(serials.c.serial, serials.c.status).where(
                    serials.c.stock_id == stock_id, serials.c.status.in_(["in_stock", "reserved"])
                )
            )
        }

    def serials_elsewhere(self, product_id: ProductId, serial_numbers: Sequence[str]) -> list[str]:
        """Which of these serial numbers are in stock, reserved or travelling already."""
        if not serial_numbers:
            return []
        return sorted(
            self.connection.execute(
                sa.select(serials.c.serial).where(
                    serials.c.product_id == product_id,
                    serials.c.serial.in_(list(serial_numbers)),
                    serials.c.status.not_in(_GONE),
                )
            ).scalars()
        )

    def write_off_serials(
        self, level: StockLevel, serial_numbers: Sequence[str], at: datetime
    ) -> list[str]:
        """Mark these units written off; when some are not in stock (unreserved) at the
        position, change none and return those."""
        found = set(
            self.connection.execute(
                sa.select(serials.c.serial).where(
                    serials.c.stock_id == level.stock_id,
                    serials.c.status == "in_stock",
                    serials.c.serial.in_(list(serial_numbers)),
                )
            ).scalars()
        )
        missing = sorted(set(serial_numbers) - found)
        if missing:
            return missing
        self.connection.execute(
            sa.update(serials)
            .where(serials.c.stock_id == level.stock_id, serials.c.serial.in_(list(found)))
            .values(status="written_off", updated_at=at)
        )
        return []

    def assign_serials(
        self, picks: Sequence[SerialPick], at: datetime
    ) -> dict[tuple[int, StockId], list[str]]:
        """Set aside units in stock (oldest first) for order lines; the positions are locked
        by the reservation that came just before, so no two orders take the same unit."""
        assigned: dict[tuple[int, StockId], list[str]] = {}
        for pick in picks:
            rows = self.connection.execute(
                sa.select(serials.c.id, serials.c.serial)
                .where(serials.c.stock_id == pick.stock_id, serials.c.status == "in_stock")
                .order_by(serials.c.received_at, serials.c.id)
                .limit(pick.quantity)
            ).all()
            if len(rows) < pick.quantity:
                raise RuntimeError(
                    f"position {pick.stock_id} has {len(rows)} serials in stock, "
                    f"{pick.quantity} reserved"
                )
            self.connection.execute(
                sa.update(serials)
                .where(serials.c.id.in_([r.id for r in rows]))
                .values(
                    status="reserved", order_id=pick.order_id, line_no=pick.line_no, updated_at=at
                )
            )
            assigned.setdefault((pick.line_no, pick.stock_id), []).extend(r.serial for r in rows)
        return assigned

    def free_serials(self, order_id: OrderId, stock_ids: Collection[StockId], at: datetime) -> None:
        """Units set aside for an order at these positions go back in stock."""
        if not stock_ids:
            return
        self.connection.execute(
            sa.update(serials)
            .where(
                serials.c.order_id == order_id,
                serials.c.stock_id.in_(sorted(stock_ids)),
                serials.c.status == "reserved",
            )
            .values(status="in_stock", order_id=None, line_no=None, updated_at=at)
        )

    def free_named_serials(
        self, order_id: OrderId, stock_id: StockId, serial_numbers: Sequence[str], at: datetime
    ) -> None:
        """These units set aside for the order at the position go back in stock."""
        if not serial_numbers:
            return
        self.connection.execute(
            sa.update(serials)
            .where(
                serials.c.order_id == order_id,
                serials.c.stock_id == stock_id,
                serials.c.status == "reserved",
                serials.c.serial.in_(list(serial_numbers)),
            )
            .values(status="in_stock", order_id=None, line_no=None, updated_at=at)
        )

    def ship_serials(
        self, order_id: OrderId, stock_id: StockId, serial_numbers: Sequence[str], at: datetime
    ) -> int:
        """Units set aside for the order at the position left on a shipment; returns how many
        were marked."""
        if not serial_numbers:
            return 0
        return self.connection.execute(
            sa.update(serials)
            .where(
                serials.c.order_id == order_id,
                serials.c.stock_id == stock_id,
                serials.c.status == "reserved",
                serials.c.serial.in_(list(serial_numbers)),
            )
            .values(status="shipped", updated_at=at)
        ).rowcount

    def return_serials(
        self, order_id: OrderId, stock_id: StockId, serial_numbers: Sequence[str], at: datetime
    ) -> int:
        """Units of a shipment that came back lie in the position again, in stock."""
        if not serial_numbers:
            return 0
        return self.connection.execute(
            sa.update(serials)
            .where(
                serials.c.order_id == order_id,
                serials.c.stock_id == stock_id,
                serials.c.status == "shipped",
                serials.c.serial.in_(list(serial_numbers)),
            )
            .values(status="in_stock", order_id=None, line_no=None, updated_at=at)
        ).rowcount

    def expired(self, today: date) -> list[StockLevel]:
        """Positions of lots that have expired (on or before ``today``) and still have units
        outside the unavailable bucket."""
        query = (
            self._level_query()
            .where(
                lots.c.expires_on <= today,
                stock.c.on_hand > stock.c.unavailable,
            )
            .order_by(stock.c.warehouse_id, stock.c.product_id, stock.c.id)
        )
        if not self.sqlite:
            query = query.with_for_update(of=stock)
        return [_level(row) for row in self.connection.execute(query)]

    def set_unavailable(self, levels: Mapping[StockId, int], at: datetime) -> None:
        """Set the unavailable bucket of positions, in key order."""
        if not levels:
            return
        self.connection.execute(
            sa.update(stock)
            .where(stock.c.id == sa.bindparam("sid"))
            .values(unavailable=sa.bindparam("unavailable"), updated_at=at),
            [{"sid": sid, "unavailable": levels[sid]} for sid in sorted(levels)],
        )


_GONE = ("shipped", "written_off")


def candidates_from_rows(rows: Iterable[Any]) -> tuple[list[Candidate], list[Position]]:
    """Candidates and positions from rows of (id, warehouse_id, product_id, available, code,
    city, priority, latitude, longitude, region, lot_id, lot, expires_on, received_at,
    removal)."""
    candidates: dict[int, Candidate] = {}
    positions: list[Position] = []
    for row in rows:
        if row.warehouse_id not in candidates:
            candidates[row.warehouse_id] = Candidate(
                WarehouseId(row.warehouse_id),
                row.code,
                row.city,
                row.priority,
                row.latitude,
                row.longitude,
                row.kind,
                row.region,
            )
        positions.append(
            Position(
                StockId(row.id),
                WarehouseId(row.warehouse_id),
                ProductId(row.product_id),
                row.available,
                LotId(row.lot_id) if row.lot_id is not None else None,
                row.lot,
                row.expires_on,
                row.received_at,
                row.removal,
                bool(row.serialised),
            )
        )
    return list(candidates.values()), positions


BULK = 10_000
"""Rows one bulk statement carries on PostgreSQL."""

_ENSURE_POSITIONS_MANY = sa.text(
    "INSERT INTO stock (warehouse_id, product_id, on_hand, reserved, updated_at) "
    "SELECT given.w, given.p, 0, 0, :at "
    "FROM unnest(CAST(:ws AS bigint[]), CAST(:ps AS bigint[])) AS given(w, p) "
    "ON CONFLICT (warehouse_id, product_id) WHERE lot_id IS NULL DO NOTHING"
).bindparams(sa.bindparam("at", type_=UtcDateTime()))


def _bigints(name: str, values: Sequence[int]) -> sa.BindParameter[Any]:
    return sa.bindparam(name, list(values), type_=postgresql.ARRAY(sa.BigInteger()))


def _movement_rows(movements: Sequence[Movement]) -> list[dict[str, Any]]:
    return [_movement_row(m) for m in movements]


def _movement_row(m: Movement) -> dict[str, Any]:
    return {
        "stock_id": m.stock_id,
        "warehouse_id": m.warehouse_id,
        "product_id": m.product_id,
        "lot_id": m.lot_id,
        "type": m.type.value,
        "quantity": m.quantity,
        "on_hand_after": m.on_hand_after,
        "unavailable_change": m.unavailable_change,
        "reason": m.reason,
        "reference": m.reference,
        "actor": m.actor,
        "occurred_at": m.occurred_at,
    }


_SET_ON_HAND_MANY = sa.text(
    "UPDATE stock SET on_hand = given.on_hand, updated_at = :at "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:levels AS integer[])) AS given(id, on_hand) "
    "WHERE stock.id = given.id"
).bindparams(sa.bindparam("at", type_=UtcDateTime()))


def _level(row: Any) -> StockLevel:
    return StockLevel(
        stock_id=StockId(row.id),
        warehouse_id=WarehouseId(row.warehouse_id),
        warehouse_code=row.code,
        product_id=ProductId(row.product_id),
        sku=row.sku,
        on_hand=row.on_hand,
        reserved=row.reserved,
        unavailable=row.unavailable,
        lot_id=LotId(row.lot_id) if row.lot_id is not None else None,
        lot=row.lot,
        expires_on=getattr(row, "expires_on", None),
    )
