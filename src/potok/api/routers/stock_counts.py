"""Stock counts (stocktaking): count sheets, entries, submission, approval, cancellation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.common import Code
from potok.api.schemas.stock_depth import (
    ApprovalOut,
    CountCreateIn,
    CountEntriesIn,
    CountLineOut,
    CountOut,
    CountPageOut,
    CountSummaryOut,
    PostingOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import OutOfScope
from potok.domain.errors import InvalidInput
from potok.domain.inventory.counts import CountEntry, CountStatus, StockCount
from potok.domain.inventory.errors import (
    NothingToCount,
    StockCountClosed,
    StockCountNotFound,
    StockCountOverlaps,
)
from potok.domain.machine import IllegalTransition
from potok.domain.network import WarehouseNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import stock_counts
from potok.services.stock_counts import CreateCount
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["stock counts"])

NumberPath = Annotated[str, Path(max_length=32, examples=["CNT-000001"])]
BLIND = Query(
    description="Hide the expected quantities (a blind count, the default for counters); "
    "pass false to see them and the differences."
)


def _within(caller: Principal) -> tuple[str, ...] | None:
    return caller.warehouse_codes if caller.warehouses is not None else None


def _visible_count(uow: UnitOfWork, caller: Principal, number: str) -> None:
    stock_counts.get_count(uow, number, within=_within(caller))


def count_out(count: StockCount, *, blind: bool) -> CountOut:
    uncounted = len(count.uncounted)
    return CountOut(
        number=count.number,
        warehouse=count.warehouse_code,
        zone=count.zone,
        status=count.status.value,
        blind=blind,
        created_by=count.created_by,
        created_at=count.created_at,
        updated_at=count.updated_at,
        approved_by=count.approved_by,
        approved_at=count.approved_at,
        counted=len(count.lines) - uncounted,
        uncounted=uncounted,
        lines=[
            CountLineOut(
                sku=line.sku,
                lot=line.lot,
                location=line.location,
                expected=None if blind else line.expected,
                counted=line.counted,
                difference=None if blind else line.difference,
                counted_by=line.counted_by,
                counted_at=line.counted_at,
            )
            for line in count.lines
        ],
    )


@router.post(
    "/warehouses/{code}/counts",
    status_code=201,
    response_model=CountOut,
    tags=["stock counts"],
    summary="Make a count sheet for a warehouse, or one zone of it",
    description="Snapshots the on-hand of every position (of the zone, of the SKUs given) "
    "as the expected quantity. A position already on an open count cannot be on another.",
    responses=responses(
        WarehouseNotFound,
        OutOfScope,
        InvalidInput,
        NothingToCount,
        StockCountOverlaps,
        IdempotencyKeyReused,
    ),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE)],
)
def create_count(
    code: Code,
    body: CountCreateIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    blind: Annotated[bool, BLIND] = True,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    numbers: list[str] = []

    def made(count: StockCount) -> tuple[int, object]:
        numbers.append(count.number)
        return 201, count_out(count, blind=blind).model_dump(mode="json")

    answered = answer(
        request,
        "stock-count-sheet",
        caller,
        idempotency_key,
        f"{body.model_dump_json()}\nblind={blind}",
        lambda once: stock_counts.create_count(
            uow, CreateCount(code, body.zone, tuple(body.skus)), caller.actor, once=once
        ),
        made,
    )
    if numbers:
        answered.headers["Location"] = f"/api/v1/stock/counts/{numbers[-1]}"
    return answered


@router.get(
    "/stock/counts",
    response_model=CountPageOut,
    summary="Stock counts, newest first",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_counts(
    uow: Uow,
    caller: Caller,
    warehouse: Annotated[str | None, Query(max_length=64)] = None,
    status: CountStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CountPageOut:
    within = _within(caller)
    wanted: set[str] | None = {warehouse} if warehouse else None
    if within is not None:
        wanted = set(within) & wanted if wanted is not None else set(within)
    page = stock_counts.list_counts(
        uow,
        warehouses=wanted,
        status=status.value if status else None,
        cursor=cursor,
        limit=limit,
    )
    return CountPageOut(
        items=[CountSummaryOut.model_validate(x) for x in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/stock/counts/{number}",
    response_model=CountOut,
    summary="A count sheet: blind (without expected quantities) unless asked otherwise",
    responses=responses(StockCountNotFound),
    dependencies=[
        needs(Permission.STOCK_READ),
        reach(Reach.RECORD, "number", finder=_visible_count),
    ],
)
def get_count(
    number: NumberPath, uow: Uow, caller: Caller, blind: Annotated[bool, BLIND] = True
) -> CountOut:
    return count_out(stock_counts.get_count(uow, number, within=_within(caller)), blind=blind)


@router.post(
    "/stock/counts/{number}/entries",
    response_model=CountOut,
    summary="Enter counted quantities (some lines at a time; a line entered again is replaced)",
    responses=responses(StockCountNotFound, StockCountClosed, InvalidInput),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_count),
    ],
)
def enter_counts(
    number: NumberPath,
    body: CountEntriesIn,
    uow: Uow,
    caller: Caller,
    blind: Annotated[bool, BLIND] = True,
) -> CountOut:
    entries = [CountEntry(e.sku, e.counted, e.lot) for e in body.entries]
    count = stock_counts.enter_counts(uow, number, entries, caller.actor, within=_within(caller))
    return count_out(count, blind=blind)


@router.post(
    "/stock/counts/{number}/submission",
    response_model=CountOut,
    summary="The counters are done: the sheet waits for approval",
    responses=responses(StockCountNotFound, IllegalTransition),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_count),
    ],
)
def submit_count(
    number: NumberPath, uow: Uow, caller: Caller, blind: Annotated[bool, BLIND] = True
) -> CountOut:
    return count_out(stock_counts.submit_count(uow, number, within=_within(caller)), blind=blind)


@router.post(
    "/stock/counts/{number}/approval",
    response_model=ApprovalOut,
    summary="Approve the count: post each counted difference to the stock ledger",
    description="Needs `stock:approve` (managers and administrators). Each counted position "
    "gets a `count` movement with the reason `count <number>`. If the position moved since "
    "the sheet was made, the difference (counted - expected) is added to the current on-hand "
    "instead of overwriting it. Uncounted lines are left as they are. Stock that falls below "
    "what is reserved takes reservations back and sources those orders again.",
    responses=responses(StockCountNotFound, IllegalTransition),
    dependencies=[
        needs(Permission.STOCK_APPROVE),
        reach(Reach.RECORD, "number", finder=_visible_count),
    ],
)
def approve_count(number: NumberPath, uow: Uow, caller: Caller) -> ApprovalOut:
    approval = stock_counts.approve_count(uow, number, caller.actor, within=_within(caller))
    return ApprovalOut(
        count=count_out(approval.count, blind=False),
        postings=[PostingOut.model_validate(p) for p in approval.postings],
        orders_resourced=approval.orders_resourced,
        backorders_reserved=approval.backorders_reserved,
    )


@router.post(
    "/stock/counts/{number}/cancellation",
    response_model=CountOut,
    summary="Cancel a count that is not approved; nothing is posted",
    responses=responses(StockCountNotFound, IllegalTransition),
    dependencies=[
        needs(Permission.STOCK_WRITE),
        reach(Reach.RECORD, "number", finder=_visible_count),
    ],
)
def cancel_count(
    number: NumberPath, uow: Uow, caller: Caller, blind: Annotated[bool, BLIND] = True
) -> CountOut:
    return count_out(stock_counts.cancel_count(uow, number, within=_within(caller)), blind=blind)
