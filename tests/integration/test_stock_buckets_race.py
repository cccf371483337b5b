"""Units set aside while orders race for the same stock: no oversell, the buckets add up.

Threads with their own connections place orders and put units aside (some of them
reserved ones, which sends orders elsewhere or to the backorder queue) at the same time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from potok.bootstrap import Potok
from potok.domain.errors import PotokError
from potok.domain.inventory.buckets import AsideReason, Bucket, MoveStock
from potok.services import intake, inventory, stock_buckets
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants
from tests.racing import RACE_LIMIT

ORDERS = 24
MOVES = 8


@RACE_LIMIT
def test_setting_aside_while_orders_race_never_oversells(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("SPB", "KET"): 6})

    def order(_: int) -> str:
        return intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER).order.allocation

    def aside(n: int) -> str:
        try:
            stock_buckets.move_stock(
                potok.uow(),
                MoveStock(
                    "MSK" if n % 2 else "SPB", "KET", 1, Bucket.UNAVAILABLE, AsideReason.DAMAGED
                ),
                TESTER,
            )
        except PotokError as error:
            return error.code
        return "set aside"

    with ThreadPoolExecutor(max_workers=16) as pool:
        placed = pool.map(order, range(ORDERS))
        moved = pool.map(aside, range(MOVES))
        outcomes, moves = list(placed), list(moved)

    assert_stock_invariants(potok)
    assert inventory.reconcile(potok.uow()).drifts == []
    levels = {r.warehouse: r for r in inventory.list_levels(potok.uow(), sku="KET").items}
    unavailable = sum(r.unavailable for r in levels.values())
    reserved = sum(r.reserved for r in levels.values())
    assert unavailable == moves.count("set aside") == MOVES
    assert reserved + unavailable <= 16
    assert reserved == 16 - MOVES  # every unit not set aside went to a waiting order
    assert outcomes.count("reserved") + outcomes.count("backordered") == ORDERS
