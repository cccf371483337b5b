"""What the reconciliation calls a difference, on facts written out here."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from potok.domain.payments.reconciliation import (
    GatewayFacts,
    OrderFacts,
    ReceiptFacts,
    reconcile,
)

D = Decimal
PAID = OrderFacts(
    order_id=7,
    channel="web",
    marketplace=False,
    payment_status="partially_refunded",
    payment_method="online",
    total=D("5370.00"),
    currency="RUB",
    refunds={"RT-000001": D("2490.00")},
    gateway=GatewayFacts(
        "succeeded",
        D("5370.00"),
        D("2490.00"),
        {"RT-000001": ("succeeded", D("2490.00"))},
    ),
    receipts=ReceiptFacts(sold=D("5370.00"), refunded={"RT-000001": D("2490.00")}, count=3),
)


def codes(facts: OrderFacts) -> list[str]:
    return [d.code.value for d in reconcile(facts).differences]


def test_an_order_that_matches_everywhere_has_no_difference() -> None:
    assert codes(PAID) == []


def test_gateway_differences() -> None:
    unpaid = replace(PAID, payment_status="authorized", refunds={}, receipts=None)
    assert codes(unpaid) == ["gateway_succeeded_not_paid", "gateway_refund_not_paid"]
    held = replace(PAID, gateway=GatewayFacts("waiting_for_capture", D("0.00"), D("0.00"), {}))
    assert codes(held) == ["paid_not_captured"]
    less = replace(PAID, gateway=replace(PAID.gateway, captured=D("5000.00")))  # type: ignore[arg-type]
    assert codes(less) == ["captured_differs"]
    by_hand = replace(PAID, refunds={"RT-000001": D("2490.00"), "RT-000002": D("390.00")})
    assert codes(replace(by_hand, receipts=None)) == ["refund_not_at_gateway"]


def test_receipt_differences() -> None:
    assert codes(replace(PAID, receipts=ReceiptFacts())) == [
        "paid_without_receipt",
        "refund_without_receipt",
    ]
    wrong = ReceiptFacts(sold=D("5000.00"), refunded={"RT-000001": D("2000.00")}, count=2)
    assert codes(replace(PAID, receipts=wrong)) == [
        "receipt_amount_differs",
        "refund_receipt_differs",
    ]
    failed = ReceiptFacts(failed=("АТОЛ refused: ИНН not found",), count=1)
    assert codes(replace(PAID, receipts=failed)) == ["receipt_failed", "refund_without_receipt"]


def test_a_marketplace_order_needs_no_receipt_of_potoks() -> None:
    marketplace = replace(PAID, marketplace=True, gateway=None, refunds={}, payment_status="paid")
    assert codes(replace(marketplace, receipts=ReceiptFacts(skipped=True, count=1))) == []
    assert codes(replace(marketplace, receipts=ReceiptFacts())) == []
    printed = ReceiptFacts(sold=D("5370.00"), count=1)
    assert codes(replace(marketplace, receipts=printed)) == ["marketplace_receipt"]
