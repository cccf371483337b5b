"""Cash on delivery remitted, on SQLite and PostgreSQL, against the СДЭК simulator: the
payment registry СДЭК paid on a day (``GET /v2/registries``, checked against its OpenAPI
document) moves an order paid on delivery to ``paid``, its history naming the registry and
the amounts; a registry read twice changes nothing; a short payment leaves the payment
pending and raises an alert; a prepaid order is not paid again; parcels Potok does not
know are counted, not guessed; СДЭК down is reported and read again."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

from potok.bootstrap import Potok
from potok.domain.alerts import AlertKind
from potok.domain.orders import PaymentMethod, PaymentStatus
from potok.services import alerts, orders
from potok.services.cod_remittances import RemittanceRun, read_remittances, remitted
from potok.services.fulfilment import reads, tracking
from tests.factories import TESTER
from tests.integration.test_cash_on_delivery import TO_POINT, _packed
from tests.integration.test_cash_on_delivery import carriers as carriers
from tests.simulators.cdek import CdekSimulator

PAID_ON = date(2026, 12, 4)
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _shipped(potok: Potok, method: PaymentMethod) -> tuple[int, int, str]:
    """An order of 5,370.00 in goods and 300.00 delivery booked with СДЭК: its id, its
    shipment's and the СДЭК number."""
    shipment_id = _packed(potok, method, to=TO_POINT)
    booked = tracking.book_shipment(potok.uow(), potok.carriers, shipment_id, "cdek", TESTER)
    return booked.order_id, shipment_id, booked.tracking_number or ""


def test_a_registry_pays_the_order_with_its_number_and_amounts_in_the_history(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    order_id, shipment_id, number = _shipped(carriers, PaymentMethod.CASH_ON_DELIVERY)
    registry = cdek.remit(PAID_ON, {number: None})  # all 5,670.00, less СДЭК's 3 %
    run = read_remittances(carriers.uow(), carriers.carriers, clock=lambda: NOW)
    assert (run.listed, run.recorded, run.paid, run.short) == (1, [shipment_id], [order_id], [])
    assert [c.query for c in cdek.calls("/v2/registries")] == [
        "date=2026-12-05",
        "date=2026-12-04",
        "date=2026-12-03",
    ]
    view = orders.get_order(carriers.uow(), order_id)
    assert view.order.payment_status is PaymentStatus.PAID
    steps = {h.action: h for h in view.history}
    note = steps["cod_remitted"]
    assert note.details["registry"] == registry
    assert note.details["payment_order"] == f"ПП-{registry}"
    assert note.details["paid_on"] == "2026-12-04"
    assert (note.details["expected"], note.details["collected"]) == ("5670.00", "5670.00")
    assert (note.details["commission"], note.details["transferred"]) == ("170.10", "5499.90")
    paid = steps["payment_changed"]
    assert (paid.details["from_payment"], paid.details["to_payment"]) == ("pending", "paid")
    assert paid.details["amount"] == "5670.00"
    assert paid.details["registries"] == [registry]
    assert f"registry {registry}" in (paid.reason or "")
    (kept,) = remitted(carriers.uow(), order_id)
    assert (kept.tracking_number, kept.expected, kept.transferred) == (
        number,
        Decimal("5670.00"),
        Decimal("5499.90"),
    )

    again = read_remittances(carriers.uow(), carriers.carriers, clock=lambda: NOW)
    assert (again.listed, again.recorded, again.repeated, again.paid) == (1, [], 1, [])
    history = orders.get_order(carriers.uow(), order_id).history
    assert [h.action for h in history].count("cod_remitted") == 1
    assert alerts.list_alerts(carriers.uow()).items == []
    assert cdek.invalid == []


def test_a_short_payment_leaves_the_payment_pending_and_alerts_the_operators(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    order_id, _, number = _shipped(carriers, PaymentMethod.CASH_ON_DELIVERY)
    registry = cdek.remit(PAID_ON, {number: Decimal("5370.00")})  # the delivery not collected
    run = read_remittances(carriers.uow(), carriers.carriers, day=PAID_ON, clock=lambda: NOW)
    assert (run.paid, run.short) == ([], [order_id])
    assert [c.query for c in cdek.calls("/v2/registries")] == ["date=2026-12-04"]
    view = orders.get_order(carriers.uow(), order_id)
    assert view.order.payment_status is PaymentStatus.PENDING
    note = next(h for h in view.history if h.action == "cod_remitted")
    assert (note.details["expected"], note.details["collected"]) == ("5670.00", "5370.00")
    (alert,) = alerts.list_alerts(carriers.uow()).items
    assert (alert.kind, alert.order_id) == (AlertKind.COD_SHORT_PAID, order_id)
    assert "collected 5370.00 of 5670.00 (short by 300.00)" in alert.message
    assert f"registry {registry}" in alert.message
    assert cdek.invalid == []


def test_an_order_paid_beforehand_or_unknown_parcels_are_not_paid_again(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    prepaid_id, _, prepaid_number = _shipped(carriers, PaymentMethod.ONLINE)
    cdek.remit(PAID_ON, {prepaid_number: Decimal("0.00")})
    cdek.registries[PAID_ON][0]["orders"].append(
        {
            "cdek_number": "9999999999",
            "payment_sum": 100.0,
            "agent_commission_sum": 3.0,
            "total_sum_without_agent": 100.0,
            "transfer_sum": 97.0,
        }
    )
    run = read_remittances(carriers.uow(), carriers.carriers, day=PAID_ON, clock=lambda: NOW)
    assert (run.listed, run.paid, run.short, run.unknown) == (2, [], [], ["9999999999"])
    view = orders.get_order(carriers.uow(), prepaid_id)
    assert view.order.payment_status is not PaymentStatus.PAID
    assert [h.action for h in view.history].count("cod_remitted") == 1  # nothing was asked
    assert alerts.list_alerts(carriers.uow()).items == []


def test_cdek_down_is_reported_and_read_again_next_time(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    order_id, shipment_id, number = _shipped(carriers, PaymentMethod.CASH_ON_DELIVERY)
    cdek.remit(PAID_ON, {number: None})
    cdek.fail(30, 503)
    run = read_remittances(carriers.uow(), carriers.carriers, day=PAID_ON, clock=lambda: NOW)
    cdek.faults.clear()
    assert set(run.errors) == {"cdek"}
    assert run.paid == []
    run = read_remittances(carriers.uow(), carriers.carriers, day=PAID_ON, clock=lambda: NOW)
    assert run.paid == [order_id]
    assert reads.get_shipment(carriers.uow(), shipment_id).shipment.status.value == "packed"


def test_readers_racing_for_one_registry_settle_it_once(
    carriers: Potok, cdek: CdekSimulator
) -> None:
    order_id, shipment_id, number = _shipped(carriers, PaymentMethod.CASH_ON_DELIVERY)
    cdek.remit(PAID_ON, {number: None})
    start = threading.Barrier(4)
    runs: list[RemittanceRun] = []

    def reader() -> None:
        uow = carriers.uow()
        start.wait()
        runs.append(read_remittances(uow, carriers.carriers, day=PAID_ON, clock=lambda: NOW))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.recorded) for r in runs) == [0, 0, 0, 1]
    assert [r.paid for r in runs if r.paid] == [[order_id]]
    assert sum(r.repeated for r in runs) == 3
    history = orders.get_order(carriers.uow(), order_id).history
    assert [h.action for h in history].count("cod_remitted") == 1
    assert [h.action for h in history].count("payment_changed") == 1
    assert [r.shipment_id for r in remitted(carriers.uow(), order_id)] == [shipment_id]
