"""A refund the payment gateway refuses, on both databases, against the simulated ЮKassa
with fiscal receipts on: the return's refund is marked failed with ЮKassa's words, an
operator alert (and a task in the connector errors' queue) says the customer is still
owed, and no refund receipt is printed for money that was not given back. The operator
asks again - refused again, raised again; then paid - and the refund receipt follows; or
pays it another way and records it, and the refund receipt follows too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.payments.registry import Gateways
from potok.domain.alerts import AlertKind, AlertState
from potok.domain.fiscal import ReceiptKind
from potok.domain.orders import PaymentStatus
from potok.domain.payments import RefundState
from potok.domain.payments.accounts import AccountDraft
from potok.domain.returns import RefundStatus
from potok.services import legal_entities
from potok.services.payments.accounts import connect_channel
from potok.services.payments.polling import poll_payments
from potok.services.payments.reconciliation import reconciliation_report
from potok.services.returns import requests
from potok.services.unit_of_work import reading
from potok.settings import PaymentSettings
from tests.documents_support import SELLER
from tests.factories import TESTER, build_world
from tests.integration.test_fiscal_receipts import desk, drain, receipts, shape
from tests.integration.test_gateway_payments import (
    DAY_BEFORE,
    order_payment,
    outside,
    payment_of,
    place,
    returned,
    ship,
)
from tests.integration.test_system_tasks import queues, titles
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator

DISABLED = {
    "type": "error",
    "id": "x",
    "code": "invalid_request",
    "description": "Refunds are disabled by settings",
}


@pytest.fixture
def shop(potok: Potok, yookassa: YooKassaSimulator) -> Iterator[Potok]:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    queues(potok, "connector-errors")
    potok.fiscal = desk()
    potok.gateways = Gateways(
        PaymentSettings(yookassa_url=yookassa.url, attempts=2), sleep=lambda s: None
    )
    connect_channel(
        potok.uow(),
        AccountDraft("web", SHOP_ID, SECRET_KEY, "https://shop.example.ru/thanks"),
        TESTER,
    )
    yield potok
    potok.gateways.close()


def captured(shop: Potok, yookassa: YooKassaSimulator) -> int:
    """Two kettles and a mug, paid at ЮKassa, captured at hand-over, fiscalised."""
    order_id = place(shop, [("KET", 2), ("MUG", 1)])
    drain(shop)
    yookassa.pay(payment_of(shop, order_id).gateway_id)
    poll_payments(outside(shop), every_s=0, limit=10)
    ship(shop, order_id)
    drain(shop)
    drain(shop)
    assert order_payment(shop, order_id) is PaymentStatus.PAID
    return order_id


def refund_status(shop: Potok, number: str) -> RefundStatus:
    ret = reading(shop.uow(), lambda uow: uow.returns.get(number))
    assert ret is not None
    return ret.refund_status


def refused_alerts(shop: Potok, order_id: int) -> list[str]:
    alerts, _ = reading(
        shop.uow(),
        lambda uow: uow.alerts.list_page(
            state=AlertState.OPEN, order_id=order_id, cursor=None, limit=10
        ),
    )
    return [a.message for a in alerts if a.kind is AlertKind.REFUND_REFUSED]


def test_a_refused_refund_is_raised_still_owed_and_asked_again(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    order_id = captured(shop, yookassa)
    yookassa.fail(1, 400, DISABLED)
    number = returned(shop, order_id, 1)
    drain(shop)
    drain(shop)  # the alert's task, and whatever else follows

    assert refund_status(shop, number) is RefundStatus.FAILED
    payment = payment_of(shop, order_id)
    assert payment.last_error == "refund: Refunds are disabled by settings"
    assert order_payment(shop, order_id) is PaymentStatus.PAID  # nothing given back
    message = (
        f"the refund of return {number} (2490.00 RUB) was not paid - yookassa did not "
        "refund: Refunds are disabled by settings. The customer is still owed: ask again "
        f"(potok returns refund {number} pending) or pay it another way and record it "
        f"(potok returns refund {number} paid)"
    )
    assert refused_alerts(shop, order_id) == [message]
    assert titles(shop, "connector-errors") == [(order_id, message, "anna")]
    # no money went back: no refund receipt
    assert [r.kind for r in receipts(shop, order_id)] == [ReceiptKind.SETTLEMENT]

    # the operator asks again; ЮKassa refuses again: raised again, still owed
    yookassa.fail(1, 400, DISABLED)
    requests.settle_refund(shop.uow(), number, RefundStatus.PENDING, TESTER)
    drain(shop)
    assert refund_status(shop, number) is RefundStatus.FAILED
    assert len(refused_alerts(shop, order_id)) == 2
    assert [r.kind for r in receipts(shop, order_id)] == [ReceiptKind.SETTLEMENT]

    # and once more: refunded now, and the refund receipt follows
    requests.settle_refund(shop.uow(), number, RefundStatus.PENDING, TESTER)
    drain(shop)
    drain(shop)
    assert refund_status(shop, number) is RefundStatus.PAID
    (refund,) = payment_of(shop, order_id).refunds
    assert (refund.status, refund.amount) == (RefundState.SUCCEEDED, Decimal("2490.00"))
    assert [r.status for r in yookassa.refunds.values()] == ["succeeded"]
    assert len(yookassa.calls("/refunds")) == 3  # refused, refused, paid: a new key each time
    assert order_payment(shop, order_id) is PaymentStatus.PARTIALLY_REFUNDED
    _, printed = receipts(shop, order_id)
    assert (printed.kind, printed.return_number, printed.total) == (
        ReceiptKind.REFUND,
        number,
        Decimal("2490.00"),
    )
    assert shape(printed) == [("KET", "2490.00", 1, "vat22", "full_payment", "commodity")]


def test_a_refused_refund_paid_another_way_gets_its_receipt_and_is_listed(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    order_id = captured(shop, yookassa)
    yookassa.fail(1, 400, DISABLED)
    number = returned(shop, order_id, 1)
    drain(shop)
    assert refund_status(shop, number) is RefundStatus.FAILED

    # paid back by bank transfer, and recorded
    requests.settle_refund(
        shop.uow(), number, RefundStatus.PAID, TESTER, note="paid by bank transfer"
    )
    drain(shop)
    assert order_payment(shop, order_id) is PaymentStatus.PARTIALLY_REFUNDED
    kinds = [(r.kind, r.total) for r in receipts(shop, order_id)]
    assert kinds == [
        (ReceiptKind.SETTLEMENT, Decimal("5370.00")),
        (ReceiptKind.REFUND, Decimal("2490.00")),
    ]
    assert len(yookassa.calls("/refunds")) == 1  # the gateway is not asked again

    report = reconciliation_report(
        shop.uow(), DAY_BEFORE, datetime.now(UTC).date(), only_differences=True
    )
    (row,) = report.rows
    # the receipts agree with Potok; the gateway never gave this money back: listed
    assert [(d.code.value, d.detail) for d in row.differences] == [
        (
            "refund_not_at_gateway",
            f"return {number}: 2490.00 RUB paid in Potok, at the gateway canceled",
        )
    ]
