"""The sandbox carrier: the same seed tells the same stories, every story is a path the
shipment machine allows, webhooks are signed, pickup points have their deadlines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from potok.connectors.carriers import (
    BookingRequest,
    CarrierRefused,
    SandboxCarrier,
    Tracked,
    TrackingStatus,
)
from potok.connectors.carriers.interface import Parcel
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.fulfilment.states import CARRIER_STEPS, SHIPMENT

START = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
MOSCOW = (55.7558, 37.6173)
TVER = (56.8587, 35.9176)


def request(reference: str, *, pickup: bool = False, at: datetime = START) -> BookingRequest:
    return BookingRequest(
        reference=reference,
        from_warehouse="MSK",
        origin=MOSCOW,
        destination=TVER,
        recipient_name="Анна",
        recipient_phone=None,
        address=None if pickup else "ул. Советская, 1",
        city="Тверь",
        pickup_point="SBX-TVR-1" if pickup else None,
        parcels=[Parcel(1200, 300, 200, 200)],
        declared_value=Decimal("2490.00"),
        handed_over_at=at,
    )


def test_the_same_seed_books_and_tells_the_same_story() -> None:
    one, two = SandboxCarrier(secret="s", seed=3), SandboxCarrier(secret="s", seed=3)
    first, again = one.book(request("42-1")), two.book(request("42-1"))
    assert first == again
    assert one.story(first.tracking_number) == two.story(again.tracking_number)
    other = SandboxCarrier(secret="s", seed=4).book(request("42-1"))
    assert other.tracking_number != first.tracking_number
    assert first.days == 2  # Moscow to Tver: the 50-300 km band
    assert first.label.endswith(".pdf")


def test_every_story_is_a_path_the_shipment_machine_allows_and_all_kinds_happen() -> None:
    carrier = SandboxCarrier(secret="s", seed=7)
    endings: Counter[str] = Counter()
    for index in range(200):
        pickup = index % 2 == 0
        booking = carrier.book(request(f"{index}-1", pickup=pickup))
        story = carrier.story(booking.tracking_number)
        times = [e.occurred_at for e in story]
        assert times == sorted(times)
        assert all(t > START for t in times)
        current = ShipmentStatus.HANDED_OVER
        for event in story:
            target = ShipmentStatus(event.status.value)
            if target is not current:
                assert SHIPMENT.path(current, target, through=CARRIER_STEPS), (current, target)
                current = target
        endings[f"{'pickup' if pickup else 'courier'}:{current.value}"] += 1
        if pickup and any(e.status is TrackingStatus.READY_FOR_PICKUP for e in story):
            ready = next(e for e in story if e.status is TrackingStatus.READY_FOR_PICKUP)
            assert ready.storage_until == ready.occurred_at + timedelta(days=7)
    assert endings["pickup:delivered"] > endings["pickup:returned_to_sender"] > 0
    assert endings["courier:delivered"] > endings["courier:returned_to_sender"] > 0


def test_tracking_gives_what_happened_by_now() -> None:
    carrier = SandboxCarrier(secret="s", seed=7)
    booking = carrier.book(request("7-1"))
    parcel = [Tracked(booking.tracking_number)]
    assert carrier.track(parcel, START) == []
    first = carrier.track(parcel, START + timedelta(hours=4))
    assert [e.status for e in first] == [TrackingStatus.IN_TRANSIT]
    assert first[0].eta_on == (START + timedelta(days=2)).date()
    assert carrier.track(parcel, START + timedelta(days=60)) == carrier.story(
        booking.tracking_number
    )
    assert carrier.track([Tracked("NOT-OURS")], START + timedelta(days=60)) == []


def test_webhooks_are_signed_and_a_forged_one_is_refused() -> None:
    carrier = SandboxCarrier(secret="webhook-secret", seed=7)
    booking = carrier.book(request("8-1"))
    events = carrier.story(booking.tracking_number)
    headers, body = carrier.webhook(events)
    assert carrier.read_webhook(headers, body) == events
    with pytest.raises(CarrierRefused):
        carrier.read_webhook(headers, body.replace(b"in_transit", b"delivered", 1))
    with pytest.raises(CarrierRefused):
        SandboxCarrier(secret="other", seed=7).read_webhook(headers, body)
    bad = {"X-Sandbox-Signature": carrier._sign(b"{}")}
    with pytest.raises(CarrierRefused):
        carrier.read_webhook(bad, b"{}")


def test_quotes_and_pickup_points() -> None:
    carrier = SandboxCarrier(secret="s", seed=7, storage_days=5)
    from potok.connectors.carriers import QuoteRequest

    (door,) = carrier.quote(QuoteRequest(MOSCOW, TVER, 1200))
    (point,) = carrier.quote(QuoteRequest(MOSCOW, TVER, 1200, pickup_point="SBX-MSK-1"))
    assert point.price < door.price
    assert door.days == point.days == 2
    assert carrier.quote(QuoteRequest(MOSCOW, None, 1200)) == []
    points = carrier.pickup_points(city="Москва")
    assert [p.code for p in points] == ["SBX-MSK-1", "SBX-MSK-2"]
    assert {p.storage_days for p in points} == {5}
