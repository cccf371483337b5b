"""The order's state machines as tables, and the status an operator sees derived from them."""

from __future__ import annotations

from enum import StrEnum
from itertools import product
from typing import Any

import pytest

from potok.domain.errors import Conflict
from potok.domain.machine import IllegalTransition, StateMachine
from potok.domain.orders.states import (
    ALLOCATION,
    HOLD,
    ORDER,
    PAID_ENOUGH,
    PAYMENT,
    AllocationState,
    HoldState,
    OrderState,
    PaymentStatus,
)
from potok.domain.orders.status import OrderStatus, derive_status

# The allowed moves, written out here on purpose: a change to a table in the code must be
# a deliberate change to this file too.
ORDER_MOVES = {
    (OrderState.NEW, OrderState.CONFIRMED),
    (OrderState.NEW, OrderState.CANCELLED),
    (OrderState.CONFIRMED, OrderState.CANCELLED),
}
PAYMENT_MOVES = {
    (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED),
    (PaymentStatus.PENDING, PaymentStatus.PAID),
    (PaymentStatus.PENDING, PaymentStatus.FAILED),
    (PaymentStatus.AUTHORIZED, PaymentStatus.PAID),
    (PaymentStatus.AUTHORIZED, PaymentStatus.FAILED),
    (PaymentStatus.FAILED, PaymentStatus.PENDING),
    (PaymentStatus.FAILED, PaymentStatus.AUTHORIZED),
    (PaymentStatus.FAILED, PaymentStatus.PAID),
    (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED),
    (PaymentStatus.PAID, PaymentStatus.REFUNDED),
    (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.PARTIALLY_REFUNDED),
    (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED),
}
HOLD_MOVES = {
    (HoldState.ACTIVE, HoldState.RELEASED),
    (HoldState.ACTIVE, HoldState.EXPIRED),
}
ALLOCATION_MOVES = {
    (AllocationState.UNALLOCATED, AllocationState.RESERVED),
    (AllocationState.UNALLOCATED, AllocationState.BACKORDERED),
    (AllocationState.BACKORDERED, AllocationState.RESERVED),
    (AllocationState.BACKORDERED, AllocationState.UNALLOCATED),
    (AllocationState.RESERVED, AllocationState.UNALLOCATED),
}

MACHINES: list[tuple[StateMachine[Any], type[StrEnum], set[tuple[Any, Any]]]] = [
    (ORDER, OrderState, ORDER_MOVES),
    (PAYMENT, PaymentStatus, PAYMENT_MOVES),
    (HOLD, HoldState, HOLD_MOVES),
    (ALLOCATION, AllocationState, ALLOCATION_MOVES),
]


def _all_pairs(allowed: bool) -> list[tuple[StateMachine[StrEnum], StrEnum, StrEnum]]:
    cases = []
    for machine, states, moves in MACHINES:
        for current, target in product(states, repeat=2):
            if ((current, target) in moves) is allowed:
                cases.append((machine, current, target))
    return cases


def _case_id(case: tuple[StateMachine[StrEnum], StrEnum, StrEnum]) -> str:
    machine, current, target = case
    return f"{machine.name}:{current.value}->{target.value}"


ALLOWED = _all_pairs(allowed=True)
FORBIDDEN = _all_pairs(allowed=False)


@pytest.mark.parametrize("case", ALLOWED, ids=[_case_id(c) for c in ALLOWED])
def test_an_allowed_move_passes_and_returns_the_target(
    case: tuple[StateMachine[StrEnum], StrEnum, StrEnum],
) -> None:
    machine, current, target = case
    assert machine.allows(current, target)
    assert machine.check(current, target) is target


@pytest.mark.parametrize("case", FORBIDDEN, ids=[_case_id(c) for c in FORBIDDEN])
def test_a_forbidden_move_raises_illegal_transition_naming_machine_and_states(
    case: tuple[StateMachine[StrEnum], StrEnum, StrEnum],
) -> None:
    machine, current, target = case
    assert not machine.allows(current, target)
    with pytest.raises(IllegalTransition) as raised:
        machine.check(current, target)
    assert raised.value.code == "illegal-transition"
    assert raised.value.context == {
        "machine": machine.name,
        "current": current.value,
        "target": target.value,
    }


def test_every_state_of_every_machine_has_a_row_in_its_table() -> None:
    for machine, states, _ in MACHINES:
        assert set(machine.transitions) == set(states), machine.name


def test_machines_are_named_as_errors_show_them() -> None:
    assert [m.name for m, _, _ in MACHINES] == ["order", "payment", "hold", "allocation"]


def test_an_illegal_transition_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        ORDER.check(OrderState.CANCELLED, OrderState.NEW)


@pytest.mark.parametrize(
    ("machine", "final_states"),
    [
        (ORDER, {OrderState.CANCELLED}),
        (PAYMENT, {PaymentStatus.NOT_REQUIRED, PaymentStatus.REFUNDED}),
        (HOLD, {HoldState.RELEASED, HoldState.EXPIRED}),
        (ALLOCATION, set()),
    ],
    ids=["order", "payment", "hold", "allocation"],
)
def test_final_states_are_those_with_no_way_out(
    machine: StateMachine[StrEnum], final_states: set[StrEnum]
) -> None:
    assert {s for s in machine.transitions if machine.is_final(s)} == final_states


def test_a_state_missing_from_a_table_is_final_and_cannot_move() -> None:
    machine = StateMachine[OrderState]("partial", {OrderState.NEW: frozenset({OrderState.NEW})})
    assert machine.is_final(OrderState.CONFIRMED)
    with pytest.raises(IllegalTransition) as raised:
        machine.check(OrderState.CONFIRMED, OrderState.NEW)
    assert raised.value.context["machine"] == "partial"


def test_the_table_is_copied_so_later_edits_to_the_source_do_not_leak_in() -> None:
    source = {OrderState.NEW: frozenset({OrderState.CONFIRMED})}
    machine = StateMachine[OrderState]("copy", source)
    source[OrderState.CONFIRMED] = frozenset({OrderState.NEW})
    assert not machine.allows(OrderState.CONFIRMED, OrderState.NEW)


def test_paid_enough_means_authorized_paid_or_not_required() -> None:
    assert (
        frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.PAID, PaymentStatus.NOT_REQUIRED})
        == PAID_ENOUGH
    )


# ----------------------------------------------------------------- derive_status

S, A = OrderState, AllocationState
STATUS_TABLE = [
    # state, allocation, on_hold, status
    (S.NEW, A.UNALLOCATED, False, OrderStatus.NEW),
    (S.NEW, A.RESERVED, False, OrderStatus.NEW),
    (S.NEW, A.BACKORDERED, False, OrderStatus.NEW),
    (S.NEW, A.UNALLOCATED, True, OrderStatus.ON_HOLD),
    (S.NEW, A.RESERVED, True, OrderStatus.ON_HOLD),
    (S.NEW, A.BACKORDERED, True, OrderStatus.ON_HOLD),
    (S.CONFIRMED, A.UNALLOCATED, False, OrderStatus.CONFIRMED),
    (S.CONFIRMED, A.RESERVED, False, OrderStatus.RESERVED),
    (S.CONFIRMED, A.BACKORDERED, False, OrderStatus.BACKORDERED),
    (S.CONFIRMED, A.UNALLOCATED, True, OrderStatus.ON_HOLD),
    (S.CONFIRMED, A.RESERVED, True, OrderStatus.ON_HOLD),
    (S.CONFIRMED, A.BACKORDERED, True, OrderStatus.ON_HOLD),
    (S.CANCELLED, A.UNALLOCATED, False, OrderStatus.CANCELLED),
    (S.CANCELLED, A.RESERVED, False, OrderStatus.CANCELLED),
    (S.CANCELLED, A.BACKORDERED, False, OrderStatus.CANCELLED),
    (S.CANCELLED, A.UNALLOCATED, True, OrderStatus.CANCELLED),
    (S.CANCELLED, A.RESERVED, True, OrderStatus.CANCELLED),
    (S.CANCELLED, A.BACKORDERED, True, OrderStatus.CANCELLED),
]


@pytest.mark.parametrize(
    ("state", "allocation", "on_hold", "expected"),
    STATUS_TABLE,
    ids=[f"{s.value}-{a.value}-{'hold' if h else 'free'}" for s, a, h, _ in STATUS_TABLE],
)
def test_derive_status_follows_the_most_decisive_fact(
    state: OrderState, allocation: AllocationState, on_hold: bool, expected: OrderStatus
) -> None:
    assert derive_status(state, allocation, on_hold=on_hold) is expected


def test_the_status_table_covers_every_combination() -> None:
    combos = {(s, a, h) for s, a, h, _ in STATUS_TABLE}
    assert combos == set(product(OrderState, AllocationState, (False, True)))
