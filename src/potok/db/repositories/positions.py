"""Stock positions addressed one by one: by id, by lot number; their unavailable bucket and
their bin. The reservation and ledger paths stay in :mod:`potok.db.repositories.stock`."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from potok.db.repositories.stock import StockRepository, _level
from potok.db.tables import lots, stock, storage_locations
from potok.domain.inventory import StockLevel
from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId


class PositionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self._levels = StockRepository(connection)

    def lot_id(self, product_id: ProductId, number: str) -> LotId | None:
        """The lot of a product with this number, if there is one."""
        found = self.connection.execute(
            sa.select(lots.c.id).where(lots.c.product_id == product_id, lots.c.number == number)
        ).scalar_one_or_none()
        return LotId(found) if found is not None else None

    def get(self, stock_id: StockId, *, lock: bool = False) -> StockLevel | None:
        query = self._levels._level_query().where(stock.c.id == stock_id)
        if lock:
            query = query.with_for_update(of=stock)
        row = self.connection.execute(query).first()
        return _level(row) if row else None

    def find(
        self,
        warehouse_id: WarehouseId,
        product_id: ProductId,
        lot_id: LotId | None,
        *,
        lock: bool = False,
    ) -> StockLevel | None:
        query = self._levels._level_query().where(
            stock.c.warehouse_id == warehouse_id,
            stock.c.product_id == product_id,
            stock.c.lot_id.is_(None) if lot_id is None else stock.c.lot_id == lot_id,
        )
        if lock:
            query = query.with_for_update(of=stock)
        row = self.connection.execute(query).first()
        return _level(row) if row else None

    def lock_in_order(self, stock_ids: list[StockId]) -> dict[StockId, StockLevel]:
        """Several positions locked in the fixed key order (warehouse, product, lot)."""
        if not stock_ids:
            return {}
        query = (
            self._levels._level_query()
            .where(stock.c.id.in_(sorted(set(stock_ids))))
            .order_by(stock.c.warehouse_id, stock.c.product_id, stock.c.id)
            .with_for_update(of=stock)
        )
        return {StockId(r.id): _level(r) for r in self.connection.execute(query)}

    def set_buckets(
        self, stock_id: StockId, *, on_hand: int, unavailable: int, at: datetime
    ) -> None:
        """Write a position's on-hand and unavailable counters (the CHECKs guard the rest)."""
        self.connection.execute(
            sa.update(stock)
            .where(stock.c.id == stock_id)
            .values(on_hand=on_hand, unavailable=unavailable, updated_at=at)
        )

    def place(self, stock_id: StockId, location_id: int | None, at: datetime) -> None:
        """Put a position into a bin (None: no bin)."""
        self.connection.execute(
            sa.update(stock)
            .where(stock.c.id == stock_id)
            .values(location_id=location_id, updated_at=at)
        )

    def location_of(self, stock_id: StockId) -> str | None:
        """The bin code a position lies in, if any."""
        return self.connection.execute(
            sa.select(storage_locations.c.code)
            .join(stock, stock.c.location_id == storage_locations.c.id)
            .where(stock.c.id == stock_id)
        ).scalar_one_or_none()
