"""Shipments with a carrier: booked at hand-over (tracking number, label, expected date from
the tariff's days), moved by the sandbox's events over time - polled, or pushed by its
webhook - to delivered, or back to the sender with the units back in stock for a check;
pickup points' storage deadlines; on-time against the promised date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.connectors.carriers import SandboxCarrier, TrackingEvent, TrackingStatus
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus
from potok.domain.orders import OrderStatus
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PARCELS = 16


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _clean(potok: Potok) -> None:
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)


def _packed(potok: Potok, *, pickup: bool, clock: Clock) -> tuple[int, int]:
    command = order_command(
        [("KET", 1)],
        pickup_point="MSK-P" if pickup else None,
        promised_at=T0 + timedelta(days=4),
    )
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


def test_parcels_go_through_the_sandboxs_stories_to_delivered_or_back_to_the_sender(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 20})
    clock = Clock(T0)
    parcels = [_packed(potok, pickup=index % 2 == 1, clock=clock) for index in range(PARCELS)]
    for index, (_, shipment_id) in enumerate(parcels):
        left = tracking.hand_over_to(
            potok.uow(), potok.carriers, shipment_id, TESTER, carrier="sandbox", clock=clock
        )
        assert left.status is ShipmentStatus.HANDED_OVER
        assert (left.tracking_number or "").startswith("SBX")
        # the tariff's days: one to the Moscow pickup point, two to Tver
        days = 1 if index % 2 == 1 else 2
        assert left.eta_on == (T0 + timedelta(days=days)).date()
    stock = {r.sku: r for r in inventory.list_levels(potok.uow(), warehouse="MSK").items}
    assert (stock["KET"].on_hand, stock["KET"].reserved) == (20 - PARCELS, 0)

    clock.moment = T0 + timedelta(hours=4)
    first = tracking.poll_carriers(potok.uow(), potok.carriers, clock=clock)
    assert first.applied == PARCELS
    overlap = tracking.poll_carriers(potok.uow(), potok.carriers, clock=clock)
    assert (overlap.applied, overlap.repeated) == (0, PARCELS)  # polled again: nothing twice
    for order_id, _ in parcels:
        assert order_service.get_order(potok.uow(), order_id).order.status is OrderStatus.SHIPPED

    clock.moment = T0 + timedelta(days=60)
    tracking.poll_carriers(potok.uow(), potok.carriers, clock=clock)
    settled = tracking.poll_carriers(potok.uow(), potok.carriers, clock=clock)
    assert (settled.applied, settled.repeated) == (0, 0)  # settled parcels are not asked about

    sandbox = potok.carriers.get("sandbox")
    assert isinstance(sandbox, SandboxCarrier)
    endings = {ShipmentStatus.DELIVERED: 0, ShipmentStatus.RETURNED_TO_SENDER: 0}
    returned_units = 0
    for order_id, shipment_id in parcels:
        shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
        story = sandbox.story(shipment.tracking_number or "")
        assert shipment.status.value == story[-1].status.value
        order = order_service.get_order(potok.uow(), order_id).order
        endings[shipment.status] += 1
        if shipment.status is ShipmentStatus.DELIVERED:
            assert order.status is OrderStatus.DELIVERED
            assert shipment.delivered_at == story[-1].occurred_at
            assert shipment.on_time is (shipment.delivered_at.date() <= T0.date() + timedelta(4))
        else:
            assert order.status is OrderStatus.RETURNED_TO_SENDER
            returned_units += 1
    # seed 7: both endings happen among these parcels
    assert endings[ShipmentStatus.DELIVERED] > 0
    assert endings[ShipmentStatus.RETURNED_TO_SENDER] > 0
    stock = {r.sku: r for r in inventory.list_levels(potok.uow(), warehouse="MSK").items}
    # what came back lies in the warehouse again, set aside until someone checks it
    on_hand = 20 - PARCELS + returned_units
    assert (stock["KET"].on_hand, stock["KET"].unavailable) == (on_hand, returned_units)
    with potok.engine.connect() as connection:
        moves = connection.execute(
            sa.text("SELECT COUNT(*) FROM stock_movements WHERE type = 'return_to_sender'")
        ).scalar_one()
    assert moves == returned_units
    _clean(potok)


def test_a_webhook_moves_the_parcel_and_a_repeat_changes_nothing(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    clock = Clock(T0)
    order_id, shipment_id = _packed(potok, pickup=True, clock=clock)
    shipment = tracking.hand_over_to(
        potok.uow(), potok.carriers, shipment_id, TESTER, carrier="sandbox", clock=clock
    )
    number = shipment.tracking_number or ""
    sandbox = potok.carriers.get("sandbox")
    headers, body = sandbox.webhook(  # type: ignore[attr-defined]
        [
            TrackingEvent(
                number, TrackingStatus.IN_TRANSIT, T0 + timedelta(hours=2), "Принято", "e1"
            ),
            TrackingEvent(
                number,
                TrackingStatus.READY_FOR_PICKUP,
                T0 + timedelta(days=1),
                "Прибыло в пункт выдачи",
                "e2",
                storage_until=T0 + timedelta(days=3),
            ),
        ]
    )
    events = sandbox.read_webhook(headers, body)
    outcome = tracking.apply_tracking(potok.uow(), "sandbox", events)
    assert (outcome.applied, outcome.repeated) == (2, 0)
    assert tracking.apply_tracking(potok.uow(), "sandbox", events).repeated == 2
    moved = reads.get_shipment(potok.uow(), shipment_id).shipment
    assert moved.status is ShipmentStatus.READY_FOR_PICKUP
    assert moved.storage_until == T0 + timedelta(days=3)

    # not collected by the deadline: Potok's own job fails it, then the carrier brings it back
    assert tracking.expire_pickups(potok.uow(), clock=Clock(T0 + timedelta(days=2))) == []
    assert tracking.expire_pickups(potok.uow(), clock=Clock(T0 + timedelta(days=3, hours=1))) == [
        shipment_id
    ]
    back = [
        TrackingEvent(
            number, TrackingStatus.RETURNED_TO_SENDER, T0 + timedelta(days=5), "Возврат", "e9"
        )
    ]
    assert tracking.apply_tracking(potok.uow(), "sandbox", back).applied == 1
    view = reads.get_shipment(potok.uow(), shipment_id)
    assert view.shipment.status is ShipmentStatus.RETURNED_TO_SENDER
    assert [s.to_status for s in view.steps][-3:] == [
        "failed_delivery",
        "returning",
        "returned_to_sender",
    ]
    assert order_service.get_order(potok.uow(), order_id).order.status is (
        OrderStatus.RETURNED_TO_SENDER
    )
    unknown = tracking.apply_tracking(
        potok.uow(),
        "sandbox",
        [TrackingEvent("SBX-NOPE", TrackingStatus.DELIVERED, T0, "?", "x1")],
    )
    assert unknown.unknown == 1
    _clean(potok)
