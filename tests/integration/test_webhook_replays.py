"""Replays (a subscription's past events delivered again) and pausing a receiver that keeps
failing, with an operator alert - on both databases, against a real receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from potok.bootstrap import Potok
from potok.db.tables import outbox_events
from potok.domain.alerts import AlertKind
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor
from potok.domain.webhooks import DeliveryOutcome, NothingToReplay, SubscriptionNotFound
from potok.services import alerts, events
from potok.services.events import ReplayRange
from potok.worker.dispatcher import Dispatcher, new_client
from tests.integration.test_event_delivery import emit, steps
from tests.receiver import Receiver

ADMIN = Actor.system("tests")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def dispatcher(potok: Potok) -> Iterator[Dispatcher]:
    settings = potok.settings.events
    settings.allow_private_addresses = True
    settings.backoff_s = 0.01
    settings.backoff_max_s = 0.05
    with new_client() as client:
        yield Dispatcher(potok, client, name="tests")


def rounds(dispatcher: Dispatcher, until: object, most: int = 200) -> None:
    """Rounds until ``until()`` holds."""
    for _ in range(most):
        dispatcher.run_round()
        if until():  # type: ignore[operator]
            return
    raise AssertionError("never came true")


def sequences(receiver: Receiver) -> list[int]:
    return [int(r.event["sequence"]) for r in receiver.received]


# ---------------------------------------------------------------------- replays


def test_a_replay_delivers_a_range_again_in_order_beside_the_usual_deliveries(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    emit(potok, 1, 4)
    rounds(dispatcher, lambda: len(receiver.received) == 4)
    first = sequences(receiver)

    replay = events.replay_subscription(
        potok.uow(), made.subscription.id, ReplayRange(from_position=first[1]), ADMIN
    )
    assert (replay.after_position, replay.until_position) == (first[1] - 1, first[3])
    assert events.get_subscription(potok.uow(), made.subscription.id).replaying
    emit(potok, 2, 1)  # a new event meanwhile: delivered as usual, and once
    rounds(dispatcher, lambda: len(receiver.received) == 8)

    again = [r for r in receiver.received[4:] if r.event["subject"] == "order/1"]
    assert [int(r.event["sequence"]) for r in again] == first[1:]  # the range, in order
    assert [Webhook(made.secret).verify(r.body, r.headers)["id"] for r in again] == [
        r.headers["webhook-id"] for r in receiver.received[1:4]
    ]  # signed, and the same ids: receivers deduplicate them
    assert steps([r.event for r in receiver.received], 2) == ["s0"]
    (done,) = events.list_replays(potok.uow(), made.subscription.id)
    assert done.finished_at is not None
    assert done.position is None
    log = events.list_deliveries(potok.uow(), made.subscription.id, limit=50).items
    assert sorted(d.position for d in log if d.replay_id == replay.id) == first[1:]
    assert not events.get_subscription(potok.uow(), made.subscription.id).replaying


def test_a_replay_of_one_event_sends_a_dead_letter_again(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    potok.settings.events.max_attempts = 2
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    receiver.fail_next = 2
    emit(potok, 3, 2)
    rounds(dispatcher, lambda: len(receiver.received) == 1)
    (dead,) = events.list_deliveries(
        potok.uow(), made.subscription.id, outcome=DeliveryOutcome.DEAD
    ).items

    events.replay_subscription(
        potok.uow(), made.subscription.id, ReplayRange(event_id=dead.event_id), ADMIN
    )
    rounds(dispatcher, lambda: len(receiver.received) == 2)

    assert receiver.received[1].headers["webhook-id"] == dead.event_id
    assert steps([r.event for r in receiver.received], 3) == ["s1", "s0"]


def test_a_replay_by_time_takes_the_events_that_happened_then(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["*"], ADMIN, allow_private=True)
    emit(potok, 4, 1)
    middle = datetime.now(UTC)
    emit(potok, 4, 2, start=1)
    later = datetime.now(UTC)
    emit(potok, 4, 1, start=3)
    rounds(dispatcher, lambda: len(receiver.received) == 4)

    events.replay_subscription(
        potok.uow(), made.subscription.id, ReplayRange(since=middle, until=later), ADMIN
    )
    rounds(dispatcher, lambda: len(receiver.received) == 6)

    assert steps([r.event for r in receiver.received[4:]], 4) == ["s1", "s2"]


def test_a_replay_that_fails_is_tried_again_and_loses_nothing(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    emit(potok, 5, 3)
    rounds(dispatcher, lambda: len(receiver.received) == 3)
    start = sequences(receiver)[0]

    receiver.fail_next = 2
    events.replay_subscription(
        potok.uow(), made.subscription.id, ReplayRange(from_position=start), ADMIN
    )
    rounds(dispatcher, lambda: len(receiver.received) == 6)

    assert steps([r.event for r in receiver.received[3:]], 5) == ["s0", "s1", "s2"]
    assert len(receiver.refused) == 2
    log = events.list_deliveries(potok.uow(), made.subscription.id, limit=50).items
    replayed = [(d.attempt, d.outcome) for d in reversed(log) if d.replay_id is not None]
    assert replayed[:3] == [
        (1, DeliveryOutcome.FAILED),
        (2, DeliveryOutcome.FAILED),
        (3, DeliveryOutcome.DELIVERED),
    ]


def test_a_replay_names_one_range_that_the_subscription_has_reached(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    number = made.subscription.id
    with pytest.raises(InvalidInput):
        events.replay_subscription(potok.uow(), number, ReplayRange(), ADMIN)
    with pytest.raises(InvalidInput):
        events.replay_subscription(
            potok.uow(), number, ReplayRange(event_id="x", from_position=1), ADMIN
        )
    with pytest.raises(SubscriptionNotFound):
        events.replay_subscription(potok.uow(), 999, ReplayRange(from_position=1), ADMIN)
    with pytest.raises(NothingToReplay):  # nothing delivered yet
        events.replay_subscription(potok.uow(), number, ReplayRange(from_position=1), ADMIN)
    with pytest.raises(NothingToReplay):
        events.replay_subscription(potok.uow(), number, ReplayRange(event_id="nope"), ADMIN)
    emit(potok, 6, 1)
    rounds(dispatcher, lambda: len(receiver.received) == 1)
    with pytest.raises(NothingToReplay):
        events.replay_subscription(
            potok.uow(),
            number,
            ReplayRange(since=datetime.now(UTC) + timedelta(hours=1)),
            ADMIN,
        )
    assert events.list_replays(potok.uow(), number) == []


def test_unsubscribing_ends_its_replays(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    emit(potok, 7, 2)
    rounds(dispatcher, lambda: len(receiver.received) == 2)
    events.replay_subscription(
        potok.uow(), made.subscription.id, ReplayRange(from_position=1), ADMIN
    )
    events.unsubscribe(potok.uow(), made.subscription.id)

    for _ in range(3):
        dispatcher.run_round()

    assert len(receiver.received) == 2
    with potok.engine.connect() as look:
        names = look.execute(sa.text("SELECT name FROM event_consumers")).scalars().all()
    assert not [n for n in names if n.startswith("replay:")]


# ---------------------------------------------------------------------- pausing by itself


def test_a_receiver_that_keeps_failing_is_paused_with_an_alert_and_resuming_clears_it(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    potok.settings.events.pause_after_failures = 3
    potok.settings.events.pause_after_s = 0
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    number = made.subscription.id
    receiver.stop()
    emit(potok, 8, 2)

    rounds(
        dispatcher,
        lambda: events.get_subscription(potok.uow(), number).paused_at is not None,
    )

    paused = events.get_subscription(potok.uow(), number)
    assert paused.paused_by == "system:dispatcher"
    assert paused.failures == 3
    assert paused.paused_reason is not None
    assert paused.paused_reason.startswith("3 failed")
    (alert,) = alerts.list_alerts(potok.uow()).items
    assert alert.kind is AlertKind.WEBHOOK_PAUSED
    assert f"subscription {number}" in alert.message
    with potok.engine.connect() as look:
        audit = look.execute(
            sa.select(outbox_events.c.type, outbox_events.c.payload)
            .where(outbox_events.c.aggregate_type == "webhook")
            .order_by(outbox_events.c.id)
        ).all()
    assert [t for t, _ in audit] == ["webhook.subscribed", "webhook.paused"]
    assert audit[1][1]["reason"] == paused.paused_reason
    for _ in range(3):
        dispatcher.run_round()
    assert events.get_subscription(potok.uow(), number).failures == 3  # nothing tried

    receiver.start()
    resumed = events.resume_subscription(potok.uow(), number)
    assert (resumed.failures, resumed.failing_since, resumed.paused_reason) == (0, None, None)
    rounds(dispatcher, lambda: len(receiver.received) == 2)
    assert steps([r.event for r in receiver.received], 8) == ["s0", "s1"]


def test_a_delivery_that_goes_through_starts_the_count_again(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    """Failures must come in a row: two, a success, two more never reach three."""
    potok.settings.events.pause_after_failures = 3
    potok.settings.events.pause_after_s = 0
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    number = made.subscription.id
    receiver.fail_next = 2
    emit(potok, 9, 1)
    rounds(dispatcher, lambda: len(receiver.received) == 1)
    assert events.get_subscription(potok.uow(), number).failures == 0
    receiver.fail_next = 2
    emit(potok, 9, 1, start=1)
    rounds(dispatcher, lambda: len(receiver.received) == 2)

    after = events.get_subscription(potok.uow(), number)
    assert (after.paused_at, after.failures, after.failing_since) == (None, 0, None)
    assert alerts.list_alerts(potok.uow()).items == []


def test_a_short_outage_is_not_paused_before_its_time(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    potok.settings.events.pause_after_failures = 2
    potok.settings.events.pause_after_s = 3600
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    receiver.stop()
    emit(potok, 10, 3)
    rounds(
        dispatcher,
        lambda: events.get_subscription(potok.uow(), made.subscription.id).failures >= 4,
    )
    assert events.get_subscription(potok.uow(), made.subscription.id).paused_at is None
