"""The batch re-plan through the services, on hand-made cases where the right answer is
known: a split that is cheaper than one far shipment, a chain of moves (one order moves
into the stock another leaves), the worker's schedule, and a race with intake for the
last units that must never oversell."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from potok.bootstrap import Potok
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.kernel import Actor, Tracking
from potok.domain.orders import HoldType, Order
from potok.domain.orders.commands import PlaceHold
from potok.services import catalogue, intake, inventory, sourcing
from potok.services import orders as order_service
from potok.services.replanning import replan
from potok.worker.jobs import run_due_jobs
from tests.factories import MOSCOW, PRODUCTS, TESTER, TVER, VYBORG, build_world, order_command
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, start_line

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADER = "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"
WAREHOUSES_ONLY = {"kinds_by_order_type": {"courier": ["warehouse"]}}


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def prepare(potok: Potok, tariffs: list[str], rules: dict[str, Any] | None = None) -> None:
    sourcing.import_tariffs(potok.uow(), "\n".join([HEADER, *tariffs]), TESTER)
    sourcing.set_rules(potok.uow(), "default", {**WAREHOUSES_ONLY, **(rules or {})}, TESTER)


def place(potok: Potok, lines: list[tuple[str, int]], **extra: Any) -> int:
    result = intake.place_order(potok.uow(), order_command(lines, **extra), TESTER, clock=at(T))
    assert isinstance(result, intake.Placement)
    assert result.order.id is not None
    return result.order.id


def receive(potok: Potok, warehouse: str, sku: str, quantity: int) -> None:
    inventory.receive_stock(potok.uow(), ReceiveStock(warehouse, sku, quantity), TESTER)


def order(potok: Potok, order_id: int) -> Order:
    return order_service.get_order(potok.uow(), order_id).order


def held_at(potok: Potok, order_id: int) -> dict[str, int]:
    held: dict[str, int] = {}
    for r in order(potok, order_id).open_reservations:
        held[r.warehouse_code] = held.get(r.warehouse_code, 0) + r.quantity
    return held


def test_one_far_shipment_becomes_two_near_ones_when_that_is_cheaper(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1, ("MSK", "MUG"): 1})
    prepare(
        potok,
        ["MSK,,0,,900,20,0,1", "SPB,,0,,300,20,0,3", "KZN,,0,,300,20,0,4"],
        {"split": "when_cheaper", "max_shipments": 2},
    )
    placed = place(potok, [("KET", 1), ("MUG", 1)])
    assert held_at(potok, placed) == {"MSK": 2}
    receive(potok, "SPB", "KET", 1)
    receive(potok, "KZN", "MUG", 1)

    run = replan(potok.uow(), actor=TESTER, clock=at(T))

    assert held_at(potok, placed) == {"SPB": 1, "KZN": 1}
    [change] = run.changes
    assert (change.from_warehouses, sorted(change.to_warehouses)) == (("MSK",), ["KZN", "SPB"])
    # 900 + 1.53 kg x 20 against (300 + 1.2 x 20) + (300 + 0.33 x 20)
    assert (str(change.cost_before), str(change.cost_after)) == ("930.60", "630.60")
    history = order_service.get_order(potok.uow(), placed).history
    assert history[-1].action == "replanned"
    assert history[-1].reason is not None
    assert history[-1].reason == (
        "Re-planned by the batch optimiser: from MSK to SPB and KZN, "
        "shipping 930.60 ₽ → 630.60 ₽, no promised date"
    )
    assert order(potok, placed).status == "reserved"
    assert_stock_invariants(potok)


def test_an_order_moves_into_the_stock_another_order_leaves(potok: Potok) -> None:
    build_world(potok, {("KZN", "KET"): 1})
    prepare(potok, ["MSK,,0,,100,0,1,1", "SPB,,0,,100,0,1,2", "KZN,,0,,100,0,1,3"])
    north = place(potok, [("KET", 1)], to=VYBORG)  # only Kazan has it: 1,500 km away
    receive(potok, "SPB", "KET", 1)
    moscow = place(potok, [("KET", 1)], to=MOSCOW)  # St Petersburg's unit: 630 km away
    receive(potok, "MSK", "KET", 1)
    assert (held_at(potok, north), held_at(potok, moscow)) == ({"KZN": 1}, {"SPB": 1})

    run = replan(potok.uow(), actor=TESTER, clock=at(T))

    # the Vyborg order can only take St Petersburg's unit once the Moscow one has left it
    assert (held_at(potok, north), held_at(potok, moscow)) == ({"SPB": 1}, {"MSK": 1})
    assert (run.orders_changed, run.orders_skipped) == (2, 0)
    assert run.cost_after < run.cost_before
    assert_stock_invariants(potok)


def test_an_express_order_is_never_made_slower_even_to_save(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    prepare(potok, ["MSK,,0,,900,20,0,1", "SPB,,0,,300,20,0,3"])
    express = place(potok, [("KET", 1)], to=TVER, priority=9)
    normal = place(potok, [("KET", 1)], to=TVER)
    receive(potok, "SPB", "KET", 5)

    run = replan(potok.uow(), actor=TESTER, clock=at(T))

    assert [c.order_id for c in run.changes] == [normal]
    assert (held_at(potok, express), held_at(potok, normal)) == ({"MSK": 1}, {"SPB": 1})


def test_a_store_keeps_its_last_units_for_its_own_customers(potok: Potok) -> None:
    build_world(potok, {("SPB", "KET"): 1})
    prepare(
        potok,
        ["MSK-S,,0,,100,0,0,1", "SPB,,0,,600,20,0,3"],
        {"kinds_by_order_type": {"courier": ["warehouse", "store"]}, "keep_last_units": 2},
    )
    placed = place(potok, [("KET", 1)], to=TVER)
    receive(potok, "MSK-S", "KET", 2)  # its last two: kept

    assert replan(potok.uow(), actor=TESTER, clock=at(T)).orders_changed == 0
    assert held_at(potok, placed) == {"SPB": 1}
    receive(potok, "MSK-S", "KET", 1)  # one to spare
    assert replan(potok.uow(), actor=TESTER, clock=at(T)).orders_changed == 1
    assert held_at(potok, placed) == {"MSK-S": 1}


def test_a_serialised_order_moves_with_serial_numbers_set_aside_at_its_new_warehouse(
    potok: Potok,
) -> None:
    build_world(potok)
    kettle = next(p for p in PRODUCTS if p.sku == "KET")
    catalogue.replace_product(potok.uow(), "KET", replace(kettle, tracking=Tracking.SERIAL))
    prepare(potok, ["MSK,,0,,200,20,0,1", "SPB,,0,,600,20,0,3"])
    inventory.receive_stock(
        potok.uow(), ReceiveStock("SPB", "KET", 2, serials=("S-1", "S-2")), TESTER
    )
    placed = place(potok, [("KET", 2)], to=TVER)
    assert sorted(order(potok, placed).open_reservations[0].serials) == ["S-1", "S-2"]
    inventory.receive_stock(
        potok.uow(), ReceiveStock("MSK", "KET", 3, serials=("M-1", "M-2", "M-3")), TESTER
    )

    run = replan(potok.uow(), actor=TESTER, clock=at(T))

    assert run.orders_changed == 1
    [held] = order(potok, placed).open_reservations
    assert (held.warehouse_code, held.quantity, len(held.serials)) == ("MSK", 2, 2)
    assert set(held.serials) <= {"M-1", "M-2", "M-3"}
    assert_stock_invariants(potok)  # S-1 and S-2 are free again


def test_orders_on_hold_other_channels_and_other_warehouses_are_left_alone(potok: Potok) -> None:
    build_world(potok, {("SPB", "KET"): 3})
    prepare(potok, ["MSK,,0,,200,20,0,1", "SPB,,0,,600,20,0,3"])
    held = place(potok, [("KET", 1)], to=TVER)
    marketplace = place(potok, [("KET", 1)], to=TVER, channel="mp")
    web = place(potok, [("KET", 1)], to=TVER)
    order_service.place_hold(potok.uow(), PlaceHold(held, HoldType.MANUAL, "wait"), TESTER)
    receive(potok, "MSK", "KET", 5)
    elsewhere = replan(potok.uow(), warehouse="KZN", actor=TESTER, clock=at(T))
    assert (elsewhere.orders_considered, elsewhere.method) == (0, "none")

    run = replan(potok.uow(), channel="web", actor=TESTER, clock=at(T))

    assert (run.orders_considered, [c.order_id for c in run.changes]) == (1, [web])
    assert run.scope["channel"] == "web"
    assert held_at(potok, held) == held_at(potok, marketplace) == {"SPB": 1}
    assert held_at(potok, web) == {"MSK": 1}


def test_the_worker_re_plans_on_its_schedule_only(potok: Potok) -> None:
    build_world(potok, {("SPB", "KET"): 1})
    prepare(potok, ["MSK,,0,,200,20,0,1", "SPB,,0,,600,20,0,3"])
    placed = place(potok, [("KET", 1)], to=TVER)
    receive(potok, "MSK", "KET", 1)
    assert run_due_jobs(potok, clock=at(T)).replan is None  # off by default
    assert held_at(potok, placed) == {"SPB": 1}

    potok.settings.sourcing.replan_every_minutes = 60
    first = run_due_jobs(potok, clock=at(T)).replan
    assert first is not None
    assert (first.actor, first.orders_changed) == ("system:replan", 1)
    assert held_at(potok, placed) == {"MSK": 1}
    assert run_due_jobs(potok, clock=at(T + timedelta(minutes=30))).replan is None
    later = run_due_jobs(potok, clock=at(T + timedelta(minutes=61))).replan
    assert later is not None
    assert later.orders_changed == 0
    history = order_service.get_order(potok.uow(), placed).history
    assert (history[-1].action, history[-1].actor) == ("replanned", "system:replan")


RACERS = 12


@RACE_LIMIT
def test_a_re_plan_racing_intake_for_the_last_units_never_oversells(
    potok: Potok, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    build_world(potok, {("SPB", "KET"): RACERS})
    prepare(potok, ["MSK,,0,,200,20,0,1", "SPB,,0,,600,20,0,3"])
    held = [place(potok, [("KET", 1)], to=TVER) for _ in range(RACERS)]
    receive(potok, "MSK", "KET", RACERS // 2)  # half as many near units as orders want
    start = start_line(RACERS + 1)

    def newcomer(_: int) -> str:
        start.wait()
        result = intake.place_order(potok.uow(), order_command([("KET", 1)], to=TVER), TESTER)
        assert isinstance(result, intake.Placement)
        return result.order.status.value

    def replanner() -> int:
        start.wait()
        return replan(potok.uow(), actor=Actor.system("replan"), time_limit_s=5).orders_changed

    with ThreadPoolExecutor(RACERS + 1) as pool:
        moved = pool.submit(replanner)
        outcomes = list(pool.map(newcomer, range(RACERS)))
        changed = moved.result()

    assert_stock_invariants(potok)
    on_hand = RACERS + RACERS // 2
    reserved = reserved_units(potok, "KET")
    assert reserved <= on_hand
    assert all(sum(held_at(potok, o).values()) == 1 for o in held)  # nobody lost stock
    assert reserved == RACERS + outcomes.count("reserved")
    assert 0 <= changed <= RACERS // 2
