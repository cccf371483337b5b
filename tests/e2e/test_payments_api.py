"""ЮKassa through Potok's real HTTP server and the simulated ЮKassa, on both databases: the
shop places an order and gets the confirmation URL once the payment exists (the intake
never waited for the gateway); ЮKassa's notifications move the payment - taken only from
its networks, believed only after the payment is read back from ЮKassa, applied once
however often ЮKassa repeats them, and sent again by ЮKassa while ЮKassa cannot be asked
back. A forged notification changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from potok.connectors.payments.registry import Gateways
from potok.domain.payments.accounts import AccountDraft
from potok.services.payments.accounts import connect_channel
from potok.settings import PaymentSettings
from potok.worker.dispatcher import Dispatcher, new_client
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, place
from tests.factories import TESTER, build_world_api
from tests.problems import problem
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator

NOTIFICATIONS = "/api/v1/payments/yookassa/notifications"


@pytest.fixture
def shop(live: LiveServer, yookassa: YooKassaSimulator) -> Iterator[LiveServer]:
    """The live server's web channel connected to the simulated ЮKassa, its notifications
    taken from this machine (the simulator posts them from 127.0.0.1)."""
    before = live.potok.gateways, live.potok.settings.payments
    live.potok.gateways = Gateways(
        PaymentSettings(yookassa_url=yookassa.url, attempts=1), sleep=lambda s: None
    )
    live.potok.settings.payments = PaymentSettings(
        yookassa_url=yookassa.url, yookassa_networks="127.0.0.1/32,::1/128"
    )
    yookassa.notification_url = live.url + NOTIFICATIONS
    yield live
    live.potok.gateways.close()
    live.potok.gateways, live.potok.settings.payments = before


def history_of_payment(api: httpx.Client, order_id: int) -> list[str]:
    history = get_order(api, order_id)["history"]
    return [h["details"]["to_payment"] for h in history if h["action"] == "payment_changed"]


def test_the_shop_gets_the_payment_link_and_notifications_move_the_payment_once(
    api: httpx.Client, shop: LiveServer, yookassa: YooKassaSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    connect_channel(
        shop.potok.uow(),
        AccountDraft("web", SHOP_ID, SECRET_KEY, "https://shop.example.ru/thanks"),
        TESTER,
    )
    order_id = place(api, [("KET", 1)])["id"]
    waiting = api.get(f"/api/v1/orders/{order_id}/payment").json()
    assert (waiting["gateway_state"], waiting["gateway_payment"]) == ("creating", None)
    phone = place(api, [("KET", 1)], channel="phone")["id"]  # a channel without a gateway
    assert api.get(f"/api/v1/orders/{phone}/payment").json()["gateway_state"] == "none"
    assert yookassa.received == []  # the intake answered without the gateway

    with new_client() as client:
        Dispatcher(shop.potok, client, name="payments").run_round()
    link = api.get(f"/api/v1/orders/{order_id}/payment")
    assert link.status_code == 200, link.text
    assert link.json()["gateway_state"] == "created"
    payment = link.json()["gateway_payment"]
    assert payment["status"] == "pending"
    assert payment["amount"] == "2490.00"
    assert payment["confirmation_url"].startswith("https://yoomoney.ru/checkout/")
    gateway_id = payment["gateway_payment_id"]

    # forged: claims the money is held while ЮKassa says it is not - nothing changes
    forged = yookassa.notification("payment.waiting_for_capture", gateway_id)
    forged["object"]["status"] = "waiting_for_capture"
    assert yookassa.notify("payment.waiting_for_capture", gateway_id, body=forged) == [200]
    assert get_order(api, order_id)["payment_status"] == "pending"

    # the customer pays; ЮKassa is down when Potok asks back: 503, and ЮKassa sends it again
    yookassa.pay(gateway_id)
    yookassa.fail(1, 500)
    statuses = yookassa.notify("payment.waiting_for_capture", gateway_id)
    assert statuses == [503, 200]
    assert get_order(api, order_id)["payment_status"] == "authorized"
    # ЮKassa repeats a delivered notification: nothing happens twice
    assert yookassa.notify("payment.waiting_for_capture", gateway_id) == [200]
    assert history_of_payment(api, order_id) == ["authorized"]
    held = api.get(f"/api/v1/orders/{order_id}/payment").json()["gateway_payment"]
    assert held["status"] == "waiting_for_capture"
    assert held["confirmation_url"] is None
    listed = api.get("/api/v1/payments", params={"status": "waiting_for_capture"}).json()
    assert [p["order_id"] for p in listed["items"]] == [order_id]

    report = api.get("/api/v1/reports/reconciliation", params={"from": "2026-01-01"})
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["from"], body["orders"], body["with_differences"]) == ("2026-01-01", 1, 0)
    (row,) = body["rows"]
    assert (row["order_id"], row["payment_status"], row["gateway_status"]) == (
        order_id,
        "authorized",
        "waiting_for_capture",
    )
    as_csv = api.get(
        "/api/v1/reports/reconciliation", params={"from": "2026-01-01", "format": "csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[1].startswith(f"{order_id},web,authorized,0")
    problem(
        api.get(
            "/api/v1/reports/reconciliation", params={"from": "2026-02-01", "to": "2026-01-01"}
        ),
        422,
        "report-period-reversed",
    )


def test_notifications_from_elsewhere_or_malformed_are_refused(
    api: httpx.Client, anonymous: httpx.Client, shop: LiveServer, yookassa: YooKassaSimulator
) -> None:
    unknown = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": "2203aa1d-000f-5000-8000-17102541fd31", "status": "succeeded"},
    }
    taken = anonymous.post(NOTIFICATIONS, json=unknown)
    assert taken.status_code == 200, taken.text
    assert taken.json() == {"outcome": "ignored", "order_id": None}
    problem(anonymous.post(NOTIFICATIONS, json={"type": "bill"}), 422, "notification-malformed")
    problem(
        anonymous.post(NOTIFICATIONS, content=b"{", headers={"Content-Type": "application/json"}),
        422,
        "notification-malformed",
    )
    shop.potok.settings.payments = PaymentSettings(
        yookassa_url=yookassa.url, yookassa_networks="185.71.76.0/27"
    )
    problem(anonymous.post(NOTIFICATIONS, json=unknown), 404, "notification-not-from-gateway")
    assert yookassa.received == []  # nothing was asked of ЮKassa for any of them


def test_a_channel_is_connected_to_its_gateway_account_through_the_api(
    api: httpx.Client, shop: LiveServer, yookassa: YooKassaSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    account = "/api/v1/channels/web/payment-account"
    assert api.get("/api/v1/payment-accounts").json() == []
    no_key = api.put(account, json={"shop_id": SHOP_ID, "return_url": "https://shop.example.ru/"})
    assert [e["field"] for e in problem(no_key, 422, "invalid-input")["errors"]] == ["secret_key"]

    body = {
        "shop_id": SHOP_ID,
        "secret_key": SECRET_KEY,
        "return_url": "https://shop.example.ru/thanks",
    }
    connected = api.put(account, json=body)
    assert connected.status_code == 200, connected.text
    shown = connected.json()
    assert {k: shown[k] for k in ("channel", "gateway", "shop_id", "return_url", "active")} == {
        "channel": "web",
        "gateway": "yookassa",
        "shop_id": SHOP_ID,
        "return_url": "https://shop.example.ru/thanks",
        "active": True,
    }
    assert SECRET_KEY not in connected.text

    # a new return page, the key left out: the stored one is kept and still opens ЮKassa
    changed = api.put(account, json={**body, "secret_key": None, "return_url": "https://x.ru/ok"})
    assert changed.status_code == 200, changed.text
    listed = api.get("/api/v1/payment-accounts").json()
    assert [(a["channel"], a["return_url"]) for a in listed] == [("web", "https://x.ru/ok")]
    order_id = place(api, [("KET", 1)])["id"]
    with new_client() as client:
        Dispatcher(shop.potok, client, name="tests").run_round()
    link = api.get(f"/api/v1/orders/{order_id}/payment").json()["gateway_payment"]
    assert link["status"] == "pending"
    (created,) = yookassa.calls("/payments")
    assert created.body["confirmation"]["return_url"] == "https://x.ru/ok"

    refused = api.put("/api/v1/channels/mp/payment-account", json=body)
    problem(refused, 422, "marketplace-takes-no-gateway")
    bad = api.put(account, json={**body, "shop_id": "shop-1"})
    assert [e["field"] for e in problem(bad, 422, "invalid-input")["errors"]] == ["shop_id"]
