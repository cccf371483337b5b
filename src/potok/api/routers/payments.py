"""Gateway payments: a channel's account at ЮKassa, an order's payment there (its
confirmation URL for the shop), the list for operators, and ЮKassa's notifications."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import Code, Day
from potok.api.schemas.payments import (
    DifferenceOut,
    GatewayPaymentOut,
    GatewayPaymentPageOut,
    OrderPaymentOut,
    PaymentAccountIn,
    PaymentAccountOut,
    ReconciledOut,
    ReconciliationOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, client_ip, needs, public, security_of
from potok.connectors.marketplaces.ozon_push import from_ozon as from_networks
from potok.connectors.marketplaces.ozon_push import networks
from potok.domain.access import Permission
from potok.domain.analytics.periods import PeriodReversed, PeriodTooLong
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import InvalidInput
from potok.domain.orders import OrderNotFound
from potok.domain.payments import (
    GatewayUnreachable,
    MarketplaceTakesNoGateway,
    NotificationMalformed,
    NotificationNotFromGateway,
)
from potok.domain.payments.accounts import AccountDraft
from potok.domain.payments.reconciliation import ZERO, Reconciled
from potok.services.outside import Outside
from potok.services.payments import accounts, reads
from potok.services.payments import reconciliation as reconciliation_service
from potok.services.payments.notifications import read_notification, take_notification

router = APIRouter(prefix="/api/v1", tags=["payments"])

OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's order number.")]
MAX_NOTIFICATION_BYTES = 64 * 1024


@router.get(
    "/payment-accounts",
    response_model=list[PaymentAccountOut],
    summary="The channels connected to a payment gateway, and their accounts",
    description="The shop id, return page and whether new orders get a gateway payment; "
    "the secret key is never returned. A channel-bound key sees its own channel's only.",
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.LISTED)],
)
def list_payment_accounts(uow: Uow, caller: Caller) -> list[PaymentAccountOut]:
    return [
        PaymentAccountOut.of(a)
        for a in accounts.list_accounts(uow)
        if caller.channel in (None, a.channel_code)
    ]


@router.put(
    "/channels/{code}/payment-account",
    response_model=PaymentAccountOut,
    summary="Connect an own-shop channel to its payment gateway account, or change it",
    description="The orders of the channel taken from now on (paid `online`, or not saying) "
    "get a two-stage payment at ЮKassa. `secret_key` is required to connect and stored "
    "sealed; left out when changing, the stored one is kept. `active: false` stops new "
    "payments (those made go on). A marketplace's channel is refused "
    "(`marketplace-takes-no-gateway`): its orders are paid to the marketplace. Putting the "
    "same account again changes nothing but its time.",
    responses=responses(ChannelNotFound, MarketplaceTakesNoGateway, InvalidInput),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.CHANNEL)],
)
def put_payment_account(
    code: Code, body: PaymentAccountIn, uow: Uow, caller: Caller
) -> PaymentAccountOut:
    draft = AccountDraft(
        channel_code=code,
        shop_id=body.shop_id,
        secret_key=body.secret_key or "",
        return_url=body.return_url,
        gateway=body.gateway,
        active=body.active,
    )
    return PaymentAccountOut.of(accounts.connect_channel(uow, draft, caller.actor))


@router.get(
    "/orders/{order_id}/payment",
    response_model=OrderPaymentOut,
    summary="The order's payment, and its payment at the gateway",
    description="For an order of a channel connected to a payment gateway (ЮKassa): the "
    "two-stage payment Potok created after the order was taken, with the `confirmation_url` "
    "to send the customer to while it is `pending`. It is created right after the intake "
    "commits (the intake never waits for the gateway): until then `gateway_state` is "
    "`creating` - ask again in a moment.",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)],
)
def get_order_payment(order_id: OrderIdPath, uow: Uow) -> OrderPaymentOut:
    found = reads.order_payment(uow, order_id)
    return OrderPaymentOut(
        order_id=found.order_id,
        payment_status=found.payment_status,
        gateway_state=found.state,
        gateway_payment=GatewayPaymentOut.of(found.payment) if found.payment else None,
    )


@router.get(
    "/payments",
    response_model=GatewayPaymentPageOut,
    summary="Gateway payments, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def list_payments(
    uow: Uow,
    status: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> GatewayPaymentPageOut:
    page = reads.list_payments(uow, status=status, cursor=cursor, limit=limit)
    return GatewayPaymentPageOut(
        items=[GatewayPaymentOut.of(p) for p in page.items],
        next_cursor=str(page.next_cursor) if page.next_cursor is not None else None,
    )


_TAKEN: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Taken: applied, already known, or not about a payment of Potok's",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {
                        "outcome": {
                            "type": "string",
                            "enum": ["applied", "unchanged", "ignored"],
                        },
                        "order_id": {"type": ["integer", "null"]},
                    },
                }
            }
        },
    }
}


@router.post(
    "/payments/yookassa/notifications",
    response_model=None,
    summary="ЮKassa's notifications (payment and refund statuses)",
    description="Called by ЮKassa, not by people: the shop's «URL для уведомлений». ЮKassa "
    "signs nothing, so a notification is taken only from ЮKassa's published networks "
    "(setting `payments.yookassa_networks`) and only says which payment to look at: Potok "
    "reads that payment (or refund) back from ЮKassa's API with the shop's credentials and "
    "applies what the API says, once. A forged or repeated notification changes nothing. "
    "While ЮKassa cannot be asked back the answer is 503, so ЮKassa sends it again.",
    responses={
        **_TAKEN,
        **responses(NotificationNotFromGateway, NotificationMalformed, GatewayUnreachable),
    },
    dependencies=[public(), reach(Reach.UNLIMITED)],  # ЮKassa calls without credentials
)
async def yookassa_notification(request: Request) -> Response:
    potok = security_of(request).potok
    address = client_ip(request)
    if not from_networks(address, networks(potok.settings.payments.yookassa_networks)):
        raise NotificationNotFromGateway(address=address or "an unknown address", gateway="ЮKassa")
    raw = await request.body()
    if len(raw) > MAX_NOTIFICATION_BYTES:
        raise NotificationMalformed(why=f"at most {MAX_NOTIFICATION_BYTES} bytes")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise NotificationMalformed(why="the body is not JSON") from None
    notification = read_notification(body)
    outside = Outside(potok.uow, potok.carriers, gateways=potok.gateways)
    taken = await run_in_threadpool(take_notification, outside, notification)
    if taken.outcome == "unavailable":
        raise GatewayUnreachable(gateway="ЮKassa", reason=taken.detail)
    return json_response({"outcome": taken.outcome, "order_id": taken.order_id})


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"


_RECONCILIATION_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: JSON, or CSV (one row per order) with `format=csv`.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    **responses(PeriodTooLong, PeriodReversed),
}


@router.get(
    "/reports/reconciliation",
    response_model=ReconciliationOut,
    summary="Reconciliation: paid and refunded orders against the gateway and the receipts",
    description="Every order paid or refunded in the period (its payment moved, its gateway "
    "payment was captured, or a refund of it was paid, on those UTC days) set against its "
    "gateway payment and refunds (ЮKassa) and, when fiscal receipts are kept, its receipts; "
    "each difference listed with a code and a sentence (paid but no receipt, receipt amount "
    "not what was paid, refund without a refund receipt, captured at the gateway but not "
    "paid in Potok, ...). `only_differences` leaves out the orders that match.",
    responses=_RECONCILIATION_ANSWERS,
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.UNLIMITED)],
)
def reconciliation(
    request: Request,
    uow: Uow,
    since: Annotated[
        Day | None, Query(alias="from", description="First day (UTC); 29 days before `to`.")
    ] = None,
    until: Annotated[
        Day | None, Query(alias="to", description="Last day (UTC), included; today by default.")
    ] = None,
    format: ReportFormat = ReportFormat.json,
    only_differences: bool = False,
) -> Response:
    potok = security_of(request).potok
    last = until or datetime.now(UTC).date()
    report = reconciliation_service.reconciliation_report(
        uow,
        since or last - timedelta(days=29),
        last,
        receipts=reconciliation_service.receipts_reader(potok.fiscal.rules.enabled),
        only_differences=only_differences,
    )
    if format is ReportFormat.csv:
        name = f"reconciliation-{report.since}-{report.until}.csv"
        return Response(
            reconciliation_service.as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    body = ReconciliationOut(
        since=report.since,
        until=report.until,
        receipts_checked=report.receipts_checked,
        orders=len(report.rows),
        with_differences=len(report.with_differences),
        rows=[_reconciled(r) for r in report.rows],
    )
    return json_response(body.model_dump(mode="json", by_alias=True))


def _reconciled(row: Reconciled) -> ReconciledOut:
    facts, gateway, receipts = row.facts, row.facts.gateway, row.facts.receipts
    return ReconciledOut(
        order_id=facts.order_id,
        channel=facts.channel,
        payment_status=facts.payment_status,
        paid=row.paid,
        refunded=row.refunded,
        currency=facts.currency,
        gateway_status=gateway.status if gateway else None,
        gateway_captured=gateway.captured if gateway else None,
        gateway_refunded=gateway.refunded if gateway else None,
        receipts_sold=receipts.sold if receipts else None,
        receipts_refunded=sum(receipts.refunded.values(), ZERO) if receipts else None,
        differences=[DifferenceOut(code=d.code.value, detail=d.detail) for d in row.differences],
    )
