"""Carriers' labels in the background, on SQLite and PostgreSQL, against the СДЭК simulator:
a booking made while СДЭК is down is retried by the worker with growing waits, then booked
once and labelled; the label is kept and printed without asking СДЭК again; workers racing
for the same request book it once; a booking failing too long alerts the operators once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierUnavailable
from potok.domain.alerts import AlertKind
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.tasks.system import CONNECTOR_ERRORS, system_task
from potok.services import alerts
from potok.services.carrier_label_ports import LabelState
from potok.services.fulfilment import labels, reads, tracking
from potok.services.fulfilment.labels import LabelRun
from tests.factories import TESTER
from tests.integration.test_carriers import Clock, _clean
from tests.integration.test_cdek_shipments import T0, _pickup_order
from tests.integration.test_cdek_shipments import world as world
from tests.simulators.cdek import CdekSimulator


def _down_at_hand_over(potok: Potok, cdek: CdekSimulator, clock: Clock) -> int:
    _, shipment_id = _pickup_order(potok, clock)
    cdek.fail(60, 503)
    with pytest.raises(CarrierUnavailable):
        tracking.hand_over_to(
            potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
        )
    cdek.faults.clear()
    return shipment_id


def test_a_booking_made_while_cdek_is_down_is_retried_with_backoff_then_labelled(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(T0)
    shipment_id = _down_at_hand_over(potok, cdek, clock)
    view = reads.get_shipment(potok.uow(), shipment_id)
    assert view.shipment.status is ShipmentStatus.PACKED  # other parcels go on regardless
    assert view.steps[-1].action == "booking_delayed"
    label = view.carrier_label
    assert label is not None
    assert (label.state, label.attempts) == (LabelState.WAITING, 0)
    assert label.next_attempt_at == T0 + timedelta(seconds=30)

    assert labels.retry_labels(potok.uow(), potok.carriers, clock=clock).taken == 0  # not due
    clock.moment = T0 + timedelta(seconds=31)
    cdek.fail(60, 503)  # still down: the next wait is twice as long
    run = labels.retry_labels(potok.uow(), potok.carriers, clock=clock)
    cdek.faults.clear()
    assert (run.taken, run.waiting) == (1, [shipment_id])
    label = reads.get_shipment(potok.uow(), shipment_id).carrier_label
    assert label is not None
    assert (label.state, label.attempts) == (LabelState.WAITING, 1)
    assert label.next_attempt_at == T0 + timedelta(seconds=31 + 60)
    assert label.last_error is not None
    assert "cdek" in label.last_error

    clock.moment = T0 + timedelta(seconds=92)  # СДЭК is back
    run = labels.retry_labels(potok.uow(), potok.carriers, clock=clock)
    assert run.ready == [shipment_id]
    assert len(cdek.orders) == 1
    view = reads.get_shipment(potok.uow(), shipment_id)
    assert view.shipment.tracking_number is not None
    assert [s.action for s in view.steps][-2:] == ["booked", "carrier_label_ready"]
    assert view.carrier_label is not None
    assert view.carrier_label.state is LabelState.READY

    printed = len(cdek.calls("/v2/print/barcodes"))
    code, number, pdf = labels.carrier_label(potok.uow(), potok.carriers, shipment_id)
    assert (code, number) == ("cdek", view.shipment.tracking_number)
    assert pdf.startswith(b"%PDF")
    assert len(cdek.calls("/v2/print/barcodes")) == printed  # kept: СДЭК not asked again

    left = tracking.hand_over_to(
        potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
    )
    assert left.status is ShipmentStatus.HANDED_OVER
    assert len(cdek.orders) == 1  # the hand-over used the worker's booking
    assert labels.retry_labels(potok.uow(), potok.carriers, clock=clock).taken == 0
    _clean(potok)


def test_workers_racing_for_one_label_request_book_it_once(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(T0)
    shipment_id = _down_at_hand_over(potok, cdek, clock)
    clock.moment = T0 + timedelta(minutes=1)
    start = threading.Barrier(4)
    runs: list[LabelRun] = []

    def worker() -> None:
        uow = potok.uow()
        start.wait()
        runs.append(labels.retry_labels(uow, potok.carriers, clock=clock))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.taken for r in runs) == 1
    assert [r.ready for r in runs if r.ready] == [[shipment_id]]
    assert len(cdek.orders) == 1
    shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert shipment.tracking_number == next(iter(cdek.orders.values())).cdek_number
    _clean(potok)


def test_a_booking_failing_five_attempts_alerts_the_operators_once(
    world: Potok, cdek: CdekSimulator
) -> None:
    """The worker's fifth failed attempt to book raises one alert (with a step), which
    opens a task in the connector-errors queue; the sixth raises none, and the retries go
    on until СДЭК is back."""
    potok = world
    clock = Clock(T0)
    shipment_id = _down_at_hand_over(potok, cdek, clock)
    alerted: list[list[int]] = []
    for attempt in range(1, 7):
        label = reads.get_shipment(potok.uow(), shipment_id).carrier_label
        assert label is not None
        assert label.attempts == attempt - 1
        assert label.next_attempt_at is not None
        clock.moment = label.next_attempt_at + timedelta(seconds=1)
        cdek.fail(60, 503)
        run = labels.retry_labels(potok.uow(), potok.carriers, clock=clock)
        cdek.faults.clear()
        assert run.waiting == [shipment_id]
        alerted.append(run.alerted)
    assert alerted == [[], [], [], [], [shipment_id], []]
    (alert,) = alerts.list_alerts(potok.uow()).items
    view = reads.get_shipment(potok.uow(), shipment_id)
    assert (alert.kind, alert.order_id) == (
        AlertKind.CARRIER_BOOKING_FAILING,
        view.shipment.order_id,
    )
    assert f"shipment {view.shipment.number}: cdek could not book it in 5 attempts" in (
        alert.message
    )
    failing = [s for s in view.steps if s.action == "booking_failing"]
    assert len(failing) == 1
    assert failing[0].details["attempts"] == 5
    task = system_task("alert.raised", {"kind": alert.kind.value, "message": alert.message})
    assert task is not None
    assert (task.queue, task.title) == (CONNECTOR_ERRORS, alert.message)

    label = view.carrier_label
    assert label is not None
    assert label.next_attempt_at is not None
    clock.moment = label.next_attempt_at + timedelta(seconds=1)  # СДЭК is back
    run = labels.retry_labels(potok.uow(), potok.carriers, clock=clock)
    assert (run.ready, run.alerted) == ([shipment_id], [])
    assert len(cdek.orders) == 1
    _clean(potok)
