"""Group commit (PostgreSQL): orders finishing at the same moment in one process are
committed by one statement, and an order that cannot be committed does not take the
others of its batch down with it.

Each test makes a batch of known members: the group is held (as while a statement is on
its way) until every racer's commit is queued, then let go.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok, bootstrap
from potok.db.group_commit import GroupCommit, group_commit
from potok.db.tables import outbox_events
from potok.services import intake
from potok.services.unit_of_work import reading
from potok.settings import Settings
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, RACE_TIMEOUT


def _batched(potok: Potok, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads of their own; their commits go out as one batch."""
    group = group_commit(potok.engine)
    # the network copy read first (an order that reads it in its transaction is not
    # alone in it, and commits as it always did, outside any batch)
    reading(potok.uow(), lambda uow: uow.network.current(uow.connection))
    with ThreadPoolExecutor(len(calls)) as pool:
        with group.held():
            futures = [pool.submit(call) for call in calls]
            _wait_for(group, len(calls))
        return [future.result(timeout=RACE_TIMEOUT) for future in futures]


def _wait_for(group: GroupCommit, queued: int) -> None:
    deadline = time.monotonic() + RACE_TIMEOUT
    while group.waiting() < queued:
        assert time.monotonic() < deadline, f"{group.waiting()} of {queued} commits queued"
        time.sleep(0.01)


def _place(potok: Potok, lines: list[tuple[str, int]], name: str, key: str | None = None) -> Any:
    command = order_command(lines, external_id=name, idempotency_key=key, request_hash="h")
    return lambda: intake.place_order(potok.uow(), command, TESTER, respond=_answer)


def _answer(placement: intake.Placement) -> tuple[int, Any]:
    """The answer kept under the key (the API's is the rendered order)."""
    return 201, {"id": placement.order.id, "status": placement.order.status.value}


def _count(potok: Potok, sql: str) -> int:
    with potok.engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_orders_committed_together_are_each_stored_whole(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 100, ("MSK", "MUG"): 100})
    group = group_commit(potok.engine)
    before = group.batches
    placed = _batched(
        potok, [_place(potok, [("KET", 1), ("MUG", 2)], f"g-{n}", key=f"k-{n}") for n in range(6)]
    )
    assert group.batches == before + 1  # one statement for the six
    assert all(isinstance(p, intake.Placement) and p.created for p in placed)
    assert {p.order.status.value for p in placed} == {"reserved"}
    assert reserved_units(potok, "KET") == 6
    assert reserved_units(potok, "MUG") == 12
    assert _count(potok, "SELECT count(*) FROM orders") == 6
    assert _count(potok, "SELECT count(*) FROM order_lines") == 12
    assert _count(potok, "SELECT count(*) FROM idempotency_keys") == 6
    assert _count(potok, "SELECT count(DISTINCT order_id) FROM order_history") == 6
    assert _count(potok, "SELECT count(*) FROM outbox_events WHERE type = 'order.created'") == 6
    assert _count(potok, "SELECT count(*) FROM audit_log WHERE action = 'order.created'") == 6
    assert_stock_invariants(potok)
    again = _place(potok, [("KET", 1), ("MUG", 2)], "g-3", key="k-3")()
    assert isinstance(again, intake.Replay)  # each order's key was kept with it


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_an_order_that_fails_in_a_batch_leaves_the_others_stored(potok: Potok) -> None:
    """Two orders want the last 3 units with 2 each (each read 3 available), and one sends
    a key that another order of the batch sends too: the batch's statement fails (the
    stock CHECK, the key's uniqueness), each order is sent again alone, and every order
    ends as it would have alone - one of the two reserved, the other backordered after
    its retry, the key's second order answered with the first's answer."""
    build_world(potok, {("MSK", "KET"): 3, ("MSK", "MUG"): 100})
    group = group_commit(potok.engine)
    before = group.batches
    calls = [
        _place(potok, [("KET", 2)], "last-1"),
        _place(potok, [("KET", 2)], "last-2"),
        _place(potok, [("MUG", 1)], "twice", key="same"),
        _place(potok, [("MUG", 1)], "twice", key="same"),
        *(_place(potok, [("MUG", 1)], f"fine-{n}") for n in range(3)),
    ]
    placed = _batched(potok, calls)
    assert group.batches == before  # the batch failed; all were sent alone
    last = sorted(p.order.status.value for p in placed[:2])
    assert last == ["backordered", "reserved"]
    assert reserved_units(potok, "KET") == 2
    twice = placed[2:4]
    assert sorted(type(p).__name__ for p in twice) == ["Placement", "Replay"]
    assert all(p.order.status.value == "reserved" for p in placed[4:])
    assert reserved_units(potok, "MUG") == 4
    assert _count(potok, "SELECT count(*) FROM orders") == 6
    assert_stock_invariants(potok)


def _three_commits(potok: Potok, group: GroupCommit) -> list[BaseException | None]:
    """Three commits of one row each, held into one batch on real connections; what each
    raised."""
    connections = [potok.engine.raw_connection() for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            with group.held():
                futures = [
                    pool.submit(
                        group.commit,
                        connection.driver_connection,  # type: ignore[arg-type]
                        [(outbox_events, [{"event_id": f"e-{n}"}])],
                        None,
                    )
                    for n, connection in enumerate(connections)
                ]
                _wait_for(group, 3)
            return [future.exception(timeout=RACE_TIMEOUT) for future in futures]
    finally:
        for connection in connections:
            connection.invalidate()  # closed by a test's send: never back into the pool


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_batch_whose_connection_is_lost_is_not_sent_again(potok: Potok) -> None:
    """A batch whose connection went on the way may have committed: its orders fail (503,
    as one order alone then) instead of being sent again, which would store an order
    without an external id twice. One the server refused is sent again, order by order."""
    sent: list[int] = []

    def losing(raw: psycopg.Connection[Any], sections: Any, reserving: Any) -> None:
        rows = sum(len(r) for _, r in sections)
        if rows > 1:
            raw.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        sent.append(rows)

    errors = _three_commits(potok, GroupCommit(losing))
    assert all(isinstance(e, psycopg.OperationalError) for e in errors), errors
    assert sent == []

    def refusing(raw: psycopg.Connection[Any], sections: Any, reserving: Any) -> None:
        rows = sum(len(r) for _, r in sections)
        if rows > 1:
            raise psycopg.errors.UniqueViolation("duplicate key value")
        sent.append(rows)

    assert _three_commits(potok, GroupCommit(refusing)) == [None, None, None]
    assert sent == [1, 1, 1]


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_group_commit_switched_off_commits_each_order_alone(
    potok: Potok, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``POTOK_DB__GROUP_COMMIT=false``: no order waits for the group, even while it is
    held (as behind a statement on its way); each commits alone, at once."""
    build_world(potok, {("MSK", "KET"): 100})
    monkeypatch.setenv("POTOK_DB__GROUP_COMMIT", "false")
    settings = Settings(security=potok.settings.security)
    assert settings.db.group_commit is False
    db = potok.settings.db.model_copy(update={"group_commit": settings.db.group_commit})
    off = bootstrap(potok.settings.model_copy(update={"db": db}))
    try:
        group = group_commit(off.engine)
        reading(off.uow(), lambda uow: uow.network.current(uow.connection))
        with ThreadPoolExecutor(4) as pool, group.held():
            futures = [
                pool.submit(
                    intake.place_order,
                    off.uow(),
                    order_command([("KET", 1)], external_id=f"off-{n}"),
                    TESTER,
                )
                for n in range(4)
            ]
            placed = [future.result(timeout=RACE_TIMEOUT) for future in futures]
            assert group.waiting() == 0
        assert all(isinstance(p, intake.Placement) and p.created for p in placed)
        assert group.batches == 0
        assert reserved_units(potok, "KET") == 4
        assert_stock_invariants(potok)
    finally:
        off.close()
