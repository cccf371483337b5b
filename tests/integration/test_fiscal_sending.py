"""Receipts sent to a simulated АТОЛ Онлайн (a real HTTP server checking every request
against АТОЛ's JSON Schemas) by the worker, on both databases: registered with their
fiscal attributes kept; a provider outage keeps them queued and sends them later in order;
a refusal fails the receipt with АТОЛ's reason and raises an alert; an expired token is
renewed; a repeat after a lost answer names the same receipt; a failed receipt corrected;
two workers racing on PostgreSQL send each receipt once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.connectors.fiscal.atol import AtolRegister
from potok.connectors.fiscal.interface import Customer
from potok.domain.alerts import AlertKind
from potok.domain.fiscal import (
    EntityProfile,
    FiscalRules,
    ReceiptKind,
    ReceiptNotCorrectable,
    ReceiptState,
    Taxation,
)
from potok.services import legal_entities
from potok.services import orders as order_service
from potok.services.fiscal import corrections, reading, sending
from potok.services.fiscal.desk import FiscalDesk
from tests.documents_support import SELLER
from tests.factories import TESTER, build_world
from tests.integration.test_fiscal_receipts import drain
from tests.integration.test_returns import T0, Clock, _handed_over
from tests.racing import RACE_LIMIT
from tests.simulators.atol import GROUP, LOGIN, PASSWORD, AtolSimulator

PROFILE = EntityProfile(
    "atol-main", Taxation.USN_INCOME, "https://shop.example.ru", "shop@example.ru"
)


def atol_desk(atol: AtolSimulator, *, callback_url: str = "") -> FiscalDesk:
    register = AtolRegister(
        name="atol-main",
        base_url=atol.base,
        login=LOGIN,
        password=PASSWORD,
        group_code=GROUP,
        timeout_s=10,
        callback_url=callback_url,
    )
    return FiscalDesk(
        rules=FiscalRules(
            enabled=True, profiles={"potok": PROFILE}, accounts=frozenset({"atol-main"})
        ),
        registers={"atol-main": register},
        callback_url=callback_url,
        poll_after_s=0,
    )


@pytest.fixture
def shop(potok: Potok, atol: AtolSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 50, ("MSK", "MUG"): 50, ("MSK", "TOY"): 50})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = atol_desk(atol)
    return potok


def work(potok: Potok, clock: Clock) -> sending.FiscalRun:
    return sending.work_the_queue(potok.uow, potok.fiscal, clock=clock)


def states(potok: Potok, order_id: int) -> list[str]:
    return [r.state.value for r in reading.receipts_of_order(potok.uow(), order_id)]


def posted(atol: AtolSimulator) -> list[dict]:  # type: ignore[type-arg]
    return [
        r.body
        for r in atol.received
        if r.method == "POST"
        and r.path.endswith(("sell", "sell_refund", "sell_correction", "sell_refund_correction"))
    ]


def test_receipts_are_registered_and_their_fiscal_attributes_kept(
    shop: Potok, atol: AtolSimulator
) -> None:
    clock = Clock(T0)
    order_id, _, _ = _handed_over(
        shop, [("KET", 1), ("TOY", 2)], clock, customer_email="anna@example.ru"
    )
    drain(shop)
    run = work(shop, clock)
    assert len(run.sent) == 2
    # looked at at once (no pause set): АТОЛ's register has not printed them yet
    assert states(shop, order_id) == ["wait", "wait"]
    work(shop, clock)
    assert states(shop, order_id) == ["wait", "wait"]  # the next look waits its turn
    clock.moment += timedelta(minutes=1)
    work(shop, clock)
    sale, offset = reading.receipts_of_order(shop.uow(), order_id)
    assert (sale.state, offset.state) == (ReceiptState.DONE, ReceiptState.DONE)
    assert sale.attributes is not None
    assert (sale.attributes.fn_number, sale.attributes.register_number) == (
        "9999078902004312",
        "0000000001002292",
    )
    assert sale.attributes.fiscal_document_number > 1000
    assert sale.attributes.fiscal_document_attribute > 3_000_000_000

    first, second = posted(atol)
    receipt = first["receipt"]
    assert first["external_id"] == f"potok-receipt-{sale.id}"
    assert receipt["client"] == {"email": "anna@example.ru"}
    assert receipt["company"] == {
        "email": "shop@example.ru",
        "sno": "usn_income",
        "inn": "7707083893",
        "payment_address": "https://shop.example.ru",
    }
    assert [(i["name"], i["payment_method"], i["vat"]["type"]) for i in receipt["items"]] == [
        ("Kettle", "full_prepayment", "vat22"),
        ("Toy bear", "full_prepayment", "vat10"),
    ]
    assert receipt["payments"] == [{"type": 1, "sum": Decimal("4470.0")}]
    assert second["receipt"]["payments"] == [{"type": 2, "sum": Decimal("4470.0")}]
    assert atol.counters.tokens == 1


def test_an_outage_keeps_receipts_queued_and_sends_them_later_in_order(
    shop: Potok, atol: AtolSimulator
) -> None:
    clock = Clock(T0)
    orders = [_handed_over(shop, [("MUG", 1)], clock)[0] for _ in range(3)]
    drain(shop)
    atol.down = True
    run = work(shop, clock)
    assert (run.sent, len(run.waiting)) == ([], 1)  # the first tried; the rest wait behind it
    assert {s for o in orders for s in states(shop, o)} == {"queued"}
    clock.moment += timedelta(seconds=10)
    assert work(shop, clock).waiting == []  # its wait is not over: nothing jumps the queue
    atol.down = False
    clock.moment += timedelta(minutes=1)
    run = work(shop, clock)
    assert len(run.sent) == 6
    ids = [r.id for o in orders for r in reading.receipts_of_order(shop.uow(), o)]
    assert [b["external_id"] for b in posted(atol)] == [f"potok-receipt-{i}" for i in sorted(ids)]


def test_a_refusal_fails_the_receipt_with_the_providers_reason_and_an_alert(
    shop: Potok, atol: AtolSimulator
) -> None:
    clock = Clock(T0)
    order_id, _, _ = _handed_over(shop, [("MUG", 1)], clock)
    drain(shop)
    atol.refuse_next(2003, "ИНН, указанный в чеке не соответствует ИНН компании.")
    work(shop, clock)
    atol.process()
    clock.moment += timedelta(minutes=1)
    run = work(shop, clock)
    assert len(run.failed) == 1
    sale, offset = reading.receipts_of_order(shop.uow(), order_id)
    assert (sale.state, sale.error_code) == (ReceiptState.FAILED, 2003)
    assert sale.reason == "ИНН, указанный в чеке не соответствует ИНН компании."
    assert offset.state is ReceiptState.DONE
    with shop.engine.connect() as connection:
        alerts = connection.execute(
            sa.text("SELECT kind, order_id, message FROM operator_alerts")
        ).all()
    assert [(a.kind, a.order_id) for a in alerts] == [
        (AlertKind.FISCAL_RECEIPT_FAILED.value, order_id)
    ]
    assert "ИНН, указанный в чеке" in alerts[0].message

    with pytest.raises(ReceiptNotCorrectable):
        corrections.correct_receipt(
            shop.uow(), shop.fiscal, corrections.CorrectReceipt(sale.id or 0, reverse=True), TESTER
        )
    fixed = corrections.correct_receipt(
        shop.uow(), shop.fiscal, corrections.CorrectReceipt(sale.id or 0), TESTER, clock=clock
    )
    assert (fixed.kind, fixed.operation.value, fixed.corrects_id) == (
        ReceiptKind.CORRECTION,
        "sell_correction",
        sale.id,
    )
    work(shop, clock)
    atol.process()
    clock.moment += timedelta(minutes=1)
    work(shop, clock)
    assert states(shop, order_id) == ["failed", "done", "done"]
    correction = posted(atol)[-1]
    assert correction["correction"]["correction_info"] == {
        "type": "self",
        "base_date": "20.11.2026",
    }
    history = order_service.get_order(shop.uow(), order_id).history
    (noted,) = [h for h in history if h.action == "receipt_corrected"]
    assert noted.reason == (f"receipt {sale.id} corrected by receipt {fixed.id} (sell_correction)")


def test_an_expired_token_is_renewed_once(shop: Potok, atol: AtolSimulator) -> None:
    clock = Clock(T0)
    order_id, _, _ = _handed_over(shop, [("MUG", 1)], clock)
    drain(shop)
    work(shop, clock)
    atol.expire_tokens()
    clock.moment += timedelta(minutes=1)
    work(shop, clock)  # АТОЛ answers 401 ExpiredToken (11): a new token, and again
    assert atol.counters.tokens == 2
    assert atol.counters.reports == 4  # two receipts, each read twice
    assert states(shop, order_id) == ["done", "done"]


def test_a_repeat_after_a_lost_answer_names_the_same_receipt(
    shop: Potok, atol: AtolSimulator
) -> None:
    clock = Clock(T0)
    order_id, _, _ = _handed_over(shop, [("MUG", 1)], clock)
    drain(shop)
    sale, _ = reading.receipts_of_order(shop.uow(), order_id)
    register = shop.fiscal.registers["atol-main"]
    lost = register.register(sale, Customer(None, None), clock())  # its answer never came
    work(shop, clock)
    sale, _ = reading.receipts_of_order(shop.uow(), order_id)
    assert sale.provider_uuid == lost.uuid
    assert (atol.counters.registrations, atol.counters.repeats) == (2, 1)


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_workers_racing_send_each_receipt_once(shop: Potok, atol: AtolSimulator) -> None:
    """Two workers, each with its own connections, work the same queue at once: the claim
    (a conditional update on the receipt's state and attempts) lets one of them send each
    receipt. (With the claim made to always succeed, this fails: both send the same
    receipts, and АТОЛ answers the second with error 33.)"""
    clock = Clock(T0)
    for _ in range(8):
        _handed_over(shop, [("MUG", 1)], clock)
    drain(shop)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(3):
                work(shop, clock)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert atol.counters.repeats == 0
    sent = Counter(b["external_id"] for b in posted(atol))
    assert len(sent) == 16
    assert set(sent.values()) == {1}
