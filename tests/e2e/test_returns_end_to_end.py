"""The issue's whole story on both databases, through the API: a delivered order, part of
it returned and received at another warehouse, inspected (one unit restocked, one
damaged), refunded; another unit exchanged before it comes back. The customer's e-mails
arrive at a real SMTP server (one worded by the support lead's own template) and, as
she chose, her SMS at a real HTTP provider; the tracking page shows each step, and
`potok stock reconcile` finds nothing wrong afterwards."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from typer.testing import CliRunner

from potok.cli.main import app
from potok.connectors.carriers import TrackingStatus
from potok.connectors.messaging import HttpSender, SmtpSender
from potok.domain.access import Role
from potok.domain.notifications import Language
from potok.services.notifications import NotificationPolicy
from potok.services.unit_of_work import reading
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.notifier import Notifier
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import build_world
from tests.integration.test_returns import T0, Clock, _handed_over, _stock, _track
from tests.invariants import assert_shipment_invariants, assert_stock_invariants
from tests.receiver import Receiver
from tests.smtp import smtp_server

CUSTOMER = {
    "customer_name": "Анна Смирнова",
    "customer_email": "anna@example.ru",
    "customer_phone": "+7 916 123-45-67",
}
RETURN_RECEIVED = (
    '{% extends "ru/_base.j2" %}\n'
    "{% block subject %}Мы получили ваш возврат {{ return_number }}{% endblock %}\n"
    "{% block body %}К возврату: {{ refund_amount }} {{ currency }}.{% endblock %}\n"
    "{% block html_body %}<p>К возврату: {{ refund_amount }} {{ currency }}.</p>{% endblock %}\n"
)


def steps(anonymous: httpx.Client, token: str) -> list[str]:
    page = anonymous.get(f"/track/{token}", params={"lang": "ru"})
    assert page.status_code == 200
    return re.findall(r'data-step="(\w+)"', page.text)


def test_delivered_returned_refunded_exchanged(
    live: LiveServer, api: httpx.Client, anonymous: httpx.Client, database_url: str
) -> None:
    build_world(live.potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})
    clock = Clock(T0)
    provider = Receiver().start()  # the SMS provider
    with smtp_server() as (inbox, port), new_client() as client:
        notifier = Notifier(
            SmtpSender("127.0.0.1", port, sender="shop@example.ru"),
            NotificationPolicy(language=Language.RU, tracking_url=live.url),
            max_attempts=3,
            backoff_s=1,
            backoff_max_s=10,
            more=(HttpSender(provider.url, sender="SHOP", client=client),),
        )
        dispatcher = Dispatcher(live.potok, client, name="story", notifier=notifier)
        dispatcher.run_round()

        order_id, _, number = _handed_over(live.potok, [("KET", 2), ("MUG", 1)], clock, **CUSTOMER)
        placed = reading(live.potok.uow(), lambda uow: uow.orders.get(order_id))
        assert placed is not None
        customer_id = placed.customer_id
        chose = api.put(
            f"/api/v1/customers/{customer_id}/notification-preference",
            json={"media": ["email", "sms"]},
        )
        assert chose.status_code == 200, chose.text
        _track(live.potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
        token = api.post(f"/api/v1/orders/{order_id}/tracking-link").json()["token"]
        assert steps(anonymous, token)[-1] == "delivered"

        # two kettles come back to St Petersburg; one is sellable, one is damaged
        returned = api.post(
            f"/api/v1/orders/{order_id}/returns",
            json={
                "lines": [{"line_no": 1, "quantity": 2, "reason": "defective"}],
                "approve": True,
            },
            headers={"Idempotency-Key": "story-1"},
        ).json()
        rma = returned["number"]
        received = api.post("/api/v1/warehouses/SPB/return-receipts", json={"number": rma})
        assert received.json()["refund_amount"] == "4980.00", received.text
        inspected = api.post(
            f"/api/v1/returns/{rma}/inspection",
            json={
                "decisions": [
                    {"line_no": 1, "outcome": "restock", "quantity": 1},
                    {"line_no": 1, "outcome": "unavailable", "quantity": 1, "note": "dented"},
                ]
            },
        )
        assert inspected.status_code == 200, inspected.text
        assert _stock(live.potok, "SPB", "KET") == (2, 1)
        paid = api.post(f"/api/v1/returns/{rma}/refund", json={"status": "paid"})
        assert paid.json()["refund_status"] == "paid", paid.text
        assert api.get(f"/api/v1/orders/{order_id}").json()["payment_status"] == (
            "partially_refunded"
        )
        assert api.post(f"/api/v1/returns/{rma}/exchange", json={}).status_code == 409

        # the mug is exchanged before it comes back: a replacement order, nothing refunded
        swap = api.post(
            f"/api/v1/orders/{order_id}/returns",
            json={"lines": [{"line_no": 2, "quantity": 1, "reason": "wrong_item"}]},
        ).json()
        api.post(f"/api/v1/returns/{swap['number']}/approval", json={})
        exchanged = api.post(f"/api/v1/returns/{swap['number']}/exchange", json={})
        assert exchanged.status_code == 201, exchanged.text
        replacement = exchanged.json()["exchange_order_id"]
        assert exchanged.json()["refund_amount"] == "0.00"
        assert api.get(f"/api/v1/orders/{replacement}").json()["status"] == "reserved"
        again = api.post(f"/api/v1/returns/{swap['number']}/exchange", json={})
        assert again.status_code == 409

        # the support lead words the return's message their own way, before it goes out
        make_user(live.potok, "lead", Role.ADMIN)
        lead = sign_in(live.url, "lead")
        worded = lead.request(
            "PUT",
            "/api/v1/notification-templates/return_received/ru",
            json={"source": RETURN_RECEIVED},
        )
        assert worded.status_code == 200, worded.text

        dispatcher.run_round()
        subjects = inbox.subjects()
        assert subjects == [
            f"Заказ {order_id} принят",
            f"Заказ {order_id} отправлен",
            f"Заказ {order_id} доставлен",
            f"Мы получили ваш возврат {rma}",
            f"Деньги по возврату {rma} перечислены",
            f"Заказ {replacement} принят",
        ]
        assert f"{live.url}/track/{token}" in inbox.text(3)
        assert "К возврату: 4980.00 RUB." in inbox.text(3)
        assert all(m["To"] == "anna@example.ru" for m in inbox.messages)
        texts = [r.event["text"] for r in provider.received]
        assert all(r.event["to"] == "+79161234567" for r in provider.received)
        assert texts[:3] == [
            f"Potok: заказ {order_id} принят, 5370.00 RUB. {live.url}/track/{token}",
            f"Potok: заказ {order_id} в пути, own, трек {number}, ожидается 2026-11-22. "
            f"{live.url}/track/{token}",
            f"Potok: заказ {order_id} доставлен. Спасибо!",
        ]
        assert texts[3:5] == [
            f"Potok: возврат {rma} по заказу {order_id} получен.",
            f"Potok: вернули 4980.00 RUB за заказ {order_id}.",
        ]
        assert texts[5].startswith(f"Potok: заказ {replacement} принят, 390.00 RUB. {live.url}")
        assert len(texts) == 6
    provider.stop()

    assert steps(anonymous, token)[-4:] == [
        "delivered",
        "partially_returned",
        "return_received",
        "refund_paid",
    ]
    page = anonymous.get(f"/track/{token}", params={"lang": "en"}).text
    assert f'data-return="{rma}"' in page
    assert f'data-return="{swap["number"]}"' in page

    reconciled = CliRunner().invoke(app, ["--db", database_url, "stock", "reconcile"])
    assert reconciled.exit_code == 0, reconciled.output
    assert_stock_invariants(live.potok)
    assert_shipment_invariants(live.potok)
