"""Fiscal receipts (54-ФЗ) of orders: each order's, one, or a filtered list.

Receipts are an accountant's and an operator's business: a channel-bound key reads the
receipts of its own orders (through the order), the list spans every channel.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.fiscal import ReceiptOut, ReceiptPageOut, render_receipt
from potok.api.scope import Reach, reach
from potok.api.security import needs
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.domain.fiscal import ReceiptNotFound
from potok.domain.orders import OrderNotFound
from potok.services.fiscal import reading
from potok.services.fiscal_ports import ReceiptFilter

router = APIRouter(prefix="/api/v1", tags=["fiscal receipts"])

OrderPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReceiptPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get(
    "/orders/{order_id}/receipts",
    response_model=list[ReceiptOut],
    summary="The order's fiscal receipts, oldest first",
    description="Sale (full prepayment), settlement (full payment at hand-over or delivery), "
    "refund and correction receipts, each with its state at the cash-register provider and, "
    "once registered, its fiscal attributes (ФН, ФД, ФПД, time, register).",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)],
)
def order_receipts(order_id: OrderPath, uow: Uow) -> list[ReceiptOut]:
    return [render_receipt(r) for r in reading.receipts_of_order(uow, order_id)]


@router.get(
    "/receipts",
    response_model=ReceiptPageOut,
    summary="Fiscal receipts, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def list_receipts(
    uow: Uow,
    state: Annotated[
        str | None,
        Query(max_length=16, description="queued, sent, wait, done, failed or skipped"),
    ] = None,
    kind: Annotated[
        str | None, Query(max_length=16, description="sale, settlement, refund, correction")
    ] = None,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    account: Annotated[
        str | None, Query(max_length=64, description="The provider account that prints it.")
    ] = None,
    created_from: Annotated[AwareDatetime | None, Query()] = None,
    created_to: Annotated[AwareDatetime | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ReceiptPageOut:
    where = ReceiptFilter(
        state=state,
        kind=kind,
        order_id=order_id,
        channel=channel,
        account=account,
        created_from=created_from,
        created_to=created_to,
    )
    page = reading.list_receipts(uow, where, cursor=cursor, limit=limit)
    return ReceiptPageOut(
        items=[render_receipt(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/receipts/{receipt_id}",
    response_model=ReceiptOut,
    summary="One fiscal receipt with its lines and fiscal attributes",
    responses=responses(ReceiptNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def get_receipt(receipt_id: ReceiptPath, uow: Uow) -> ReceiptOut:
    return render_receipt(reading.get_receipt(uow, receipt_id))
