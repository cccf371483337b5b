"""The public tracking page over HTTP: no sign-in, the token is the key; the timeline,
parcels and returns in Russian or English; nothing personal beyond the city and the first
name; an unknown token is a plain 404 page."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from potok.connectors.carriers import TrackingStatus
from potok.domain.returns import Decision, Outcome, RefundStatus
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world
from tests.integration.test_returns import T0, Clock, _handed_over, _track

CUSTOMER = {
    "customer_name": "Anna Smirnova",
    "customer_email": "anna@example.ru",
    "customer_phone": "+7 916 123-45-67",
}


def test_the_page_shows_each_step_and_nothing_personal(
    live: LiveServer, api: httpx.Client, anonymous: httpx.Client
) -> None:
    build_world(live.potok, {("MSK", "KET"): 5})
    clock = Clock(T0)
    order_id, _, number = _handed_over(live.potok, [("KET", 2)], clock, **CUSTOMER)
    link = api.post(f"/api/v1/orders/{order_id}/tracking-link")
    assert link.status_code == 200, link.text
    token = link.json()["token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert api.post(f"/api/v1/orders/{order_id}/tracking-link").json()["token"] == token

    page = anonymous.get(f"/track/{token}", params={"lang": "en"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    assert 'data-status="shipped"' in page.text
    assert number in page.text
    assert "Hello, Anna!" in page.text

    _track(live.potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    ret = requests.request_return(
        live.potok.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 1, "defective")], approve=True),
        TESTER,
    )
    handling.receive_return(live.potok.uow(), ret.number, "SPB", TESTER)
    handling.inspect_return(
        live.potok.uow(), ret.number, [Decision(1, Outcome.UNAVAILABLE, 1)], TESTER
    )
    requests.settle_refund(live.potok.uow(), ret.number, RefundStatus.PAID, TESTER)

    russian = anonymous.get(f"/track/{token}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    text = russian.text
    steps = re.findall(r'data-step="(\w+)"', text)
    assert steps == [
        "new",
        "confirmed",
        "reserved",
        "in_fulfilment",
        "shipped",
        "delivered",
        "partially_returned",
        "return_received",
        "refund_paid",
    ]
    assert "Частично возвращён" in text
    assert "2490.00 RUB — перечислено" in text
    assert "Тверь" in text  # the city, and nothing else of the address or the person
    for personal in ("Smirnova", "anna@example.ru", "916", "Советская"):
        assert personal not in text

    unknown = anonymous.get("/track/" + "x" * 32)
    assert unknown.status_code == 404
    assert "not known" in unknown.text
    assert anonymous.get(f"/track/{token}", params={"lang": "de"}).status_code == 422
