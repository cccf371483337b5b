"""The gateway payment follows the gateway forward only: old or repeated news changes
nothing; it captures what the order owes, never more than was authorised; a refund is tied
to one return and never exceeds what was captured."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from potok.domain.payments import (
    CaptureAboveAuthorised,
    GatewayPayment,
    GatewayStatus,
    PaymentNotCapturable,
    RefundState,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def created() -> GatewayPayment:
    payment = GatewayPayment.created(
        order_id=7,
        channel_code="web",
        gateway="yookassa",
        gateway_id="2ff0b5a4-000f-5000-8000-1a2b3c4d5e6f",
        amount=Decimal("3270.00"),
        currency="RUB",
        confirmation_url="https://yoomoney.ru/checkout/payments/v2/contract?orderId=1",
        at=T0,
    )
    payment.take_events()
    return payment


def test_news_moves_the_payment_forward_once() -> None:
    payment = created()
    assert payment.follow(GatewayStatus.WAITING_FOR_CAPTURE, T0)
    assert not payment.follow(GatewayStatus.WAITING_FOR_CAPTURE, T0)  # repeated
    assert not payment.follow(GatewayStatus.PENDING, T0)  # old
    assert [e.event_type() for e in payment.take_events()] == ["payment.status_changed"]
    assert payment.follow(GatewayStatus.SUCCEEDED, T0, captured=Decimal("2880.00"))
    assert payment.captured_amount == Decimal("2880.00")
    assert not payment.follow(GatewayStatus.CANCELED, T0)  # a captured payment stays so


def test_capture_takes_what_is_owed_within_what_was_authorised() -> None:
    payment = created()
    with pytest.raises(PaymentNotCapturable):
        payment.capture_amount(Decimal("3270.00"))
    payment.follow(GatewayStatus.WAITING_FOR_CAPTURE, T0)
    assert payment.capture_amount(Decimal("2880.00")) == Decimal("2880.00")
    with pytest.raises(CaptureAboveAuthorised):
        payment.capture_amount(Decimal("3270.01"))


def test_refunds_are_tied_to_returns_and_bounded_by_the_capture() -> None:
    payment = created()
    payment.follow(GatewayStatus.SUCCEEDED, T0, captured=Decimal("3000.00"))
    payment.follow_refund("RT-000001", Decimal("2490.00"), RefundState.PENDING, T0, gateway_id="r1")
    assert payment.refundable == Decimal("510.00")
    assert payment.refunded_amount == Decimal("0.00")
    again = payment.follow_refund(
        "RT-000001", Decimal("2490.00"), RefundState.PENDING, T0, gateway_id="r1"
    )
    assert again is None  # the same refund, not a second one
    payment.follow_refund(
        "RT-000001", Decimal("2490.00"), RefundState.SUCCEEDED, T0, gateway_id="r1"
    )
    assert payment.refunded_amount == Decimal("2490.00")
    assert payment.refundable == Decimal("510.00")
