"""The payment flow against the simulated ЮKassa, on both databases: an own-shop order gets
a two-stage payment after its intake committed (the intake never waits for the gateway),
is authorised when the customer pays, captured at hand-over (partly when a line was cancelled
before), refunded for a return; a cancelled order's hold is let go; marketplace orders never
reach the gateway; a gateway outage holds the reaction back and it is retried, nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.payments.registry import Gateways
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.orders import PaymentStatus
from potok.domain.orders.commands import CancelOrder
from potok.domain.payments import GatewayStatus, RefundState
from potok.domain.payments.accounts import AccountDraft
from potok.domain.returns import RefundStatus
from potok.services import orders as order_service
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from potok.services.order_edits import CancelLines, cancel_lines
from potok.services.outside import Outside
from potok.services.payments.accounts import connect_channel
from potok.services.payments.polling import poll_payments
from potok.services.payments.reconciliation import as_csv, reconciliation_report
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from potok.services.unit_of_work import reading
from potok.settings import PaymentSettings
from potok.worker.dispatcher import Dispatcher, new_client
from tests.factories import TESTER, build_world, order_command
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DAY_BEFORE = T0.date() - timedelta(days=1)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def shop(potok: Potok, yookassa: YooKassaSimulator) -> Iterator[Potok]:
    """Potok with the web channel connected to the simulated ЮKassa."""
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
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


def place(potok: Potok, lines: list[tuple[str, int]], **extra: object) -> int:
    placed = place_order(potok.uow(), order_command(lines, **extra), TESTER)
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    return placed.order.id


def payment_of(potok: Potok, order_id: int):  # type: ignore[no-untyped-def]
    return reading(potok.uow(), lambda uow: uow.payments.for_order(order_id))


def order_payment(potok: Potok, order_id: int) -> PaymentStatus:
    order = reading(potok.uow(), lambda uow: uow.orders.get(order_id))
    assert order is not None
    return order.payment_status


def ship(potok: Potok, order_id: int, warehouse: str = "MSK") -> int:
    """Release, pick, pack and hand the whole order over to the courier 'own'."""
    (shipment,) = release.release_order(potok.uow(), order_id, warehouse, TESTER)
    shipment_id = shipment.id or 0
    for item in reads.get_shipment(potok.uow(), shipment_id).shipment.items:
        picking.pick(potok.uow(), shipment_id, ScanInput(item.sku, item.quantity), TESTER)
    items = reads.get_shipment(potok.uow(), shipment_id).shipment.items
    packing.pack_parcel(
        potok.uow(),
        shipment_id,
        ParcelDraft(2000, 300, 200, 200, tuple(ParcelLine(i.item_no, i.quantity) for i in items)),
        TESTER,
    )
    tracking.hand_over_to(
        potok.uow(),
        potok.carriers,
        shipment_id,
        TESTER,
        carrier="own",
        tracking_number=f"OWN-{order_id}",
    )
    return shipment_id


def outside(potok: Potok, clock: Clock | None = None) -> Outside:
    return Outside(potok.uow, potok.carriers, clock or Clock(T0), potok.gateways)


def test_an_own_shop_order_is_paid_in_two_stages_through_the_gateway(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = place(shop, [("KET", 1), ("MUG", 2)])
        assert payment_of(shop, order_id) is None  # the intake did not wait for the gateway
        assert yookassa.received == []

        dispatcher.run_round()
        payment = payment_of(shop, order_id)
        assert payment is not None
        assert payment.status is GatewayStatus.PENDING
        assert payment.amount == Decimal("3270.00")  # 2490 + 2 × 390
        assert payment.confirmation_url is not None
        assert payment.confirmation_url.startswith("https://yoomoney.ru/checkout/")
        (created,) = yookassa.calls("/payments")
        assert created.body["amount"] == {"value": "3270.00", "currency": "RUB"}
        assert created.body["capture"] is False
        assert created.body["confirmation"] == {
            "type": "redirect",
            "return_url": "https://shop.example.ru/thanks",
        }
        assert created.headers["Idempotence-Key"].startswith("potok-payment-")
        dispatcher.run_round()
        assert len(yookassa.calls("/payments")) == 1  # asked once

        yookassa.pay(payment.gateway_id)
        run = poll_payments(outside(shop), every_s=0, limit=10)
        assert run.changed == [order_id]
        assert payment_of(shop, order_id).status is GatewayStatus.WAITING_FOR_CAPTURE
        assert order_payment(shop, order_id) is PaymentStatus.AUTHORIZED
        again = poll_payments(outside(shop), every_s=0, limit=10)
        assert again.changed == []  # the same news twice changes nothing

        # a mug is cancelled before shipping: the capture is partial
        cancel_lines(shop.uow(), CancelLines(order_id, {2: 1}, "out of mugs"), TESTER)
        ship(shop, order_id)
        dispatcher.run_round()
        captured = payment_of(shop, order_id)
        assert captured.status is GatewayStatus.SUCCEEDED
        assert captured.captured_amount == Decimal("2880.00")
        (capture,) = yookassa.calls(f"/payments/{payment.gateway_id}/capture")
        assert capture.body == {"amount": {"value": "2880.00", "currency": "RUB"}}
        assert order_payment(shop, order_id) is PaymentStatus.PAID


def test_a_marketplace_order_never_reaches_the_gateway(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = place(shop, [("KET", 1)], channel="mp", external_id="MP-1")
        phone = place(shop, [("KET", 1)], channel="phone")
        dispatcher.run_round()
    assert payment_of(shop, order_id) is None
    assert payment_of(shop, phone) is None  # a channel without a gateway account
    assert yookassa.received == []


def test_a_cancelled_order_lets_its_hold_go(shop: Potok, yookassa: YooKassaSimulator) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = place(shop, [("KET", 1)])
        dispatcher.run_round()
        payment = payment_of(shop, order_id)
        yookassa.pay(payment.gateway_id)
        poll_payments(outside(shop), every_s=0, limit=10)
        order_service.cancel_order(shop.uow(), CancelOrder(order_id, "changed my mind"), TESTER)
        dispatcher.run_round()
    cancelled = payment_of(shop, order_id)
    assert cancelled.status is GatewayStatus.CANCELED
    assert cancelled.cancel_reason == "canceled_by_merchant"
    assert yookassa.payments[payment.gateway_id].status == "canceled"
    assert order_payment(shop, order_id) is PaymentStatus.FAILED


def test_a_gateway_outage_holds_the_reaction_back_and_it_is_retried(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    clock = Clock(T0)
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments", clock=clock)
        first = place(shop, [("KET", 1)])
        second = place(shop, [("MUG", 1)])
        yookassa.fail(2, 503)  # both tries of the first call: the reaction fails
        report = dispatcher.run_round()
        assert report.reactions_failed == 1
        assert payment_of(shop, first) is None
        assert payment_of(shop, second) is None  # nothing goes before the failed one
        stats = reading(shop.uow(), lambda uow: uow.consumers.state("reaction:gateway_payments"))
        assert stats is not None
        assert stats[1] == 1
        clock.moment = T0 + timedelta(hours=1)
        dispatcher.run_round()
    assert payment_of(shop, first).status is GatewayStatus.PENDING
    assert payment_of(shop, second).status is GatewayStatus.PENDING
    keys = [r.headers["Idempotence-Key"] for r in yookassa.calls("/payments")]
    assert len(set(keys)) == 2  # the retried call kept its key
    assert len(yookassa.payments) == 2


def test_a_pending_payment_of_a_cancelled_order_paid_later_is_let_go(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = place(shop, [("KET", 1)])
        dispatcher.run_round()
        order_service.cancel_order(shop.uow(), CancelOrder(order_id, "too slow"), TESTER)
        dispatcher.run_round()
    payment = payment_of(shop, order_id)
    assert payment.status is GatewayStatus.PENDING  # nothing held yet: nothing to cancel
    yookassa.pay(payment.gateway_id)  # the customer pays after all
    run = poll_payments(outside(shop), every_s=0, limit=10)
    assert run.released == [order_id]
    assert yookassa.payments[payment.gateway_id].status == "canceled"
    assert payment_of(shop, order_id).status is GatewayStatus.CANCELED


def test_the_account_refuses_marketplaces_and_keeps_the_key_sealed(
    shop: Potok,
) -> None:
    from potok.domain.payments import MarketplaceTakesNoGateway

    with pytest.raises(MarketplaceTakesNoGateway):
        connect_channel(
            shop.uow(), AccountDraft("mp", SHOP_ID, SECRET_KEY, "https://x.example"), TESTER
        )
    import sqlalchemy as sa

    with shop.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT credentials FROM payment_accounts")).scalar()
    assert stored is not None
    assert SECRET_KEY not in stored
    assert stored.startswith("pd1:")


def paid_and_shipped(shop: Potok, yookassa: YooKassaSimulator, dispatcher: Dispatcher) -> int:
    """An own-shop order of two kettles and a mug, paid, captured at hand-over."""
    order_id = place(shop, [("KET", 2), ("MUG", 1)])
    dispatcher.run_round()
    payment = payment_of(shop, order_id)
    yookassa.pay(payment.gateway_id)
    poll_payments(outside(shop), every_s=0, limit=10)
    ship(shop, order_id)
    dispatcher.run_round()
    assert order_payment(shop, order_id) is PaymentStatus.PAID
    return order_id


def returned(shop: Potok, order_id: int, kettles: int) -> str:
    ret = requests.request_return(
        shop.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, kettles, "defective")], approve=True),
        TESTER,
    )
    handling.receive_return(shop.uow(), ret.number, "MSK", TESTER)
    return ret.number


def test_a_return_is_refunded_through_the_gateway_and_its_refund_paid_in_potok(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = paid_and_shipped(shop, yookassa, dispatcher)
        number = returned(shop, order_id, 1)
        dispatcher.run_round()
    payment = payment_of(shop, order_id)
    (refund,) = payment.refunds
    assert (refund.return_number, refund.amount, refund.status) == (
        number,
        Decimal("2490.00"),
        RefundState.SUCCEEDED,
    )
    (asked,) = yookassa.calls("/refunds")
    assert asked.body["payment_id"] == payment.gateway_id
    assert asked.body["amount"] == {"value": "2490.00", "currency": "RUB"}
    assert yookassa.refunds[refund.gateway_id].status == "succeeded"
    ret = reading(shop.uow(), lambda uow: uow.returns.get(number))
    assert ret is not None
    assert ret.refund_status is RefundStatus.PAID
    assert order_payment(shop, order_id) is PaymentStatus.PARTIALLY_REFUNDED
    assert payment.refunded_amount == Decimal("2490.00")


def test_a_refund_the_gateway_settles_later_is_paid_when_it_succeeds(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    yookassa.refunds_pending = True
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = paid_and_shipped(shop, yookassa, dispatcher)
        number = returned(shop, order_id, 2)
        dispatcher.run_round()
    (refund,) = payment_of(shop, order_id).refunds
    assert refund.status is RefundState.PENDING
    ret = reading(shop.uow(), lambda uow: uow.returns.get(number))
    assert ret is not None
    assert ret.refund_status is RefundStatus.PENDING
    yookassa.finish_refund(refund.gateway_id)
    run = poll_payments(outside(shop), every_s=0, limit=10)
    assert run.changed == [order_id]
    ret = reading(shop.uow(), lambda uow: uow.returns.get(number))
    assert ret is not None
    assert ret.refund_status is RefundStatus.PAID
    assert order_payment(shop, order_id) is PaymentStatus.PARTIALLY_REFUNDED


def test_a_refund_the_gateway_refuses_is_left_for_an_operator(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = paid_and_shipped(shop, yookassa, dispatcher)
        yookassa.fail(
            1,
            400,
            {
                "type": "error",
                "id": "x",
                "code": "invalid_request",
                "description": "Refunds are disabled by settings",
            },
        )
        number = returned(shop, order_id, 1)
        dispatcher.run_round()
    payment = payment_of(shop, order_id)
    (refund,) = payment.refunds
    assert refund.status is RefundState.CANCELED
    assert payment.last_error == "refund: Refunds are disabled by settings"
    ret = reading(shop.uow(), lambda uow: uow.returns.get(number))
    assert ret is not None
    assert ret.refund_status is RefundStatus.FAILED
    assert order_payment(shop, order_id) is PaymentStatus.PAID  # nothing was given back


def test_the_reconciliation_report_finds_nothing_missing_then_a_refund_paid_by_hand(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(shop, client, name="payments")
        order_id = paid_and_shipped(shop, yookassa, dispatcher)
        returned(shop, order_id, 1)
        dispatcher.run_round()
        clean = reconciliation_report(shop.uow(), DAY_BEFORE, datetime.now(UTC).date())
        assert [(r.facts.order_id, r.differences) for r in clean.rows] == [(order_id, ())]
        (row,) = clean.rows
        assert (row.paid, row.refunded) == (Decimal("5370.00"), Decimal("2490.00"))
        assert row.facts.gateway is not None
        assert row.facts.gateway.captured == Decimal("5370.00")

        # the second kettle's refund is paid by hand before the gateway is asked
        second = returned(shop, order_id, 1)
        requests.settle_refund(shop.uow(), second, RefundStatus.PAID, TESTER)
        dispatcher.run_round()  # the reaction finds the refund settled: nothing asked
    assert len(yookassa.refunds) == 1
    report = reconciliation_report(
        shop.uow(), DAY_BEFORE, datetime.now(UTC).date(), only_differences=True
    )
    (found,) = report.rows
    assert [(d.code.value, d.detail) for d in found.differences] == [
        (
            "refund_not_at_gateway",
            f"return {second}: 2490.00 RUB paid in Potok, at the gateway not asked",
        )
    ]
    csv_text = as_csv(report)
    assert csv_text.splitlines()[0].startswith("order_id,channel,payment_status,paid")
    assert "refund_not_at_gateway" in csv_text
