"""Fulfilment under real concurrency: threads with their own database connections race -
pickers for the same line, a cancellation against the hand-over, packers for one marking
code. Never a unit picked or shipped twice, never stock lost, the books reconciled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.catalogue import ProductDraft
from potok.domain.errors import PotokError
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus, UnitIdentifier
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.orders import OrderStatus
from potok.domain.orders.commands import CancelOrder
from potok.services import catalogue, inventory
from potok.services import orders as order_service
from potok.services.fulfilment import handover, packing, picking, reads, release
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants
from tests.racing import RACE_LIMIT, start_line

PICKERS = 12


def _race(calls: list[Callable[[], object]]) -> list[str]:
    """Run the calls at once (after a barrier); each outcome is "ok" or the error's code."""
    barrier = start_line(len(calls))

    def run(call: Callable[[], object]) -> str:
        barrier.wait()
        try:
            call()
        except PotokError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _order(potok: Potok, lines: list[tuple[str, int]]) -> int:
    placed = place_order(potok.uow(), order_command(lines), TESTER)
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    return placed.order.id


def _clean(potok: Potok) -> None:
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)


@RACE_LIMIT
@pytest.mark.parametrize("started", [False, True])
def test_pickers_racing_for_one_line_never_pick_more_than_it_holds(
    potok: Potok, started: bool
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    order_id = _order(potok, [("KET", 5)])
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    shipment_id = shipment.id or 0
    if started:  # the pickers race on the shipment alone (a pending one: on its order too)
        picking.start_picking(potok.uow(), shipment_id, TESTER)

    outcomes = _race(
        [
            lambda: picking.pick(potok.uow(), shipment_id, ScanInput("KET"), TESTER)
            for _ in range(PICKERS)
        ]
    )

    counts = Counter(outcomes)
    assert counts == {"ok": 5, "already-picked": PICKERS - 5}, counts
    view = reads.get_shipment(potok.uow(), shipment_id)
    assert [i.picked for i in view.shipment.items] == [5]
    actions = [s.action for s in view.steps]
    assert actions.count("picked") == 5
    assert actions.count("picking_started") == 1  # started once, by one of them or before
    assert order_service.get_order(potok.uow(), order_id).order.status is (
        OrderStatus.IN_FULFILMENT
    )
    _clean(potok)


@RACE_LIMIT
def test_a_cancellation_racing_the_hand_over_either_ships_or_cancels_never_both(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 20})
    rounds = 6
    shipments: dict[int, int] = {}
    for _ in range(rounds):
        order_id = _order(potok, [("KET", 2)])
        (made,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
        picking.pick(potok.uow(), made.id or 0, ScanInput("KET", 2), TESTER)
        packing.pack_parcel(
            potok.uow(), made.id or 0, ParcelDraft(2500, 300, 200, 200, (ParcelLine(1, 2),)), TESTER
        )
        shipments[order_id] = made.id or 0

    calls: list[Callable[[], object]] = []
    for order_id, shipment_id in shipments.items():
        calls.append(
            lambda o=order_id: order_service.cancel_order(
                potok.uow(), CancelOrder(o, "customer called"), TESTER
            )
        )
        calls.append(lambda s=shipment_id: handover.hand_over(potok.uow(), s, TESTER))
    outcomes = _race(calls)

    shipped = 0
    for index, (order_id, shipment_id) in enumerate(shipments.items()):
        cancel, hand = outcomes[2 * index], outcomes[2 * index + 1]
        assert sorted([cancel, hand]).count("ok") == 1, (cancel, hand)
        order = order_service.get_order(potok.uow(), order_id).order
        status = reads.get_shipment(potok.uow(), shipment_id).shipment.status
        if hand == "ok":
            assert cancel == "order-shipped"
            assert (order.status, status) == (OrderStatus.SHIPPED, ShipmentStatus.HANDED_OVER)
            shipped += 2
        else:
            assert hand in ("order-closed", "illegal-transition")
            assert (order.status, status) == (OrderStatus.CANCELLED, ShipmentStatus.CANCELLED)
    level = inventory.list_levels(potok.uow(), warehouse="MSK").items[0]
    assert (level.on_hand, level.reserved) == (20 - shipped, 0)
    _clean(potok)


@RACE_LIMIT
def test_packers_racing_with_one_marking_code_pack_it_once(potok: Potok) -> None:
    build_world(potok)
    catalogue.create_product(
        potok.uow(),
        ProductDraft(
            "SHOE",
            "Кроссовки",
            Decimal("5990.00"),
            Decimal("22"),
            "4650000000010",
            800,
            unit_identifiers=frozenset({UnitIdentifier.MARKING}),
        ),
    )
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "SHOE", 8), TESTER)
    ready = []
    for _ in range(4):
        order_id = _order(potok, [("SHOE", 1)])
        (made,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
        picking.pick(potok.uow(), made.id or 0, ScanInput("SHOE"), TESTER)
        ready.append(made.id or 0)
    code = "0104650000000010" + "21same-unit\x1d91EE10\x1d92" + "C" * 44
    parcel = ParcelDraft(900, 300, 200, 120, (ParcelLine(1, 1, ((UnitIdentifier.MARKING, code),)),))

    outcomes = _race(
        [lambda s=s: packing.pack_parcel(potok.uow(), s, parcel, TESTER) for s in ready]
    )

    assert Counter(outcomes) == {"ok": 1, "code-already-used": 3}, outcomes
    with potok.engine.connect() as connection:
        active = connection.execute(
            sa.text("SELECT count(*) FROM shipment_codes WHERE active")
        ).scalar_one()
    assert active == 1
    _clean(potok)
