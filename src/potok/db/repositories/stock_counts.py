"""Stock counts: the sheets, their lines, and the snapshot of positions they start from."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import (
    lots,
    products,
    stock,
    stock_count_lines,
    stock_counts,
    storage_locations,
    warehouses,
)
from potok.domain.inventory.counts import CountLine, CountStatus, StockCount, count_number
from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.services.read_models import CountPage, CountSummary

_LINE_ORDER = (
    sa.case((storage_locations.c.id.is_(None), 1), else_=0),
    storage_locations.c.pick_sequence,
    storage_locations.c.zone,
    storage_locations.c.code,
    products.c.sku,
    lots.c.number,
)


class StockCountRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def next_number(self) -> str:
        """The next CNT- number; two counts made at once clash on the unique number and the
        loser is retried."""
        last = self.connection.execute(
            sa.select(stock_counts.c.number).order_by(stock_counts.c.id.desc()).limit(1)
        ).scalar_one_or_none()
        sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
        return count_number(sequence)

    def snapshot(
        self,
        warehouse_id: WarehouseId,
        zone: str | None,
        product_ids: Collection[ProductId] | None,
    ) -> list[CountLine]:
        """The positions of a warehouse (of a zone, of some products) with their on hand now,
        in walking order."""
        query = (
            sa.select(
                stock.c.id,
                stock.c.product_id,
                products.c.sku,
                stock.c.on_hand,
                stock.c.lot_id,
                lots.c.number.label("lot"),
                stock.c.location_id,
                storage_locations.c.code.label("location"),
            )
            .join(products, products.c.id == stock.c.product_id)
            .outerjoin(lots, lots.c.id == stock.c.lot_id)
            .outerjoin(storage_locations, storage_locations.c.id == stock.c.location_id)
            .where(
                stock.c.warehouse_id == warehouse_id,
                products.c.tracking != "serial",  # counted by serial number, not here
            )
            .order_by(*_LINE_ORDER)
        )
        if zone is not None:
            query = query.where(storage_locations.c.zone == zone)
        if product_ids is not None:
            query = query.where(stock.c.product_id.in_(sorted(product_ids)))
        return [
            CountLine(
                stock_id=StockId(r.id),
                product_id=ProductId(r.product_id),
                sku=r.sku,
                expected=r.on_hand,
                lot_id=LotId(r.lot_id) if r.lot_id is not None else None,
                lot=r.lot,
                location_id=r.location_id,
                location=r.location,
            )
            for r in self.connection.execute(query)
        ]

    def busy(self, stock_ids: Collection[StockId]) -> list[str]:
        """Numbers of open or submitted counts that hold any of these positions."""
        if not stock_ids:
            return []
        rows = self.connection.execute(
            sa.select(stock_counts.c.number)
            .distinct()
            .join(stock_count_lines, stock_count_lines.c.count_id == stock_counts.c.id)
            .where(
                stock_counts.c.status.in_(["open", "submitted"]),
                stock_count_lines.c.stock_id.in_(sorted(stock_ids)),
            )
            .order_by(stock_counts.c.number)
        )
        return [r.number for r in rows]

    def add(self, count: StockCount) -> None:
        count.id = int(
            self.connection.execute(
                sa.insert(stock_counts)
                .values(
                    number=count.number,
                    warehouse_id=count.warehouse_id,
                    zone=count.zone,
                    status=count.status.value,
                    created_by=count.created_by,
                    created_at=count.created_at,
                    updated_at=count.updated_at,
                )
                .returning(stock_counts.c.id)
            ).scalar_one()
        )
        if count.lines:
            self.connection.execute(
                sa.insert(stock_count_lines),
                [
                    {
                        "count_id": count.id,
                        "stock_id": line.stock_id,
                        "product_id": line.product_id,
                        "lot_id": line.lot_id,
                        "location_id": line.location_id,
                        "expected": line.expected,
                    }
                    for line in count.lines
                ],
            )

    def get(self, number: str, *, lock: bool = False) -> StockCount | None:
        query = (
            sa.select(stock_counts, warehouses.c.code.label("warehouse_code"))
            .join(warehouses, warehouses.c.id == stock_counts.c.warehouse_id)
            .where(stock_counts.c.number == number)
        )
        if lock:
            query = query.with_for_update(of=stock_counts)
        head = self.connection.execute(query).first()
        if head is None:
            return None
        rows = self.connection.execute(
            sa.select(
                stock_count_lines,
                products.c.sku,
                lots.c.number.label("lot"),
                storage_locations.c.code.label("location"),
            )
            .join(products, products.c.id == stock_count_lines.c.product_id)
            .outerjoin(lots, lots.c.id == stock_count_lines.c.lot_id)
            .outerjoin(storage_locations, storage_locations.c.id == stock_count_lines.c.location_id)
            .where(stock_count_lines.c.count_id == head.id)
            .order_by(*_LINE_ORDER)
        )
        return StockCount(
            number=head.number,
            warehouse_id=WarehouseId(head.warehouse_id),
            warehouse_code=head.warehouse_code,
            zone=head.zone,
            status=CountStatus(head.status),
            created_by=head.created_by,
            created_at=head.created_at,
            updated_at=head.updated_at,
            approved_by=head.approved_by,
            approved_at=head.approved_at,
            id=head.id,
            lines=[_line(r) for r in rows],
        )

    def save(self, count: StockCount, lines: Sequence[CountLine] = ()) -> None:
        """Write the sheet's status and the lines that were entered."""
        self.connection.execute(
            sa.update(stock_counts)
            .where(stock_counts.c.id == count.id)
            .values(
                status=count.status.value,
                updated_at=count.updated_at,
                approved_by=count.approved_by,
                approved_at=count.approved_at,
            )
        )
        if lines:
            self.connection.execute(
                sa.update(stock_count_lines)
                .where(stock_count_lines.c.id == sa.bindparam("line_id"))
                .values(
                    counted=sa.bindparam("counted"),
                    counted_by=sa.bindparam("counted_by"),
                    counted_at=sa.bindparam("counted_at"),
                ),
                [
                    {
                        "line_id": line.id,
                        "counted": line.counted,
                        "counted_by": line.counted_by,
                        "counted_at": line.counted_at,
                    }
                    for line in lines
                ],
            )

    def list(
        self,
        *,
        warehouses_in: Sequence[str] | None,
        status: str | None,
        cursor: str | None,
        limit: int,
    ) -> CountPage:
        """Counts, newest first."""
        tally = (
            sa.select(
                stock_count_lines.c.count_id,
                sa.func.count().label("lines"),
                sa.func.count(stock_count_lines.c.counted).label("counted"),
            )
            .group_by(stock_count_lines.c.count_id)
            .subquery()
        )
        query = (
            sa.select(
                stock_counts,
                warehouses.c.code.label("warehouse_code"),
                sa.func.coalesce(tally.c.lines, 0).label("line_count"),
                sa.func.coalesce(tally.c.counted, 0).label("counted_count"),
            )
            .join(warehouses, warehouses.c.id == stock_counts.c.warehouse_id)
            .outerjoin(tally, tally.c.count_id == stock_counts.c.id)
            .order_by(stock_counts.c.id.desc())
            .limit(limit + 1)
        )
        if warehouses_in is not None:
            query = query.where(warehouses.c.code.in_(list(warehouses_in)))
        if status is not None:
            query = query.where(stock_counts.c.status == status)
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(stock_counts.c.id < int(last_id))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return CountPage(
            [
                CountSummary(
                    r.number,
                    r.warehouse_code,
                    r.zone,
                    r.status,
                    int(r.line_count),
                    int(r.counted_count),
                    r.created_by,
                    r.created_at,
                    r.approved_by,
                    r.approved_at,
                )
                for r in rows
            ],
            encode_cursor(rows[-1].id) if more else None,
        )


def _line(row: Any) -> CountLine:
    return CountLine(
        stock_id=StockId(row.stock_id),
        product_id=ProductId(row.product_id),
        sku=row.sku,
        expected=row.expected,
        lot_id=LotId(row.lot_id) if row.lot_id is not None else None,
        lot=row.lot,
        location_id=row.location_id,
        location=row.location,
        counted=row.counted,
        counted_by=row.counted_by,
        counted_at=row.counted_at,
        id=row.id,
    )
