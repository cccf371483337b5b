"""Storage locations (bins) of a warehouse, putting stock into them, and pick lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.common import Code
from potok.api.schemas.stock_depth import (
    LocationIn,
    LocationOut,
    LocationPatch,
    PickLineOut,
    PickListOut,
    PlacementIn,
    PlacementOut,
)
from potok.api.scope import Reach, ensure_visible, ensure_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.access.model import OutOfScope
from potok.domain.catalogue import ProductNotFound
from potok.domain.errors import InvalidInput
from potok.domain.inventory import StockPositionNotFound
from potok.domain.inventory.errors import LocationCodeTaken, LocationInUse, LocationNotFound
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import locations

router = APIRouter(prefix="/api/v1", tags=["locations"])

BinPath = Annotated[str, Path(max_length=64, description="The bin address, e.g. A-01-03-2.")]


@router.get(
    "/warehouses/{code}/locations",
    response_model=list[LocationOut],
    summary="A warehouse's storage locations (bins), in walking order",
    responses=responses(WarehouseNotFound, OutOfScope),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.WAREHOUSE)],
)
def list_locations(
    code: Code,
    uow: Uow,
    caller: Caller,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> list[LocationOut]:
    found = locations.list_locations(uow, code, zone=zone, active=active)
    return [LocationOut.model_validate(x) for x in found]


@router.post(
    "/warehouses/{code}/locations",
    status_code=201,
    response_model=LocationOut,
    summary="Add a storage location (bin)",
    responses=responses(
        WarehouseNotFound, OutOfScope, InvalidInput, LocationCodeTaken, IdempotencyKeyReused
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE)],
)
def create_location(
    code: Code,
    body: LocationIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "create-location",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: locations.create_location(uow, code, body.draft(), once=once),
        lambda made: (201, LocationOut.model_validate(made).model_dump(mode="json")),
        lambda made: {"Location": f"/api/v1/warehouses/{code}/locations/{made['code']}"},
    )


@router.get(
    "/warehouses/{code}/locations/{location_code}",
    response_model=LocationOut,
    summary="A storage location",
    responses=responses(WarehouseNotFound, OutOfScope, LocationNotFound),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.WAREHOUSE)],
)
def get_location(code: Code, location_code: BinPath, uow: Uow, caller: Caller) -> LocationOut:
    return LocationOut.model_validate(locations.get_location(uow, code, location_code))


@router.patch(
    "/warehouses/{code}/locations/{location_code}",
    response_model=LocationOut,
    summary="Change a storage location (rename, zone, pick sequence, deactivate)",
    responses=responses(
        WarehouseNotFound, OutOfScope, LocationNotFound, InvalidInput, LocationCodeTaken
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE)],
)
def patch_location(
    code: Code, location_code: BinPath, body: LocationPatch, uow: Uow, caller: Caller
) -> LocationOut:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return LocationOut.model_validate(locations.update_location(uow, code, location_code, changes))


@router.delete(
    "/warehouses/{code}/locations/{location_code}",
    status_code=204,
    summary="Delete a storage location nothing refers to",
    responses=responses(WarehouseNotFound, OutOfScope, LocationNotFound, LocationInUse),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE)],
)
def delete_location(code: Code, location_code: BinPath, uow: Uow, caller: Caller) -> Response:
    locations.delete_location(uow, code, location_code)
    return Response(status_code=204)


@router.post(
    "/stock/placements",
    response_model=PlacementOut,
    tags=["stock"],
    summary="Put a stock position (warehouse, SKU, lot) into a bin",
    responses=responses(
        WarehouseNotFound,
        ProductNotFound,
        StockPositionNotFound,
        LocationNotFound,
        OutOfScope,
        InvalidInput,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def place_stock(body: PlacementIn, uow: Uow, caller: Caller) -> PlacementOut:
    ensure_warehouses(caller, {body.warehouse})
    placed = locations.place_stock(uow, body.warehouse, body.sku, body.location, lot=body.lot)
    level = placed.level
    return PlacementOut(
        warehouse=level.warehouse_code,
        sku=level.sku,
        lot=level.lot,
        location=placed.location,
        on_hand=level.on_hand,
        reserved=level.reserved,
        unavailable=level.unavailable,
        available=level.available,
    )


@router.get(
    "/orders/{order_id}/pick-list",
    response_model=PickListOut,
    tags=["orders"],
    summary="What to pick for an order, in the order a picker walks the bins",
    description="Open reservations per warehouse, sorted by bin pick sequence, zone and code "
    "(positions without a bin last), then SKU and the lot that expires first. Warehouse "
    "staff see the lines of their own warehouses only.",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.ORDER)],
)
def pick_list(
    order_id: Annotated[int, Path(ge=1, le=2**63 - 1)], uow: Uow, caller: Caller
) -> PickListOut:
    ensure_visible(uow, caller, order_id)
    lines = locations.pick_list(uow, order_id, warehouse_ids=caller.warehouses)
    return PickListOut(order_id=order_id, items=[PickLineOut.model_validate(x) for x in lines])
