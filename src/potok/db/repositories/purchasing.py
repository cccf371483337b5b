"""Purchase orders with their lines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import products, purchase_order_lines, purchase_orders, warehouses
from potok.domain.inventory.purchasing import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from potok.domain.kernel import ProductId, WarehouseId


class PurchaseOrderRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def number_taken(self, number: str) -> bool:
        return (
            self.connection.execute(
                sa.select(purchase_orders.c.id).where(purchase_orders.c.number == number)
            ).first()
            is not None
        )

    def add(self, order: PurchaseOrder) -> None:
        """Store a new purchase order; without a number of its own it gets PO-000001."""
        given = order.number
        order_id = self.connection.execute(
            sa.insert(purchase_orders)
            .values(**_header(order), number=given or "~" + uuid.uuid4().hex[:30])
            .returning(purchase_orders.c.id)
        ).scalar_one()
        order.id = order_id
        if not given:
            order.number = f"PO-{order_id:06d}"
            self.connection.execute(
                sa.update(purchase_orders)
                .where(purchase_orders.c.id == order_id)
                .values(number=order.number)
            )
        self.connection.execute(
            sa.insert(purchase_order_lines),
            [
                {
                    "purchase_order_id": order_id,
                    "line_no": line.line_no,
                    "product_id": line.product_id,
                    "quantity": line.quantity,
                    "received_quantity": line.received_quantity,
                }
                for line in order.lines
            ],
        )

    def save(self, order: PurchaseOrder) -> None:
        assert order.id is not None
        self.connection.execute(
            sa.update(purchase_orders)
            .where(purchase_orders.c.id == order.id)
            .values(_header(order))
        )
        self.connection.execute(
            sa.update(purchase_order_lines)
            .where(
                purchase_order_lines.c.purchase_order_id == order.id,
                purchase_order_lines.c.line_no == sa.bindparam("no"),
            )
            .values(received_quantity=sa.bindparam("received")),
            [{"no": line.line_no, "received": line.received_quantity} for line in order.lines],
        )

    def _select(self) -> sa.Select[Any]:
        return sa.select(purchase_orders, warehouses.c.code.label("warehouse_code")).join(
            warehouses, warehouses.c.id == purchase_orders.c.warehouse_id
        )

    def get(self, number: str, *, lock: bool = False) -> PurchaseOrder | None:
        query = self._select().where(purchase_orders.c.number == number)
        if lock:
            query = query.with_for_update(of=purchase_orders)
        row = self.connection.execute(query).first()
        return self._load([row])[0] if row is not None else None

    def list_page(
        self,
        *,
        status: str | None,
        warehouses: Sequence[str] | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[PurchaseOrder], str | None]:
        query = self._select().order_by(purchase_orders.c.id.desc()).limit(limit + 1)
        if status:
            query = query.where(purchase_orders.c.status == status)
        if warehouses is not None:
            query = query.where(warehouses_code_in(list(warehouses)))
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(purchase_orders.c.id < min(max(last_id, 0), 2**63 - 1))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return self._load(rows), encode_cursor(rows[-1].id) if more else None

    def _load(self, rows: Sequence[Any]) -> list[PurchaseOrder]:
        if not rows:
            return []
        lines: dict[int, list[PurchaseOrderLine]] = {}
        for r in self.connection.execute(
            sa.select(purchase_order_lines, products.c.sku)
            .join(products, products.c.id == purchase_order_lines.c.product_id)
            .where(purchase_order_lines.c.purchase_order_id.in_([row.id for row in rows]))
            .order_by(purchase_order_lines.c.purchase_order_id, purchase_order_lines.c.line_no)
        ):
            lines.setdefault(r.purchase_order_id, []).append(
                PurchaseOrderLine(
                    line_no=r.line_no,
                    product_id=ProductId(r.product_id),
                    sku=r.sku,
                    quantity=r.quantity,
                    received_quantity=r.received_quantity,
                )
            )
        return [
            PurchaseOrder(
                number=row.number,
                supplier=row.supplier,
                warehouse_id=WarehouseId(row.warehouse_id),
                warehouse=row.warehouse_code,
                status=PurchaseOrderStatus(row.status),
                lines=lines.get(row.id, []),
                created_by=row.created_by,
                created_at=row.created_at,
                updated_at=row.updated_at,
                expected_on=row.expected_on,
                id=row.id,
            )
            for row in rows
        ]


def warehouses_code_in(codes: list[str]) -> sa.ColumnElement[bool]:
    return warehouses.c.code.in_(codes)


def _header(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "supplier": order.supplier,
        "warehouse_id": order.warehouse_id,
        "status": order.status.value,
        "expected_on": order.expected_on,
        "created_by": order.created_by,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
