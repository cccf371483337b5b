"""Transfers between warehouses with their lines, and the serial numbers they carry."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import lots, products, serials, transfer_lines, transfers, warehouses
from potok.domain.inventory.transfers import Transfer, TransferLine, TransferStatus
from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.services.ports import ProductRef

_FROM = warehouses.alias("from_warehouse")
_TO = warehouses.alias("to_warehouse")


class TransferRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------------ references

    def products(self, skus: Collection[str]) -> dict[str, ProductRef]:
        """Products by SKU, with how their units are told apart."""
        if not skus:
            return {}
        rows = self.connection.execute(
            sa.select(products.c.id, products.c.sku, products.c.tracking).where(
                products.c.sku.in_(set(skus))
            )
        )
        return {r.sku: ProductRef(ProductId(r.id), r.sku, r.tracking) for r in rows}

    def lot_ids(
        self, wanted: Collection[tuple[ProductId, str]]
    ) -> dict[tuple[ProductId, str], LotId]:
        """Lots by (product, lot number)."""
        if not wanted:
            return {}
        rows = self.connection.execute(
            sa.select(lots.c.id, lots.c.product_id, lots.c.number).where(
                sa.tuple_(lots.c.product_id, lots.c.number).in_(sorted(set(wanted)))
            )
        )
        return {(ProductId(r.product_id), r.number): LotId(r.id) for r in rows}

    # ------------------------------------------------------------------ the aggregate

    def add(self, transfer: Transfer) -> None:
        """Store a new transfer; it gets its id and its number (TR-000001)."""
        transfer_id = self.connection.execute(
            sa.insert(transfers)
            .values(**_header(transfer), number="~" + uuid.uuid4().hex[:30])
            .returning(transfers.c.id)
        ).scalar_one()
        transfer.id = transfer_id
        transfer.number = f"TR-{transfer_id:06d}"
        self.connection.execute(
            sa.update(transfers).where(transfers.c.id == transfer_id).values(number=transfer.number)
        )
        self.connection.execute(
            sa.insert(transfer_lines),
            [
                {
                    "transfer_id": transfer_id,
                    "line_no": line.line_no,
                    "product_id": line.product_id,
                    "lot_id": line.lot_id,
                    "quantity": line.quantity,
                }
                for line in transfer.lines
            ],
        )

    def save(self, transfer: Transfer) -> None:
        assert transfer.id is not None
        self.connection.execute(
            sa.update(transfers).where(transfers.c.id == transfer.id).values(_header(transfer))
        )
        self.connection.execute(
            sa.update(transfer_lines)
            .where(
                transfer_lines.c.transfer_id == transfer.id,
                transfer_lines.c.line_no == sa.bindparam("no"),
            )
            .values(
                shipped_quantity=sa.bindparam("shipped"),
                received_quantity=sa.bindparam("received"),
                discrepancy_reason=sa.bindparam("reason"),
            ),
            [
                {
                    "no": line.line_no,
                    "shipped": line.shipped_quantity,
                    "received": line.received_quantity,
                    "reason": line.discrepancy_reason,
                }
                for line in transfer.lines
            ],
        )

    def _select(self) -> sa.Select[Any]:
        return (
            sa.select(transfers, _FROM.c.code.label("from_code"), _TO.c.code.label("to_code"))
            .join(_FROM, _FROM.c.id == transfers.c.from_warehouse_id)
            .join(_TO, _TO.c.id == transfers.c.to_warehouse_id)
        )

    def get(self, number: str, *, lock: bool = False) -> Transfer | None:
        query = self._select().where(transfers.c.number == number)
        if lock:
            query = query.with_for_update(of=transfers)
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return self._load([row])[0]

    def list_for_order(self, order_id: int, *, lock: bool = False) -> list[Transfer]:
        """The transfers that bring units for a customer order, oldest first."""
        query = self._select().where(transfers.c.order_id == order_id).order_by(transfers.c.id)
        if lock:
            query = query.with_for_update(of=transfers)
        return self._load(list(self.connection.execute(query)))

    def list_page(
        self,
        *,
        status: str | None,
        warehouses: Sequence[str] | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Transfer], str | None]:
        """Newest first; ``warehouses`` keeps transfers from or to any of them."""
        query = self._select().order_by(transfers.c.id.desc()).limit(limit + 1)
        if status:
            query = query.where(transfers.c.status == status)
        if warehouses is not None:
            codes = list(warehouses)
            query = query.where(sa.or_(_FROM.c.code.in_(codes), _TO.c.code.in_(codes)))
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(transfers.c.id < min(max(last_id, 0), 2**63 - 1))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return self._load(rows), encode_cursor(rows[-1].id) if more else None

    def _load(self, rows: Sequence[Any]) -> list[Transfer]:
        if not rows:
            return []
        lines: dict[int, list[TransferLine]] = {}
        for r in self.connection.execute(
            sa.select(transfer_lines, products.c.sku, lots.c.number.label("lot"))
            .join(products, products.c.id == transfer_lines.c.product_id)
            .outerjoin(lots, lots.c.id == transfer_lines.c.lot_id)
            .where(transfer_lines.c.transfer_id.in_([row.id for row in rows]))
            .order_by(transfer_lines.c.transfer_id, transfer_lines.c.line_no)
        ):
            lines.setdefault(r.transfer_id, []).append(
                TransferLine(
                    line_no=r.line_no,
                    product_id=ProductId(r.product_id),
                    sku=r.sku,
                    quantity=r.quantity,
                    lot_id=LotId(r.lot_id) if r.lot_id is not None else None,
                    lot=r.lot,
                    shipped_quantity=r.shipped_quantity,
                    received_quantity=r.received_quantity,
                    discrepancy_reason=r.discrepancy_reason,
                )
            )
        return [
            Transfer(
                number=row.number,
                from_warehouse_id=WarehouseId(row.from_warehouse_id),
                from_warehouse=row.from_code,
                to_warehouse_id=WarehouseId(row.to_warehouse_id),
                to_warehouse=row.to_code,
                status=TransferStatus(row.status),
                lines=lines.get(row.id, []),
                created_by=row.created_by,
                created_at=row.created_at,
                updated_at=row.updated_at,
                expected_on=row.expected_on,
                comment=row.comment,
                shipped_at=row.shipped_at,
                received_at=row.received_at,
                id=row.id,
                order_id=row.order_id,
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ serial numbers

    def send_serials(
        self,
        stock_id: StockId,
        quantity: int,
        to_warehouse_id: WarehouseId,
        at: datetime,
        *,
        chosen: Sequence[str] | None = None,
    ) -> tuple[list[str], list[str]]:
        """Put free serials of a position on the road to another warehouse: ``chosen`` ones,
        else the first ``quantity``. Returns (sent, missing); with any missing none is sent."""
        query = sa.select(serials.c.id, serials.c.serial).where(
            serials.c.stock_id == stock_id, serials.c.status == "in_stock"
        )
        return self._move(
            query,
            quantity,
            chosen,
            at,
            status="in_transit",
            stock_id=None,
            warehouse_id=to_warehouse_id,
        )

    def land_serials(
        self,
        product_id: ProductId,
        lot_id: LotId | None,
        stock_id: StockId,
        to_warehouse_id: WarehouseId,
        quantity: int,
        at: datetime,
        *,
        chosen: Sequence[str] | None = None,
    ) -> tuple[list[str], list[str]]:
        """Serials on their way to a warehouse arrive in its position: ``chosen`` ones, else the
        first ``quantity``. Returns (landed, missing); with any missing none lands."""
        query = sa.select(serials.c.id, serials.c.serial).where(
            serials.c.product_id == product_id,
            serials.c.status == "in_transit",
            serials.c.warehouse_id == to_warehouse_id,
            serials.c.lot_id.is_(None) if lot_id is None else serials.c.lot_id == lot_id,
        )
        return self._move(query, quantity, chosen, at, status="in_stock", stock_id=stock_id)

    def _move(
        self,
        query: sa.Select[Any],
        quantity: int,
        chosen: Sequence[str] | None,
        at: datetime,
        **values: Any,
    ) -> tuple[list[str], list[str]]:
        if chosen is not None:
            rows = list(self.connection.execute(query.where(serials.c.serial.in_(list(chosen)))))
            missing = sorted(set(chosen) - {r.serial for r in rows})
            if missing:
                return [], missing
        else:
            rows = list(self.connection.execute(query.order_by(serials.c.serial).limit(quantity)))
        if rows:
            self.connection.execute(
                sa.update(serials)
                .where(serials.c.id.in_([r.id for r in rows]))
                .values(**values, updated_at=at)
            )
        return sorted(r.serial for r in rows), []


def _header(transfer: Transfer) -> dict[str, Any]:
    return {
        "from_warehouse_id": transfer.from_warehouse_id,
        "to_warehouse_id": transfer.to_warehouse_id,
        "status": transfer.status.value,
        "expected_on": transfer.expected_on,
        "comment": transfer.comment,
        "created_by": transfer.created_by,
        "created_at": transfer.created_at,
        "updated_at": transfer.updated_at,
        "shipped_at": transfer.shipped_at,
        "received_at": transfer.received_at,
        "order_id": transfer.order_id,
    }
