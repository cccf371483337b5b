"""Stock: receipts, write-offs, counts, bulk levels, availability, the ledger, reconciliation."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.common import AwareDatetime, Code
from potok.api.schemas.stock import (
    AvailabilityOut,
    ChannelAvailabilityOut,
    ChannelPromiseOut,
    CountIn,
    DriftOut,
    ExpiringLotOut,
    LevelOut,
    LevelPageOut,
    LevelsAppliedOut,
    LevelsIn,
    MovementOut,
    MovementPageOut,
    PromiseOut,
    ReceiptIn,
    ReconciliationOut,
    StockChangeOut,
    WarehouseAvailabilityOut,
    WriteOffIn,
)
from potok.api.scope import Reach, ensure_warehouses, own_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.catalogue import ProductNotFound
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import CountMismatch, StockPositionNotFound
from potok.domain.inventory.commands import (
    CountStock,
    LevelRow,
    ReceiveStock,
    SetLevels,
    WriteOffStock,
)
from potok.domain.inventory.errors import BulkRejected, WriteOffExceedsStock
from potok.domain.inventory.lots import (
    LotDatesDiffer,
    LotInput,
    LotNotFound,
    SerialNotInStock,
    SerialTaken,
)
from potok.domain.network import WarehouseNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import expiry, inventory
from potok.services.inventory import StockChange

router = APIRouter(prefix="/api/v1", tags=["stock"])

_POSITION_ERRORS = (WarehouseNotFound, ProductNotFound, InvalidInput)


def _change_out(change: StockChange) -> StockChangeOut:
    level, movement = change.level, change.movement
    return StockChangeOut(
        warehouse=level.warehouse_code,
        sku=level.sku,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        unavailable=level.unavailable,
        lot=level.lot,
        movement=MovementOut(
            id=change.movement_id,
            warehouse=level.warehouse_code,
            sku=level.sku,
            type=movement.type.value,
            quantity=movement.quantity,
            on_hand_after=movement.on_hand_after,
            reason=movement.reason,
            reference=movement.reference,
            actor=movement.actor,
            occurred_at=movement.occurred_at,
            lot=level.lot,
            unavailable_change=movement.unavailable_change,
        ),
        backorders_reserved=change.backorders_reserved,
        orders_resourced=change.orders_resourced,
    )


@router.post(
    "/stock/receipts",
    status_code=201,
    response_model=StockChangeOut,
    summary="Goods arrived at a location",
    description="Send an `Idempotency-Key` so that a retried receipt never counts the goods "
    "twice: a repeat gets the first answer.",
    responses=responses(*_POSITION_ERRORS, LotDatesDiffer, SerialTaken, IdempotencyKeyReused),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def receive(
    body: ReceiptIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    lot = LotInput(body.lot.number, body.lot.produced_on, body.lot.expires_on) if body.lot else None
    return answer(
        request,
        "stock-receipt",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: inventory.receive_stock(
            uow,
            ReceiveStock(
                body.warehouse,
                body.sku,
                body.quantity,
                body.reason,
                body.reference,
                lot=lot,
                serials=tuple(body.serials) if body.serials is not None else None,
            ),
            caller.actor,
            once=once,
        ),
        _rendered,
    )


def _rendered(change: StockChange) -> tuple[int, object]:
    return 201, _change_out(change).model_dump(mode="json")


@router.post(
    "/stock/write-offs",
    status_code=201,
    response_model=StockChangeOut,
    summary="Goods left the books (damaged, lost, expired)",
    responses=responses(
        *_POSITION_ERRORS,
        StockPositionNotFound,
        WriteOffExceedsStock,
        LotNotFound,
        SerialNotInStock,
        IdempotencyKeyReused,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def write_off(
    body: WriteOffIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    return answer(
        request,
        "stock-write-off",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: inventory.write_off_stock(
            uow,
            WriteOffStock(
                body.warehouse,
                body.sku,
                body.quantity,
                body.reason,
                body.reference,
                lot=body.lot,
                serials=tuple(body.serials) if body.serials is not None else None,
            ),
            caller.actor,
            once=once,
        ),
        _rendered,
    )


@router.post(
    "/stock/counts",
    status_code=201,
    response_model=StockChangeOut,
    summary="An absolute count, applied only if the expected quantity still holds",
    responses=responses(*_POSITION_ERRORS, CountMismatch, LotNotFound, IdempotencyKeyReused),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def count(
    body: CountIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    return answer(
        request,
        "stock-count",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: inventory.count_stock(
            uow,
            CountStock(
                body.warehouse,
                body.sku,
                body.expected_on_hand,
                body.counted,
                body.reason,
                body.reference,
                lot=body.lot,
            ),
            caller.actor,
            once=once,
        ),
        _rendered,
    )


@router.put(
    "/stock/levels",
    response_model=LevelsAppliedOut,
    summary="Set many on-hand levels at once (ERP/WMS sync), all or nothing",
    description="Every row must be valid, or nothing changes and the answer lists each "
    "bad row. Rows not listed keep their levels.",
    responses=responses(BulkRejected),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def set_levels(body: LevelsIn, uow: Uow, caller: Caller, request: Request) -> LevelsAppliedOut:
    limit = request.app.state.max_bulk_rows
    if len(body.rows) > limit:
        raise InvalidInput([FieldError("rows", f"at most {limit} rows per request", "too-many")])
    ensure_warehouses(caller, {r.warehouse for r in body.rows})
    applied = inventory.set_levels(
        uow,
        SetLevels(
            [
                LevelRow(
                    r.warehouse,
                    r.sku,
                    r.on_hand,
                    r.expected_on_hand,
                    LotInput(r.lot.number, r.lot.produced_on, r.lot.expires_on) if r.lot else None,
                    tuple(r.serials) if r.serials is not None else None,
                )
                for r in body.rows
            ],
            source=body.source,
            reference=body.reference,
        ),
        caller.actor,
    )
    return LevelsAppliedOut.model_validate(applied)


@router.get(
    "/stock/levels",
    response_model=LevelPageOut,
    summary="Stock positions",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_levels(
    uow: Uow,
    caller: Caller,
    warehouse: Code | None = None,
    sku: Code | None = None,
    only_available: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LevelPageOut:
    page = inventory.list_levels(
        uow,
        warehouse=warehouse,
        sku=sku,
        only_available=only_available,
        cursor=cursor,
        limit=limit,
        within=own_warehouses(caller),
    )
    return LevelPageOut(
        items=[LevelOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/stock/movements",
    response_model=MovementPageOut,
    summary="The stock ledger, newest first",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_movements(
    uow: Uow,
    caller: Caller,
    warehouse: Code | None = None,
    sku: Code | None = None,
    type: Annotated[
        str | None,
        Query(
            max_length=32,
            description="A movement type, e.g. receipt, write_off, count, set_aside, release.",
        ),
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="With a time zone.")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MovementPageOut:
    page = inventory.list_movements(
        uow,
        warehouse=warehouse,
        sku=sku,
        movement_type=type,
        since=since,
        cursor=cursor,
        limit=limit,
        within=own_warehouses(caller),
    )
    return MovementPageOut(
        items=[MovementOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/stock/reconciliation",
    response_model=ReconciliationOut,
    summary="On-hand against the ledger, reserved against open reservations",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.UNLIMITED)],
)
def reconciliation(uow: Uow) -> ReconciliationOut:
    result = inventory.reconcile(uow)
    return ReconciliationOut(
        checked=result.checked,
        drifting=len(result.drifts),
        drifts=[DriftOut.model_validate(d) for d in result.drifts],
    )


@router.get(
    "/stock/expiring",
    response_model=list[ExpiringLotOut],
    summary="Lots with stock that expire soon, and those already expired",
    description="Per warehouse, soonest first; `days_left` is negative once a lot has "
    "expired (its units then sit in the unavailable bucket).",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def expiring(
    uow: Uow,
    caller: Caller,
    within_days: Annotated[int, Query(ge=0, le=3650, description="Look ahead.")] = 30,
    warehouse: Code | None = None,
) -> list[ExpiringLotOut]:
    return [
        ExpiringLotOut.model_validate(lot)
        for lot in expiry.expiring_lots(
            uow, within_days=within_days, warehouse=warehouse, within=own_warehouses(caller)
        )
    ]


@router.get(
    "/products/{sku}/availability",
    response_model=AvailabilityOut,
    tags=["products"],
    summary="Where a SKU is, and what each channel may promise",
    responses=responses(ProductNotFound),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def product_availability(sku: Code, uow: Uow, caller: Caller) -> AvailabilityOut:
    found = inventory.availability(uow, sku)
    own = own_warehouses(caller)
    if own is not None:  # warehouse staff: their warehouses; promises span the network
        found = replace(found, warehouses=[w for w in found.warehouses if w.warehouse in own])
        found = replace(found, channels=[])
    if caller.channel is not None:  # a bound key: its own channel's promise
        found = replace(found, channels=[c for c in found.channels if c.channel == caller.channel])
    return AvailabilityOut(
        sku=found.sku,
        on_hand=found.on_hand,
        available=found.available,
        warehouses=[WarehouseAvailabilityOut.model_validate(w) for w in found.warehouses],
        channels=[ChannelPromiseOut.model_validate(c) for c in found.channels],
    )


@router.get(
    "/channels/{code}/availability",
    response_model=ChannelAvailabilityOut,
    tags=["channels"],
    summary="Available-to-promise of a channel for some SKUs",
    responses=responses(ChannelNotFound),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.CHANNEL)],
)
def channel_availability(
    code: Code,
    uow: Uow,
    sku: Annotated[list[Code], Query(description="Repeat for several SKUs.", max_length=1000)],
) -> ChannelAvailabilityOut:
    channel, found = inventory.promises_for(uow, code, sku)
    return ChannelAvailabilityOut(
        channel=channel.code,
        safety_buffer=channel.safety_buffer,
        items=[
            PromiseOut(sku=s, available_to_promise=p.available_to_promise, warehouses=p.warehouses)
            for s, p in found.items()
        ],
    )
