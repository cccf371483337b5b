"""The price of stock for the orders still to come, on networks small enough to reckon by hand."""

from __future__ import annotations

import pytest

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.stock_value import Horizon, stock_values

A, B, C = WarehouseId(1), WarehouseId(2), WarehouseId(3)
P, Q = ProductId(7), ProductId(8)


def lanes(table: dict[tuple[WarehouseId, str], float]):  # type: ignore[no-untyped-def]
    return lambda w, r, p: table.get((w, r))


def test_the_cheap_sites_last_unit_costs_what_its_loss_adds_to_the_rest_of_the_horizon() -> None:
    # two units wanted in the north; A ships there for 100, B for 180; A holds one unit
    horizon = Horizon({P: {"north": 2.0}}, {(A, P): 1, (B, P): 5})
    values = stock_values(horizon, lanes({(A, "north"): 100.0, (B, "north"): 180.0}))
    assert values == pytest.approx({(A, P): 80.0})  # one unit less at A: one more from B


def test_plentiful_stock_costs_nothing() -> None:
    horizon = Horizon({P: {"north": 2.0}}, {(A, P): 10, (B, P): 5})
    assert stock_values(horizon, lanes({(A, "north"): 100.0, (B, "north"): 180.0})) == {}


def test_a_hub_cheap_for_two_regions_is_priced_by_the_region_that_loses_most() -> None:
    # the hub A serves north for 100 (else B: 130) and east for 120 (else C: 300); it holds
    # three units, and four are wanted: its units go east, and north pays B's 30 more; a
    # unit less at A moves one more northern unit to B: 30 ₽
    table = {
        (A, "north"): 100.0,
        (A, "east"): 120.0,
        (B, "north"): 130.0,
        (C, "east"): 300.0,
    }
    horizon = Horizon({P: {"north": 2.0, "east": 2.0}}, {(A, P): 3, (B, P): 9, (C, P): 9})
    assert stock_values(horizon, lanes(table)) == pytest.approx({(A, P): 30.0})
    # with one unit at A, the east loses too: 180 ₽ a unit
    horizon = Horizon({P: {"north": 2.0, "east": 2.0}}, {(A, P): 1, (B, P): 9, (C, P): 9})
    assert stock_values(horizon, lanes(table)) == pytest.approx({(A, P): 180.0})


def test_demand_nobody_can_serve_is_priced_at_the_shortage_cost() -> None:
    horizon = Horizon({P: {"north": 3.0}, Q: {"north": 1.0}}, {(A, P): 1, (A, Q): 4})
    values = stock_values(
        horizon, lanes({(A, "north"): 100.0}), shortage=lambda product, dearest: 1000.0
    )
    assert values == pytest.approx({(A, P): 900.0})  # a lost sale saved, less its shipping
