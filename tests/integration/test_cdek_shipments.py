"""Shipments through СДЭК (its simulator), on SQLite and PostgreSQL: booked at hand-over with
СДЭК's number as the tracking number, moved by its ORDER_STATUS webhooks to delivered at a
pickup point (a replay and an out-of-order status change nothing), polled as a safety net,
sent back with the units in stock again, and a refused order leaving the shipment packed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierRefused, CarrierRegistry, SandboxCarrier
from potok.domain.alerts import AlertKind
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.orders import OrderStatus
from potok.domain.orders.commands import CancelOrder
from potok.services import alerts, catalogue, inventory
from potok.services import orders as order_service
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from potok.worker.dispatcher import Dispatcher
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_carriers import Clock, _clean
from tests.integration.test_cdek_connector import SECRET, carrier_for
from tests.simulators.cdek import CdekSimulator

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


@pytest.fixture
def world(potok: Potok, cdek: CdekSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 5})
    catalogue.create_warehouse(  # a СДЭК office Potok knows as a pickup point, by its code
        potok.uow(),
        WarehouseDraft(
            "MSK123", "СДЭК Тверская", WarehouseType.PICKUP_POINT, "Москва", 55.758, 37.614
        ),
    )
    potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), carrier_for(cdek)])
    return potok


def _pickup_order(potok: Potok, clock: Clock) -> tuple[int, int]:
    return _packed_at(potok, clock, pickup_point="MSK123")


def _packed_at(potok: Potok, clock: Clock, *, pickup_point: str | None) -> tuple[int, int]:
    command = order_command([("KET", 1)], pickup_point=pickup_point)
    placed = place_order(potok.uow(), command, TESTER, clock=clock)
    assert isinstance(placed, Placement)
    order_id = placed.order.id or 0
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER, clock=clock)
    shipment_id = shipment.id or 0
    picking.pick(potok.uow(), shipment_id, ScanInput("KET"), TESTER, clock=clock)
    packing.pack_parcel(
        potok.uow(),
        shipment_id,
        ParcelDraft(1300, 300, 200, 200, (ParcelLine(1, 1),)),
        TESTER,
        clock=clock,
    )
    return order_id, shipment_id


def test_a_parcel_ships_through_cdek_to_a_pickup_point_by_webhooks(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(T0)
    order_id, shipment_id = _pickup_order(potok, clock)
    quotes = dict(tracking.quotes(potok.uow(), potok.carriers, shipment_id))
    assert [q.tariff for q in quotes["cdek"]] == ["366", "138"]

    left = tracking.hand_over_to(
        potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
    )
    assert left.status is ShipmentStatus.HANDED_OVER
    number = left.tracking_number or ""
    order = cdek.by_number(number)
    assert order.body["delivery_point"] == "MSK123"
    assert (left.carrier_ref, left.tariff) == (order.uuid, "366")
    assert left.eta_on == (T0 + timedelta(days=2)).date()

    carrier = potok.carriers.get("cdek")
    bodies = [
        cdek.advance(number, "RECEIVED_AT_SHIPMENT_WAREHOUSE", at=T0 + timedelta(hours=3)),
        cdek.advance(number, "SENT_TO_RECIPIENT_CITY", at=T0 + timedelta(hours=9)),
        cdek.advance(number, "ACCEPTED_AT_PICK_UP_POINT", at=T0 + timedelta(days=1)),
        cdek.advance(number, "DELIVERED", at=T0 + timedelta(days=2)),
    ]

    def push(body: dict[str, object]) -> tracking.TrackingOutcome:
        events = carrier.read_webhook({}, json.dumps(body).encode(), {"secret": SECRET})
        return tracking.apply_tracking(potok.uow(), "cdek", events)

    first = [push(b) for b in bodies[:3]]
    assert [o.applied for o in first] == [1, 1, 1]
    waiting = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert waiting.status is ShipmentStatus.READY_FOR_PICKUP
    late = push(bodies[1])  # a replay: nothing twice
    assert (late.applied, late.repeated) == (0, 1)
    older = cdek.advance(number, "ACCEPTED_IN_RECIPIENT_CITY", at=T0 + timedelta(hours=20))
    assert push(older).refused == 1  # out of order: the parcel is at the point already
    assert push(bodies[3]).applied == 1
    shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert shipment.status is ShipmentStatus.DELIVERED
    assert shipment.delivered_at == T0 + timedelta(days=2)
    steps = [s.reason for s in reads.get_shipment(potok.uow(), shipment_id).steps]
    assert "Вручен (DELIVERED)" in steps  # СДЭК's own status kept beside Potok's
    assert order_service.get_order(potok.uow(), order_id).order.status is OrderStatus.DELIVERED
    assert tracking.poll_carriers(potok.uow(), potok.carriers).applied == 0  # settled
    _clean(potok)


def test_a_poll_corrects_the_storage_deadline_a_webhook_could_only_guess(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(T0)
    _, shipment_id = _pickup_order(potok, clock)
    left = tracking.hand_over_to(
        potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
    )
    number = left.tracking_number or ""
    carrier = potok.carriers.get("cdek")
    arrived = T0 + timedelta(days=1)
    body = cdek.advance(number, "ACCEPTED_AT_PICK_UP_POINT", at=arrived)
    events = carrier.read_webhook({}, json.dumps(body).encode(), {"secret": SECRET})
    assert tracking.apply_tracking(potok.uow(), "cdek", events).applied == 1
    waiting = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert waiting.storage_until == arrived + timedelta(days=7)  # the usual period: a guess

    cdek.keep_until(number, arrived + timedelta(days=3))  # a parcel locker keeps 3 days
    assert tracking.poll_carriers(potok.uow(), potok.carriers).applied == 1
    found = reads.get_shipment(potok.uow(), shipment_id)
    assert found.shipment.storage_until == arrived + timedelta(days=3)
    assert [s.action for s in found.steps][-1] == "storage_deadline_corrected"

    replay = tracking.apply_tracking(potok.uow(), "cdek", events)  # the guess again
    assert (replay.applied, replay.repeated) == (0, 1)
    assert tracking.poll_carriers(potok.uow(), potok.carriers).applied == 0  # settled
    kept = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert kept.storage_until == arrived + timedelta(days=3)
    _clean(potok)


def test_polling_moves_a_parcel_the_webhooks_missed_and_a_return_comes_back(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(T0)
    delivered_order, delivered = _packed_at(potok, clock, pickup_point=None)
    returned_order, returned = _packed_at(potok, clock, pickup_point=None)
    numbers = {}
    for shipment_id in (delivered, returned):
        numbers[shipment_id] = (
            tracking.hand_over_to(
                potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
            ).tracking_number
            or ""
        )
    for shipment_id in (delivered, returned):
        cdek.advance(numbers[shipment_id], "TAKEN_BY_COURIER", at=T0 + timedelta(days=1))
    cdek.advance(numbers[delivered], "DELIVERED", at=T0 + timedelta(days=2), post=False)
    back = cdek.send_back(numbers[returned], at=T0 + timedelta(days=2))
    cdek.advance(back, "SENT_TO_SENDER_CITY", at=T0 + timedelta(days=3), post=False)
    cdek.advance(back, "DELIVERED", at=T0 + timedelta(days=4), post=False)

    outcome = tracking.poll_carriers(potok.uow(), potok.carriers)
    assert outcome.applied == 2 + 4
    assert reads.get_shipment(potok.uow(), delivered).shipment.status is ShipmentStatus.DELIVERED
    came_back = reads.get_shipment(potok.uow(), returned).shipment
    assert came_back.status is ShipmentStatus.RETURNED_TO_SENDER
    status = order_service.get_order(potok.uow(), returned_order).order.status
    assert status is OrderStatus.RETURNED_TO_SENDER
    assert order_service.get_order(potok.uow(), delivered_order).order.status is (
        OrderStatus.DELIVERED
    )
    stock = {r.sku: r for r in inventory.list_levels(potok.uow(), warehouse="MSK").items}
    assert (stock["KET"].on_hand, stock["KET"].unavailable) == (5 - 2 + 1, 1)
    _clean(potok)


def test_an_order_cdek_refuses_leaves_the_shipment_packed(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(T0)
    _, shipment_id = _packed_at(potok, clock, pickup_point=None)
    cdek.refuse_next_order("v2_recipient_address_invalid", "Адрес получателя не найден")
    with pytest.raises(CarrierRefused) as refused:
        tracking.hand_over_to(
            potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
        )
    assert "Адрес получателя не найден" in str(refused.value)
    shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert (shipment.status, shipment.tracking_number) == (ShipmentStatus.PACKED, None)
    refusal = reads.get_shipment(potok.uow(), shipment_id).steps[-1]
    assert refusal.action == "booking_refused"
    assert "Адрес получателя не найден" in (refusal.reason or "")
    (alert,) = alerts.list_alerts(potok.uow()).items
    assert (alert.kind, alert.order_id) == (AlertKind.CARRIER_REFUSED_BOOKING, shipment.order_id)
    assert "Адрес получателя не найден" in alert.message
    left = tracking.hand_over_to(  # fixed at СДЭК's end, tried again: it ships
        potok.uow(), potok.carriers, shipment_id, TESTER, carrier="cdek", clock=clock
    )
    assert left.status is ShipmentStatus.HANDED_OVER
    _clean(potok)


def test_a_cancelled_booking_is_called_off_at_cdek_after_the_commit(
    world: Potok, cdek: CdekSimulator
) -> None:
    potok = world
    clock = Clock(datetime.now(UTC))
    order_id, shipment_id = _packed_at(potok, clock, pickup_point=None)
    with httpx.Client() as client:
        dispatcher = Dispatcher(potok, client, name="carriers-test", clock=clock)
        dispatcher.run_round()  # the carriers' cursor starts at the end of the outbox
        booked = tracking.book_shipment(potok.uow(), potok.carriers, shipment_id, "cdek", TESTER)
        uuid = booked.carrier_ref or ""
        order_service.cancel_order(
            potok.uow(), CancelOrder(order_id, "customer changed mind"), TESTER
        )
        assert cdek.orders[uuid].statuses[-1]["code"] == "CREATED"  # nothing called yet
        cdek.fail(3, 503)
        assert dispatcher.run_round().reactions_failed == 1  # СДЭК down: tried again later
        assert cdek.orders[uuid].statuses[-1]["code"] == "CREATED"
        cdek.faults.clear()
        clock.moment += timedelta(minutes=10)
        assert dispatcher.run_round().reactions_run >= 1
        booked_again = cdek.orders[uuid].statuses[-1]
        carrier = potok.carriers.get("cdek")
        carrier.cancel(tracking.booking_of(potok.uow(), shipment_id)[1])  # twice: nothing
        assert cdek.orders[uuid].statuses[-1] == booked_again
    assert cdek.orders[uuid].statuses[-1]["code"] == "REMOVED"
    steps = reads.get_shipment(potok.uow(), shipment_id).steps
    assert [s.action for s in steps][-1] == "booking_called_off"
