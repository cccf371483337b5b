"""Retention: delivered events and old delivery attempts are pruned, never what a consumer
still needs, and never so that the numbering of positions starts again - on both
databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import outbox_events, webhook_deliveries
from potok.domain.kernel import Actor
from potok.domain.webhooks import NothingToReplay
from potok.services import events
from potok.services.events import ReplayRange, prune_delivered
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.jobs import run_due_jobs
from tests.integration.test_event_delivery import emit
from tests.receiver import Receiver

ADMIN = Actor.system("tests")
DAY = timedelta(days=1)


def later(days: float) -> object:
    return lambda: datetime.now(UTC) + timedelta(days=days)


def positions(potok: Potok) -> list[int]:
    with potok.engine.connect() as look:
        query = sa.select(outbox_events.c.position).order_by(outbox_events.c.position)
        return [int(p) for p in look.execute(query).scalars()]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def dispatcher(potok: Potok) -> Iterator[Dispatcher]:
    potok.settings.events.allow_private_addresses = True
    with new_client() as client:
        yield Dispatcher(potok, client, name="tests")


def drain(dispatcher: Dispatcher) -> None:
    for _ in range(50):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


def test_old_delivered_events_go_and_the_numbering_goes_on(potok: Potok) -> None:
    emit(potok, 1, 5)
    events.sequence_events(potok.uow(), 100)
    assert positions(potok) == [1, 2, 3, 4, 5]

    young = prune_delivered(potok.uow(), keep_events=30 * DAY, keep_log=None)
    assert young.events == 0  # nothing is old enough yet

    pruned = prune_delivered(potok.uow(), keep_events=30 * DAY, keep_log=None, clock=later(31))
    assert pruned.events == 4
    assert positions(potok) == [5]  # the newest stays: the floor of the numbering

    emit(potok, 1, 1, start=5)
    events.sequence_events(potok.uow(), 100)
    assert positions(potok) == [5, 6]  # not 1 again
    assert [e.position for e in events.read_feed(potok.uow(), 5).items] == [6]


def test_events_a_consumer_has_not_dealt_with_stay(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    emit(potok, 2, 3)
    drain(dispatcher)
    receiver.wait_for(3)
    delivered_up_to = positions(potok)[-1]
    events.pause_subscription(potok.uow(), made.subscription.id, ADMIN)
    emit(potok, 2, 3, start=3)  # wait behind the paused subscription's cursor
    drain(dispatcher)

    pruned = prune_delivered(potok.uow(), keep_events=DAY, keep_log=None, clock=later(2))

    # up to its cursor go; what follows stays: webhook.paused and the three that wait
    assert positions(potok) == list(range(delivered_up_to + 1, delivered_up_to + 5))
    assert pruned.events == delivered_up_to
    events.resume_subscription(potok.uow(), made.subscription.id)
    drain(dispatcher)
    assert len(receiver.wait_for(6)) == 6  # nothing it still needed was lost
    with pytest.raises(NothingToReplay):  # what is gone cannot be replayed
        events.replay_subscription(
            potok.uow(), made.subscription.id, ReplayRange(from_position=1), ADMIN
        )


def test_old_delivery_attempts_go_but_not_those_past_a_cursor(
    potok: Potok, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    potok.settings.events.backoff_s = 3600  # the failed one waits: the cursor stays before it
    events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
    emit(potok, 3, 2)
    drain(dispatcher)
    receiver.refused_subjects = {"order/4"}
    emit(potok, 4, 1)
    emit(potok, 5, 1)  # delivered past order 4's failed event: logged beyond the cursor
    for _ in range(3):
        dispatcher.run_round()

    pruned = prune_delivered(potok.uow(), keep_events=None, keep_log=DAY, clock=later(2))

    assert pruned.events == 0
    assert pruned.deliveries == 2  # order 3's two
    with potok.engine.connect() as look:
        kept = look.execute(
            sa.select(webhook_deliveries.c.outcome).order_by(webhook_deliveries.c.id)
        ).scalars()
        assert sorted(kept) == ["delivered", "failed"]  # order 5's, and order 4's attempt


def test_the_timed_job_prunes_with_the_settings(potok: Potok) -> None:
    potok.settings.events.retention_days = 1
    emit(potok, 6, 3)
    events.sequence_events(potok.uow(), 100)

    report = run_due_jobs(potok, clock=later(2))  # type: ignore[arg-type]

    assert report.pruned is not None
    assert report.pruned.events == 2
    assert positions(potok) == [3]
