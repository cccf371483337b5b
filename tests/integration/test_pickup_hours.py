"""The pickup point's opening hours, from the carriers' pickup-point directory, in the
"ready for pickup" message (e-mail and SMS) and on the public tracking page; a point the
directory does not know shows no hours rather than wrong ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingEvent, TrackingStatus
from potok.services import public_tracking
from potok.services.carrier_point_ports import DirectoryPoint
from potok.services.fulfilment import tracking
from potok.services.unit_of_work import atomically
from potok.worker.dispatcher import Dispatcher
from tests.factories import build_world
from tests.integration.test_notifications import mail  # noqa: F401 - the fixture
from tests.integration.test_returns import T0, Clock, _handed_over
from tests.smtp import Inbox

HOURS = "пн-пт 09:00-21:00, сб-вс 10:00-18:00"


def _directory(potok: Potok, code: str, hours: str) -> None:
    point = DirectoryPoint(
        carrier="own",
        code=code,
        name="ПВЗ на Тверской",
        kind="pvz",
        city="Москва",
        address="Тверская ул., 7",
        latitude=55.76,
        longitude=37.61,
        hours=hours,
        storage_days=7,
        cash_on_delivery=True,
        cards=True,
        weight_max_g=None,
        active=True,
        synced_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    atomically(potok.uow(), lambda uow: uow.carrier_points.upsert([point]))


def _ready(potok: Potok, clock: Clock) -> tuple[int, str]:
    order_id, _, number = _handed_over(
        potok,
        [("KET", 1)],
        clock,
        pickup_point="MSK-P",
        customer_name="Anna Smirnova",
        customer_email="anna@example.ru",
    )
    event = TrackingEvent(
        number,
        TrackingStatus.READY_FOR_PICKUP,
        T0 + timedelta(days=1),
        "at the point",
        "p1",
        storage_until=T0 + timedelta(days=8),
    )
    assert tracking.apply_tracking(potok.uow(), "own", [event]).applied == 1
    return order_id, number


def test_the_hours_reach_the_message_and_the_tracking_page(
    potok: Potok,
    mail: tuple[Inbox, Dispatcher, Clock],  # noqa: F811
) -> None:
    inbox, dispatcher, clock = mail
    build_world(potok, {("MSK", "KET"): 3})
    _directory(potok, "MSK-P", HOURS)
    order_id, _ = _ready(potok, clock)
    dispatcher.run_round()
    (ready,) = [i for i, s in enumerate(inbox.subjects()) if "ready for pickup" in s]
    assert f"Open: {HOURS}." in inbox.text(ready)  # the web channel writes in English
    assert f"Open: {HOURS}." in inbox.html(ready)

    token = public_tracking.tracking_token(potok.uow(), order_id)
    view = public_tracking.public_view(potok.uow(), token)
    assert (view.pickup_point, view.pickup_hours) == ("Moscow pickup point", HOURS)
    assert view.pickup_address is not None


def test_a_point_the_directory_does_not_know_shows_no_hours(
    potok: Potok,
    mail: tuple[Inbox, Dispatcher, Clock],  # noqa: F811
) -> None:
    inbox, dispatcher, clock = mail
    build_world(potok, {("MSK", "KET"): 3})
    order_id, _ = _ready(potok, clock)
    dispatcher.run_round()
    (ready,) = [i for i, s in enumerate(inbox.subjects()) if "ready for pickup" in s]
    assert "Open:" not in inbox.text(ready)
    token = public_tracking.tracking_token(potok.uow(), order_id)
    assert public_tracking.public_view(potok.uow(), token).pickup_hours is None
