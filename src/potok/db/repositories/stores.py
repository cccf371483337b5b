"""Stores' till receipts in and out of their table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from potok.db.tables import store_receipts, warehouses
from potok.domain.kernel import WarehouseId
from potok.domain.stores import Receipt, ReceiptKind
from potok.services.store_ports import StoreSales

_r = store_receipts
CHUNK = 1000


class StoreReceiptRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def recorded(self, warehouse_id: WarehouseId, receipt_ids: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        ids = sorted(set(receipt_ids))
        for start in range(0, len(ids), CHUNK):
            for row in self.connection.execute(
                sa.select(_r.c.receipt_id, _r.c.kind, _r.c.lines).where(
                    _r.c.warehouse_id == warehouse_id,
                    _r.c.receipt_id.in_(ids[start : start + CHUNK]),
                )
            ):
                found[row.receipt_id] = {"kind": row.kind, "lines": row.lines}
        return found

    def add(self, warehouse_id: WarehouseId, receipts: Sequence[Receipt], at: datetime) -> None:
        if not receipts:
            return
        self.connection.execute(
            _r.insert(),
            [
                {
                    "warehouse_id": warehouse_id,
                    "receipt_id": r.receipt_id,
                    "kind": r.kind.value,
                    "till": r.till,
                    "sold_at": r.sold_at,
                    "received_at": at,
                    "units": sum(line.quantity for line in r.lines),
                    "total": r.total,
                    "lines": r.line_records(),
                }
                for r in receipts
            ],
        )

    def sales(self, since: datetime, until: datetime) -> list[StoreSales]:
        sale = _r.c.kind == ReceiptKind.SALE.value
        back = _r.c.kind == ReceiptKind.RETURN.value
        rows = self.connection.execute(
            sa.select(
                warehouses.c.code,
                sa.func.sum(sa.case((sale, 1), else_=0)).label("sales"),
                sa.func.sum(sa.case((back, 1), else_=0)).label("returns"),
                sa.func.sum(sa.case((sale, _r.c.units), else_=0)).label("units_sold"),
                sa.func.sum(sa.case((back, _r.c.units), else_=0)).label("units_returned"),
                sa.func.sum(sa.case((sale, _r.c.total), else_=-_r.c.total)).label("revenue"),
            )
            .select_from(_r.join(warehouses, warehouses.c.id == _r.c.warehouse_id))
            .where(_r.c.sold_at >= since, _r.c.sold_at < until)
            .group_by(warehouses.c.code)
            .order_by(warehouses.c.code)
        )
        return [
            StoreSales(
                row.code,
                int(row.sales),
                int(row.returns),
                int(row.units_sold),
                int(row.units_returned),
                Decimal(row.revenue).quantize(Decimal("0.01")),
            )
            for row in rows
        ]
