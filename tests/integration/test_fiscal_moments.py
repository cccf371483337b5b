"""The receipt 54-ФЗ asks for at the moment the money is taken, on both databases, with a
two-stage payment through the simulated ЮKassa (held when the customer pays, captured at
hand-over or by an operator before it) and the fiscal receipts the reaction queues. Each
case writes the receipts an accountant expects by hand - kind, payment type, the payment
method of each line, the sums:

- captured at hand-over: one ``full_payment`` settlement (not a prepayment and its offset),
  in either mode;
- captured before hand-over: ``at_payment`` a ``full_prepayment`` sale and its offset at
  hand-over; ``at_handover`` one settlement at hand-over;
- a line cancelled before the capture: the receipt of what was captured only;
- two shipments, captured at the first hand-over: one receipt settling the first's goods
  and taking the second's in advance (a method per line), then the second's offset - all
  registered by the simulated АТОЛ, which checks each request against its JSON Schemas;
- cash on delivery: nothing at hand-over, a settlement when delivered;
- a hold about to lapse (ЮKassa lets a card's go after 7 days) captured by the poller
  before the hand-over: a prepayment, then its offset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingStatus
from potok.connectors.payments.registry import Gateways
from potok.domain.fiscal import FiscalMode, PaymentType, Receipt, ReceiptKind, ReceiptState
from potok.domain.orders import PaymentMethod, PaymentStatus
from potok.domain.payments.accounts import AccountDraft
from potok.services import legal_entities
from potok.services.fiscal import sending
from potok.services.intake import Placement, place_order
from potok.services.order_edits import CancelLines, cancel_lines
from potok.services.payments.accounts import connect_channel
from potok.services.payments.actions import capture_payment
from potok.services.payments.polling import poll_payments
from potok.settings import PaymentSettings
from tests.documents_support import SELLER
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_fiscal_receipts import desk, drain, receipts, shape
from tests.integration.test_fiscal_sending import atol_desk
from tests.integration.test_gateway_payments import (
    T0,
    Clock,
    order_payment,
    outside,
    payment_of,
    ship,
)
from tests.integration.test_returns import _track
from tests.simulators.atol import AtolSimulator
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator


@pytest.fixture
def shop(potok: Potok, yookassa: YooKassaSimulator) -> Iterator[Potok]:
    """The web channel connected to the simulated ЮKassa; kettles at Moscow, mugs at Moscow
    and St Petersburg (toys only there); the seller's receipts printed ``at_payment``."""
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10, ("SPB", "TOY"): 10})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
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


def place(potok: Potok, lines: list[tuple[str, int]], **extra: object) -> int:
    """An own-shop order with a courier delivery at 300.00 (22 % VAT)."""
    command = order_command(lines, **extra)
    delivery = replace(command.delivery, price=Decimal("300.00"), vat_rate=Decimal("22"))
    placed = place_order(potok.uow(), replace(command, delivery=delivery), TESTER)
    assert isinstance(placed, Placement)
    return placed.order.id or 0


def authorised(shop: Potok, yookassa: YooKassaSimulator, lines: list[tuple[str, int]]) -> int:
    """An own-shop order paid online, its money held at ЮKassa."""
    order_id = place(shop, lines, payment_method=PaymentMethod.ONLINE)
    drain(shop)
    payment = payment_of(shop, order_id)
    yookassa.pay(payment.gateway_id)
    poll_payments(outside(shop), every_s=0, limit=10)
    drain(shop)
    assert order_payment(shop, order_id) is PaymentStatus.AUTHORIZED
    assert receipts(shop, order_id) == []  # nothing taken yet: nothing to fiscalise
    return order_id


def methods(receipt: Receipt) -> list[tuple[str, str, int, str, int | None]]:
    """Each line: what, price, units, payment method, the shipment it settles."""
    return [
        (
            line.sku or line.name,
            str(line.price),
            line.quantity,
            line.payment_method.value,
            line.shipment_id,
        )
        for line in receipt.lines
    ]


@pytest.mark.parametrize("mode", [FiscalMode.AT_PAYMENT, FiscalMode.AT_HANDOVER])
def test_money_captured_at_hand_over_is_one_full_payment_settlement(
    shop: Potok, yookassa: YooKassaSimulator, mode: FiscalMode
) -> None:
    shop.fiscal = desk(modes={"web": mode})
    order_id = authorised(shop, yookassa, [("KET", 2), ("MUG", 1)])
    shipment_id = ship(shop, order_id)
    drain(shop)  # the capture, then the receipt of the money it took
    drain(shop)  # again: nothing more (no offset of an advance that never was)
    assert payment_of(shop, order_id).captured_amount == Decimal("5670.00")
    assert order_payment(shop, order_id) is PaymentStatus.PAID

    (receipt,) = receipts(shop, order_id)
    assert (receipt.kind, receipt.operation.value, receipt.payment_type, receipt.state) == (
        ReceiptKind.SETTLEMENT,
        "sell",
        PaymentType.ELECTRONIC,
        ReceiptState.QUEUED,
    )
    expected_basis = {
        FiscalMode.AT_PAYMENT: f"payment:order:{order_id}",
        FiscalMode.AT_HANDOVER: f"handover:shipment:{shipment_id}",
    }
    assert receipt.basis == expected_basis[mode]
    assert methods(receipt) == [
        ("KET", "2490.00", 2, "full_payment", shipment_id),
        ("MUG", "390.00", 1, "full_payment", shipment_id),
        ("Доставка", "300.00", 1, "full_payment", None),
    ]
    assert shape(receipt)[2][5] == "service"
    assert receipt.total == Decimal("5670.00")  # what was captured
    assert receipt.vat_total == Decimal("1022.46")  # 22/122 of 5,670.00


def test_money_captured_before_hand_over_is_a_prepayment_then_its_offset(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    order_id = authorised(shop, yookassa, [("KET", 1), ("MUG", 2)])
    capture_payment(outside(shop), order_id, TESTER)  # an operator takes the money now
    drain(shop)
    (sale,) = receipts(shop, order_id)
    assert (sale.kind, sale.payment_type, sale.basis) == (
        ReceiptKind.SALE,
        PaymentType.ELECTRONIC,
        f"payment:order:{order_id}",
    )
    assert methods(sale) == [
        ("KET", "2490.00", 1, "full_prepayment", None),
        ("MUG", "390.00", 2, "full_prepayment", None),
        ("Доставка", "300.00", 1, "full_prepayment", None),
    ]
    assert sale.total == Decimal("3570.00")

    shipment_id = ship(shop, order_id)
    drain(shop)
    drain(shop)
    sale_again, offset = receipts(shop, order_id)
    assert sale_again.id == sale.id
    assert (offset.kind, offset.payment_type, offset.basis, offset.shipment_id) == (
        ReceiptKind.SETTLEMENT,
        PaymentType.PREPAID,
        f"handover:shipment:{shipment_id}",
        shipment_id,
    )
    assert methods(offset) == [
        ("KET", "2490.00", 1, "full_payment", shipment_id),
        ("MUG", "390.00", 2, "full_payment", shipment_id),
        ("Доставка", "300.00", 1, "full_payment", None),
    ]
    assert offset.total == Decimal("3570.00")
    assert len(yookassa.calls(f"/payments/{payment_of(shop, order_id).gateway_id}/capture")) == 1


def test_money_captured_before_hand_over_is_settled_at_hand_over_in_that_mode(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    shop.fiscal = desk(modes={"web": FiscalMode.AT_HANDOVER})
    order_id = authorised(shop, yookassa, [("KET", 1)])
    capture_payment(outside(shop), order_id, TESTER)
    drain(shop)
    assert receipts(shop, order_id) == []  # paid, not handed over: nothing yet
    shipment_id = ship(shop, order_id)
    drain(shop)
    (settled,) = receipts(shop, order_id)
    assert (settled.kind, settled.payment_type, settled.basis) == (
        ReceiptKind.SETTLEMENT,
        PaymentType.ELECTRONIC,
        f"handover:shipment:{shipment_id}",
    )
    assert methods(settled) == [
        ("KET", "2490.00", 1, "full_payment", shipment_id),
        ("Доставка", "300.00", 1, "full_payment", None),
    ]


def test_a_partial_capture_after_a_cancelled_line_is_fiscalised_for_what_was_taken(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    order_id = authorised(shop, yookassa, [("KET", 1), ("MUG", 2)])
    cancel_lines(shop.uow(), CancelLines(order_id, {2: 1}, "out of mugs"), TESTER)
    shipment_id = ship(shop, order_id)
    drain(shop)
    drain(shop)
    assert payment_of(shop, order_id).captured_amount == Decimal("3180.00")
    (receipt,) = receipts(shop, order_id)
    assert (receipt.kind, receipt.payment_type) == (ReceiptKind.SETTLEMENT, PaymentType.ELECTRONIC)
    assert methods(receipt) == [
        ("KET", "2490.00", 1, "full_payment", shipment_id),
        ("MUG", "390.00", 1, "full_payment", shipment_id),
        ("Доставка", "300.00", 1, "full_payment", None),
    ]
    assert receipt.total == Decimal("3180.00")  # 3,570.00 held, one mug let go


def test_two_shipments_captured_at_the_first_hand_over_settle_one_and_prepay_the_other(
    shop: Potok, yookassa: YooKassaSimulator, atol: AtolSimulator
) -> None:
    shop.fiscal = atol_desk(atol)
    order_id = authorised(shop, yookassa, [("KET", 1), ("TOY", 2)])  # from MSK and SPB
    first = ship(shop, order_id, "MSK")
    drain(shop)
    drain(shop)
    assert payment_of(shop, order_id).captured_amount == Decimal("4770.00")
    (money,) = receipts(shop, order_id)
    assert (money.kind, money.payment_type) == (ReceiptKind.SALE, PaymentType.ELECTRONIC)
    assert methods(money) == [
        ("KET", "2490.00", 1, "full_payment", first),  # the kettle went: settled
        ("TOY", "990.00", 2, "full_prepayment", None),  # the toys are still to come
        ("Доставка", "300.00", 1, "full_payment", None),
    ]
    assert money.total == Decimal("4770.00")

    second = ship(shop, order_id, "SPB")
    drain(shop)
    _, offset = receipts(shop, order_id)
    assert (offset.kind, offset.payment_type, offset.shipment_id) == (
        ReceiptKind.SETTLEMENT,
        PaymentType.PREPAID,
        second,
    )
    assert methods(offset) == [("TOY", "990.00", 2, "full_payment", second)]
    assert offset.total == Decimal("1980.00")

    clock = Clock(T0)
    for _ in range(4):  # sent, looked at, printed
        sending.work_the_queue(shop.uow, shop.fiscal, clock=clock)
        clock.moment += timedelta(minutes=1)
    assert [r.state for r in receipts(shop, order_id)] == [ReceiptState.DONE, ReceiptState.DONE]
    sell = [r.body["receipt"] for r in atol.received if r.path.endswith("/sell")]
    assert [[i["payment_method"] for i in body["items"]] for body in sell] == [
        ["full_payment", "full_prepayment", "full_payment"],
        ["full_payment"],
    ]
    assert [body["payments"] for body in sell] == [
        [{"type": 1, "sum": Decimal("4770.0")}],
        [{"type": 2, "sum": Decimal("1980.0")}],
    ]


def test_cash_on_delivery_is_fiscalised_when_delivered_in_either_mode(shop: Potok) -> None:
    for mode in (FiscalMode.AT_PAYMENT, FiscalMode.AT_HANDOVER):
        shop.fiscal = desk(modes={"web": mode})
        order_id = place(shop, [("MUG", 1)], payment_method=PaymentMethod.CASH_ON_DELIVERY)
        shipment_id = ship(shop, order_id)
        drain(shop)
        assert receipts(shop, order_id) == []
        assert payment_of(shop, order_id) is None  # the carrier collects, not ЮKassa
        _track(shop, f"OWN-{order_id}", TrackingStatus.DELIVERED, T0 + timedelta(days=1), mode)
        drain(shop)
        (settled,) = receipts(shop, order_id)
        assert (settled.kind, settled.payment_type, settled.basis) == (
            ReceiptKind.SETTLEMENT,
            PaymentType.CASH,
            f"delivery:shipment:{shipment_id}",
        )
        assert methods(settled) == [
            ("MUG", "390.00", 1, "full_payment", shipment_id),
            ("Доставка", "300.00", 1, "full_payment", None),
        ]


def test_a_hold_about_to_lapse_is_captured_and_fiscalised_as_a_prepayment(
    shop: Potok, yookassa: YooKassaSimulator
) -> None:
    order_id = authorised(shop, yookassa, [("KET", 1)])  # held at T0
    six_days = Clock(T0 + timedelta(days=6))
    early = poll_payments(
        outside(shop, six_days), every_s=0, limit=10, capture_after=timedelta(hours=156)
    )
    assert early.captured == []  # held 144 hours: not yet
    later = Clock(T0 + timedelta(hours=157))
    run = poll_payments(
        outside(shop, later), every_s=0, limit=10, capture_after=timedelta(hours=156)
    )
    assert run.captured == [order_id]
    assert payment_of(shop, order_id).captured_amount == Decimal("2790.00")
    assert order_payment(shop, order_id) is PaymentStatus.PAID
    drain(shop)
    (sale,) = receipts(shop, order_id)
    assert (sale.kind, sale.payment_type) == (ReceiptKind.SALE, PaymentType.ELECTRONIC)
    assert methods(sale) == [
        ("KET", "2490.00", 1, "full_prepayment", None),
        ("Доставка", "300.00", 1, "full_prepayment", None),
    ]
    shipment_id = ship(shop, order_id)
    drain(shop)
    drain(shop)  # no second capture: the hand-over finds it captured
    _, offset = receipts(shop, order_id)
    assert (offset.payment_type, offset.shipment_id) == (PaymentType.PREPAID, shipment_id)
    gateway_id = payment_of(shop, order_id).gateway_id
    assert len(yookassa.calls(f"/payments/{gateway_id}/capture")) == 1
