"""СДЭК's adapter against the simulator: token kept and renewed once, tariffs of the right
delivery mode cheapest first and remembered, Potok's table while СДЭК is down, an order
registered asynchronously, a refused order with СДЭК's reason, the label as PDF, statuses by
polling and by webhook with the same event ids, a forged webhook refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from potok.connectors.carriers import (
    BookingRequest,
    CarrierRefused,
    CarrierUnavailable,
    QuoteRequest,
    Tracked,
    TrackingStatus,
)
from potok.connectors.carriers.cdek import CdekCarrier
from potok.connectors.carriers.cdek_http import CdekHttp
from potok.connectors.carriers.interface import Parcel
from tests.simulators.cdek import CLIENT_ID, CLIENT_SECRET, CdekSimulator

MOSCOW = (55.75, 37.62)
TVER = (56.86, 35.90)
SECRET = "hook-secret"


def carrier_for(sim: CdekSimulator, **options: object) -> CdekCarrier:
    http = CdekHttp(
        base_url=sim.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        sleep=lambda s: None,
    )
    return CdekCarrier(
        http,
        webhook_secret=SECRET,
        check_every_s=0,
        sleep=lambda s: None,
        **options,  # type: ignore[arg-type]
    )


def booking(reference: str = "42-1", **changes: object) -> BookingRequest:
    fields: dict[str, object] = {
        "reference": reference,
        "from_warehouse": "MSK",
        "origin": MOSCOW,
        "destination": TVER,
        "recipient_name": "Анна Петрова",
        "recipient_phone": "+79161234567",
        "address": "ул. Советская, 5",
        "city": "Тверь",
        "pickup_point": None,
        "parcels": [Parcel(1300, 300, 200, 200)],
        "declared_value": Decimal("2490.00"),
    }
    fields.update(changes)
    return BookingRequest(**fields)  # type: ignore[arg-type]


def test_quotes_are_the_right_mode_cheapest_first_and_remembered(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    to_door = carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, city="Тверь"))
    assert [q.tariff for q in to_door] == ["139"]  # from the warehouse's door to the door
    assert (to_door[0].live, to_door[0].days) == (True, 2)
    to_point = carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, pickup_point="TVR3"))
    assert [q.tariff for q in to_point] == ["366", "138"]  # cheapest first
    again = carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, city="Тверь"))
    assert again == to_door
    assert len(cdek.calls("/v2/calculator/tarifflist")) == 2  # the third was remembered
    assert cdek.tokens_issued == 1


def test_a_shipment_point_changes_the_modes(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek, shipment_point="MSK123")
    assert [q.tariff for q in carrier.quote(QuoteRequest(MOSCOW, TVER, 900, city="Тверь"))] == [
        "137"
    ]


def test_while_cdek_is_down_a_remembered_price_or_potoks_table_answers(
    cdek: CdekSimulator,
) -> None:
    carrier = carrier_for(cdek, quote_ttl_s=0)
    live = carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, city="Тверь"))
    cdek.fail(10, 503)
    remembered = carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, city="Тверь"))
    assert [(q.tariff, q.price, q.live) for q in remembered] == [
        (live[0].tariff, live[0].price, False)
    ]
    table = carrier.quote(QuoteRequest(MOSCOW, TVER, 2000, city="Тверь"))
    assert [(q.tariff, q.live) for q in table] == [("table", False)]
    cdek.faults.clear()


def test_an_order_is_registered_asynchronously_and_booking_again_finds_it(
    cdek: CdekSimulator,
) -> None:
    carrier = carrier_for(cdek)
    first = carrier.book(booking())
    assert first.tracking_number.isdigit()
    assert (first.tariff, first.days) == ("139", 2)
    order = cdek.orders[first.carrier_ref]
    assert order.body["number"] == "42-1"
    assert order.body["packages"][0]["weight"] == 1300
    assert order.body["packages"][0]["length"] == 30  # centimetres
    assert order.body["to_location"]["address"] == "ул. Советская, 5"
    reads = cdek.calls(f"/v2/orders/{first.carrier_ref}")
    assert len(reads) == 2  # ACCEPTED, then SUCCESSFUL with its number
    again = carrier.book(booking())
    assert (again.carrier_ref, again.tracking_number) == (first.carrier_ref, first.tracking_number)
    assert len(cdek.calls("/v2/orders")) == 3  # two look-ups by number, one creation


def test_a_booking_looks_soon_then_less_often_up_to_the_interval() -> None:
    """СДЭК registers an order within a second or so: a booking's first look comes after a
    quarter second, then the pauses double up to the configured interval (it used to wait
    the whole interval, 2 s by default, before its first look)."""
    sim = CdekSimulator(reads_before_registered=5)
    slept: list[float] = []
    try:
        http = CdekHttp(base_url=sim.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        carrier = CdekCarrier(http, check_every_s=2.0, sleep=slept.append)
        booked = carrier.book(booking())
        assert booked.tracking_number.isdigit()
        assert slept == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]  # six looks: five ACCEPTED, then its number
        slept.clear()
        carrier.label_pdf(Tracked(booked.tracking_number, booked.carrier_ref))
        assert slept == [0.25]  # a label: looked at once (not ready), then after a quarter second
        assert sim.invalid == []
    finally:
        sim.stop()


def test_a_refused_order_raises_with_cdeks_reason(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    cdek.refuse_next_order("v2_recipient_address_invalid", "Адрес получателя не найден")
    with pytest.raises(CarrierRefused) as refused:
        carrier.book(booking())
    assert "Адрес получателя не найден" in str(refused.value)
    with pytest.raises(CarrierRefused):
        carrier.book(booking("42-2", pickup_point="NOWHERE1"))


def test_an_expired_token_is_renewed_once_not_in_a_loop(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    carrier.quote(QuoteRequest(MOSCOW, TVER, 1300, city="Тверь"))
    cdek.expire_tokens()
    carrier.quote(QuoteRequest(MOSCOW, TVER, 1400, city="Тверь"))
    assert cdek.tokens_issued == 2
    cdek.revoked = True  # СДЭК refuses every token now
    with pytest.raises(CarrierUnavailable):
        carrier.http.call("GET", "/v2/webhooks")
    assert len(cdek.calls("/v2/oauth/token")) == 3  # renewal tried once, then given up
    assert len(cdek.calls("/v2/webhooks")) == 1
    cdek.revoked = False


def test_the_label_is_cdeks_pdf(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    booked = carrier.book(booking())
    pdf = carrier.label_pdf(Tracked(booked.tracking_number, booked.carrier_ref))
    assert pdf.startswith(b"%PDF")


def test_cancel_before_hand_over_and_not_after(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    booked = carrier.book(booking())
    carrier.cancel(booked)
    assert cdek.orders[booked.carrier_ref].statuses[-1]["code"] == "REMOVED"
    other = carrier.book(booking("43-1"))
    cdek.advance(other.tracking_number, "RECEIVED_AT_SHIPMENT_WAREHOUSE", post=False)
    with pytest.raises(CarrierRefused):
        carrier.cancel(other)


def test_polling_and_webhooks_tell_the_same_events(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    booked = carrier.book(booking(pickup_point="TVR3"))
    number = booked.tracking_number
    t0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
    bodies = [
        cdek.advance(number, "RECEIVED_AT_SHIPMENT_WAREHOUSE", at=t0, post=False),
        cdek.advance(number, "ACCEPTED_AT_PICK_UP_POINT", at=t0 + timedelta(1), post=False),
        cdek.advance(number, "DELIVERED", at=t0 + timedelta(2), post=False),
    ]
    polled = carrier.track([Tracked(number, booked.carrier_ref)], t0 + timedelta(days=3))
    pushed = [
        e
        for body in bodies
        for e in carrier.read_webhook({}, json.dumps(body).encode(), {"secret": SECRET})
    ]
    assert sorted((e.event_id, e.status) for e in polled) == sorted(
        (e.event_id, e.status) for e in pushed
    )
    assert [e.status for e in pushed] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.READY_FOR_PICKUP,
        TrackingStatus.DELIVERED,
    ]
    ready = next(e for e in polled if e.status is TrackingStatus.READY_FOR_PICKUP)
    assert ready.storage_until == t0 + timedelta(days=8)
    assert pushed[2].description == "Вручен (DELIVERED)"


def test_a_return_order_brings_the_parcel_back_under_its_own_number(
    cdek: CdekSimulator,
) -> None:
    carrier = carrier_for(cdek)
    booked = carrier.book(booking())
    number = booked.tracking_number
    t0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
    cdek.advance(number, "TAKEN_BY_COURIER", at=t0, post=False)
    back = cdek.send_back(number, at=t0 + timedelta(hours=5))
    body = cdek.advance(back, "DELIVERED", at=t0 + timedelta(days=3), post=False)
    events = carrier.read_webhook({}, json.dumps(body).encode(), {"secret": SECRET})
    assert [(e.tracking_number, e.status) for e in events] == [
        (number, TrackingStatus.RETURNED_TO_SENDER)
    ]
    polled = carrier.track([Tracked(number, booked.carrier_ref)], t0 + timedelta(days=4))
    assert [e.status for e in sorted(polled, key=lambda e: e.occurred_at)] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.FAILED_DELIVERY,
        TrackingStatus.RETURNED_TO_SENDER,
    ]


def test_a_forged_webhook_is_refused(cdek: CdekSimulator) -> None:
    carrier = carrier_for(cdek)
    body = json.dumps({"type": "ORDER_STATUS"}).encode()
    with pytest.raises(CarrierRefused):
        carrier.read_webhook({}, body, {"secret": "guess"})
    with pytest.raises(CarrierRefused):
        carrier.read_webhook({}, body, {})
    with pytest.raises(CarrierRefused):  # right secret, nonsense body
        carrier.read_webhook({}, b"{", {"secret": SECRET})
    print_form = json.dumps({"type": "PRINT_FORM", "uuid": "x", "attributes": {}}).encode()
    assert carrier.read_webhook({}, print_form, {"secret": SECRET}) == []


def test_pickup_points_come_from_cdeks_offices(cdek: CdekSimulator) -> None:
    points = carrier_for(cdek).pickup_points(city="Москва")
    assert [p.code for p in points] == ["MSK123", "MSK456", "MSK789"]
    assert points[0].address == "Москва, ул. Тверская, 7"
    assert points[2].extra["type"] == "POSTAMAT"
