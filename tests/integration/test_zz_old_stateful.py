"""Hypothesis drives random sequences of stock and order operations; after every step
the stock invariants hold and on-hand matches a simple model of what should be there."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from potok.bootstrap import Potok
from potok.domain.errors import PotokError
from potok.domain.inventory.commands import (
    CountStock,
    LevelRow,
    ReceiveStock,
    SetLevels,
    WriteOffStock,
)
from potok.domain.inventory.errors import CountMismatch, WriteOffExceedsStock
from potok.domain.orders import OrderState
from potok.domain.orders.commands import CancelOrder
from potok.domain.orders.errors import NetworkCannotCover
from potok.services import inventory, orders
from potok.services.intake import Placement, place_order
from tests.conftest import empty_all_tables
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants

WAREHOUSES = ["MSK", "SPB", "KZN"]
SKUS = ["KET", "MUG"]
positions = st.tuples(st.sampled_from(WAREHOUSES), st.sampled_from(SKUS))
quantities = st.integers(min_value=1, max_value=6)


def machine_for(potok: Potok) -> type[RuleBasedStateMachine]:
    class StockMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            empty_all_tables(potok)
            build_world(potok)
            self.on_hand: Counter[tuple[str, str]] = Counter()
            self.orders: list[int] = []

        @rule(position=positions, quantity=quantities)
        def receive(self, position: tuple[str, str], quantity: int) -> None:
            inventory.receive_stock(potok.uow(), ReceiveStock(*position, quantity), TESTER)
            self.on_hand[position] += quantity

        @rule(position=positions, quantity=quantities)
        def write_off(self, position: tuple[str, str], quantity: int) -> None:
            try:
                inventory.write_off_stock(
                    potok.uow(), WriteOffStock(*position, quantity, "damaged"), TESTER
                )
            except WriteOffExceedsStock:
                assert quantity > self.on_hand[position]
            except PotokError as error:  # never received here: no position yet
                assert error.code == "stock-not-found"  # noqa: PT017 - the model decides
                assert self.on_hand[position] == 0
            else:
                assert quantity <= self.on_hand[position]
                self.on_hand[position] -= quantity

        @rule(position=positions, counted=st.integers(0, 12), stale=st.booleans())
        def count(self, position: tuple[str, str], counted: int, stale: bool) -> None:
            expected = self.on_hand[position] + (1 if stale else 0)
            try:
                inventory.count_stock(potok.uow(), CountStock(*position, expected, counted), TESTER)
            except CountMismatch:
                assert stale
            else:
                assert not stale
                self.on_hand[position] = counted

        @rule(levels=st.dictionaries(positions, st.integers(0, 12), min_size=1, max_size=4))
        def upload_levels(self, levels: dict[tuple[str, str], int]) -> None:
            rows = [LevelRow(w, s, q) for (w, s), q in levels.items()]
            inventory.set_levels(potok.uow(), SetLevels(rows, source="erp"), TESTER)
            self.on_hand.update({k: v - self.on_hand[k] for k, v in levels.items()})

        @rule(
            lines=st.lists(
                st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=2
            ),
            channel=st.sampled_from(["web", "mp", "phone"]),
        )
        def place(self, lines: list[tuple[str, int]], channel: str) -> None:
            try:
                result = place_order(potok.uow(), order_command(lines, channel=channel), TESTER)
            except NetworkCannotCover:
                assert channel == "mp"
                return
            assert isinstance(result, Placement)
            assert result.order.id is not None
            self.orders.append(result.order.id)

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            order_id = data.draw(st.sampled_from(self.orders))
            before = orders.get_order(potok.uow(), order_id).order
            try:
                view = orders.cancel_order(potok.uow(), CancelOrder(order_id, "test"), TESTER)
            except PotokError as error:
                assert error.code == "illegal-transition"  # noqa: PT017 - the model decides
                assert before.state is OrderState.CANCELLED
            else:
                assert view.order.state is OrderState.CANCELLED
                assert view.order.open_reservations == []

        @invariant()
        def stock_is_consistent(self) -> None:
            assert_stock_invariants(potok)
            with potok.uow().read() as uow:
                for (warehouse, sku), expected in self.on_hand.items():
                    ids = uow.warehouses.ids_for([warehouse])
                    product_ids = uow.products.ids_for([sku])
                    level = uow.stock.level(ids[warehouse], product_ids[sku])
                    assert (level.on_hand if level else 0) == expected
            assert inventory.reconcile(potok.uow()).drifts == []

    return StockMachine


@pytest.mark.slow
def test_stock_invariants_hold_under_random_operations(potok: Potok) -> None:
    machine = machine_for(potok)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
