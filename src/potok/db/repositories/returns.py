"""Returns with their lines and steps; each save writes the steps and events it brought."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import (
    channels,
    lots,
    orders,
    products,
    reservations,
    return_lines,
    return_steps,
    returns,
    warehouses,
)
from potok.domain.errors import TransientConflict
from potok.domain.events import DomainEvent
from potok.domain.kernel import LotId, OrderId, ProductId, WarehouseId
from potok.domain.returns import (
    RefundStatus,
    Return,
    ReturnLine,
    ReturnSource,
    ReturnStatus,
    ReturnStep,
)


class ReturnRepository:
    def __init__(self, connection: sa.Connection, events: list[DomainEvent]) -> None:
        self.connection = connection
        self.events = events

    # ------------------------------------------------------------------ writing

    def add(self, ret: Return) -> None:
        """Store a new return; it gets its id and its number (RT-000001)."""
        return_id = self.connection.execute(
            sa.insert(returns)
            .values(**_header(ret), number="~" + uuid.uuid4().hex[:30], created_by=ret.created_by)
            .returning(returns.c.id)
        ).scalar_one()
        ret.id = return_id
        ret.number = f"RT-{return_id:06d}"
        self.connection.execute(
            sa.update(returns).where(returns.c.id == return_id).values(number=ret.number)
        )
        self.connection.execute(
            sa.insert(return_lines),
            [
                {
                    "return_id": return_id,
                    "line_no": line.line_no,
                    "order_line_no": line.order_line_no,
                    "product_id": line.product_id,
                    "lot_id": line.lot_id,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "vat_rate": line.vat_rate,
                    "reason": line.reason,
                    "note": line.note,
                    "units": list(line.units),
                }
                for line in ret.lines
            ],
        )

    def save(self, ret: Return) -> None:
        """Write the header and lines, and the steps and events since the last save; the
        version goes up by one (a return changed meanwhile is a lost race)."""
        assert ret.id is not None
        changes = ret.take_changes()
        result = self.connection.execute(
            sa.update(returns)
            .where(returns.c.id == ret.id, returns.c.version == ret.version)
            .values(**_header(ret), version=ret.version + 1)
        )
        if result.rowcount != 1:
            raise TransientConflict(detail=f"return {ret.number} changed while it was updated")
        ret.version += 1
        self.connection.execute(
            sa.update(return_lines)
            .where(
                return_lines.c.return_id == ret.id,
                return_lines.c.line_no == sa.bindparam("no"),
            )
            .values(
                received=sa.bindparam("received"),
                restocked=sa.bindparam("restocked"),
                kept_unavailable=sa.bindparam("kept"),
                written_off=sa.bindparam("written_off"),
            ),
            [
                {
                    "no": line.line_no,
                    "received": line.received,
                    "restocked": line.restocked,
                    "kept": line.kept_unavailable,
                    "written_off": line.written_off,
                }
                for line in ret.lines
            ],
        )
        if changes.steps:
            self.connection.execute(
                sa.insert(return_steps),
                [
                    {
                        "return_id": ret.id,
                        "occurred_at": s.occurred_at,
                        "actor": s.actor,
                        "action": s.action,
                        "from_status": s.from_status,
                        "to_status": s.to_status,
                        "reason": s.reason,
                        "details": s.details,
                    }
                    for s in changes.steps
                ],
            )
            ret.steps.extend(changes.steps)
        self.events.extend(changes.events)

    # ------------------------------------------------------------------ reading

    def _select(self) -> sa.Select[Any]:
        return (
            sa.select(
                returns,
                channels.c.code.label("channel_code"),
                warehouses.c.code.label("warehouse_code"),
            )
            .join(orders, orders.c.id == returns.c.order_id)
            .join(channels, channels.c.id == orders.c.channel_id)
            .outerjoin(warehouses, warehouses.c.id == returns.c.warehouse_id)
        )

    def get(self, number: str, *, lock: bool = False) -> Return | None:
        query = self._select().where(returns.c.number == number)
        if lock:
            query = query.with_for_update(of=returns)
        row = self.connection.execute(query).first()
        return self._load([row])[0] if row is not None else None

    def for_order(self, order_id: int) -> list[Return]:
        """The order's returns, oldest first."""
        query = self._select().where(returns.c.order_id == order_id).order_by(returns.c.id)
        return self._load(list(self.connection.execute(query)))

    def number_for_exchange(self, order_id: int) -> str | None:
        """The return a replacement order was made for, if it was."""
        return self.connection.execute(
            sa.select(returns.c.number).where(returns.c.exchange_order_id == order_id)
        ).scalar_one_or_none()

    def number_for_shipment(self, shipment_id: int) -> str | None:
        """The return made for a parcel that came back, if there is one."""
        return self.connection.execute(
            sa.select(returns.c.number).where(returns.c.shipment_id == shipment_id)
        ).scalar_one_or_none()

    def list_page(
        self,
        *,
        status: str | None,
        order_id: int | None,
        channels_in: Collection[str] | None,
        warehouses_in: Collection[WarehouseId] | None,
        cursor: str | None,
        limit: int,
        received_at: str | None = None,
        reason: str | None = None,
    ) -> tuple[list[Return], str | None]:
        """Newest first. ``channels_in`` keeps returns of orders of those channels;
        ``warehouses_in`` those received at, or of orders shipped from, those warehouses;
        ``received_at`` those received at the warehouse of that code; ``reason`` those with
        a line giving it."""
        query = self._select().order_by(returns.c.id.desc()).limit(limit + 1)
        if status:
            query = query.where(returns.c.status == status)
        if received_at:
            query = query.where(warehouses.c.code == received_at)
        if reason:
            query = query.where(
                sa.select(return_lines.c.return_id)
                .where(return_lines.c.return_id == returns.c.id, return_lines.c.reason == reason)
                .exists()
            )
        if order_id is not None:
            query = query.where(returns.c.order_id == order_id)
        if channels_in is not None:
            query = query.where(channels.c.code.in_(list(channels_in)))
        if warehouses_in is not None:
            ids = list(warehouses_in)
            shipped_from = (
                sa.select(reservations.c.id)
                .where(
                    reservations.c.order_id == returns.c.order_id,
                    reservations.c.warehouse_id.in_(ids),
                    reservations.c.status.in_(["open", "consumed"]),
                )
                .exists()
            )
            query = query.where(sa.or_(returns.c.warehouse_id.in_(ids), shipped_from))
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(returns.c.id < min(max(last_id, 0), 2**63 - 1))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return self._load(rows), encode_cursor(rows[-1].id) if more else None

    def _load(self, rows: Sequence[Any]) -> list[Return]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        lines: dict[int, list[ReturnLine]] = {}
        for r in self.connection.execute(
            sa.select(return_lines, products.c.sku, lots.c.number.label("lot"))
            .join(products, products.c.id == return_lines.c.product_id)
            .outerjoin(lots, lots.c.id == return_lines.c.lot_id)
            .where(return_lines.c.return_id.in_(ids))
            .order_by(return_lines.c.return_id, return_lines.c.line_no)
        ):
            lines.setdefault(r.return_id, []).append(
                ReturnLine(
                    line_no=r.line_no,
                    order_line_no=r.order_line_no,
                    product_id=ProductId(r.product_id),
                    sku=r.sku,
                    quantity=r.quantity,
                    unit_price=r.unit_price,
                    vat_rate=r.vat_rate,
                    reason=r.reason,
                    lot_id=LotId(r.lot_id) if r.lot_id is not None else None,
                    lot=r.lot,
                    units=tuple(r.units or ()),
                    note=r.note,
                    received=r.received,
                    restocked=r.restocked,
                    kept_unavailable=r.kept_unavailable,
                    written_off=r.written_off,
                )
            )
        steps: dict[int, list[ReturnStep]] = {}
        for s in self.connection.execute(
            sa.select(return_steps)
            .where(return_steps.c.return_id.in_(ids))
            .order_by(return_steps.c.return_id, return_steps.c.id)
        ):
            steps.setdefault(s.return_id, []).append(
                ReturnStep(
                    s.occurred_at,
                    s.actor,
                    s.action,
                    s.from_status,
                    s.to_status,
                    s.reason,
                    dict(s.details or {}),
                )
            )
        return [
            Return(
                id=row.id,
                number=row.number,
                order_id=OrderId(row.order_id),
                channel=row.channel_code,
                currency=row.currency,
                source=ReturnSource(row.source),
                status=ReturnStatus(row.status),
                lines=lines.get(row.id, []),
                created_at=row.created_at,
                updated_at=row.updated_at,
                created_by=row.created_by,
                shipment_id=row.shipment_id,
                warehouse_id=WarehouseId(row.warehouse_id) if row.warehouse_id else None,
                warehouse=row.warehouse_code,
                refund_shipping=row.refund_shipping,
                refund_status=RefundStatus(row.refund_status),
                refund_paid_at=row.refund_paid_at,
                received_at=row.received_at,
                inspected_at=row.inspected_at,
                closed_at=row.closed_at,
                comment=row.comment,
                exchange_order_id=row.exchange_order_id,
                exchange_value=row.exchange_value,
                exchange_vat=row.exchange_vat,
                version=row.version,
                steps=steps.get(row.id, []),
            )
            for row in rows
        ]


def _header(ret: Return) -> dict[str, Any]:
    return {
        "order_id": ret.order_id,
        "source": ret.source.value,
        "status": ret.status.value,
        "currency": ret.currency,
        "shipment_id": ret.shipment_id,
        "warehouse_id": ret.warehouse_id,
        "refund_amount": ret.refund_amount,
        "refund_shipping": ret.refund_shipping,
        "refund_status": ret.refund_status.value,
        "refund_paid_at": ret.refund_paid_at,
        "comment": ret.comment,
        "exchange_order_id": ret.exchange_order_id,
        "exchange_value": ret.exchange_value,
        "exchange_vat": ret.exchange_vat,
        "received_at": ret.received_at,
        "inspected_at": ret.inspected_at,
        "closed_at": ret.closed_at,
        "created_at": ret.created_at,
        "updated_at": ret.updated_at,
    }
