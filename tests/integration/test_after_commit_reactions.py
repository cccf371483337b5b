"""Reactions that wait for the commit: the dispatcher hands them their events after the
transaction that raised them, at least once, and what they write is written once. The
carrier of a booked shipment that is cancelled is told to call the booking off."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierRefused, SandboxCarrier
from potok.connectors.carriers.interface import Booking, Tracked
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.kernel import Actor
from potok.services import order_edits
from potok.services.fulfilment import reads, tracking
from potok.worker.dispatcher import Dispatcher, new_client
from tests.factories import TESTER, build_world
from tests.integration.test_carriers import T0, Clock, _packed
from tests.racing import RACE_LIMIT, race

ADMIN = Actor.system("tests")


class RecordingCarrier(SandboxCarrier):
    """The sandbox, counting call-offs; slow to answer, as carriers are, and able to fail."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__(seed=1, secret="s", storage_days=7)
        self.delay_s = delay_s
        self.calls: Counter[str] = Counter()
        self.failing = 0
        self.refusing = False
        self._lock = threading.Lock()

    def cancel(self, booking: Booking | Tracked) -> None:
        time.sleep(self.delay_s)
        with self._lock:
            if self.failing:
                self.failing -= 1
                raise ConnectionError("the carrier is down")
            self.calls[booking.tracking_number] += 1
            if self.refusing:
                raise CarrierRefused(carrier="sandbox", reason="the parcel is already moving")
        super().cancel(booking)


@pytest.fixture
def carrier(potok: Potok) -> RecordingCarrier:
    recording = RecordingCarrier()
    potok.carriers = CarrierRegistry([recording])
    potok.settings.events.backoff_s = 0.01
    potok.settings.events.backoff_max_s = 0.02
    return recording


def booked(potok: Potok, count: int) -> list[tuple[int, str]]:
    """``count`` packed shipments booked with the carrier: (shipment id, tracking number)."""
    build_world(potok, {("MSK", "KET"): 50})
    clock = Clock(T0)
    made = []
    for _ in range(count):
        _, shipment_id = _packed(potok, pickup=False, clock=clock)
        shipment = tracking.book_shipment(
            potok.uow(), potok.carriers, shipment_id, "sandbox", TESTER, clock=clock
        )
        made.append((shipment_id, shipment.tracking_number or ""))
    return made


def drain(dispatcher: Dispatcher, rounds: int = 50) -> None:
    for _ in range(rounds):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


def called_off(potok: Potok, shipment_id: int) -> list[str]:
    steps = reads.get_shipment(potok.uow(), shipment_id).steps
    return [s.action for s in steps if s.action == "booking_called_off"]


def test_a_cancelled_booked_shipment_is_called_off_with_the_carrier_after_the_commit(
    potok: Potok, carrier: RecordingCarrier
) -> None:
    ((shipment_id, number),) = booked(potok, 1)
    order_edits.cancel_shipment(potok.uow(), shipment_id, "the customer changed their mind", TESTER)
    assert carrier.calls == Counter()  # not inside the cancelling transaction

    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="tests")
        carrier.failing = 2  # down twice: tried again, nothing lost
        for _ in range(200):
            dispatcher.run_round()
            if carrier.calls:
                break
        drain(dispatcher)
        drain(dispatcher)

    assert carrier.calls == Counter({number: 1})
    assert called_off(potok, shipment_id) == ["booking_called_off"]


def test_a_call_off_the_carrier_refuses_is_noted_once_and_not_tried_again(
    potok: Potok, carrier: RecordingCarrier
) -> None:
    ((shipment_id, number),) = booked(potok, 1)
    order_edits.cancel_shipment(potok.uow(), shipment_id, "too late", TESTER)
    carrier.refusing = True
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="tests")
        drain(dispatcher)
        drain(dispatcher)

    assert carrier.calls == Counter({number: 1})  # a refusal is an answer, not an outage
    steps = reads.get_shipment(potok.uow(), shipment_id).steps
    refused = [s for s in steps if s.action == "booking_refused"]
    assert len(refused) == 1
    assert "the parcel is already moving" in (refused[0].reason or "")
    assert called_off(potok, shipment_id) == []


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_dispatchers_racing_call_each_booking_off_once(potok: Potok) -> None:
    """Two workers (each its own connections) race over the same reaction: its lease lets
    one at a time through, and what it writes commits with its cursor - so every booking
    is called off once and noted once. (Made to claim without the lease, this fails: both
    read the same events and call the carrier twice.)"""
    carrier = RecordingCarrier(delay_s=0.02)
    potok.carriers = CarrierRegistry([carrier])
    shipments = booked(potok, 6)
    for shipment_id, _ in shipments:
        order_edits.cancel_shipment(potok.uow(), shipment_id, "race", TESTER)

    def worker(name: str) -> None:
        with new_client() as client:
            dispatcher = Dispatcher(potok, client, name=name)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(carrier.calls) < len(shipments):
                dispatcher.run_round()
            dispatcher.shut()

    race([lambda: worker("one"), lambda: worker("two")])

    assert carrier.calls == Counter({number: 1 for _, number in shipments})
    for shipment_id, _ in shipments:
        assert called_off(potok, shipment_id) == ["booking_called_off"]
    assert datetime.now(UTC) > T0
