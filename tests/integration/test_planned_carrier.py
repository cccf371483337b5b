"""The carrier sourcing chose, carried to the shipment, on SQLite and PostgreSQL against the
СДЭК and Почта simulators: the shipment is released planned for it, the hand-over books it
there unless an operator names another, at booking or before it (the change kept in its
steps); the boxes as packed
are what carriers price and what a pickup point's limits are checked against at booking -
a box no locker cell holds, or boxes heavier than the point takes, are refused before the
carrier is asked."""

from __future__ import annotations

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import CarrierNotFound
from potok.connectors.carriers.interface import PointCannotTakeParcels
from potok.domain.alerts import AlertKind
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus
from potok.domain.fulfilment.errors import ShipmentNotStarted
from potok.services import alerts, carrier_points
from potok.services.carrier_prices import CarrierPrices
from potok.services.fulfilment import carrier_plans, packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, order_command
from tests.integration.test_carrier_choice import (  # noqa: F401 - the fixture
    Ticks,
    _placed,
    _set_rules,
    choosing,
)
from tests.simulators.cdek import CdekSimulator
from tests.simulators.pochta import PochtaSimulator

Setup = tuple[Potok, CarrierPrices, Ticks]


def _packed(
    potok: Potok, order_id: int, box: tuple[int, int, int, int] = (900, 200, 200, 100)
) -> int:
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    shipment_id = shipment.id or 0
    picking.pick(potok.uow(), shipment_id, ScanInput("KET"), TESTER)
    weight, length, width, height = box
    packing.pack_parcel(
        potok.uow(),
        shipment_id,
        ParcelDraft(weight, length, width, height, (ParcelLine(1, 1),)),
        TESTER,
    )
    return shipment_id


def test_the_carrier_sourcing_chose_books_the_shipment_unless_an_operator_names_another(
    choosing: Setup,  # noqa: F811
    cdek: CdekSimulator,
    pochta: PochtaSimulator,
) -> None:
    potok, prices, _ = choosing
    _set_rules(potok, {"carriers": {"among": ["cdek", "pochta"], "choose": "cheapest"}})
    first = _packed(potok, _placed(potok, prices, "planned-1"))
    seen = reads.get_shipment(potok.uow(), first)
    assert (seen.shipment.planned_carrier, seen.shipment.carrier) == ("cdek", None)
    (planned,) = [s for s in seen.steps if s.action == "carrier_planned"]
    assert planned.details == {"carrier": "cdek", "by": "sourcing"}
    assert "cdek from MSK, 340.27 ₽, 2 d, live price" in (planned.reason or "")

    left = tracking.hand_over_to(potok.uow(), potok.carriers, first, TESTER)  # no carrier named
    assert (left.status, left.carrier) == (ShipmentStatus.HANDED_OVER, "cdek")
    assert cdek.by_number(left.tracking_number or "").body["number"] == left.number

    # the operator sends the next one by Почта instead: booked there, the change kept
    second = _packed(potok, _placed(potok, prices, "planned-2"))
    booked = tracking.book_shipment(potok.uow(), potok.carriers, second, "pochta", TESTER)
    assert (booked.carrier, booked.planned_carrier) == ("pochta", "pochta")
    assert any(o["order-num"] == booked.number for o in pochta.orders.values())
    changed = next(
        s for s in reads.get_shipment(potok.uow(), second).steps if s.action == "carrier_changed"
    )
    assert changed.details == {"carrier": "pochta", "from_carrier": "cdek", "by": "booking"}
    assert changed.actor == str(TESTER)


def test_carriers_price_the_boxes_as_packed(
    choosing: Setup,  # noqa: F811
    cdek: CdekSimulator,
) -> None:
    potok, prices, _ = choosing
    _set_rules(potok, {"carriers": {"among": ["cdek", "pochta"], "choose": "cheapest"}})
    light = _packed(potok, _placed(potok, prices, "sizes-1"), box=(900, 200, 200, 100))
    bulky = _packed(potok, _placed(potok, prices, "sizes-2"), box=(900, 600, 400, 400))
    asked = len(cdek.calls("/v2/calculator/tarifflist"))
    small = dict(tracking.quotes(potok.uow(), potok.carriers, light))["cdek"]
    large = dict(tracking.quotes(potok.uow(), potok.carriers, bulky))["cdek"]
    sent = [c.body for c in cdek.calls("/v2/calculator/tarifflist")[asked:]]
    assert [b["packages"] for b in sent] == [  # type: ignore[index]
        [{"weight": 900, "length": 20, "width": 20, "height": 10}],
        [{"weight": 900, "length": 60, "width": 40, "height": 40}],
    ]
    # 60 x 40 x 40 cm weighs 19.2 kg by volume: СДЭК charges it so
    assert large[0].price > small[0].price


def test_a_point_refuses_boxes_it_cannot_take_as_packed_before_the_carrier_is_asked(
    choosing: Setup,  # noqa: F811
    cdek: CdekSimulator,
) -> None:
    potok, _, _ = choosing
    carrier_points.sync_points(potok.uow(), potok.carriers, "cdek")
    placed = place_order(
        potok.uow(), order_command([("KET", 1)], pickup_point="cdek:MSK789"), TESTER
    )
    assert isinstance(placed, Placement)  # a 1.2 kg kettle: the locker takes it at intake
    shipment_id = _packed(potok, placed.order.id or 0, box=(1500, 700, 300, 300))
    asked = len(cdek.calls("/v2/orders"))
    with pytest.raises(PointCannotTakeParcels) as too_big:
        tracking.book_shipment(potok.uow(), potok.carriers, shipment_id, "cdek", TESTER)
    assert "box 1 (70×30×30 cm) fits no cell of cdek point MSK789" in str(too_big.value)
    assert "60×40×10, 60×40×20, 60×40×40 cm" in str(too_big.value)
    assert len(cdek.calls("/v2/orders")) == asked  # СДЭК never asked
    seen = reads.get_shipment(potok.uow(), shipment_id)
    assert (seen.shipment.status, seen.steps[-1].action) == (
        ShipmentStatus.PACKED,
        "booking_refused",
    )
    (alert,) = alerts.list_alerts(potok.uow()).items
    assert alert.kind is AlertKind.CARRIER_REFUSED_BOOKING

    # repacked: a box of 16 kg is over the locker's 15 kg; one of 2 kg in a 60x40x20 cell goes
    packing.open_parcel(potok.uow(), shipment_id, 1, TESTER)
    packing.pack_parcel(
        potok.uow(), shipment_id, ParcelDraft(16000, 500, 300, 150, (ParcelLine(1, 1),)), TESTER
    )
    with pytest.raises(PointCannotTakeParcels) as too_heavy:
        tracking.book_shipment(potok.uow(), potok.carriers, shipment_id, "cdek", TESTER)
    assert "takes up to 15 kg; the packed boxes weigh 16 kg" in str(too_heavy.value)
    parcel_no = reads.get_shipment(potok.uow(), shipment_id).shipment.parcels[0].parcel_no
    packing.open_parcel(potok.uow(), shipment_id, parcel_no, TESTER)
    packing.pack_parcel(
        potok.uow(), shipment_id, ParcelDraft(2000, 550, 350, 180, (ParcelLine(1, 1),)), TESTER
    )
    booked = tracking.book_shipment(potok.uow(), potok.carriers, shipment_id, "cdek", TESTER)
    assert cdek.by_number(booked.tracking_number or "").body["delivery_point"] == "MSK789"


def test_an_operator_changes_the_planned_carrier_without_booking(
    choosing: Setup,  # noqa: F811
    cdek: CdekSimulator,
    pochta: PochtaSimulator,
) -> None:
    potok, prices, _ = choosing
    _set_rules(potok, {"carriers": {"among": ["cdek", "pochta"], "choose": "cheapest"}})
    shipment_id = _packed(potok, _placed(potok, prices, "replanned-1"))
    asked = len(cdek.received), len(pochta.received)
    planned = carrier_plans.plan_carrier(
        potok.uow(), potok.carriers, shipment_id, "pochta", TESTER, reason="СДЭК is late in Tver"
    )
    assert (planned.planned_carrier, planned.carrier, planned.tracking_number) == (
        "pochta",
        None,
        None,
    )
    assert (len(cdek.received), len(pochta.received)) == asked  # no carrier asked
    changed = reads.get_shipment(potok.uow(), shipment_id).steps[-1]
    assert (changed.action, changed.reason, changed.actor) == (
        "carrier_changed",
        "СДЭК is late in Tver",
        str(TESTER),
    )
    assert changed.details == {"carrier": "pochta", "from_carrier": "cdek", "by": "operator"}
    again = carrier_plans.plan_carrier(potok.uow(), potok.carriers, shipment_id, "pochta", TESTER)
    assert again.planned_carrier == "pochta"
    steps = reads.get_shipment(potok.uow(), shipment_id).steps
    assert [s.action for s in steps].count("carrier_changed") == 1  # the same again: nothing
    with pytest.raises(CarrierNotFound):
        carrier_plans.plan_carrier(potok.uow(), potok.carriers, shipment_id, "dhl", TESTER)

    left = tracking.hand_over_to(potok.uow(), potok.carriers, shipment_id, TESTER)
    assert (left.status, left.carrier) == (ShipmentStatus.HANDED_OVER, "pochta")
    with pytest.raises(ShipmentNotStarted):
        carrier_plans.plan_carrier(potok.uow(), potok.carriers, shipment_id, "cdek", TESTER)
    assert reads.get_shipment(potok.uow(), shipment_id).shipment.planned_carrier == "pochta"
