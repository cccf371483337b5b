"""What the after-commit reactions cost a worker's round, and what they still guarantee: a
window of orders costs the same few transactions however many orders it holds, reactions
with nothing to do for it take no lease and write nothing of their own, a worker with
nothing to do writes nothing; a reaction that fails in the middle of a window is retried
from that event, the events before it never handed over again; two workers share a
reaction without handing an event to both - on both databases (the race on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import event_consumers, outbox_events
from potok.domain.orders.events import OrderCreated
from potok.domain.webhooks import StoredEvent
from potok.services import events as event_services
from potok.services.outside import Outside, Settle
from potok.services.reactions import (
    APPLY_AUTOMATION_RULES,
    DRIVE_GATEWAY_PAYMENTS,
    OPEN_SYSTEM_TASKS,
    QUEUE_FISCAL_RECEIPTS,
    REFRESH_ORDER_FACTS,
    EventReaction,
)
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.worker.costs import SHARED, Cost
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.reactions import run_reactions
from potok.worker.windows import Round
from tests.integration.test_event_delivery import emit
from tests.racing import RACE_LIMIT, race

NOTHING_TO_DO = (DRIVE_GATEWAY_PAYMENTS, QUEUE_FISCAL_RECEIPTS, OPEN_SYSTEM_TASKS)


@pytest.fixture
def dispatcher(potok: Potok) -> Iterator[Dispatcher]:
    potok.settings.events.backoff_s = 0.01
    potok.settings.events.backoff_max_s = 0.02
    with new_client() as client:
        yield Dispatcher(potok, client, name="tests")


def place(potok: Potok, first: int, count: int) -> None:
    """``count`` orders placed on a web channel with their stock (the events alone, each
    committed on its own, as intake commits them)."""
    for order_id in range(first, first + count):
        uow = potok.uow()
        with uow:
            uow.record(
                OrderCreated(
                    occurred_at=datetime.now(UTC),
                    order_id=order_id,
                    channel="web",
                    external_id=f"web-{order_id}",
                    status="reserved",
                    allocation="reserved",
                    payment_status="pending",
                    currency="RUB",
                    total=Decimal("100.00"),
                    lines=[],
                    reservations=[],
                )
            )
            uow.commit()


def sequence(potok: Potok) -> int:
    """Place the committed events in commit order (the delivery round's part); the last
    position."""
    atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000))
    return reading(potok.uow(), lambda uow: uow.event_log.last_position())


def spent(before: dict[str, Cost], after: dict[str, Cost]) -> dict[str, tuple[int, int]]:
    """Events handed over and transactions run, per reaction that had either, between two
    snapshots."""
    zero = Cost()
    found = {}
    for name, cost in after.items():
        was = before.get(name, zero)
        moved = (cost.events - was.events, cost.transactions - was.transactions)
        if moved != (0, 0):
            found[name] = moved
    return found


def positions(potok: Potok) -> dict[str, tuple[int, datetime]]:
    with potok.engine.connect() as look:
        return {
            r.name: (int(r.position), r.updated_at)
            for r in look.execute(
                sa.select(
                    event_consumers.c.name, event_consumers.c.position, event_consumers.c.updated_at
                )
            )
        }


def test_a_window_of_orders_costs_the_reactions_the_same_transactions_however_many(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    place(potok, 1, 2)
    sequence(potok)
    dispatcher.reaction_round()  # the cursors are made; the first window handed over

    figures = []
    for first, count in ((10, 3), (20, 30)):
        place(potok, first, count)
        last = sequence(potok)
        before = dispatcher.costs.snapshot()
        dispatcher.reaction_round()
        figures.append(spent(before, dispatcher.costs.snapshot()))
        stood = positions(potok)
        for reaction in (*NOTHING_TO_DO, APPLY_AUTOMATION_RULES, REFRESH_ORDER_FACTS):
            assert stood[reaction.consumer][0] == last  # every cursor past the window

    small, large = figures
    # the round's look, the window's read, the leases and passes; the facts' write
    assert small[SHARED] == (0, 3)
    assert small[REFRESH_ORDER_FACTS.consumer] == (3, 1)
    assert large[SHARED] == (0, 3)
    assert large[REFRESH_ORDER_FACTS.consumer] == (30, 1)
    # the payment gateway (no account), receipts (off), tasks (stock was there) and the
    # rules (none) had nothing to do: no lease, no transaction, no event handed over
    for quiet in (*NOTHING_TO_DO, APPLY_AUTOMATION_RULES):
        assert quiet.consumer not in small
        assert quiet.consumer not in large


def test_a_worker_with_nothing_to_do_reads_once_a_round_and_writes_nothing(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    place(potok, 1, 3)
    sequence(potok)
    dispatcher.reaction_round()
    stood = positions(potok)
    before = dispatcher.costs.snapshot()

    for _ in range(3):
        assert not dispatcher.reaction_round().busy

    assert spent(before, dispatcher.costs.snapshot()) == {SHARED: (0, 3)}  # one read each
    assert positions(potok) == stood  # no cursor touched


class Flaky:
    """A reaction's handler that records every event it is handed, writes for every
    other one, and fails once at the order named."""

    def __init__(self, fail_at: int | None = None, delay_s: float = 0.0) -> None:
        self.fail_at = fail_at
        self.delay_s = delay_s
        self.handed: list[str] = []
        self.written: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, outside: Outside, event: StoredEvent) -> Settle | None:
        time.sleep(self.delay_s)
        order = int(event.aggregate_id)
        with self._lock:
            self.handed.append(event.aggregate_id)
            if order == self.fail_at:
                self.fail_at = None
                raise ConnectionError("the outside system is down")
        if order % 2:
            return None

        def settle(uow: UnitOfWork) -> None:
            with self._lock:
                self.written[event.aggregate_id] += 1

        return settle


def reaction(handler: Flaky) -> EventReaction:
    return EventReaction(
        "reaction:tests",
        ("order.status_changed",),
        "records what it is handed",
        "a test",
        handler=handler,
    )


def test_a_reaction_failing_mid_window_is_retried_from_that_event_and_shown(
    potok: Potok, dispatcher: Dispatcher
) -> None:
    for order_id in range(1, 7):
        emit(potok, order_id, 1)
    last = sequence(potok)
    flaky = Flaky(fail_at=4)
    tests = reaction(flaky)

    report = Round()
    run_reactions(dispatcher, last, report, reactions=(tests,))
    assert flaky.handed == ["1", "2", "3", "4"]
    assert (report.reactions_run, report.reactions_failed) == (3, 1)
    (shown,) = [r for r in event_services.list_readers(potok.uow()) if r.name == tests.consumer]
    assert shown.attempts == 1  # the operator sees the failure
    assert shown.next_attempt_at is not None
    with potok.engine.connect() as look:
        fourth = look.execute(
            sa.select(outbox_events.c.position).where(outbox_events.c.aggregate_id == "4")
        ).scalar_one()
    assert shown.position == fourth - 1  # the cursor waits just before the failed event

    later = Dispatcher(
        potok, dispatcher.client, name="tests", clock=lambda: datetime.now(UTC) + timedelta(1)
    )
    run_reactions(later, last, Round(), reactions=(tests,))

    assert flaky.handed == ["1", "2", "3", "4", "4", "5", "6"]  # in order, from the failure
    assert flaky.written == Counter({"2": 1, "4": 1, "6": 1})  # each write once
    (shown,) = [r for r in event_services.list_readers(potok.uow()) if r.name == tests.consumer]
    assert (shown.position, shown.attempts, shown.next_attempt_at) == (last, 0, None)


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_workers_share_a_reaction_without_handing_an_event_to_both(potok: Potok) -> None:
    """Each worker takes a reaction's lease before handing it a window (its connections
    its own): every event is handed over once, and each write is made once. (With the
    lease left out of the claim, both workers hand the same events over.)"""
    for order_id in range(1, 41):
        emit(potok, order_id, 1)
    last = sequence(potok)
    flaky = Flaky(delay_s=0.002)
    tests = reaction(flaky)
    potok.settings.events.batch_size = 10

    def worker(name: str) -> None:
        with new_client() as client:
            dispatcher = Dispatcher(potok, client, name=name)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = reading(potok.uow(), lambda uow: uow.consumers.state(tests.consumer))
                if state is not None and state[0] >= last:
                    return
                run_reactions(dispatcher, last, Round(), reactions=(tests,))

    race([lambda: worker("one"), lambda: worker("two")])

    assert Counter(flaky.handed) == Counter({str(n): 1 for n in range(1, 41)})
    assert flaky.written == Counter({str(n): 1 for n in range(2, 41, 2)})
