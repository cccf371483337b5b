"""Storage locations (bins) of the warehouses."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.integrity import still_held
from potok.db.queries.picking import pick_list
from potok.db.tables import stock, stock_count_lines, storage_locations, warehouses
from potok.domain.inventory.locations import LocationDraft, StorageLocation
from potok.domain.kernel import WarehouseId
from potok.services.read_models import PickLine

_SELECT = sa.select(storage_locations, warehouses.c.code.label("warehouse_code")).join(
    warehouses, warehouses.c.id == storage_locations.c.warehouse_id
)


class LocationRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def list_for(
        self, warehouse_id: WarehouseId, *, zone: str | None = None, active: bool | None = None
    ) -> list[StorageLocation]:
        """A warehouse's bins in walking order."""
        query = _SELECT.where(storage_locations.c.warehouse_id == warehouse_id).order_by(
            storage_locations.c.pick_sequence, storage_locations.c.zone, storage_locations.c.code
        )
        if zone is not None:
            query = query.where(storage_locations.c.zone == zone)
        if active is not None:
            query = query.where(storage_locations.c.active.is_(active))
        return [_location(r) for r in self.connection.execute(query)]

    def get_by_code(self, warehouse_id: WarehouseId, code: str) -> StorageLocation | None:
        row = self.connection.execute(
            _SELECT.where(
                storage_locations.c.warehouse_id == warehouse_id, storage_locations.c.code == code
            )
        ).first()
        return _location(row) if row else None

    def add(self, warehouse_id: WarehouseId, draft: LocationDraft, at: datetime) -> int:
        return int(
            self.connection.execute(
                sa.insert(storage_locations)
                .values(
                    warehouse_id=warehouse_id,
                    code=draft.code,
                    zone=draft.zone,
                    pick_sequence=draft.pick_sequence,
                    active=draft.active,
                    created_at=at,
                    updated_at=at,
                )
                .returning(storage_locations.c.id)
            ).scalar_one()
        )

    def update(self, location_id: int, draft: LocationDraft, at: datetime) -> None:
        self.connection.execute(
            sa.update(storage_locations)
            .where(storage_locations.c.id == location_id)
            .values(
                code=draft.code,
                zone=draft.zone,
                pick_sequence=draft.pick_sequence,
                active=draft.active,
                updated_at=at,
            )
        )

    def delete(self, location_id: int) -> None:
        self.connection.execute(
            sa.delete(storage_locations).where(storage_locations.c.id == location_id)
        )

    def usage(self, location_id: int) -> str | None:
        """Why the bin cannot be deleted, or None when nothing refers to it."""
        held = self.connection.execute(
            sa.select(sa.func.count()).where(stock.c.location_id == location_id)
        ).scalar_one()
        if held:
            return f"holds {held} stock positions"
        counted = self.connection.execute(
            sa.select(sa.func.count()).where(stock_count_lines.c.location_id == location_id)
        ).scalar_one()
        if counted:
            return f"appears on {counted} stock count lines"
        return still_held(self.connection, "storage_locations", location_id)

    def pick_list(self, order_id: int, warehouse_ids: Collection[int] | None) -> list[PickLine]:
        """An order's open reservations in walking order (read-side SQL in db/queries)."""
        return pick_list(self.connection, order_id, warehouse_ids)


def _location(row: Any) -> StorageLocation:
    return StorageLocation(
        id=row.id,
        warehouse_id=WarehouseId(row.warehouse_id),
        warehouse_code=row.warehouse_code,
        code=row.code,
        zone=row.zone,
        pick_sequence=row.pick_sequence,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
