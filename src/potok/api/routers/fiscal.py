"""Fiscal receipts (54-ФЗ) of orders: each order's, one, or a filtered list.

Receipts are an accountant's and an operator's business: a channel-bound key reads the
receipts of its own orders (through the order), the list spans every channel.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import AwareDatetime
from potok.api.schemas.fiscal import CorrectionIn, ReceiptOut, ReceiptPageOut, render_receipt
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs, public
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.domain.fiscal import ReceiptNotCorrectable, ReceiptNotFound
from potok.domain.machine import IllegalTransition
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services.fiscal import corrections, reading, sending
from potok.services.fiscal.desk import FiscalDesk
from potok.services.fiscal_ports import ReceiptFilter

router = APIRouter(prefix="/api/v1", tags=["fiscal receipts"])

OrderPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReceiptPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]
MAX_CALLBACK_BYTES = 100_000


def desk(request: Request) -> FiscalDesk:
    """The fiscal settings and registers of this process."""
    found: FiscalDesk = request.app.state.potok.fiscal
    return found


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


@router.post(
    "/receipts/{receipt_id}/correction",
    status_code=201,
    response_model=ReceiptOut,
    summary="Correct a failed or wrong receipt",
    description="A receipt the provider refused gets a correction receipt of the same "
    "direction and lines (`sell_correction`, `sell_refund_correction`) under the seller's "
    "current settings; a receipt registered wrong is undone with `reverse` (a correction of "
    "the opposite direction). The correction is queued and sent like any receipt.",
    responses=responses(ReceiptNotFound, ReceiptNotCorrectable, InvalidInput, IdempotencyKeyReused),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def correct_receipt(
    receipt_id: ReceiptPath,
    body: CorrectionIn,
    uow: Uow,
    caller: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    command = corrections.CorrectReceipt(
        receipt_id,
        type=body.type,
        basis_on=body.basis_date,
        basis_number=body.basis_number,
        reverse=body.reverse,
    )
    return answer(
        request,
        "receipt-correction",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: corrections.correct_receipt(
            uow, desk(request), command, caller.actor, once=once
        ),
        lambda receipt: (201, render_receipt(receipt).model_dump(mode="json")),
    )


@router.post(
    "/receipts/{receipt_id}/resending",
    response_model=ReceiptOut,
    summary="Send a failed receipt again, as it is",
    description="For a receipt that never reached the register because of Potok's own "
    "settings (no fiscal settings for its seller, a wrong account): once fixed, it is "
    "queued again under a new external id.",
    responses=responses(ReceiptNotFound, ReceiptNotCorrectable, IllegalTransition),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def resend_receipt(
    receipt_id: ReceiptPath, uow: Uow, caller: Caller, request: Request
) -> ReceiptOut:
    return render_receipt(corrections.resend_receipt(uow, desk(request), receipt_id, caller.actor))


@router.post(
    "/fiscal/atol/callback",
    summary="АТОЛ Онлайн's callback: a receipt's result is ready",
    description="Called by АТОЛ, not by people, at the `callback_url` of each receipt. The "
    "body is never taken for the result: Potok reads the receipt's report from АТОЛ itself "
    "(`GET /report/{uuid}`) and keeps what АТОЛ says there, so a forged or repeated call "
    "changes nothing. Answers 200 for a receipt Potok sent, 404 for any other uuid.",
    responses=responses(ReceiptNotFound, InvalidInput),
    dependencies=[public(), reach(Reach.NETWORK)],
)
async def atol_callback(request: Request) -> Response:
    raw = await request.body()
    if len(raw) > MAX_CALLBACK_BYTES:
        raise InvalidInput([], detail=f"a callback carries at most {MAX_CALLBACK_BYTES} bytes")
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    uuid = body.get("uuid") if isinstance(body, dict) else None
    if not isinstance(uuid, str) or not 1 <= len(uuid) <= 128:
        raise InvalidInput([], detail="a callback names the receipt's uuid")
    potok = request.app.state.potok
    receipt = await run_in_threadpool(sending.check_receipt, potok.uow, potok.fiscal, uuid)
    return json_response({"receipt_id": receipt.id, "state": receipt.state.value})
