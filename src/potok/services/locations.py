"""Storage locations (bins): keep them per warehouse, put stock positions into them, and
walk them in order to pick an order."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import StockLevel
from potok.domain.inventory.errors import LocationCodeTaken, LocationInUse, LocationNotFound
from potok.domain.inventory.events import (
    LocationCreated,
    LocationDeleted,
    LocationUpdated,
    StockPlaced,
)
from potok.domain.inventory.locations import LocationDraft, StorageLocation
from potok.domain.kernel import Clock, WarehouseId, utc_now
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import OrderNotFound
from potok.services.idempotency import Once, atomically_once
from potok.services.read_models import PickLine
from potok.services.stock_buckets import locate
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class Placement:
    level: StockLevel
    location: str | None


def _warehouse_id(uow: UnitOfWork, code: str) -> WarehouseId:
    found = uow.warehouses.ids_for([code])
    if code not in found:
        raise WarehouseNotFound(warehouse=code)
    return found[code]


def _existing(uow: UnitOfWork, warehouse: str, code: str) -> StorageLocation:
    location = uow.locations.get_by_code(_warehouse_id(uow, warehouse), code)
    if location is None:
        raise LocationNotFound(warehouse=warehouse, location=code)
    return location


def _view(location: StorageLocation) -> dict[str, object]:
    return {
        "code": location.code,
        "zone": location.zone,
        "pick_sequence": location.pick_sequence,
        "active": location.active,
    }


def list_locations(
    uow: UnitOfWork, warehouse: str, *, zone: str | None = None, active: bool | None = None
) -> list[StorageLocation]:
    """A warehouse's bins in walking order."""
    return reading(
        uow,
        lambda uow: uow.locations.list_for(_warehouse_id(uow, warehouse), zone=zone, active=active),
    )


def get_location(uow: UnitOfWork, warehouse: str, code: str) -> StorageLocation:
    return reading(uow, lambda uow: _existing(uow, warehouse, code))


def create_location(
    uow: UnitOfWork,
    warehouse: str,
    draft: LocationDraft,
    *,
    clock: Clock = utc_now,
    once: Once[StorageLocation] | None = None,
) -> StorageLocation:
    draft.check()

    def work(uow: UnitOfWork) -> StorageLocation:
        at = clock()
        warehouse_id = _warehouse_id(uow, warehouse)
        if uow.locations.get_by_code(warehouse_id, draft.code) is not None:
            raise LocationCodeTaken(warehouse=warehouse, location=draft.code)
        uow.locations.add(warehouse_id, draft, at)
        location = uow.locations.get_by_code(warehouse_id, draft.code)
        assert location is not None
        uow.record(
            LocationCreated(
                occurred_at=at,
                warehouse=warehouse,
                code=draft.code,
                before=None,
                after=_view(location),
            )
        )
        return location

    return atomically_once(uow, once, work)


def update_location(
    uow: UnitOfWork,
    warehouse: str,
    code: str,
    changes: dict[str, object],
    *,
    clock: Clock = utc_now,
) -> StorageLocation:
    """Change some of a bin's fields (code, zone, pick_sequence, active)."""

    def work(uow: UnitOfWork) -> StorageLocation:
        at = clock()
        location = _existing(uow, warehouse, code)
        draft = LocationDraft(location.code, location.zone, location.pick_sequence, location.active)
        draft = replace(draft, **changes)  # type: ignore[arg-type]
        draft.check()
        if draft.code != location.code and (
            uow.locations.get_by_code(location.warehouse_id, draft.code) is not None
        ):
            raise LocationCodeTaken(warehouse=warehouse, location=draft.code)
        uow.locations.update(location.id, draft, at)
        updated = uow.locations.get_by_code(location.warehouse_id, draft.code)
        assert updated is not None
        uow.record(
            LocationUpdated(
                occurred_at=at,
                warehouse=warehouse,
                code=draft.code,
                before=_view(location),
                after=_view(updated),
            )
        )
        return updated

    return atomically(uow, work)


def delete_location(uow: UnitOfWork, warehouse: str, code: str, *, clock: Clock = utc_now) -> None:
    """Remove a bin nothing refers to; one that holds stock or was counted is deactivated
    instead."""

    def work(uow: UnitOfWork) -> None:
        location = _existing(uow, warehouse, code)
        why = uow.locations.usage(location.id)
        if why is not None:
            raise LocationInUse(warehouse=warehouse, location=code, why=why)
        uow.locations.delete(location.id)
        uow.record(
            LocationDeleted(
                occurred_at=clock(),
                warehouse=warehouse,
                code=code,
                before=_view(location),
                after=None,
            )
        )

    atomically(uow, work)


def place_stock(
    uow: UnitOfWork,
    warehouse: str,
    sku: str,
    location: str | None,
    *,
    lot: str | None = None,
    clock: Clock = utc_now,
) -> Placement:
    """Put a stock position into a bin of its warehouse (None takes it out of any bin)."""

    def work(uow: UnitOfWork) -> Placement:
        at = clock()
        level = locate(uow, warehouse, sku, lot, lock=True)
        target = None
        if location is not None:
            target = uow.locations.get_by_code(level.warehouse_id, location)
            if target is None:
                raise LocationNotFound(warehouse=warehouse, location=location)
            if not target.active:
                raise InvalidInput(
                    [FieldError("location", f"bin '{location}' is not active", "inactive")]
                )
        previous = uow.positions.location_of(level.stock_id)
        uow.positions.place(level.stock_id, target.id if target else None, at)
        uow.record(
            StockPlaced(
                occurred_at=at,
                warehouse=warehouse,
                sku=sku,
                lot=lot,
                location=location,
                previous_location=previous,
            )
        )
        return Placement(level, location)

    return atomically(uow, work)


def pick_list(
    uow: UnitOfWork, order_id: int, *, warehouse_ids: Collection[int] | None = None
) -> list[PickLine]:
    """An order's open reservations in the order a picker walks the bins."""

    def work(uow: UnitOfWork) -> list[PickLine]:
        if uow.orders.get(order_id) is None:
            raise OrderNotFound(order_id=order_id)
        return uow.locations.pick_list(order_id, warehouse_ids)

    return reading(uow, work)


@dataclass(frozen=True, slots=True)
class LocationsImported:
    created: int
    changed: int
    unchanged: int


def import_locations(
    uow: UnitOfWork,
    rows: list[tuple[str, LocationDraft]],
    *,
    clock: Clock = utc_now,
) -> LocationsImported:
    """Create or change many bins (warehouse, draft) in one transaction: all rows or none.
    Bins not listed are kept."""

    def work(uow: UnitOfWork) -> LocationsImported:
        at = clock()
        codes = sorted({w for w, _ in rows})
        ids = uow.warehouses.ids_for(codes)
        errors: list[FieldError] = []
        seen: dict[tuple[str, str], int] = {}
        for index, (warehouse, draft) in enumerate(rows):
            try:
                draft.check()
            except InvalidInput as error:
                errors.extend(
                    FieldError(f"rows[{index}].{e.field}", e.message, e.code) for e in error.errors
                )
            key = (warehouse, draft.code)
            if key in seen:
                errors.append(
                    FieldError(f"rows[{index}].code", f"repeats row {seen[key]}", "duplicate")
                )
            seen.setdefault(key, index)
        errors.extend(
            FieldError(f"rows[{i}].warehouse", f"there is no warehouse '{w}'", "unknown-warehouse")
            for i, (w, _) in enumerate(rows)
            if w not in ids
        )
        if errors:
            raise InvalidInput(sorted(errors, key=lambda e: _row_of(e.field)))
        created = changed = 0
        for warehouse, draft in rows:
            current = uow.locations.get_by_code(ids[warehouse], draft.code)
            if current is None:
                uow.locations.add(ids[warehouse], draft, at)
                uow.record(
                    LocationCreated(
                        occurred_at=at,
                        warehouse=warehouse,
                        code=draft.code,
                        before=None,
                        after=_draft_view(draft),
                    )
                )
                created += 1
            elif _view(current) != _draft_view(draft):
                uow.locations.update(current.id, draft, at)
                uow.record(
                    LocationUpdated(
                        occurred_at=at,
                        warehouse=warehouse,
                        code=draft.code,
                        before=_view(current),
                        after=_draft_view(draft),
                    )
                )
                changed += 1
        return LocationsImported(created, changed, len(rows) - created - changed)

    return atomically(uow, work)


def _draft_view(draft: LocationDraft) -> dict[str, object]:
    return {
        "code": draft.code,
        "zone": draft.zone,
        "pick_sequence": draft.pick_sequence,
        "active": draft.active,
    }


def _row_of(field: str) -> int:
    return int(field.split("[")[1].split("]")[0])
