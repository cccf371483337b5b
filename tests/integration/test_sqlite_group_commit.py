"""Intake on SQLite prepared before the write lock and committed in groups under it
(``db/lite_commit.py``): orders prepared at the same moment are written by one
transaction, an order whose snapshot changed meanwhile is placed again under the lock,
and an order that cannot be written does not take the others of its batch down with it.

Each test makes a batch of known members: the group is held (as while a write is on its
way) until every racer's commit is queued, then let go.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.lite_commit import LiteGroupCommit, StalePreparation, lite_intake
from potok.db.tables import outbox_events
from potok.domain.errors import InvalidInput
from potok.domain.inventory.commands import ReceiveStock
from potok.services import intake, inventory
from potok.services.unit_of_work import atomically, reading
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, RACE_TIMEOUT


def _group(potok: Potok) -> LiteGroupCommit:
    uow = potok.uow()
    assert uow._write_lock is not None
    return lite_intake(potok.engine, uow._write_lock).group


def _batched(
    potok: Potok, calls: list[Callable[[], Any]], meanwhile: Callable[[], Any] | None = None
) -> list[Any]:
    """Run the calls in threads of their own; their commits go out together once all are
    queued (``meanwhile`` runs while they wait, as another writer of the process)."""
    group = _group(potok)
    reading(potok.uow(), lambda uow: uow.network.current(uow.connection))
    with ThreadPoolExecutor(len(calls)) as pool:
        with group.held():
            futures = [pool.submit(call) for call in calls]
            _wait_for(group, len(calls))
            if meanwhile is not None:
                meanwhile()
        return [future.result(timeout=RACE_TIMEOUT) for future in futures]


def _wait_for(group: LiteGroupCommit, queued: int) -> None:
    deadline = time.monotonic() + RACE_TIMEOUT
    while group.waiting() < queued:
        assert time.monotonic() < deadline, f"{group.waiting()} of {queued} commits queued"
        time.sleep(0.01)


def _place(potok: Potok, lines: list[tuple[str, int]], name: str, key: str | None = None) -> Any:
    command = order_command(lines, external_id=name, idempotency_key=key, request_hash="h")
    return lambda: intake.place_order(potok.uow(), command, TESTER, respond=_answer)


def _answer(placement: intake.Placement) -> tuple[int, Any]:
    return 201, {"id": placement.order.id, "status": placement.order.status.value}


def _count(potok: Potok, sql: str) -> int:
    with potok.engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["sqlite"])
def test_orders_prepared_together_are_written_by_one_transaction(potok: Potok) -> None:
    build_world(potok, {("MSK", sku): 100 for sku in ("KET", "MUG", "TOY", "BKS")})
    group = _group(potok)
    before = group.batches
    skus = ["KET", "MUG", "TOY", "BKS"]
    placed = _batched(
        potok, [_place(potok, [(sku, 2)], f"g-{sku}", key=f"k-{sku}") for sku in skus]
    )
    assert group.batches == before + 1  # one transaction for the four
    assert all(isinstance(p, intake.Placement) and p.created for p in placed)
    assert {p.order.status.value for p in placed} == {"reserved"}
    assert len({p.order.id for p in placed}) == 4  # ids drawn side by side, none twice
    assert [reserved_units(potok, sku) for sku in skus] == [2, 2, 2, 2]
    assert _count(potok, "SELECT count(*) FROM orders") == 4
    assert _count(potok, "SELECT count(*) FROM order_lines") == 4
    assert _count(potok, "SELECT count(*) FROM idempotency_keys") == 4
    assert _count(potok, "SELECT count(DISTINCT order_id) FROM order_history") == 4
    assert _count(potok, "SELECT count(DISTINCT order_id) FROM sourcing_decisions") == 4
    assert _count(potok, "SELECT count(*) FROM outbox_events WHERE type = 'order.created'") == 4
    assert _count(potok, "SELECT count(*) FROM audit_log WHERE action = 'order.created'") == 4
    assert_stock_invariants(potok)
    again = _place(potok, [("MUG", 2)], "g-MUG", key="k-MUG")()
    assert isinstance(again, intake.Replay)  # each order's key was kept with it


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_order_whose_stock_changed_meanwhile_is_placed_again_under_the_lock(
    potok: Potok,
) -> None:
    """Prepared when the network had no kettles, the order would be backordered; before it
    is written, kettles are received: the check under the lock sees the stock it read
    change, and the order is placed again on the fresh figures - reserved. Another order
    of the same moment, on a SKU nothing changed, is written as prepared."""
    build_world(potok, {("MSK", "MUG"): 10})

    def receive() -> None:
        inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "KET", 5), TESTER)

    kettle, mug = _batched(
        potok, [_place(potok, [("KET", 2)], "kettle"), _place(potok, [("MUG", 1)], "mug")], receive
    )
    assert kettle.order.status.value == "reserved"
    assert mug.order.status.value == "reserved"
    assert reserved_units(potok, "KET") == 2
    assert _count(potok, "SELECT count(*) FROM order_holds") == 0
    assert_stock_invariants(potok)


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["sqlite"])
def test_orders_on_the_same_sku_are_not_written_by_one_transaction(potok: Potok) -> None:
    """Two orders want the last 3 kettles with 2 each, and each read 3: they never share a
    batch; the second's check sees the first's reservation, and it is placed again under
    the lock - backordered, nothing oversold."""
    build_world(potok, {("MSK", "KET"): 3, ("MSK", "MUG"): 10})
    group = _group(potok)
    before = group.batches
    placed = _batched(potok, [_place(potok, [("KET", 2)], f"last-{n}") for n in range(2)])
    assert sorted(p.order.status.value for p in placed) == ["backordered", "reserved"]
    assert reserved_units(potok, "KET") == 2
    assert_stock_invariants(potok)
    # with units for both, still one after the other: the second's check sees the first
    placed = _batched(potok, [_place(potok, [("MUG", 1)], f"mug-{n}") for n in range(2)])
    assert [p.order.status.value for p in placed] == ["reserved", "reserved"]
    assert group.batches == before


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_order_that_fails_in_a_batch_leaves_the_others_written(potok: Potok) -> None:
    """Two requests with one Idempotency-Key, on different SKUs, share a batch: its
    transaction fails on the key's uniqueness and nothing of it is written; each order is
    then written alone - the first as prepared, the second found stale (the key's answer
    is there now) and answered with the first's answer; the others are written."""
    build_world(potok, {("MSK", sku): 10 for sku in ("KET", "MUG", "TOY", "BKS")})
    group = _group(potok)
    before = group.batches
    calls = [
        _place(potok, [("KET", 1)], "twice", key="same"),
        _place(potok, [("MUG", 1)], "twice", key="same"),
        _place(potok, [("TOY", 1)], "fine-1"),
        _place(potok, [("BKS", 1)], "fine-2"),
    ]
    placed = _batched(potok, calls)
    assert group.batches == before  # the batch failed; all were written alone
    assert sorted(type(p).__name__ for p in placed[:2]) == ["Placement", "Replay"]
    assert all(p.order.status.value == "reserved" for p in placed[2:])
    assert _count(potok, "SELECT count(*) FROM orders") == 3
    assert reserved_units(potok, "KET") + reserved_units(potok, "MUG") == 1
    assert_stock_invariants(potok)


def _event(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "test.written",
        "aggregate_type": "test",
        "aggregate_id": "1",
        "payload": {},
        "occurred_at": datetime.now(UTC),
    }


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_write_while_preparing_is_refused_and_done_under_the_lock(potok: Potok) -> None:
    """Work that writes outside the commit cannot be prepared: the write is refused
    (nothing written), and ``atomically`` runs the work again the ordinary way."""
    uow = potok.uow()
    with pytest.raises(StalePreparation), uow.optimistic():
        uow.connection.execute(sa.insert(outbox_events).values(_event("e-1")))
    assert _count(potok, "SELECT count(*) FROM outbox_events") == 0
    runs: list[bool] = []

    def work(uow: Any) -> None:
        runs.append(True)
        uow.connection.execute(sa.insert(outbox_events).values(_event("e-2")))

    atomically(potok.uow(), work, optimistic=True)
    assert len(runs) == 2
    assert _count(potok, "SELECT count(*) FROM outbox_events") == 1
    with potok.engine.connect() as connection:  # the pool's connections write again
        assert connection.exec_driver_sql("PRAGMA query_only").scalar_one() == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_refused_order_gives_its_id_back(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    with pytest.raises(InvalidInput):
        intake.place_order(potok.uow(), order_command([("NOPE", 1)], external_id="bad"), TESTER)
    placed = intake.place_order(potok.uow(), order_command([("KET", 1)], external_id="ok"), TESTER)
    assert isinstance(placed, intake.Placement)
    assert placed.order.id == 1
