"""PostgreSQL's sequencer looks for events to place from a floor, not from the start of
its index (whose entries of placed events stay until vacuum): the floor passes what was
placed, never an event a running transaction may still commit, and a sweep from the
start once a minute places an event that was found below it anyway."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.repositories.events import SEQUENCER_GRACE
from potok.db.tables import outbox_events, outbox_sequencer
from potok.services import events
from potok.services.unit_of_work import UnitOfWork, atomically

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


def row(n: int) -> dict[str, object]:
    return {
        "event_id": f"00000000-0000-0000-0000-{n:012d}",
        "type": "order.status_changed",
        "aggregate_type": "order",
        "aggregate_id": str(n),
        "payload": {"n": n},
        "occurred_at": datetime.now(UTC),
    }


def commit(potok: Potok, *numbers: int) -> None:
    with potok.engine.begin() as connection:
        connection.execute(sa.insert(outbox_events), [row(n) for n in numbers])


def state(potok: Potok) -> sa.Row[tuple[int, int]]:
    with potok.engine.connect() as look:
        return look.execute(
            sa.select(outbox_sequencer.c.floor_id, outbox_sequencer.c.settled_id)
        ).one()


def age(potok: Potok, *, mark: bool = True, sweep: bool = False) -> None:
    """Time passes: the id the sequencer remembered is older than its grace (waited out,
    so that transactions keep their real start times), and the last sweep is older than a
    minute (moved back)."""
    if mark:
        time.sleep(SEQUENCER_GRACE.total_seconds() + 0.1)
    if sweep:
        with potok.engine.begin() as connection:
            connection.execute(
                sa.update(outbox_sequencer).values(
                    swept_at=datetime.now(UTC) - timedelta(minutes=5)
                )
            )


def ids(potok: Potok, *numbers: int) -> list[int]:
    with potok.engine.connect() as look:
        return list(
            look.execute(
                sa.select(outbox_events.c.id)
                .where(outbox_events.c.payload["n"].as_integer().in_(numbers))
                .order_by(outbox_events.c.id)
            ).scalars()
        )


def placed(potok: Potok) -> list[int]:
    """The events' numbers in the order of their positions."""
    with potok.engine.connect() as look:
        return [
            int(n)
            for n in look.execute(
                sa.select(outbox_events.c.payload["n"].as_integer())
                .where(outbox_events.c.position.is_not(None))
                .order_by(outbox_events.c.position)
            ).scalars()
        ]


def test_the_floor_passes_placed_events_but_never_one_a_running_transaction_holds(
    potok: Potok,
) -> None:
    commit(potok, 1, 2)
    assert events.sequence_events(potok.uow(), 100) == 2
    age(potok)
    commit(potok, 3)
    assert events.sequence_events(potok.uow(), 100) == 1
    (two,) = ids(potok, 2)
    assert state(potok).floor_id == two + 1  # past 1 and 2: nothing there can still commit

    slow = potok.engine.connect()
    try:
        slow.begin()
        four = slow.execute(  # drawn now, committed last
            sa.insert(outbox_events).values(**row(4)).returning(outbox_events.c.id)
        ).scalar_one()
        commit(potok, 5)
        for _ in range(3):  # rounds while the slow transaction runs, time passing
            events.sequence_events(potok.uow(), 100)
            age(potok)
        assert state(potok).floor_id <= four  # not past the event that may still commit
        assert placed(potok) == [1, 2, 3, 5]

        slow.commit()
        assert events.sequence_events(potok.uow(), 100) == 1
        assert placed(potok) == [1, 2, 3, 5, 4]  # placed when it became visible
        age(potok)
        events.sequence_events(potok.uow(), 100)
        age(potok)
        events.sequence_events(potok.uow(), 100)
        assert state(potok).floor_id == max(ids(potok, 1, 2, 3, 4, 5)) + 1
    finally:
        slow.close()


def test_a_full_batch_moves_the_floor_to_just_past_what_it_placed(potok: Potok) -> None:
    commit(potok, *range(1, 11))
    events.sequence_events(potok.uow(), 1)  # remembers the highest id
    age(potok)
    assert events.sequence_events(potok.uow(), 4) == 4
    assert state(potok).floor_id == ids(potok, 5)[0] + 1  # the rest wait just past it
    assert events.sequence_events(potok.uow(), 100) == 5
    assert placed(potok) == list(range(1, 11))


def test_an_event_found_below_the_floor_is_placed_by_the_next_sweep(potok: Potok) -> None:
    commit(potok, 1, 2, 3)
    events.sequence_events(potok.uow(), 100)
    age(potok)
    commit(potok, 4)
    events.sequence_events(potok.uow(), 100)
    # an event whose id was drawn before its transaction got going, committed after the
    # floor passed it (the one case the floor cannot see coming): here event 1's id again
    late = ids(potok, 1)[0]
    assert state(potok).floor_id > late
    with potok.engine.begin() as connection:
        connection.execute(sa.delete(outbox_events).where(outbox_events.c.id == late))
        connection.execute(sa.insert(outbox_events).values(id=late, **row(9)))

    assert events.sequence_events(potok.uow(), 100) == 0  # not looked for below the floor
    with potok.uow() as uow:
        assert not uow.event_log.waiting()
    age(potok, mark=False, sweep=True)  # a minute later
    with potok.uow() as uow:
        assert uow.event_log.waiting()  # a sweep is due: the dispatcher calls the sequencer
    assert events.sequence_events(potok.uow(), 100) == 1
    assert placed(potok) == [2, 3, 4, 9]


def test_a_call_with_nothing_to_place_or_move_writes_nothing(potok: Potok) -> None:
    """A worker calls the sequencer every round: when nothing waits and its floor and mark
    stay (the mark made a moment ago), the call writes nothing - its transaction gets no
    id, so its commit flushes nothing. (Writing the sequencer's row on every call, as
    before, gave each idle call a transaction id.)"""
    commit(potok, 1, 2)
    assert events.sequence_events(potok.uow(), 100) == 2
    with potok.engine.begin() as connection:  # the mark stays this side of its grace
        connection.execute(
            sa.update(outbox_sequencer).values(marked_at=datetime.now(UTC) + timedelta(hours=1))
        )
    before = state(potok)

    def idle(uow: UnitOfWork) -> tuple[int, object]:
        placed_now = uow.event_log.sequence(100)
        written = uow.connection.execute(sa.select(sa.func.pg_current_xact_id_if_assigned()))
        return placed_now, written.scalar()

    assert atomically(potok.uow(), idle) == (0, None)
    assert state(potok) == before
    commit(potok, 3)
    assert events.sequence_events(potok.uow(), 100) == 1  # what waits is still placed
    assert placed(potok) == [1, 2, 3]
