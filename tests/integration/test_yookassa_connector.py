"""The ЮKassa connector against the simulated ЮKassa: a two-stage payment created with
``capture: false`` and a redirect, captured in part, refunded; every POST with its
idempotence key, kept across retries of a 5xx and a 202; amounts in whole kopecks; ЮKassa's
refusals with its own words; an unreachable ЮKassa said so."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.connectors.payments import GatewayDown, GatewayRefused
from potok.connectors.payments.yookassa import YooKassa, amount_of, money
from tests.simulators.yookassa import SECRET_KEY, SHOP_ID, YooKassaSimulator

METADATA = {"potok_order_id": "7"}


def client(yookassa: YooKassaSimulator, *, secret: str = SECRET_KEY) -> YooKassa:
    return YooKassa(base_url=yookassa.url, shop_id=SHOP_ID, secret_key=secret, sleep=lambda s: None)


def create(gateway: YooKassa, amount: str = "1490.50", key: str = "order-7"):  # type: ignore[no-untyped-def]
    return gateway.create_payment(
        Decimal(amount),
        "RUB",
        key=key,
        description="Order 7",
        return_url="https://shop.example.ru/thanks",
        metadata=METADATA,
    )


def test_amounts_leave_and_come_back_in_whole_kopecks() -> None:
    assert money(Decimal("10.5"), "RUB") == {"value": "10.50", "currency": "RUB"}
    assert money(Decimal("1490"), "RUB") == {"value": "1490.00", "currency": "RUB"}
    assert amount_of({"value": "0.10", "currency": "RUB"}) == Decimal("0.10")
    with pytest.raises(ValueError, match="kopecks"):
        money(Decimal("0.005"), "RUB")


def test_a_two_stage_payment_is_captured_in_part_and_refunded(
    yookassa: YooKassaSimulator,
) -> None:
    gateway = client(yookassa)
    created = create(gateway)
    assert (created.status, created.amount, created.paid) == ("pending", Decimal("1490.50"), False)
    assert created.confirmation_url is not None
    (sent,) = yookassa.calls("/payments")
    assert sent.body == {
        "amount": {"value": "1490.50", "currency": "RUB"},
        "capture": False,
        "confirmation": {"type": "redirect", "return_url": "https://shop.example.ru/thanks"},
        "description": "Order 7",
        "metadata": METADATA,
    }
    assert sent.headers["Idempotence-Key"] == "order-7"
    yookassa.pay(created.id)
    held = gateway.get_payment(created.id)
    assert (held.status, held.paid) == ("waiting_for_capture", True)

    captured = gateway.capture(created.id, Decimal("1000.00"), "RUB", key="capture-7")
    assert (captured.status, captured.amount) == ("succeeded", Decimal("1000.00"))
    refund = gateway.create_refund(
        created.id, Decimal("400.00"), "RUB", key="refund-7", description="Return RT-1"
    )
    assert (refund.status, refund.amount, refund.payment_id) == (
        "succeeded",
        Decimal("400.00"),
        created.id,
    )
    with pytest.raises(GatewayRefused) as refused:
        gateway.create_refund(
            created.id, Decimal("600.01"), "RUB", key="refund-8", description="Return RT-2"
        )
    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
    assert refused.value.reason == "Refund sum exceeded (parameter amount)"
    assert gateway.get_refund(refund.id).status == "succeeded"
    assert gateway.get_payment(created.id).refunded == Decimal("400.00")


def test_a_repeated_call_keeps_its_key_and_makes_one_payment(
    yookassa: YooKassaSimulator,
) -> None:
    gateway = client(yookassa)
    yookassa.fail(1, 500)
    first = create(gateway)  # the 500 is tried again with the same key
    yookassa.processing = 1
    again = create(gateway)  # ЮKassa still processing: asked again after retry_after
    assert first.id == again.id
    assert len(yookassa.payments) == 1
    assert {r.headers["Idempotence-Key"] for r in yookassa.calls("/payments")} == {"order-7"}
    with pytest.raises(GatewayRefused, match="Duplicate idempotence key"):
        create(gateway, amount="10.00")  # the same key for another payment
    yookassa.invalid.clear()  # sent on purpose


def test_refusals_and_an_unreachable_gateway_are_told_apart(
    yookassa: YooKassaSimulator,
) -> None:
    with pytest.raises(GatewayRefused) as wrong_key:
        create(client(yookassa, secret="not-the-key"))
    assert (wrong_key.value.status, wrong_key.value.reason) == (401, "Basic authentication failed")
    gateway = client(yookassa)
    created = create(gateway)
    with pytest.raises(GatewayRefused, match="can not be captured in current status"):
        gateway.capture(created.id, Decimal("1490.50"), "RUB", key="capture-early")
    with pytest.raises(GatewayRefused, match="Payment not found or forbidden"):
        gateway.get_payment("2203aa1d-000f-5000-8000-17102541fd31")
    yookassa.fail(3, 503)
    with pytest.raises(GatewayDown, match="503"):
        gateway.get_payment(created.id)
    yookassa.stop()
    with pytest.raises(GatewayDown):
        client(yookassa).get_payment(created.id)  # nobody listens any more
