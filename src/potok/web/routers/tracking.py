"""The customer's public tracking page, ``/track/{token}``: no sign-in, the token is the key.
Russian or English (``?lang=``, else the browser's), readable on a phone; never indexed,
never cached, no referrer sent on."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template

from potok.api.i18n import language_of
from potok.api.scope import Reach, reach
from potok.api.security import public, security_of
from potok.services import public_tracking
from potok.services.public_tracking import TrackingPageNotFound, TrackingView

router = APIRouter(include_in_schema=False)

STATUSES = {
    "en": {
        "new": "Accepted",
        "confirmed": "Confirmed",
        "on_hold": "Being checked",
        "backordered": "Waiting for stock",
        "reserved": "Being prepared",
        "in_fulfilment": "Being packed",
        "partially_shipped": "Partly sent",
        "shipped": "On its way",
        "delivered": "Delivered",
        "returned_to_sender": "Returned to us",
        "partially_returned": "Partly returned",
        "returned": "Returned",
        "cancelled": "Cancelled",
        "picking": "Being packed",
        "packed": "Packed",
        "handed_over": "Handed to the carrier",
        "in_transit": "In transit",
        "ready_for_pickup": "Ready for pickup",
        "failed_delivery": "Not delivered",
        "returning": "Coming back to us",
        "return_received": "Return received",
        "refund_paid": "Refund paid",
    },
    "ru": {
        "new": "Принят",
        "confirmed": "Подтверждён",
        "on_hold": "На проверке",
        "backordered": "Ожидает поступления",
        "reserved": "Готовится",
        "in_fulfilment": "Собирается",
        "partially_shipped": "Отправлен частично",
        "shipped": "В пути",
        "delivered": "Доставлен",
        "returned_to_sender": "Вернулся к нам",
        "partially_returned": "Частично возвращён",
        "returned": "Возвращён",
        "cancelled": "Отменён",
        "picking": "Собирается",
        "packed": "Упакован",
        "handed_over": "Передан в доставку",
        "in_transit": "В пути",
        "ready_for_pickup": "Ждёт в пункте выдачи",
        "failed_delivery": "Не доставлен",
        "returning": "Возвращается к нам",
        "return_received": "Возврат получен",
        "refund_paid": "Деньги возвращены",
    },
}

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Order",
        "language": "Language",
        "unknown": "This tracking link is not known. Please check the link in your e-mail.",
        "hello": "Hello",
        "expected": "Expected",
        "delivery": "Delivery",
        "city": "City",
        "pickup_point": "Pickup point",
        "hours": "Open",
        "timeline": "What happened",
        "parcel": "Parcel",
        "state": "Status",
        "carrier": "Carrier",
        "tracking_number": "Tracking number",
        "collect_by": "Collect by",
        "returns": "Returns",
        "refund": "refund",
        "return_statuses": {
            "requested": "requested",
            "approved": "approved: send it back",
            "declined": "declined",
            "received": "received",
            "inspected": "checked",
            "closed": "closed",
        },
        "refund_statuses": {"pending": "pending", "paid": "paid", "failed": "delayed"},
    },
    "ru": {
        "title": "Заказ",
        "language": "Язык",
        "unknown": "Эта ссылка нам не знакома. Проверьте ссылку из письма.",
        "hello": "Здравствуйте",
        "expected": "Ожидается",
        "delivery": "Доставка",
        "city": "Город",
        "pickup_point": "Пункт выдачи",
        "hours": "Часы работы",
        "timeline": "Что происходило",
        "parcel": "Посылка",
        "state": "Статус",
        "carrier": "Служба доставки",
        "tracking_number": "Трек-номер",
        "collect_by": "Забрать до",
        "returns": "Возвраты",
        "refund": "к возврату",
        "return_statuses": {
            "requested": "запрошен",
            "approved": "одобрен: отправьте товар",
            "declined": "отклонён",
            "received": "получен",
            "inspected": "проверен",
            "closed": "закрыт",
        },
        "refund_statuses": {
            "pending": "готовится",
            "paid": "перечислено",
            "failed": "задерживается",
        },
    },
}
for _language, _statuses in STATUSES.items():
    TEXTS[_language]["statuses"] = _statuses

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
}


@cache
def _page() -> Template:
    folder = Path(__file__).resolve().parents[1] / "public"
    return Environment(loader=FileSystemLoader(folder), autoescape=True).get_template("track.html")


@router.get("/track/{token}", dependencies=[public(), reach(Reach.NETWORK)])
async def tracking_page(
    request: Request,
    token: Annotated[str, PathParam(max_length=64)],
    lang: Annotated[Literal["ru", "en"] | None, Query()] = None,
) -> HTMLResponse:
    language = lang or language_of(request)
    uow = security_of(request).potok.uow()
    view: TrackingView | None
    try:
        view = await run_in_threadpool(public_tracking.public_view, uow, token)
    except TrackingPageNotFound:
        view = None
    body = _page().render(lang=language, t=TEXTS[language], view=view)
    return HTMLResponse(body, status_code=200 if view else 404, headers=HEADERS)
