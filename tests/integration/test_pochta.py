"""Почта России against its simulator: the tariff in roubles from kopecks, an order created
(its РПО the tracking number) and found again instead of twice, a refused order with Почта's
reason, cancellation, a batch, tracking from the SOAP history to delivered or back to the
sender; and on SQLite and PostgreSQL a packed order shipped through Почта to the door."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.carriers import (
    BookingRequest,
    CarrierRefused,
    CarrierRegistry,
    QuoteRequest,
    SandboxCarrier,
    Tracked,
    TrackingStatus,
)
from potok.connectors.carriers.interface import Parcel
from potok.connectors.carriers.pochta import PochtaCarrier
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus
from potok.domain.orders import Address, DeliveryMethod, OrderStatus
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services import orders as order_service
from potok.services.fulfilment import packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, build_world
from tests.simulators.pochta import (
    LOGIN,
    PASSWORD,
    TOKEN,
    TRACKING_LOGIN,
    TRACKING_PASSWORD,
    TRACKING_PATH,
    PochtaSimulator,
)

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
MOSCOW, TVER = (55.75, 37.62), (56.86, 35.90)


def carrier_for(sim: PochtaSimulator) -> PochtaCarrier:
    return PochtaCarrier(
        base_url=sim.url,
        token=TOKEN,
        login=LOGIN,
        password=PASSWORD,
        index_from="101000",
        tracking_url=f"{sim.url}{TRACKING_PATH}",
        tracking_login=TRACKING_LOGIN,
        tracking_password=TRACKING_PASSWORD,
        sleep=lambda s: None,
    )


def booking(reference: str = "42-1", **changes: object) -> BookingRequest:
    fields: dict[str, object] = {
        "reference": reference,
        "from_warehouse": "MSK",
        "origin": MOSCOW,
        "destination": TVER,
        "recipient_name": "Петрова Анна",
        "recipient_phone": "+7 916 123-45-67",
        "address": "ул. Советская, 5",
        "city": "Тверь",
        "pickup_point": None,
        "parcels": [Parcel(1300, 300, 200, 200)],
        "declared_value": Decimal("2490.00"),
        "postal_code": "170100",
    }
    fields.update(changes)
    return BookingRequest(**fields)  # type: ignore[arg-type]


def test_the_tariff_is_in_roubles_with_vat_and_needs_postal_codes(pochta: PochtaSimulator) -> None:
    carrier = carrier_for(pochta)
    (quote,) = carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, postal_code="170100"))
    # 300 ₽ + 1300 g × 15 kopecks = 495 ₽, VAT 22 % = 108.90 ₽
    assert (quote.tariff, quote.price, quote.days) == ("POSTAL_PARCEL", Decimal("603.90"), 4)
    assert carrier.quote(QuoteRequest(MOSCOW, TVER, 1300)) == []


def test_an_order_is_created_once_refused_with_pochtas_reason_and_cancelled(
    pochta: PochtaSimulator,
) -> None:
    carrier = carrier_for(pochta)
    booked = carrier.book(booking())
    assert booked.tracking_number == "80085400000001"
    order = pochta.orders[int(booked.carrier_ref)]
    assert (order["index-to"], order["mass"], order["order-num"]) == (170100, 1300, "42-1")
    assert (order["insr-value"], order["tel-address"]) == (249000, 79161234567)
    assert (order["surname"], order["given-name"]) == ("Петрова", "Анна")
    again = carrier.book(booking())
    assert again.tracking_number == booked.tracking_number
    assert len(pochta.orders) == 1
    pochta.refuse_next_order("ILLEGAL_INDEX_TO", "Недопустимый индекс получателя")
    with pytest.raises(CarrierRefused) as refused:
        carrier.book(booking("43-1"))
    assert "Недопустимый индекс получателя" in str(refused.value)
    with pytest.raises(CarrierRefused):
        carrier.book(booking("44-1", postal_code=None))
    assert carrier.form_batch(
        [Tracked(booked.tracking_number, booked.carrier_ref)], sending_on="2026-11-20"
    ) == ["20261120-774"]
    carrier.cancel(booked)
    assert pochta.orders == {}


def test_tracking_reads_the_history_to_delivered_or_back_to_the_sender(
    pochta: PochtaSimulator,
) -> None:
    carrier = carrier_for(pochta)
    pochta.operate("1", 1, 1, "Единичный", T0, place="Москва 101000")
    pochta.operate("1", 8, 2, "Прибыло в место вручения", T0 + timedelta(days=2))
    pochta.operate("1", 2, 1, "Вручение адресату", T0 + timedelta(days=3))
    pochta.operate("2", 1, 1, "Единичный", T0)
    pochta.operate("2", 5, 1, "Временное отсутствие адресата", T0 + timedelta(days=2))
    pochta.operate("2", 3, 1, "Истек срок хранения", T0 + timedelta(days=30))
    pochta.operate("2", 8, 0, "Сортировка", T0 + timedelta(days=31))
    pochta.operate("2", 2, 2, "Вручение отправителю", T0 + timedelta(days=33))
    events = carrier.track([Tracked("1"), Tracked("2")], T0 + timedelta(days=40))
    got = [(e.tracking_number, e.status) for e in events]
    assert got == [
        ("1", TrackingStatus.IN_TRANSIT),
        ("1", TrackingStatus.READY_FOR_PICKUP),
        ("1", TrackingStatus.DELIVERED),
        ("2", TrackingStatus.IN_TRANSIT),
        ("2", TrackingStatus.FAILED_DELIVERY),
        ("2", TrackingStatus.RETURNING),
        ("2", TrackingStatus.RETURNING),
        ("2", TrackingStatus.RETURNED_TO_SENDER),
    ]
    assert events[0].location == "Москва 101000"
    assert events[2].description == "Вручение адресату (2.1)"
    assert carrier.track([Tracked("1")], T0 + timedelta(days=40)) == events[:3]  # same ids
    assert carrier.track([Tracked("unknown")], T0) == []


def test_a_packed_order_ships_through_pochta_to_the_door(
    potok: Potok, pochta: PochtaSimulator
) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), carrier_for(pochta)])
    command = PlaceOrder(
        channel="web",
        lines=[LineRequest("KET", 1)],
        delivery=DeliveryRequest(
            DeliveryMethod.COURIER,
            address=Address(
                "Тверь", "ул. Советская, 5", postal_code="170100", latitude=56.86, longitude=35.9
            ),
        ),
        customer_name="Петрова Анна",
        customer_phone="+79161234567",
    )
    placed = place_order(potok.uow(), command, TESTER)
    assert isinstance(placed, Placement)
    order_id = placed.order.id or 0
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    shipment_id = shipment.id or 0
    picking.pick(potok.uow(), shipment_id, ScanInput("KET"), TESTER)
    packing.pack_parcel(
        potok.uow(), shipment_id, ParcelDraft(1300, 300, 200, 200, (ParcelLine(1, 1),)), TESTER
    )
    quotes = dict(tracking.quotes(potok.uow(), potok.carriers, shipment_id))
    assert [(q.tariff, q.price) for q in quotes["pochta"]] == [("POSTAL_PARCEL", Decimal("603.90"))]
    left = tracking.hand_over_to(potok.uow(), potok.carriers, shipment_id, TESTER, carrier="pochta")
    number = left.tracking_number or ""
    assert pochta.orders[int(left.carrier_ref or 0)]["index-to"] == 170100
    now = datetime.now(UTC)
    pochta.operate(number, 1, 1, "Единичный", now - timedelta(hours=3))
    pochta.operate(number, 2, 1, "Вручение адресату", now - timedelta(hours=1))
    outcome = tracking.poll_carriers(potok.uow(), potok.carriers)
    assert outcome.applied == 2
    assert reads.get_shipment(potok.uow(), shipment_id).shipment.status is ShipmentStatus.DELIVERED
    assert order_service.get_order(potok.uow(), order_id).order.status is OrderStatus.DELIVERED
