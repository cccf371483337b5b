"""Fiscal receipts queued after the commit, on both databases, whoever moved the order: a
prepaid order's sale receipt when it is paid and its offset when handed over (with the
marking codes), a settlement when it is paid after the hand-over, a refund receipt when a
return's refund is paid, a settlement when a cash-on-delivery parcel is delivered; a
marketplace's order recorded as skipped; a refund above what was fiscalised, or a seller
with no fiscal settings, raised as failed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingStatus
from potok.domain.fiscal import (
    EntityProfile,
    FiscalRules,
    PaymentType,
    Receipt,
    ReceiptKind,
    ReceiptState,
    Taxation,
)
from potok.domain.orders import PaymentMethod, PaymentStatus
from potok.domain.orders.commands import RecordPayment
from potok.domain.returns import RefundStatus
from potok.services import legal_entities
from potok.services import orders as order_service
from potok.services.fiscal import reading
from potok.services.fiscal.desk import FiscalDesk
from potok.services.returns import handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest
from potok.worker.dispatcher import Dispatcher, new_client
from tests.documents_support import SELLER
from tests.factories import TESTER, build_world
from tests.integration.test_returns import T0, Clock, _handed_over, _track

PROFILE = EntityProfile("atol-main", Taxation.OSN, "https://shop.example.ru", "shop@example.ru")


def desk(**rules: object) -> FiscalDesk:
    return FiscalDesk(
        rules=FiscalRules(
            enabled=True,
            profiles={"potok": PROFILE},
            accounts=frozenset({"atol-main"}),
            **rules,  # type: ignore[arg-type]
        )
    )


@pytest.fixture
def shop(potok: Potok) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 20, ("MSK", "TOY"): 20})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = desk()
    return potok


def drain(potok: Potok) -> None:
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="tests")
        for _ in range(50):
            if not dispatcher.run_round().busy:
                return
    raise AssertionError("the dispatcher was still busy")


def receipts(potok: Potok, order_id: int) -> list[Receipt]:
    return reading.receipts_of_order(potok.uow(), order_id)


def shape(receipt: Receipt) -> list[tuple[str, str, int, str, str, str]]:
    return [
        (
            line.sku or line.name,
            str(line.price),
            line.quantity,
            line.vat.value,
            line.payment_method.value,
            line.payment_object.value,
        )
        for line in receipt.lines
    ]


def test_a_prepaid_order_gets_its_sale_its_offset_and_a_refund_receipt(shop: Potok) -> None:
    clock = Clock(T0)
    order_id, _, number = _handed_over(shop, [("KET", 2), ("TOY", 1)], clock)
    assert receipts(shop, order_id) == []  # never inside the order's transaction
    drain(shop)

    sale, offset = receipts(shop, order_id)
    assert (sale.kind, sale.state, sale.operation.value) == (
        ReceiptKind.SALE,
        ReceiptState.QUEUED,
        "sell",
    )
    assert sale.basis == f"payment:order:{order_id}"
    assert shape(sale) == [
        ("KET", "2490.00", 2, "vat22", "full_prepayment", "commodity"),
        ("TOY", "990.00", 1, "vat10", "full_prepayment", "commodity"),
    ]
    assert sale.total == Decimal("5970.00")
    assert sale.vat_total == Decimal("898.03") + Decimal("90.00")
    assert sale.payment_type is PaymentType.ELECTRONIC
    assert sale.company is not None
    assert sale.company.inn == "7707083893"

    assert offset.kind is ReceiptKind.SETTLEMENT
    assert offset.payment_type is PaymentType.PREPAID
    assert [line[4] for line in shape(offset)] == ["full_payment", "full_payment"]
    assert offset.total == sale.total

    _track(shop, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    clock.moment = T0 + timedelta(days=3)
    ret = requests.request_return(
        shop.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 1, "defective")], approve=True),
        TESTER,
        clock=clock,
    )
    handling.receive_return(shop.uow(), ret.number, "MSK", TESTER, clock=clock)
    requests.settle_refund(shop.uow(), ret.number, RefundStatus.PAID, TESTER, clock=clock)
    drain(shop)
    drain(shop)  # again: nothing more

    *_, refund = receipts(shop, order_id)
    assert len(receipts(shop, order_id)) == 3
    assert (refund.kind, refund.operation.value) == (ReceiptKind.REFUND, "sell_refund")
    assert refund.return_number == ret.number
    assert shape(refund) == [("KET", "2490.00", 1, "vat22", "full_payment", "commodity")]


def test_a_marketplace_order_is_recorded_as_skipped_once(shop: Potok) -> None:
    clock = Clock(T0)
    order_id, _, _ = _handed_over(shop, [("MUG", 1)], clock, channel="mp")
    drain(shop)
    (skipped,) = receipts(shop, order_id)
    assert skipped.state is ReceiptState.SKIPPED
    assert skipped.reason == "the marketplace issues the receipts of its sales"
    assert skipped.lines == ()


def test_cash_on_delivery_is_settled_when_delivered_not_when_handed_over(shop: Potok) -> None:
    clock = Clock(T0)
    order_id, _, number = _handed_over(
        shop, [("MUG", 2)], clock, paid=False, payment_method=PaymentMethod.CASH_ON_DELIVERY
    )
    drain(shop)
    assert receipts(shop, order_id) == []
    _track(shop, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    drain(shop)
    (settled,) = receipts(shop, order_id)
    assert settled.kind is ReceiptKind.SETTLEMENT
    assert settled.payment_type is PaymentType.CASH
    assert shape(settled) == [("MUG", "390.00", 2, "vat22", "full_payment", "commodity")]


def test_a_refund_above_what_was_fiscalised_is_raised_not_sent(shop: Potok) -> None:
    clock = Clock(T0)
    shop.fiscal = FiscalDesk()  # sold before Potok printed receipts
    order_id, _, number = _handed_over(shop, [("KET", 1)], clock)
    drain(shop)
    shop.fiscal = desk()
    _track(shop, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    ret = requests.request_return(
        shop.uow(),
        RequestReturn(order_id, [ReturnLineRequest(1, 1, "defective")], approve=True),
        TESTER,
        clock=clock,
    )
    handling.receive_return(shop.uow(), ret.number, "MSK", TESTER, clock=clock)
    requests.settle_refund(shop.uow(), ret.number, RefundStatus.PAID, TESTER, clock=clock)
    drain(shop)
    (refund,) = receipts(shop, order_id)
    assert refund.state is ReceiptState.FAILED
    assert refund.reason == (
        "the refund of 2490.00 RUB exceeds what was paid and fiscalised and not refunded "
        "yet (0.00 RUB)"
    )


def test_a_seller_without_fiscal_settings_gets_a_failed_receipt_with_why(shop: Potok) -> None:
    shop.fiscal = FiscalDesk(rules=FiscalRules(enabled=True))
    clock = Clock(T0)
    order_id, _, _ = _handed_over(shop, [("MUG", 1)], clock)
    drain(shop)
    sale, offset = receipts(shop, order_id)
    assert sale.state is ReceiptState.FAILED
    assert sale.reason == "legal entity 'potok' has no fiscal settings"
    assert offset.state is ReceiptState.FAILED  # the offset of that prepayment, raised too


def test_a_payment_recorded_after_the_hand_over_is_one_settlement_once(shop: Potok) -> None:
    clock = Clock(T0)
    order_id, shipment_id, _ = _handed_over(shop, [("MUG", 1)], clock, paid=False)
    order_service.record_payment(shop.uow(), RecordPayment(order_id, PaymentStatus.FAILED), TESTER)
    order_service.record_payment(shop.uow(), RecordPayment(order_id, PaymentStatus.PAID), TESTER)
    drain(shop)
    # paid for goods the customer has already: settled in full, no advance to offset
    (settled,) = receipts(shop, order_id)
    assert (settled.kind, settled.payment_type, settled.basis) == (
        ReceiptKind.SETTLEMENT,
        PaymentType.ELECTRONIC,
        f"payment:order:{order_id}",
    )
    assert shape(settled) == [("MUG", "390.00", 1, "vat22", "full_payment", "commodity")]
    assert [line.shipment_id for line in settled.lines] == [shipment_id]
