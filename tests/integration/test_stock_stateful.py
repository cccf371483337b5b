"""Hypothesis drives random sequences of stock, transfer and order operations against a
model of the stock kept by this test, and after every step the database must agree with
the model position by position: on hand, reserved, set aside and available.

The model does its own arithmetic for every bucket. The one thing it does not predict is
sourcing's choice of warehouse and lot: it reads that from an order when the operation
may move the order's units (the new order, the orders waiting for stock, the orders that
held a position that shrank), checks that the choice was possible (every line covered,
no position oversold) and from then on holds the order's units itself, so an operation
that loses, leaks or double-counts a reservation disagrees with the model. An order that
waits for stock while its channel's warehouses have the units is a failure too.

Each run draws a new seed and prints it; ``POTOK_STATEFUL_SEED`` replays one, and
``POTOK_STATEFUL_EXAMPLES`` and ``POTOK_STATEFUL_STEPS`` set the budget (CI uses the
defaults below).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, seed, settings
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
from potok.domain.inventory.buckets import AsideReason, Bucket, MoveStock
from potok.domain.inventory.commands import (
    CountStock,
    LevelRow,
    ReceiveStock,
    SetLevels,
    WriteOffStock,
)
from potok.domain.inventory.errors import CountMismatch
from potok.domain.inventory.lots import LotInput
from potok.domain.inventory.transfers import RequestTransfer, TransferLineRequest, TransferShort
from potok.domain.kernel import Tracking
from potok.domain.orders import AllocationState, OrderState, PaymentStatus
from potok.domain.orders.commands import CancelOrder, RecordPayment
from potok.services import catalogue, inventory, orders, stock_buckets, transfers
from potok.services.intake import Placement, place_order
from tests.conftest import empty_all_tables
from tests.factories import PRODUCTS, TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants

EXAMPLES = int(os.environ.get("POTOK_STATEFUL_EXAMPLES", "20"))
STEPS = int(os.environ.get("POTOK_STATEFUL_STEPS", "40"))

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAYMENT_DEADLINE = timedelta(minutes=30)  # the app channel's, in tests/factories.py
WAREHOUSES = ["MSK", "SPB"]  # few positions, so that operations meet
PLAIN = ["KET"]
LOTTED = "TOY"  # kept by lot in this test
LOTS = {"L1": date(2031, 1, 1), "L2": date(2032, 6, 1)}
SERVES = {  # the warehouses of tests/factories.py that serve each channel used here
    "web": {"MSK", "SPB", "KZN", "MSK-S"},
    "phone": {"MSK", "SPB", "KZN", "MSK-S"},
    "app": {"MSK", "SPB", "KZN"},
}

Position = tuple[str, str, str | None]  # warehouse, SKU, lot
SEEN: Counter[str] = Counter()  # what the runs exercised, printed at the end

plain_positions = st.tuples(st.sampled_from(WAREHOUSES), st.sampled_from(PLAIN), st.none())
lot_positions = st.tuples(
    st.sampled_from(WAREHOUSES), st.just(LOTTED), st.sampled_from(sorted(LOTS))
)
positions = st.one_of(plain_positions, lot_positions)
quantities = st.integers(min_value=1, max_value=6)


@dataclass
class ModelOrder:
    """What the model knows of an order: its lines, and the units it holds where."""

    channel: str
    lines: Counter[str]
    placed_at: datetime
    paid: bool = False
    state: str = "backordered"  # reserved | backordered | cancelled
    holds: Counter[Position] = field(default_factory=Counter)


@dataclass
class ModelTransfer:
    source: Position
    to: str
    quantity: int
    status: str = "requested"  # shipped | received | cancelled


def machine_for(potok: Potok) -> type[RuleBasedStateMachine]:
    class StockMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            empty_all_tables(potok)
            build_world(potok)
            toy = next(p for p in PRODUCTS if p.sku == LOTTED)
            catalogue.replace_product(potok.uow(), LOTTED, replace(toy, tracking=Tracking.LOT))
            self.now = START
            self.on_hand: Counter[Position] = Counter()
            self.aside: Counter[Position] = Counter()
            self.known: set[Position] = set()  # positions the database has a row for
            self.orders: dict[int, ModelOrder] = {}
            self.transfers: dict[str, ModelTransfer] = {}
            # known gap: an order displaced and backordered gives back its other SKUs' units,
            # and the backorder queue is not tried for them (see the handoff of issue 10)
            self.displaced_now = False
            self.stranded: set[int] = set()

        # ------------------------------------------------------------ the model's sums

        def clock(self) -> datetime:
            return self.now

        def reserved(self, position: Position) -> int:
            return sum(o.holds[position] for o in self.orders.values() if o.state == "reserved")

        def available(self, position: Position) -> int:
            return self.on_hand[position] - self.reserved(position) - self.aside[position]

        def waiting(self) -> list[int]:
            return [i for i, o in self.orders.items() if o.state == "backordered"]

        def holding(self, position: Position) -> list[int]:
            return [
                i for i, o in self.orders.items() if o.state == "reserved" and o.holds[position]
            ]

        def learn(self, order_ids: list[int]) -> None:
            """Read where sourcing put these orders, and check that it could."""
            for order_id in order_ids:
                found = orders.get_order(potok.uow(), order_id).order
                known = self.orders[order_id]
                holds: Counter[Position] = Counter()
                for r in found.open_reservations:
                    holds[(r.warehouse_code, r.sku, r.lot)] += r.quantity
                if found.state is OrderState.CANCELLED:
                    known.state = "cancelled"
                elif found.allocation is AllocationState.RESERVED:
                    known.state = "reserved"
                else:
                    known.state = "backordered"
                assert found.state is not OrderState.CANCELLED or not holds, (order_id, holds)
                if known.state == "reserved":
                    covered: Counter[str] = Counter()
                    for (warehouse, sku, _), units in holds.items():
                        assert warehouse in SERVES[known.channel], (order_id, warehouse)
                        covered[sku] += units
                    assert covered == known.lines, (order_id, covered, known.lines)
                else:
                    assert not holds, (order_id, holds)
                known.holds = holds
                if known.state != "backordered":
                    self.stranded.discard(order_id)
                SEEN[f"order {known.state}"] += 1
                SEEN["order holding a lot"] += any(lot for _, _, lot in holds)
                SEEN["order split"] += len({w for w, _, _ in holds}) > 1

        def make_room(self, position: Position, room: int, displaced: list[int]) -> None:
            """Reservations here must fit into ``room`` units: the orders the operation says
            it displaced must have held units here, and no more of them than needed."""
            excess = self.reserved(position) - room
            assert bool(displaced) == (excess > 0), (position, excess, displaced)
            freed = 0
            for order_id in displaced:
                known = self.orders[order_id]
                assert known.state == "reserved", order_id
                assert known.holds[position] > 0, (order_id, position)
                assert freed < excess, f"order {order_id} displaced after room was made"
                freed += known.holds[position]
                known.state, known.holds = "backordered", Counter()
                SEEN["order displaced"] += 1
                self.displaced_now = True

        def shrink(self, position: Position, new_on_hand: int, displaced: list[int]) -> None:
            """On hand becomes ``new_on_hand``; set-aside units give way to the reservations
            that stay, and the displaced orders are sourced again."""
            self.make_room(position, new_on_hand, displaced)
            self.on_hand[position] = new_on_hand
            self.aside[position] = min(self.aside[position], new_on_hand - self.reserved(position))
            self.learn(displaced)

        def somewhere(self, data: st.DataObject, fits: Callable[[Position], bool]) -> Position:
            """Mostly a position where the operation fits, sometimes any position at all."""
            fitting = sorted((p for p in self.known if fits(p)), key=str)
            if fitting and data.draw(st.integers(0, 3), label="fitting") > 0:
                return data.draw(st.sampled_from(fitting), label="position")
            return data.draw(positions, label="position")

        # ------------------------------------------------------------ stock

        @rule(position=positions, quantity=quantities)
        def receive(self, position: Position, quantity: int) -> None:
            SEEN["step receive"] += 1
            warehouse, sku, lot = position
            lot_input = LotInput(lot, None, LOTS[lot]) if lot else None
            change = inventory.receive_stock(
                potok.uow(),
                ReceiveStock(warehouse, sku, quantity, lot=lot_input),
                TESTER,
                clock=self.clock,
            )
            self.known.add(position)
            self.on_hand[position] += quantity
            assert set(change.backorders_reserved) <= set(self.waiting())
            self.learn(self.waiting())

        @rule(data=st.data())
        def write_off(self, data: st.DataObject) -> None:
            SEEN["step write_off"] += 1
            position = self.somewhere(data, lambda p: self.on_hand[p] > 0)
            quantity = data.draw(st.integers(1, self.on_hand[position] + 1), label="quantity")
            warehouse, sku, lot = position
            try:
                change = inventory.write_off_stock(
                    potok.uow(),
                    WriteOffStock(warehouse, sku, quantity, "damaged", lot=lot),
                    TESTER,
                    clock=self.clock,
                )
            except PotokError as error:
                if position not in self.known:
                    assert error.code in ("stock-not-found", "lot-not-found"), error.code  # noqa: PT017
                else:
                    assert error.code == "write-off-exceeds-stock", error.code  # noqa: PT017
                    assert quantity > self.on_hand[position]
                return
            assert position in self.known
            assert quantity <= self.on_hand[position]
            self.shrink(position, self.on_hand[position] - quantity, change.orders_resourced)

        @rule(position=plain_positions, counted=st.integers(0, 12), stale=st.booleans())
        def count(self, position: Position, counted: int, stale: bool) -> None:
            SEEN["step count"] += 1
            warehouse, sku, _ = position
            expected = self.on_hand[position] + (1 if stale else 0)
            try:
                change = inventory.count_stock(
                    potok.uow(),
                    CountStock(warehouse, sku, expected, counted),
                    TESTER,
                    clock=self.clock,
                )
            except CountMismatch:
                assert stale
                return
            assert not stale
            self.known.add(position)
            grew = counted > self.on_hand[position]
            self.shrink(position, counted, change.orders_resourced)
            if grew:
                self.learn(self.waiting())

        @rule(data=st.data())
        def upload_levels(self, data: st.DataObject) -> None:
            """An ERP sync of a few positions, to levels that keep every reservation."""
            SEEN["step upload_levels"] += 1
            chosen = data.draw(st.sets(plain_positions, min_size=1, max_size=3))
            levels = {}
            for p in chosen:
                # Never below what is promised or set aside; the ceiling grows with it.
                floor = self.reserved(p) + self.aside[p]
                levels[p] = data.draw(st.integers(floor, max(floor, 12)), label=str(p))
            rows = [LevelRow(w, s, q) for (w, s, _), q in sorted(levels.items())]
            result = inventory.set_levels(
                potok.uow(), SetLevels(rows, source="erp"), TESTER, clock=self.clock
            )
            assert result.orders_resourced == []
            self.known.update(levels)
            self.on_hand.update({p: q - self.on_hand[p] for p, q in levels.items()})
            self.learn(self.waiting())

        @rule(data=st.data())
        def set_aside(self, data: st.DataObject) -> None:
            SEEN["step set_aside"] += 1
            position = self.somewhere(data, lambda p: self.on_hand[p] > self.aside[p])
            movable = self.on_hand[position] - self.aside[position]
            quantity = data.draw(st.integers(1, movable + 1), label="quantity")
            warehouse, sku, lot = position
            move = MoveStock(
                warehouse, sku, quantity, Bucket.UNAVAILABLE, AsideReason.DAMAGED, lot=lot
            )
            try:
                change = stock_buckets.move_stock(potok.uow(), move, TESTER, clock=self.clock)
            except PotokError as error:
                if position in self.known:
                    assert error.code == "set-aside-exceeds-stock", error.code  # noqa: PT017
                    assert quantity > self.on_hand[position] - self.aside[position]
                return
            assert position in self.known
            floor = self.on_hand[position] - self.aside[position] - quantity
            assert floor >= 0
            self.make_room(position, floor, change.orders_resourced)
            self.aside[position] += quantity
            SEEN["set aside"] += 1
            self.learn(change.orders_resourced)

        @rule(data=st.data(), off=st.booleans())
        def release_aside(self, data: st.DataObject, off: bool) -> None:
            """Units set aside come back to sellable stock, or leave the books."""
            SEEN["step release_aside"] += 1
            position = self.somewhere(data, lambda p: self.aside[p] > 0)
            quantity = data.draw(st.integers(1, self.aside[position] + 1), label="quantity")
            warehouse, sku, lot = position
            to = Bucket.WRITTEN_OFF if off else Bucket.AVAILABLE
            move = MoveStock(warehouse, sku, quantity, to, AsideReason.DAMAGED, lot=lot)
            try:
                stock_buckets.move_stock(potok.uow(), move, TESTER, clock=self.clock)
            except PotokError as error:
                if position in self.known:
                    assert error.code == "unavailable-exceeded", error.code  # noqa: PT017
                    assert quantity > self.aside[position]
                return
            assert quantity <= self.aside[position]
            self.aside[position] -= quantity
            if off:
                self.on_hand[position] -= quantity
            else:
                SEEN["released while orders wait"] += any(
                    sku in self.orders[i].lines for i in self.waiting()
                )
                self.learn(self.waiting())

        # ------------------------------------------------------------ transfers

        @precondition(lambda self: any(self.available(p) > 0 for p in self.known))
        @rule(data=st.data(), to=st.sampled_from(WAREHOUSES))
        def request_transfer(self, data: st.DataObject, to: str) -> None:
            SEEN["step request_transfer"] += 1
            stocked = sorted((p for p in self.known if self.available(p) > 0), key=str)
            source = data.draw(st.sampled_from(stocked))
            warehouse, sku, lot = source
            if warehouse == to:
                return
            # sometimes more than is free now: shipping it is refused unless stock arrives
            quantity = data.draw(st.integers(1, self.available(source) + 1))
            line = TransferLineRequest(sku, quantity, lot=lot)
            made = transfers.request_transfer(
                potok.uow(), RequestTransfer(warehouse, to, [line]), TESTER, clock=self.clock
            )
            self.transfers[made.number] = ModelTransfer(source, to, quantity)

        @precondition(lambda self: any(t.status == "requested" for t in self.transfers.values()))
        @rule(data=st.data())
        def ship_transfer(self, data: st.DataObject) -> None:
            SEEN["step ship_transfer"] += 1
            number = data.draw(
                st.sampled_from(
                    sorted(n for n, t in self.transfers.items() if t.status == "requested")
                )
            )
            moving = self.transfers[number]
            try:
                transfers.ship_transfer(potok.uow(), number, TESTER, clock=self.clock)
            except TransferShort:
                assert moving.quantity > max(0, self.available(moving.source))
                return
            assert moving.quantity <= self.available(moving.source)
            self.on_hand[moving.source] -= moving.quantity
            moving.status = "shipped"
            SEEN["transfer shipped"] += 1

        @precondition(
            lambda self: any(t.status in ("requested", "shipped") for t in self.transfers.values())
        )
        @rule(data=st.data(), cancel=st.booleans())
        def settle_transfer(self, data: st.DataObject, cancel: bool) -> None:
            """A shipped transfer arrives (one not shipped yet cannot); a requested one may be
            called off."""
            SEEN["step settle_transfer"] += 1
            number = data.draw(
                st.sampled_from(
                    sorted(
                        n for n, t in self.transfers.items() if t.status in ("requested", "shipped")
                    )
                )
            )
            moving = self.transfers[number]
            if cancel and moving.status == "requested":
                transfers.cancel_transfer(potok.uow(), number, TESTER, clock=self.clock)
                moving.status = "cancelled"
                return
            try:
                transfers.receive_transfer(potok.uow(), number, TESTER, clock=self.clock)
            except PotokError:
                assert moving.status != "shipped"
                return
            assert moving.status == "shipped"
            _, sku, lot = moving.source
            arrived = (moving.to, sku, lot)
            self.known.add(arrived)
            self.on_hand[arrived] += moving.quantity
            moving.status = "received"
            SEEN["transfer received"] += 1
            self.learn(self.waiting())

        # ------------------------------------------------------------ orders

        @rule(
            lines=st.lists(
                st.tuples(st.sampled_from([*PLAIN, LOTTED]), st.integers(1, 3)),
                min_size=1,
                max_size=3,
            ),
            channel=st.sampled_from(sorted(SERVES)),
        )
        def place(self, lines: list[tuple[str, int]], channel: str) -> None:
            SEEN["step place"] += 1
            result = place_order(
                potok.uow(), order_command(lines, channel=channel), TESTER, clock=self.clock
            )
            assert isinstance(result, Placement)
            assert result.order.id is not None
            wanted: Counter[str] = Counter()
            for sku, units in lines:
                wanted[sku] += units
            self.orders[result.order.id] = ModelOrder(channel, wanted, self.now)
            self.learn([result.order.id])

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            SEEN["step cancel"] += 1
            order_id = data.draw(st.sampled_from(sorted(self.orders)))
            known = self.orders[order_id]
            try:
                orders.cancel_order(
                    potok.uow(), CancelOrder(order_id, "test"), TESTER, clock=self.clock
                )
            except PotokError as error:
                assert error.code == "illegal-transition"  # noqa: PT017 - the model decides
                assert known.state == "cancelled"
                return
            assert known.state != "cancelled"
            known.state, known.holds = "cancelled", Counter()
            self.learn(self.waiting())

        @precondition(
            lambda self: any(
                o.channel == "app" and not o.paid and o.state != "cancelled"
                for o in self.orders.values()
            )
        )
        @rule(data=st.data())
        def pay(self, data: st.DataObject) -> None:
            SEEN["step pay"] += 1
            unpaid = sorted(
                i
                for i, o in self.orders.items()
                if o.channel == "app" and not o.paid and o.state != "cancelled"
            )
            order_id = data.draw(st.sampled_from(unpaid))
            orders.record_payment(
                potok.uow(), RecordPayment(order_id, PaymentStatus.PAID), TESTER, clock=self.clock
            )
            self.orders[order_id].paid = True

        @rule(minutes=st.integers(1, 45))
        def time_passes(self, minutes: int) -> None:
            """The clock moves on and the payment-deadline job runs: unpaid app orders past
            their deadline are cancelled and their units go back to stock."""
            SEEN["step time_passes"] += 1
            self.now += timedelta(minutes=minutes)
            expired = orders.expire_unpaid_orders(potok.uow(), clock=self.clock)
            due = sorted(
                i
                for i, o in self.orders.items()
                if o.channel == "app"
                and not o.paid
                and o.state != "cancelled"
                and o.placed_at + PAYMENT_DEADLINE <= self.now
            )
            assert sorted(expired) == due
            SEEN["order expired"] += len(due)
            for order_id in due:
                self.orders[order_id].state, self.orders[order_id].holds = "cancelled", Counter()
            if due:
                self.learn(self.waiting())

        # ------------------------------------------------------------ what must hold

        @invariant()
        def the_database_agrees_with_the_model(self) -> None:
            rows = inventory.list_levels(potok.uow(), limit=500).items
            found = {(r.warehouse, r.sku, r.lot): r for r in rows}
            for position in self.known | set(found):
                row = found.get(position)
                assert row is not None, f"no stock row for {position}"
                expected = (
                    self.on_hand[position],
                    self.reserved(position),
                    self.aside[position],
                    self.available(position),
                )
                actual = (row.on_hand, row.reserved, row.unavailable, row.available)
                assert actual == expected, f"{position}: (on hand, reserved, aside, available)"
                assert self.reserved(position) + self.aside[position] <= self.on_hand[position]

        @invariant()
        def no_order_waits_for_units_its_channel_has(self) -> None:
            for order_id in self.waiting():
                if order_id in self.stranded:
                    continue
                known = self.orders[order_id]
                free: Counter[str] = Counter()
                for position in self.known:
                    if position[0] in SERVES[known.channel]:
                        free[position[1]] += max(0, self.available(position))
                short = [sku for sku, units in known.lines.items() if free[sku] < units]
                if not short and self.displaced_now:
                    self.stranded.add(order_id)
                    SEEN["order stranded by a displacement"] += 1
                    continue
                assert short, f"order {order_id} waits for {dict(known.lines)}; free: {free}"
            self.displaced_now = False

        @invariant()
        def the_books_balance(self) -> None:
            assert_stock_invariants(potok)
            assert inventory.reconcile(potok.uow()).drifts == []

    return StockMachine


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_stock_agrees_with_a_model_under_random_operations(potok: Potok) -> None:
    run_seed = int(os.environ.get("POTOK_STATEFUL_SEED") or random.randrange(2**32))
    print(f"stateful stock seed: {run_seed} (replay with POTOK_STATEFUL_SEED={run_seed})")
    machine = seed(run_seed)(machine_for(potok))
    SEEN.clear()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=False,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    print("stateful stock run:", ", ".join(f"{k} {v}" for k, v in sorted(SEEN.items())))
