"""Moves between the sellable and the unavailable buckets of a stock position."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.stock_depth import BucketChangeOut, BucketMovementOut, MoveIn
from potok.api.scope import Reach, ensure_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.access.model import OutOfScope
from potok.domain.catalogue import ProductNotFound
from potok.domain.errors import InvalidInput
from potok.domain.inventory import StockPositionNotFound
from potok.domain.inventory.buckets import MoveStock
from potok.domain.inventory.errors import SetAsideExceedsStock, UnavailableExceeded
from potok.domain.network import WarehouseNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import stock_buckets
from potok.services.inventory import StockChange

router = APIRouter(prefix="/api/v1", tags=["stock"])


@router.post(
    "/stock/moves",
    status_code=201,
    response_model=BucketChangeOut,
    summary="Put units aside as unavailable, release them, or write them off from there",
    description="`to: unavailable` takes units out of sellable stock (damaged, in quality "
    "check) while they stay on hand; units that were reserved are taken back from the least "
    "urgent orders, which are sourced again. `to: available` releases units back; "
    "`to: written_off` removes them from the books. Each move is one ledger movement.",
    responses=responses(
        WarehouseNotFound,
        ProductNotFound,
        StockPositionNotFound,
        OutOfScope,
        InvalidInput,
        SetAsideExceedsStock,
        UnavailableExceeded,
        IdempotencyKeyReused,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
def move(
    body: MoveIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    ensure_warehouses(caller, {body.warehouse})
    return answer(
        request,
        "stock-move",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: stock_buckets.move_stock(
            uow,
            MoveStock(
                body.warehouse,
                body.sku,
                body.quantity,
                body.to,
                body.reason,
                body.note,
                lot=body.lot,
                reference=body.reference,
            ),
            caller.actor,
            once=once,
        ),
        lambda change: (201, _change_out(change).model_dump(mode="json")),
    )


def _change_out(change: StockChange) -> BucketChangeOut:
    level, movement = change.level, change.movement
    return BucketChangeOut(
        warehouse=level.warehouse_code,
        sku=level.sku,
        lot=level.lot,
        on_hand=level.on_hand,
        reserved=level.reserved,
        unavailable=level.unavailable,
        available=level.available,
        movement=BucketMovementOut(
            id=change.movement_id,
            warehouse=level.warehouse_code,
            sku=level.sku,
            type=movement.type.value,
            quantity=movement.quantity,
            on_hand_after=movement.on_hand_after,
            unavailable_change=movement.unavailable_change,
            reason=movement.reason,
            reference=movement.reference,
            actor=movement.actor,
            occurred_at=movement.occurred_at,
        ),
        backorders_reserved=change.backorders_reserved,
        orders_resourced=change.orders_resourced,
    )
