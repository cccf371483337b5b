"""Receipt lines: a line per order line and one per marked unit, VAT at 22/10/0 % or
«без НДС», the delivery as a service, brought down to a refund; what may be refunded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from potok.domain.fiscal import (
    Operation,
    PaymentMethodTag,
    PaymentType,
    Receipt,
    ReceiptKind,
    ReceiptState,
    Vat,
    vat_of,
)
from potok.domain.fiscal.compose import (
    Goods,
    HandedOver,
    cut_to,
    delivery_line,
    delivery_settled,
    goods_lines,
    payment_kind,
    payment_lines,
    refundable,
    settled_shipments,
)
from potok.domain.machine import IllegalTransition

T0 = datetime(2026, 12, 1, tzinfo=UTC)
FULL = PaymentMethodTag.FULL_PAYMENT


def test_marked_units_get_a_line_each_with_their_code() -> None:
    goods = [
        Goods(
            1, "SHOE", "Shoes", 3, Decimal("4990.00"), Decimal("22"), (("gs1m", "A"), ("gs1m", "B"))
        ),
        Goods(2, "BKS", "ABC book", 2, Decimal("450.00"), Decimal("10")),
    ]
    lines = goods_lines(goods, FULL, vat_payer=True)
    assert [(x.sku, x.quantity, x.mark_code, x.payment_object.value) for x in lines] == [
        ("SHOE", 1, "A", "marked_commodity"),
        ("SHOE", 1, "B", "marked_commodity"),
        ("SHOE", 1, None, "commodity"),
        ("BKS", 2, None, "commodity"),
    ]
    assert [x.vat for x in lines] == [Vat.VAT22] * 3 + [Vat.VAT10]
    assert lines[0].vat_amount == Decimal("899.84")  # 4990 * 22 / 122
    assert lines[3].vat_amount == Decimal("81.82")  # 900 * 10 / 110


def test_a_seller_without_vat_prints_none_and_zero_rates_print_vat0() -> None:
    goods = [Goods(1, "KET", "Kettle", 1, Decimal("100.00"), Decimal("22"))]
    (line,) = goods_lines(goods, FULL, vat_payer=False)
    assert (line.vat, line.vat_amount) == (Vat.NONE, Decimal("0.00"))
    assert vat_of(Decimal("0")) is Vat.VAT0
    with pytest.raises(ValueError, match="no receipt VAT for a rate of 18"):
        vat_of(Decimal("18"))


def test_the_delivery_is_a_service_line_unless_free() -> None:
    (line,) = delivery_line(Decimal("300"), Decimal("22"), FULL, vat_payer=True)
    assert (line.name, line.price, line.payment_object.value) == (
        "Доставка",
        Decimal("300.00"),
        "service",
    )
    assert delivery_line(Decimal("0"), Decimal("22"), FULL, vat_payer=True) == []


def test_lines_are_cut_to_an_amount_whole_units_first() -> None:
    goods = [
        Goods(1, "KET", "Kettle", 2, Decimal("2490.00"), Decimal("22")),
        Goods(2, "MUG", "Mug", 3, Decimal("390.00"), Decimal("22")),
    ]
    lines = goods_lines(goods, FULL, vat_payer=True)
    cut = cut_to(lines, Decimal("5800.00"))  # both kettles, two mugs and 40 roubles
    assert [(x.sku, x.price, x.quantity) for x in cut] == [
        ("KET", Decimal("2490.00"), 2),
        ("MUG", Decimal("390.00"), 2),
        ("MUG", Decimal("40.00"), 1),
    ]
    assert cut_to(lines, Decimal("100.00"))[0].price == Decimal("100.00")
    assert sum(x.amount for x in cut_to(lines, Decimal("99999"))) == Decimal("6150.00")


def _receipt(kind: ReceiptKind, state: ReceiptState, amount: str) -> Receipt:
    goods = [Goods(1, "KET", "Kettle", 1, Decimal(amount), Decimal("22"))]
    return Receipt(
        id=1,
        order_id=1,
        kind=kind,
        operation=Operation.SELL,
        basis="x",
        state=state,
        channel="web",
        currency="RUB",
        payment_type=PaymentType.ELECTRONIC,
        lines=tuple(goods_lines(goods, FULL, vat_payer=True)),
        created_at=T0,
        updated_at=T0,
        company=None,
    )


def test_refundable_is_what_was_fiscalised_less_what_was_refunded() -> None:
    sale = _receipt(ReceiptKind.SALE, ReceiptState.DONE, "1000.00")
    offset = replace(
        _receipt(ReceiptKind.SETTLEMENT, ReceiptState.QUEUED, "1000.00"),
        payment_type=PaymentType.PREPAID,  # the advance offset: no new money
    )
    refund = _receipt(ReceiptKind.REFUND, ReceiptState.WAIT, "300.00")
    failed = _receipt(ReceiptKind.REFUND, ReceiptState.FAILED, "500.00")
    assert refundable([sale, offset, refund, failed]) == Decimal("700.00")
    cod = _receipt(ReceiptKind.SETTLEMENT, ReceiptState.DONE, "800.00")
    assert refundable([cod]) == Decimal("800.00")
    assert refundable([]) == Decimal("0.00")


KETTLES = Goods(1, "KET", "Kettle", 2, Decimal("2490.00"), Decimal("22"))
TOYS = Goods(2, "TOY", "Toy bear", 3, Decimal("990.00"), Decimal("10"), (("gs1m", "T1"),))
DELIVERY = (Decimal("300.00"), Decimal("22"))


def _methods(lines: list) -> list[tuple[str | None, int, str, int | None]]:  # type: ignore[type-arg]
    return [(x.sku, x.quantity, x.payment_method.value, x.shipment_id) for x in lines]


def test_money_taken_before_any_hand_over_is_an_advance_for_everything() -> None:
    lines = payment_lines([KETTLES, TOYS], [], DELIVERY, vat_payer=True)
    assert _methods(lines) == [
        ("KET", 2, "full_prepayment", None),
        ("TOY", 3, "full_prepayment", None),  # marked units are named at the offset
        (None, 1, "full_prepayment", None),
    ]
    assert payment_kind(lines) is ReceiptKind.SALE
    assert sum(x.amount for x in lines) == Decimal("8250.00")


def test_money_taken_after_a_hand_over_settles_those_goods_and_prepays_the_rest() -> None:
    handed = HandedOver(7, (KETTLES, replace(TOYS, quantity=1)))
    lines = payment_lines([KETTLES, TOYS], [handed], DELIVERY, vat_payer=True)
    assert _methods(lines) == [
        ("KET", 2, "full_payment", 7),
        ("TOY", 1, "full_payment", 7),  # the marked toy that went, with its code
        ("TOY", 2, "full_prepayment", None),
        (None, 1, "full_payment", None),  # the delivery with the first goods settled
    ]
    assert lines[1].mark_code == "T1"
    assert payment_kind(lines) is ReceiptKind.SALE
    everything = HandedOver(7, (KETTLES, TOYS))
    settled = payment_lines([KETTLES, TOYS], [everything], DELIVERY, vat_payer=True)
    assert payment_kind(settled) is ReceiptKind.SETTLEMENT
    assert sum(x.amount for x in settled) == sum(x.amount for x in lines)


def test_receipts_say_which_shipments_and_whether_the_delivery_they_settled() -> None:
    lines = payment_lines([KETTLES, TOYS], [HandedOver(7, (KETTLES,))], DELIVERY, vat_payer=True)
    money = replace(_receipt(ReceiptKind.SALE, ReceiptState.FAILED, "1.00"), lines=tuple(lines))
    assert settled_shipments([money]) == {7}  # failed: its fix comes, it still stands
    assert delivery_settled([money])
    offset = replace(_receipt(ReceiptKind.SETTLEMENT, ReceiptState.QUEUED, "1.00"), shipment_id=8)
    skipped = replace(offset, state=ReceiptState.SKIPPED, shipment_id=9)
    assert settled_shipments([money, offset, skipped]) == {7, 8}
    advance = payment_lines([KETTLES], [], DELIVERY, vat_payer=True)
    assert not delivery_settled([replace(money, lines=tuple(advance))])


def test_a_receipt_moves_only_as_its_table_says() -> None:
    receipt = _receipt(ReceiptKind.SALE, ReceiptState.QUEUED, "10.00")
    receipt.sent("uuid-1", T0)
    receipt.waiting(T0)
    receipt.failed("ФН переполнен", 235, T0)
    assert (receipt.state, receipt.reason, receipt.error_code) == (
        ReceiptState.FAILED,
        "ФН переполнен",
        235,
    )
    with pytest.raises(IllegalTransition):
        receipt.waiting(T0)
    receipt.resend(T0)
    assert (receipt.state, receipt.external_id) == (ReceiptState.QUEUED, "potok-receipt-1-1")
    assert [e.event_type() for e in receipt.take_events()] == [
        "fiscal.receipt_failed",
        "fiscal.receipt_queued",
    ]
