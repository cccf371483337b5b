"""Readers of the outbox, listed with where they stand, and one that never moves again
forgotten by an operator so that retention goes on - on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import audit_log, event_consumers, outbox_events
from potok.domain.kernel import Actor, ActorKind
from potok.domain.webhooks import ReaderInUse, ReaderNotFound, ReaderOfSubscription
from potok.services import events
from potok.services.events import ReplayRange, prune_delivered
from potok.worker.dispatcher import Dispatcher, new_client
from tests.integration.test_event_delivery import emit
from tests.receiver import Receiver

ADMIN = Actor.system("tests")
OPERATOR = Actor(ActorKind.USER, "olga")
DAY = timedelta(days=1)


def later(days: float) -> object:
    return lambda: datetime.now(UTC) + timedelta(days=days)


def kept(potok: Potok) -> int:
    with potok.engine.connect() as look:
        return int(look.execute(sa.select(sa.func.count()).select_from(outbox_events)).scalar_one())


def last(potok: Potok) -> int:
    with potok.engine.connect() as look:
        found = look.execute(sa.select(sa.func.max(outbox_events.c.position))).scalar_one()
        return int(found)


@pytest.fixture
def dispatcher(potok: Potok) -> Iterator[Dispatcher]:
    settings = potok.settings.events
    settings.allow_private_addresses = True
    settings.backoff_s = 0.01
    settings.backoff_max_s = 0.02
    with new_client() as client:
        yield Dispatcher(potok, client, name="tests")


def drain(dispatcher: Dispatcher) -> None:
    for _ in range(50):
        if not dispatcher.run_round().busy:
            return
    raise AssertionError("the dispatcher was still busy")


def test_a_stream_turned_off_holds_retention_until_its_reader_is_forgotten(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    emit(potok, 1, 3)
    # the NATS stream is on, but its server cannot be reached: its reader stays put
    potok.settings.events.nats_url = "nats://127.0.0.1:1"  # nothing listens there
    drain(dispatcher)
    start = last(potok)
    emit(potok, 1, 4, start=3)
    dispatcher.run_round()
    dispatcher.close()
    potok.settings.events.nats_url = None  # ... and then turned off: it never moves again
    drain(dispatcher)

    listed = {r.name: r for r in events.list_readers(potok.uow())}
    stuck = listed["nats"]
    assert (stuck.position, stuck.behind, stuck.holds_retention) == (start, 4, True)
    assert stuck.attempts == 1  # the failed publication
    assert stuck.oldest_waiting_at is not None
    moving = [r for r in listed.values() if r.name != "nats"]
    assert moving, "the after-commit reactions read the outbox too"
    assert all(r.position == start + 4 and not r.holds_retention for r in moving)
    assert events.list_readers(potok.uow())[0].name == "nats"  # the slowest first

    before = kept(potok)
    held = prune_delivered(potok.uow(), keep_events=DAY, keep_log=None, clock=later(2))
    assert held.events == start  # up to the stuck reader, not one past it
    assert kept(potok) == before - start == 4

    forgotten = events.forget_reader(
        potok.uow(), "nats", OPERATOR, reason="the stream was switched off"
    )
    assert (forgotten.name, forgotten.position, forgotten.behind) == ("nats", start, 4)
    assert "nats" not in {r.name for r in events.list_readers(potok.uow())}

    pruned = prune_delivered(potok.uow(), keep_events=DAY, keep_log=None, clock=later(2))
    assert pruned.events == 3  # all but the newest, the floor of the numbering
    assert kept(potok) == 2  # ... and the forgetting's own event, not placed yet

    with potok.engine.connect() as look:
        trail = look.execute(
            sa.select(audit_log.c.entity_id, audit_log.c.after).where(
                audit_log.c.action == "webhook.reader_forgotten"
            )
        ).one()
    assert trail.entity_id == "nats"
    assert trail.after["by"] == "user:olga"
    assert trail.after["position"] == start
    assert trail.after["behind"] == 4
    assert trail.after["reason"] == "the stream was switched off"

    with pytest.raises(ReaderNotFound):  # once is enough
        events.forget_reader(potok.uow(), "nats", OPERATOR)


def test_a_subscription_s_cursor_and_a_reader_being_moved_are_not_forgotten(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    receiver = Receiver().start()
    try:
        made = events.subscribe(potok.uow(), receiver.url, ["*"], ADMIN, allow_private=True)
        emit(potok, 2, 2)
        drain(dispatcher)
        name = f"webhook:{made.subscription.id}"
        with pytest.raises(ReaderOfSubscription) as refused:
            events.forget_reader(potok.uow(), name, OPERATOR)
        assert f"webhook-subscriptions/{made.subscription.id}" in refused.value.detail
        assert name in {r.name for r in events.list_readers(potok.uow())}

        # a worker holds a reader's lease: it is moving, not stuck
        with potok.engine.begin() as connection:
            connection.execute(
                sa.update(event_consumers)
                .where(event_consumers.c.name == "reaction:refresh_order_facts")
                .values(
                    leased_by="worker-elsewhere",
                    lease_expires_at=datetime.now(UTC) + timedelta(minutes=1),
                )
            )
        with pytest.raises(ReaderInUse) as busy:
            events.forget_reader(potok.uow(), "reaction:refresh_order_facts", OPERATOR)
        assert "worker-elsewhere" in busy.value.detail

        # a replay's reader ends the replay with it
        events.pause_subscription(potok.uow(), made.subscription.id, ADMIN)
        replay = events.replay_subscription(
            potok.uow(), made.subscription.id, ReplayRange(from_position=1), ADMIN
        )
        events.forget_reader(potok.uow(), replay.consumer, OPERATOR)
        (ended,) = events.list_replays(potok.uow(), made.subscription.id)
        assert ended.finished_at is not None
        assert replay.consumer not in {r.name for r in events.list_readers(potok.uow())}

        # once unsubscribed, its cursor is gone with it
        events.unsubscribe(potok.uow(), made.subscription.id)
        with pytest.raises(ReaderNotFound):
            events.forget_reader(potok.uow(), name, OPERATOR)
    finally:
        receiver.stop()


def test_readers_pass_administration_events_at_the_end_of_the_outbox(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    receiver = Receiver().start()
    try:
        made = events.subscribe(potok.uow(), receiver.url, ["order.*"], ADMIN, allow_private=True)
        emit(potok, 1, 2)
        drain(dispatcher)
        # the last events are account and subscription administration, handed to no reader
        events.rotate_secret(potok.uow(), made.subscription.id, keep_old_for=DAY)
        events.rotate_secret(potok.uow(), made.subscription.id, keep_old_for=DAY)
        drain(dispatcher)
        drain(dispatcher)
        end = last(potok)

        readers = events.list_readers(potok.uow())
        assert [(r.name, r.position, r.behind) for r in readers if r.position != end] == []
        assert {r.name for r in readers} >= {f"webhook:{made.subscription.id}"}
        figures = events.outbox_figures(potok.uow())
        assert [(lag.consumer, lag.events) for lag in figures.consumers if lag.events] == []
        assert len(receiver.received) == 2

        # nothing new: no reader claims an empty window again (its cursor is not touched)
        with potok.engine.connect() as look:
            moved = {
                r.name: r.updated_at
                for r in look.execute(
                    sa.select(event_consumers.c.name, event_consumers.c.updated_at)
                )
            }
        assert not dispatcher.run_round().busy
        with potok.engine.connect() as look:
            again = {
                r.name: r.updated_at
                for r in look.execute(
                    sa.select(event_consumers.c.name, event_consumers.c.updated_at)
                )
            }
        assert again == moved
        # the change feed's cursor passes them too
        page = events.read_feed(potok.uow(), end - 2)
        assert (page.items, page.cursor) == ([], end)
    finally:
        receiver.stop()
