"""Transfers and purchase orders against the database: shipping races orders for the last
units without overselling, and the incoming read model the replenishment report uses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from potok.bootstrap import Potok
from potok.db.queries.incoming import incoming_by_position
from potok.domain.inventory.purchasing import CreatePurchaseOrder, PurchaseLineRequest
from potok.domain.inventory.transfers import RequestTransfer, TransferLineRequest, TransferShort
from potok.services import intake, inventory, purchasing
from potok.services import transfers as transfer_service
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants
from tests.racing import RACE_LIMIT, start_line

RACERS = 16


@RACE_LIMIT
@pytest.mark.slow
def test_shipments_and_orders_racing_for_the_last_units_never_oversell(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    numbers = [
        transfer_service.request_transfer(
            potok.uow(),
            RequestTransfer("MSK", "SPB", [TransferLineRequest("KET", 1)]),
            TESTER,
        ).number
        for _ in range(RACERS // 2)
    ]
    start = start_line(RACERS)

    def ship(number: str) -> str:
        start.wait()
        try:
            transfer_service.ship_transfer(potok.uow(), number, TESTER)
        except TransferShort:
            return "short"
        return "shipped"

    def order(index: int) -> str:
        start.wait()
        result = intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
        assert isinstance(result, intake.Placement)
        return result.order.status.value

    with ThreadPoolExecutor(RACERS) as pool:
        shipped = [pool.submit(ship, n) for n in numbers]
        ordered = [pool.submit(order, i) for i in range(RACERS // 2)]
        outcomes = [f.result() for f in shipped + ordered]

    assert_stock_invariants(potok)
    won = outcomes.count("shipped") + outcomes.count("reserved")
    assert won == 10, outcomes
    assert outcomes.count("short") + outcomes.count("backordered") == RACERS - 10
    level = inventory.list_levels(potok.uow(), warehouse="MSK").items[0]
    assert (level.on_hand, level.reserved) == (10 - outcomes.count("shipped"), level.on_hand)
    assert inventory.reconcile(potok.uow()).drifts == []


def test_incoming_by_position_adds_transfers_in_transit_and_open_purchase_orders(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    number = transfer_service.request_transfer(
        potok.uow(),
        RequestTransfer(
            "MSK", "SPB", [TransferLineRequest("KET", 4)], expected_on=date(2026, 12, 3)
        ),
        TESTER,
    ).number
    transfer_service.ship_transfer(potok.uow(), number, TESTER, quantities={1: 3})
    order = purchasing.create_purchase_order(
        potok.uow(),
        CreatePurchaseOrder(
            "Acme",
            "SPB",
            [PurchaseLineRequest("KET", 5), PurchaseLineRequest("MUG", 2)],
            expected_on=date(2026, 12, 1),
        ),
        TESTER,
    )
    purchasing.receive_purchase_order(potok.uow(), order.number, {1: 1}, TESTER)
    with potok.uow().read() as uow:
        spb = uow.warehouses.ids_for(["SPB"])["SPB"]
        msk = uow.warehouses.ids_for(["MSK"])["MSK"]
        ids = uow.products.ids_for(["KET", "MUG", "TOY"])

    with potok.engine.connect() as connection:
        found = incoming_by_position(
            connection,
            [(spb, ids["KET"]), (spb, ids["MUG"]), (spb, ids["TOY"]), (msk, ids["KET"])],
        )

    assert {(w, p): (i.quantity, i.expected_on) for (w, p), i in found.items()} == {
        (spb, ids["KET"]): (3 + 4, date(2026, 12, 1)),
        (spb, ids["MUG"]): (2, date(2026, 12, 1)),
    }
    transfer_service.receive_transfer(potok.uow(), number, TESTER)
    purchasing.cancel_purchase_order(potok.uow(), order.number, TESTER)
    with potok.engine.connect() as connection:
        assert incoming_by_position(connection, [(spb, ids["KET"]), (spb, ids["MUG"])]) == {}
