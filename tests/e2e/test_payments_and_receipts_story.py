"""Issue 23's "Done means", on both databases, through Potok's real HTTP server, the
simulated ЮKassa and the simulated АТОЛ Онлайн (which checks every request against АТОЛ's
JSON Schemas): an own-shop order is paid through the gateway (authorised when the customer
pays, captured at hand-over), fiscalised when the money is taken - the goods went with the
capture, so one full-payment receipt -, shipped, partly returned and refunded through the
gateway with a refund receipt; the worker's job sends both receipts and they end
registered with their fiscal attributes; a marketplace order gets no receipt from Potok;
the reconciliation report shows nothing missing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from potok.connectors.payments.registry import Gateways
from potok.domain.payments.accounts import AccountDraft
from potok.services import legal_entities
from potok.services.payments.accounts import connect_channel
from potok.settings import PaymentSettings
from potok.worker.jobs import run_due_jobs
from tests.conftest import LiveServer
from tests.documents_support import SELLER
from tests.e2e.test_stock_api import get_order, place
from tests.factories import TESTER, build_world
from tests.integration.test_fiscal_receipts import drain
from tests.integration.test_fiscal_sending import atol_desk
from tests.integration.test_gateway_payments import Clock, ship
from tests.simulators.atol import AtolSimulator
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator

NOTIFICATIONS = "/api/v1/payments/yookassa/notifications"


@pytest.fixture
def shop(
    live: LiveServer, yookassa: YooKassaSimulator, atol: AtolSimulator
) -> Iterator[LiveServer]:
    """The live server with the web channel connected to the simulated ЮKassa and fiscal
    receipts on for the seller, printed by the simulated АТОЛ Онлайн."""
    potok = live.potok
    before = potok.gateways, potok.settings.payments, potok.fiscal
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = atol_desk(atol)
    potok.gateways = Gateways(PaymentSettings(yookassa_url=yookassa.url), sleep=lambda s: None)
    potok.settings.payments = PaymentSettings(
        yookassa_url=yookassa.url, yookassa_networks="127.0.0.1/32,::1/128"
    )
    yookassa.notification_url = live.url + NOTIFICATIONS
    connect_channel(
        potok.uow(),
        AccountDraft("web", SHOP_ID, SECRET_KEY, "https://shop.example.ru/thanks"),
        TESTER,
    )
    yield live
    potok.gateways.close()
    potok.gateways, potok.settings.payments, potok.fiscal = before


def receipts(api: httpx.Client, order_id: int) -> list[dict[str, Any]]:
    answer = api.get(f"/api/v1/orders/{order_id}/receipts")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def run_the_worker_until_printed(api: httpx.Client, shop: LiveServer, order_id: int) -> None:
    """The worker's timed jobs (its fiscal job sends the queued receipts and reads their
    results), each run a minute after the last, until no receipt is open."""
    clock = Clock(datetime.now(UTC))
    for _ in range(6):
        report = run_due_jobs(shop.potok, clock=clock)
        assert report.fiscal is not None
        clock.moment += timedelta(minutes=1)
        states = {r["state"] for r in receipts(api, order_id)}
        if not states & {"queued", "sent", "wait"}:
            return
    raise AssertionError(f"receipts still open: {states}")


def test_paid_fiscalised_shipped_returned_refunded_and_reconciled(
    api: httpx.Client, shop: LiveServer, yookassa: YooKassaSimulator, atol: AtolSimulator
) -> None:
    potok = shop.potok
    order_id = place(api, [("KET", 2), ("MUG", 1)], payment_method="online")["id"]
    drain(potok)
    link = api.get(f"/api/v1/orders/{order_id}/payment").json()["gateway_payment"]
    assert (link["status"], link["amount"]) == ("pending", "5370.00")
    gateway_id = link["gateway_payment_id"]

    # the customer pays on ЮKassa's page; ЮKassa says so
    yookassa.pay(gateway_id)
    assert yookassa.notify("payment.waiting_for_capture", gateway_id) == [200]
    drain(potok)
    assert get_order(api, order_id)["payment_status"] == "authorized"
    assert receipts(api, order_id) == []  # no money taken yet: nothing to fiscalise

    # handed over: the money is captured, and the sale is fiscalised
    ship(potok, order_id)
    drain(potok)
    assert get_order(api, order_id)["payment_status"] == "paid"
    assert yookassa.payments[gateway_id].status == "succeeded"
    assert yookassa.notify("payment.succeeded", gateway_id) == [200]  # known already
    # captured as the goods went: one full-payment receipt, no advance and no offset
    (sale,) = receipts(api, order_id)
    assert (sale["kind"], sale["operation"], sale["payment_type"], sale["total"]) == (
        "settlement",
        "sell",
        "electronic",
        "5370.00",
    )
    assert sale["state"] == "queued"
    assert [(x["sku"], x["quantity"], x["payment_method"]) for x in sale["lines"]] == [
        ("KET", 2, "full_payment"),
        ("MUG", 1, "full_payment"),
    ]

    # one kettle comes back: refunded through ЮKassa, with a refund receipt
    returned = api.post(
        f"/api/v1/orders/{order_id}/returns",
        json={"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}], "approve": True},
        headers={"Idempotency-Key": "story-return-1"},
    )
    assert returned.status_code == 201, returned.text
    number = returned.json()["number"]
    received = api.post("/api/v1/warehouses/MSK/return-receipts", json={"number": number})
    assert received.status_code in (200, 201), received.text
    drain(potok)
    (refund,) = yookassa.refunds.values()
    assert (refund.payment_id, str(refund.amount), refund.status) == (
        gateway_id,
        "2490.00",
        "succeeded",
    )
    assert api.get(f"/api/v1/returns/{number}").json()["refund_status"] == "paid"
    assert get_order(api, order_id)["payment_status"] == "partially_refunded"
    refund_receipt = [r for r in receipts(api, order_id) if r["kind"] == "refund"]
    assert [(r["operation"], r["total"]) for r in refund_receipt] == [("sell_refund", "2490.00")]

    # a marketplace's order: paid to the marketplace, no receipt of Potok's, no gateway
    marketplace = place(
        api, [("MUG", 1)], channel="mp", external_id="MP-7", payment_method="marketplace"
    )["id"]
    paid = api.post(f"/api/v1/orders/{marketplace}/payment", json={"status": "paid"})
    assert paid.status_code == 200, paid.text
    drain(potok)
    assert [r["state"] for r in receipts(api, marketplace)] == ["skipped"]
    gateway = api.get(f"/api/v1/orders/{marketplace}/payment").json()
    assert (gateway["gateway_state"], gateway["gateway_payment"]) == ("none", None)

    # the worker's fiscal job prints both receipts at АТОЛ; their fiscal attributes are kept
    run_the_worker_until_printed(api, shop, order_id)
    printed = receipts(api, order_id)
    assert [(r["kind"], r["operation"], r["state"]) for r in printed] == [
        ("settlement", "sell", "done"),
        ("refund", "sell_refund", "done"),
    ]
    for receipt in printed:
        fiscal = receipt["fiscal"]
        assert fiscal["fn_number"] == "9999078902004312"
        assert fiscal["register_number"] == "0000000001002292"
        assert fiscal["fiscal_document_number"] > 0
        assert fiscal["fiscal_document_attribute"] > 0
        assert fiscal["registered_at"]
    bodies = [(r.path.rsplit("/", 1)[-1], r.body) for r in atol.received if r.method == "POST"]
    sent = [
        (op, b["receipt"]["payments"], b["receipt"]["total"]) for op, b in bodies if "receipt" in b
    ]
    assert [(op, total) for op, _, total in sent] == [("sell", 5370), ("sell_refund", 2490)]
    assert [payments for _, payments, _ in sent] == [
        [{"type": 1, "sum": 5370}],
        [{"type": 1, "sum": 2490}],
    ]
    assert atol.counters.registrations == 2  # none for the marketplace's order

    today = datetime.now(UTC).date().isoformat()
    report = api.get("/api/v1/reports/reconciliation", params={"from": today, "to": today})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["receipts_checked"] is True
    rows = {r["order_id"]: r for r in body["rows"]}
    assert set(rows) == {order_id, marketplace}
    assert body["with_differences"] == 0, [(r["order_id"], r["differences"]) for r in body["rows"]]
    own = rows[order_id]
    assert (own["paid"], own["refunded"], own["gateway_captured"], own["gateway_refunded"]) == (
        "5370.00",
        "2490.00",
        "5370.00",
        "2490.00",
    )
    assert (own["receipts_sold"], own["receipts_refunded"]) == ("5370.00", "2490.00")
    assert rows[marketplace]["gateway_status"] is None
    assert len(yookassa.payments) == 1  # the marketplace's order never reached ЮKassa
