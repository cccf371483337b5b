"""Warehouses, stores and pickup points, with the channels each serves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.integrity import still_held
from potok.db.reference_versions import bump_network
from potok.db.tables import channels, orders, stock, warehouse_channels, warehouses
from potok.domain.kernel import ChannelId, RemovalStrategy, WarehouseId
from potok.domain.network import Warehouse, WarehouseDraft, WarehouseType

# what every release, hand-over and tracking step reads (a location by its code), built once
_ALL = sa.select(warehouses).order_by(warehouses.c.code)
_BY_CODE = _ALL.where(warehouses.c.code == sa.bindparam("code"))
_BY_ACTIVE = _ALL.where(warehouses.c.active == sa.bindparam("active"))
_LINKS = (
    sa.select(warehouse_channels.c.warehouse_id, channels.c.code)
    .join(channels, channels.c.id == warehouse_channels.c.channel_id)
    .where(warehouse_channels.c.warehouse_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(channels.c.code)
)


class WarehouseRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _load(self, query: sa.Select[Any], parameters: dict[str, Any]) -> list[Warehouse]:
        rows = list(self.connection.execute(query, parameters))
        if not rows:
            return []
        links: dict[int, list[str]] = {}
        for link in self.connection.execute(_LINKS, {"ids": [r.id for r in rows]}):
            links.setdefault(link.warehouse_id, []).append(link.code)
        return [_warehouse(row, tuple(links.get(row.id, ()))) for row in rows]

    def get_by_code(self, code: str) -> Warehouse | None:
        found = self._load(_BY_CODE, {"code": code})
        return found[0] if found else None

    def list(self, *, active: bool | None = None) -> Sequence[Warehouse]:
        if active is None:
            return self._load(_ALL, {})
        return self._load(_BY_ACTIVE, {"active": active})

    def ids_for(self, codes: Sequence[str]) -> dict[str, WarehouseId]:
        if not codes:
            return {}
        rows = self.connection.execute(
            sa.select(warehouses.c.code, warehouses.c.id).where(warehouses.c.code.in_(set(codes)))
        )
        return {row.code: WarehouseId(row.id) for row in rows}

    def add(
        self, draft: WarehouseDraft, channel_ids: Sequence[ChannelId], at: datetime
    ) -> Warehouse:
        warehouse_id = self.connection.execute(
            sa.insert(warehouses)
            .values(**_values(draft), created_at=at, updated_at=at)
            .returning(warehouses.c.id)
        ).scalar_one()
        self._link(WarehouseId(warehouse_id), channel_ids)
        found = self.get_by_code(draft.code)
        assert found is not None
        return found

    def replace(
        self,
        warehouse_id: WarehouseId,
        draft: WarehouseDraft,
        channel_ids: Sequence[ChannelId],
        at: datetime,
    ) -> Warehouse:
        self.connection.execute(
            sa.update(warehouses)
            .where(warehouses.c.id == warehouse_id)
            .values(**_values(draft), updated_at=at)
        )
        self.connection.execute(
            sa.delete(warehouse_channels).where(warehouse_channels.c.warehouse_id == warehouse_id)
        )
        self._link(warehouse_id, channel_ids)
        found = self.get_by_code(draft.code)
        assert found is not None
        return found

    def _link(self, warehouse_id: WarehouseId, channel_ids: Sequence[ChannelId]) -> None:
        bump_network(self.connection)  # every add and replace links
        if channel_ids:
            self.connection.execute(
                sa.insert(warehouse_channels),
                [{"warehouse_id": warehouse_id, "channel_id": cid} for cid in channel_ids],
            )

    def delete(self, warehouse_id: WarehouseId) -> None:
        bump_network(self.connection)
        self.connection.execute(
            sa.delete(warehouse_channels).where(warehouse_channels.c.warehouse_id == warehouse_id)
        )
        self.connection.execute(sa.delete(warehouses).where(warehouses.c.id == warehouse_id))

    def usage(self, warehouse_id: WarehouseId) -> str | None:
        if self.connection.execute(
            sa.select(stock.c.id).where(stock.c.warehouse_id == warehouse_id).limit(1)
        ).first():
            return "has stock records"
        if self.connection.execute(
            sa.select(orders.c.id).where(orders.c.pickup_point_id == warehouse_id).limit(1)
        ).first():
            return "is the pickup point of orders"
        return still_held(self.connection, "warehouses", warehouse_id)


def _warehouse(row: Any, channel_codes: tuple[str, ...]) -> Warehouse:
    return Warehouse(
        id=WarehouseId(row.id),
        code=row.code,
        name=row.name,
        type=WarehouseType(row.type),
        city=row.city,
        address=row.address,
        latitude=row.latitude,
        longitude=row.longitude,
        priority=row.priority,
        active=row.active,
        channels=channel_codes,
        created_at=row.created_at,
        updated_at=row.updated_at,
        removal_strategy=RemovalStrategy(row.removal_strategy),
        region=row.region,
        reservation_hours=row.reservation_hours,
    )


def _values(draft: WarehouseDraft) -> dict[str, Any]:
    return {
        "code": draft.code,
        "name": draft.name,
        "type": draft.type.value,
        "city": draft.city,
        "address": draft.address,
        "latitude": draft.latitude,
        "longitude": draft.longitude,
        "priority": draft.priority,
        "active": draft.active,
        "removal_strategy": draft.removal_strategy.value,
        "region": draft.region,
        "reservation_hours": draft.reservation_hours,
    }
