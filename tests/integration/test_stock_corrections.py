"""Stock corrections that cut into reserved stock: reservations are taken back once,
from the right orders, and those orders are sourced again."""

from __future__ import annotations

from potok.bootstrap import Potok
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.orders import AllocationState
from potok.services import inventory, orders
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants


def test_one_upload_lowering_two_positions_of_one_order_releases_it_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 1, ("SPB", "MUG"): 1})
    placed = place_order(potok.uow(), order_command([("KET", 1), ("MUG", 1)]), TESTER)
    assert isinstance(placed, Placement)
    assert {r.warehouse_code for r in placed.order.open_reservations} == {"MSK", "SPB"}

    applied = inventory.set_levels(
        potok.uow(),
        SetLevels([LevelRow("MSK", "KET", 0), LevelRow("SPB", "MUG", 0)], source="erp"),
        TESTER,
    )

    assert applied.changed == 2
    assert applied.orders_resourced == [placed.order.id]
    order = orders.get_order(potok.uow(), placed.order.id or 0).order
    assert order.allocation is AllocationState.BACKORDERED
    assert [h.action for h in orders.get_order(potok.uow(), order.id or 0).history].count(
        "reservation_released"
    ) == 1
    assert_stock_invariants(potok)


def test_a_correction_takes_back_only_as_much_as_it_must(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "KET"): 3})
    first = place_order(potok.uow(), order_command([("KET", 2)], priority=5), TESTER)
    second = place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
    assert isinstance(first, Placement)
    assert isinstance(second, Placement)
    at_msk = {r.warehouse_code for r in first.order.open_reservations}
    assert at_msk == {"MSK"}

    inventory.set_levels(potok.uow(), SetLevels([LevelRow("MSK", "KET", 2)], source="erp"), TESTER)

    # the less urgent order gave its unit back and is reserved again elsewhere; the urgent
    # order kept its two units at MSK
    kept = orders.get_order(potok.uow(), first.order.id or 0).order
    moved = orders.get_order(potok.uow(), second.order.id or 0).order
    assert {(r.warehouse_code, r.quantity) for r in kept.open_reservations} == {("MSK", 2)}
    assert {r.warehouse_code for r in moved.open_reservations} == {"SPB"}
    assert_stock_invariants(potok)
