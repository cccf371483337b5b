"""No oversell under real concurrency: many connections race for the last units.

The orders are placed by 32+ threads at once, each with its own database connection (the
service tests) or its own HTTP connection to a real server (the API tests). Orders take
one or two SKUs in either order, so lock ordering is exercised as well as the guard.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.inventory.lots import LotInput
from potok.domain.kernel import Tracking
from potok.domain.orders.errors import NetworkCannotCover
from potok.services import catalogue, intake, inventory
from tests.conftest import LiveServer, key_for
from tests.factories import (
    PRODUCTS,
    TESTER,
    build_world,
    build_world_api,
    order_body,
    order_command,
)
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, sessions_wait_for_locks, start_line

RACERS = 40
LAST_UNITS = {("MSK", "KET"): 7, ("SPB", "KET"): 5, ("KZN", "MUG"): 6, ("MSK", "MUG"): 3}


def _wishes(seed: int) -> list[list[tuple[str, int]]]:
    rng = random.Random(seed)
    wishes = []
    for _ in range(RACERS):
        kind = rng.random()
        if kind < 0.4:
            wishes.append([("KET", rng.choice([1, 1, 2]))])
        elif kind < 0.7:
            wishes.append([("MUG", rng.choice([1, 2]))])
        elif kind < 0.85:
            wishes.append([("KET", 1), ("MUG", 1)])
        else:
            wishes.append([("MUG", 1), ("KET", 1)])
    return wishes


def _check_outcome(potok: Potok, outcomes: list[str], wishes: list[list[tuple[str, int]]]) -> None:
    """Nothing oversold, and nothing undersold: stock only shrank during the race, so every
    order left waiting must still be impossible to cover with what is left."""
    assert_stock_invariants(potok)
    left = {
        sku: sum(q for (_, s), q in LAST_UNITS.items() if s == sku) - reserved_units(potok, sku)
        for sku in ("KET", "MUG")
    }
    assert all(units >= 0 for units in left.values()), left
    reserved = Counter()
    for outcome, wish in zip(outcomes, wishes, strict=True):
        needs = Counter()
        for sku, quantity in wish:
            needs[sku] += quantity
        if outcome == "reserved":
            reserved.update(needs)
        else:
            assert outcome == "backordered"
            assert any(q > left[sku] for sku, q in needs.items()), (wish, left)
    for sku in ("KET", "MUG"):
        assert reserved[sku] == reserved_units(potok, sku)
    counts = Counter(outcomes)
    assert counts["reserved"] > 0, counts
    assert counts["backordered"] > 0, counts


@RACE_LIMIT
@pytest.mark.slow
def test_racing_connections_never_oversell(potok: Potok) -> None:
    build_world(potok, LAST_UNITS)
    wishes = _wishes(seed=1)
    start = start_line(RACERS)

    def place(wish: list[tuple[str, int]]) -> str:
        start.wait()
        result = intake.place_order(potok.uow(), order_command(wish), TESTER)
        assert isinstance(result, intake.Placement)
        return result.order.status.value

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(place, wishes))

    _check_outcome(potok, outcomes, wishes)


@RACE_LIMIT
@pytest.mark.slow
def test_racing_http_clients_never_oversell(live: LiveServer) -> None:
    """32+ real HTTP connections at once against a real server, for the last units."""
    secret = key_for(live.potok)
    auth = {"Authorization": f"Bearer {secret}"}
    with live.client(headers=auth) as client:
        build_world_api(client, LAST_UNITS)
    wishes = _wishes(seed=2)
    start = start_line(RACERS)

    def place(index_wish: tuple[int, list[tuple[str, int]]]) -> str:
        index, wish = index_wish
        with httpx.Client(base_url=live.url, timeout=60, headers=auth) as client:  # its own
            start.wait()
            response = client.post(
                "/api/v1/orders", json=order_body(wish, external_id=f"race-{index}")
            )
        assert response.status_code == 201, response.text
        return str(response.json()["status"])

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(place, enumerate(wishes)))

    _check_outcome(live.potok, outcomes, wishes)


@RACE_LIMIT
@pytest.mark.slow
def test_exactly_the_last_units_are_sold_when_everyone_wants_one(live: LiveServer) -> None:
    """N units, many more buyers of one unit each: exactly N orders win, the rest wait."""
    units = 9
    secret = key_for(live.potok)
    auth = {"Authorization": f"Bearer {secret}"}
    with live.client(headers=auth) as client:
        build_world_api(client, {("MSK", "KET"): 5, ("SPB", "KET"): 4})
    start = start_line(RACERS)

    def place(index: int) -> str:
        with httpx.Client(base_url=live.url, timeout=60, headers=auth) as client:
            start.wait()
            response = client.post(
                "/api/v1/orders",
                json=order_body([("KET", 1)], channel="mp", external_id=f"mp-{index}"),
            )
        if response.status_code == 422:
            assert response.json()["code"] == "insufficient-stock"
            return "refused"
        assert response.status_code == 201, response.text
        return str(response.json()["status"])

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = Counter(pool.map(place, range(RACERS)))

    assert outcomes == {"reserved": units, "refused": RACERS - units}
    assert reserved_units(live.potok, "KET") == units
    assert_stock_invariants(live.potok)


def test_a_refused_order_leaves_no_trace(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    with pytest.raises(NetworkCannotCover):
        intake.place_order(potok.uow(), order_command([("KET", 2)], channel="mp"), TESTER)
    assert_stock_invariants(potok)
    assert reserved_units(potok, "KET") == 0


def _build_lot_world(potok: Potok) -> None:
    """The same last units, but KET is kept by lot: three lots over two warehouses."""
    build_world(potok, {key: units for key, units in LAST_UNITS.items() if key[1] != "KET"})
    kettle = next(p for p in PRODUCTS if p.sku == "KET")
    catalogue.replace_product(potok.uow(), "KET", replace(kettle, tracking=Tracking.LOT))
    soon, later = date.today() + timedelta(days=20), date.today() + timedelta(days=40)
    for warehouse, lot, units, expires in (
        ("MSK", "L1", 3, soon),
        ("MSK", "L2", 4, later),
        ("SPB", "L3", 5, soon),
    ):
        inventory.receive_stock(
            potok.uow(),
            ReceiveStock(warehouse, "KET", units, lot=LotInput(lot, None, expires)),
            TESTER,
        )


@RACE_LIMIT
@pytest.mark.slow
def test_racing_connections_never_oversell_lots(potok: Potok) -> None:
    """Lines split across lots, one position per lot: still all or none, and no oversell."""
    _build_lot_world(potok)
    wishes = _wishes(seed=3)
    start = start_line(RACERS)

    def place(wish: list[tuple[str, int]]) -> str:
        start.wait()
        result = intake.place_order(potok.uow(), order_command(wish), TESTER)
        assert isinstance(result, intake.Placement)
        return result.order.status.value

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(place, wishes))

    _check_outcome(potok, outcomes, wishes)


def test_stock_that_goes_while_an_order_commits_is_sourced_again(
    potok: Potok, backend: str
) -> None:
    """PostgreSQL reserves an order's stock in its commit statement, guarded by the
    stock table's own CHECK. Here the order reads two kettles in Moscow, then another
    transaction writes them off before the order's commit can lock the row: the commit
    fails as a lost race and the order is sourced again, from St Petersburg."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers: nothing can change between read and commit")
    build_world(potok, {("MSK", "KET"): 2, ("SPB", "KET"): 5})
    with potok.engine.connect() as other:
        msk = other.execute(
            sa.text(
                "SELECT s.id, s.warehouse_id, s.product_id FROM stock s"
                " JOIN warehouses w ON w.id = s.warehouse_id"
                " JOIN products p ON p.id = s.product_id WHERE w.code = 'MSK' AND p.sku = 'KET'"
            )
        ).one()
        other.execute(  # written off, not yet committed: the order still reads 2 available
            sa.text("UPDATE stock SET on_hand = 0 WHERE id = :id"), {"id": msk.id}
        )
        other.execute(
            sa.text(
                "INSERT INTO stock_movements (stock_id, warehouse_id, product_id, type,"
                " quantity, on_hand_after, reason, actor, occurred_at)"
                " VALUES (:id, :w, :p, 'write_off', -2, 0, 'broken', 'test', now())"
            ),
            {"id": msk.id, "w": msk.warehouse_id, "p": msk.product_id},
        )
        with ThreadPoolExecutor(1) as pool:
            placing = pool.submit(
                intake.place_order, potok.uow(), order_command([("KET", 2)]), TESTER
            )
            try:
                assert sessions_wait_for_locks(potok.engine), "the order never waited for the row"
            finally:
                other.commit()  # the write-off lands while the order waits to commit
            placed = placing.result(timeout=120)
    assert isinstance(placed, intake.Placement)
    assert placed.order.status.value == "reserved"
    assert {r.warehouse_code for r in placed.order.reservations} == {"SPB"}
    assert reserved_units(potok, "KET") == 2
    assert_stock_invariants(potok)
