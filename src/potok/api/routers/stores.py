"""Stores as points of sale: tills send their receipts; each store's counter sales read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.common import AwareDatetime, Code
from potok.api.schemas.stores import ReceiptsIn, ReceiptsOut, StorePositionOut, StoreSalesOut
from potok.api.scope import Reach, own_warehouses, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.domain.kernel import utc_now
from potok.domain.network import WarehouseNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.domain.stores import NotAStore, Receipt, ReceiptChanged, ReceiptLine
from potok.services import store_sales
from potok.services.store_sales import ReceiptsRecorded

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


def _rendered(store: str) -> Callable[[ReceiptsRecorded], tuple[int, object]]:
    def render(result: ReceiptsRecorded) -> tuple[int, object]:
        out = ReceiptsOut(
            store=store,
            recorded=result.recorded,
            duplicates=result.duplicates,
            positions=[
                StorePositionOut(
                    sku=level.sku,
                    on_hand=level.on_hand,
                    reserved=level.reserved,
                    available=level.available,
                )
                for level in result.levels
            ],
        )
        return 201, out.model_dump(mode="json")

    return render


@router.post(
    "/{warehouse}/receipts",
    status_code=201,
    response_model=ReceiptsOut,
    summary="A till's receipts (sales and returns): each new one moves the store's stock",
    description="Receipts are recorded once per store by their `id`: a batch sent again, or "
    "a till's backlog after it was offline, changes nothing for the receipts Potok has "
    "(they are listed in `duplicates`). Each product's stock moves by one ledger movement, "
    "`store_sale` or `store_return`, in the same transaction; orders whose reserved units "
    "were sold over the counter are re-sourced. An `Idempotency-Key` replays the first answer.",
    responses=responses(
        WarehouseNotFound, NotAStore, ReceiptChanged, InvalidInput, IdempotencyKeyReused
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE, "warehouse")],
)
def record_receipts(
    warehouse: Code,
    body: ReceiptsIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    receipts = [
        Receipt(
            r.id,
            r.kind,
            r.sold_at,
            tuple(
                ReceiptLine(line.sku, line.quantity, line.price, tuple(line.marking_codes))
                for line in r.lines
            ),
            r.till,
        )
        for r in body.receipts
    ]
    return answer(
        request,
        "store-receipts",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: store_sales.record_receipts(uow, warehouse, receipts, caller.actor, once=once),
        _rendered(warehouse),
    )


@router.get(
    "/sales",
    response_model=list[StoreSalesOut],
    summary="Each store's counter sales over a period (their own channel in reports)",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def store_sales_report(
    uow: Uow,
    caller: Caller,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Inclusive; with a time zone (default: a day before `until`)."),
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Exclusive; with a time zone (default: now).")
    ] = None,
) -> list[StoreSalesOut]:
    own = own_warehouses(caller)
    until = until or utc_now()
    since = since or until - timedelta(days=1)
    return [
        StoreSalesOut.of(
            s.store,
            sales=s.sales,
            returns=s.returns,
            units_sold=s.units_sold,
            units_returned=s.units_returned,
            revenue=s.revenue,
        )
        for s in store_sales.sales(uow, since, until)
        if own is None or s.store in own
    ]
