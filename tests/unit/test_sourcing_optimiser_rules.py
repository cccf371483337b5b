"""The batch optimiser scores by the engine's own rules: one order alone, on hand-made
networks, it makes the engine's choice - consolidation with its transfers and lead times,
the slowest parcel's days counted once, express days, a store's last units, the split
policy - so that its optimum measures the engine rule for rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.sourcing import (
    Candidate,
    Decision,
    Need,
    Position,
    RoutingRules,
    SourcingOrder,
    SplitPolicy,
    Tariff,
    TariffTable,
    decide,
)
from potok.domain.sourcing.optimiser import OpenOrder, OrderPlan, optimise

TODAY = date(2026, 3, 2)
CUSTOMER = (55.76, 37.62)
W1 = Candidate(WarehouseId(1), "W1", "Moscow", 0, 55.80, 37.60, region="Moscow")
W2 = Candidate(WarehouseId(2), "W2", "Tver", 0, 56.86, 35.90, region="Tver")
W3 = Candidate(WarehouseId(3), "W3", "Kaluga", 0, 54.51, 36.26, region="Kaluga")
P1, P2 = ProductId(1), ProductId(2)
Stock = dict[tuple[WarehouseId, ProductId], int]


def tariff(code: str, fixed: int, days: int, region: str | None = None) -> Tariff:
    return Tariff(code, Decimal(fixed), Decimal(0), Decimal(0), days, region)


def sourcing_order(lines: dict[ProductId, int], **kwargs: object) -> SourcingOrder:
    needs = tuple(Need(i + 1, p, f"SKU-{p}", q) for i, (p, q) in enumerate(lines.items()))
    return SourcingOrder(needs, CUSTOMER, **kwargs)  # type: ignore[arg-type]


def engine(
    o: SourcingOrder,
    sites: Sequence[Candidate],
    stock: Stock,
    table: TariffTable,
    rules: RoutingRules,
) -> Decision:
    positions = [Position(StockId(w * 100 + p), w, p, q) for (w, p), q in stock.items() if q > 0]
    decision = decide(o, sites, positions, tariffs=table, rules=rules, today=TODAY)
    assert isinstance(decision, Decision)
    return decision


def optimum(
    o: SourcingOrder,
    sites: Sequence[Candidate],
    stock: Stock,
    table: TariffTable,
    rules: RoutingRules,
) -> OrderPlan:
    result = optimise([OpenOrder("o", o)], sites, stock, tariffs=table, rules=rules,
                      today=TODAY, max_options=None)  # fmt: skip
    assert result.method == "mip-optimal"
    return result.plans["o"]


def test_an_order_no_warehouse_holds_is_consolidated_as_the_engine_does_with_its_lead_time() -> (
    None
):
    # W1 holds P1 and ships to the customer for 300 in 1 day; W2 holds P2, ships for 900 in
    # 3 days, and brings units to W1 (its region) for 120 in 2 days; no split allowed
    table = TariffTable([
        tariff("W1", 300, 1), tariff("W2", 900, 3), tariff("W2", 120, 2, region="Moscow"),
    ])  # fmt: skip
    stock = {(W1.warehouse_id, P1): 5, (W2.warehouse_id, P2): 5}
    rules = RoutingRules(split=SplitPolicy.NEVER, transfer_handling_days=1)
    o = sourcing_order({P1: 2, P2: 1})
    decision = engine(o, [W1, W2], stock, table, rules)
    plan = optimum(o, [W1, W2], stock, table, rules)
    assert decision.warehouses == ("W1",)
    assert [(t.from_code, t.product_id, t.quantity) for t in decision.transfers] == [("W2", P2, 1)]
    assert [s.warehouse_id for s in plan.shipments] == [W1.warehouse_id]
    assert [(t.from_warehouse_id, t.units) for t in plan.transfers] == [
        (W2.warehouse_id, ((P2, 1),))
    ]
    # the same cost and days as the engine's record: 300 + 120, transfer 2 + handling 1 + 1
    assert decision.record is not None
    assert plan.cost == float(decision.record.total_cost) == 420.0
    assert plan.days == decision.record.days == 4
    assert plan.taken() == {(W1.warehouse_id, P1): 2, (W2.warehouse_id, P2): 1}

    # without transfers in the rules, neither serves it
    no_transfers = RoutingRules(split=SplitPolicy.NEVER, transfers=False)
    result = optimise([OpenOrder("o", o)], [W1, W2], stock, tariffs=table, rules=no_transfers,
                      today=TODAY, max_options=None)  # fmt: skip
    assert result.unplanned == ("o",)


def test_a_consolidation_that_would_break_the_promise_loses_to_a_split_on_time() -> None:
    table = TariffTable([
        tariff("W1", 300, 1), tariff("W2", 400, 1), tariff("W2", 120, 4, region="Moscow"),
    ])  # fmt: skip
    stock = {(W1.warehouse_id, P1): 5, (W2.warehouse_id, P2): 5}
    rules = RoutingRules(split=SplitPolicy.ONLY_WHEN_NEEDED)
    o = sourcing_order({P1: 1, P2: 1}, promised_on=TODAY + timedelta(days=2))
    decision = engine(o, [W1, W2], stock, table, rules)
    plan = optimum(o, [W1, W2], stock, table, rules)
    assert sorted(decision.warehouses) == ["W1", "W2"]
    assert not decision.transfers
    assert sorted(s.warehouse_id for s in plan.shipments) == [1, 2]
    assert not plan.transfers
    assert plan.cost == 700.0


def test_the_slowest_parcel_is_late_once_not_once_per_parcel() -> None:
    # a split into two parcels each a day late (150 + 150, 3 days against a promise of 2)
    # scores 300 + 15 + 1,000 = 1,315 as the engine scores a plan (its days are the slowest
    # parcel's); the one site on time costs 1,500 (+ 5). The optimum splits (it used to count
    # the day late twice: 2,315). The engine's greedy search, which weighs each parcel
    # alone, does not find that split: the optimum is the better plan by the engine's score.
    table = TariffTable([tariff("W1", 150, 3), tariff("W2", 150, 3), tariff("W3", 1500, 1)])
    stock = {(W1.warehouse_id, P1): 1, (W2.warehouse_id, P2): 1, (W3.warehouse_id, P1): 1,
             (W3.warehouse_id, P2): 1}  # fmt: skip
    rules = RoutingRules(split=SplitPolicy.WHEN_CHEAPER, transfers=False)
    o = sourcing_order({P1: 1, P2: 1}, promised_on=TODAY + timedelta(days=2))
    decision = engine(o, [W1, W2, W3], stock, table, rules)
    plan = optimum(o, [W1, W2, W3], stock, table, rules)
    assert decision.warehouses == ("W3",)
    assert decision.record is not None
    assert decision.record.total_cost == 1500
    assert sorted(s.warehouse_id for s in plan.shipments) == [1, 2]
    assert plan.cost == 300.0
    assert plan.days == 3


def test_an_express_order_pays_for_every_day_in_transit_as_in_the_engine() -> None:
    # no promised date: only the express day weight (2,000 ₽ a day) makes W2's 1,000 ₽ more
    # worth it for a day less
    table = TariffTable([tariff("W1", 200, 2), tariff("W2", 1200, 1)])
    stock = {(W1.warehouse_id, P1): 3, (W2.warehouse_id, P1): 3}
    rules = RoutingRules()
    express = sourcing_order({P1: 1}, express=True)
    assert engine(express, [W1, W2], stock, table, rules).warehouses == ("W2",)
    assert optimum(express, [W1, W2], stock, table, rules).shipments[0].warehouse_id == 2
    plain = sourcing_order({P1: 1})
    assert engine(plain, [W1, W2], stock, table, rules).warehouses == ("W1",)
    assert optimum(plain, [W1, W2], stock, table, rules).shipments[0].warehouse_id == 1


def test_a_stores_last_units_cost_what_the_engine_charges_for_them() -> None:
    store = Candidate(WarehouseId(4), "S1", "Moscow", 0, 55.75, 37.61, kind="store")
    # the store ships for 100 less, but both of its units are its last two (150 ₽ each)
    table = TariffTable([tariff("W1", 400, 1), tariff("S1", 300, 1)])
    rules = RoutingRules()
    o = sourcing_order({P1: 1})
    low = {(W1.warehouse_id, P1): 5, (store.warehouse_id, P1): 2}
    assert engine(o, [W1, store], low, table, rules).warehouses == ("W1",)
    assert optimum(o, [W1, store], low, table, rules).shipments[0].warehouse_id == 1
    plenty = {(W1.warehouse_id, P1): 5, (store.warehouse_id, P1): 9}
    assert engine(o, [W1, store], plenty, table, rules).warehouses == ("S1",)
    assert optimum(o, [W1, store], plenty, table, rules).shipments[0].warehouse_id == 4


def test_the_split_policy_and_max_shipments_hold_in_the_optimum() -> None:
    table = TariffTable([tariff("W1", 100, 1), tariff("W2", 100, 1), tariff("W3", 100, 1)])
    stock = {(W1.warehouse_id, P1): 1, (W2.warehouse_id, P1): 1, (W3.warehouse_id, P1): 1}
    o = sourcing_order({P1: 3})
    two = RoutingRules(split=SplitPolicy.WHEN_CHEAPER, max_shipments=2, transfers=False)
    result = optimise([OpenOrder("o", o)], [W1, W2, W3], stock, tariffs=table, rules=two,
                      today=TODAY, max_options=None)  # fmt: skip
    assert result.unplanned == ("o",)  # three parcels needed, two allowed
    three = RoutingRules(split=SplitPolicy.WHEN_CHEAPER, max_shipments=3, transfers=False)
    assert len(optimum(o, [W1, W2, W3], stock, table, three).shipments) == 3


def test_stock_priced_for_later_orders_weighs_in_the_optimum_as_in_the_engine() -> None:
    # W1 ships for 300, W2 for 350; a unit of P1 at W1 is worth 80 to the orders still to
    # come: the engine and the optimiser both ship from W2 (350 < 300 + 80), and both from W1
    # once the unit is worth 40 (300 + 40 < 350)
    table = TariffTable([tariff("W1", 300, 1), tariff("W2", 350, 1)])
    stock = {(W1.warehouse_id, P1): 5, (W2.warehouse_id, P1): 5}
    rules = RoutingRules()
    o = sourcing_order({P1: 1})
    positions = [Position(StockId(w * 100 + p), w, p, q) for (w, p), q in stock.items()]
    for worth, where in ((80.0, W2), (40.0, W1)):
        values = {(W1.warehouse_id, P1): worth}
        decision = decide(o, [W1, W2], positions, tariffs=table, rules=rules, today=TODAY,
                          stock_values=values)  # fmt: skip
        assert isinstance(decision, Decision)
        result = optimise([OpenOrder("o", o)], [W1, W2], stock, tariffs=table, rules=rules,
                          today=TODAY, max_options=None, stock_values=values)  # fmt: skip
        assert decision.warehouses == (where.code,)
        assert [s.warehouse_id for s in result.plans["o"].shipments] == [where.warehouse_id]
        assert result.plans["o"].cost == (350.0 if where is W2 else 300.0)  # shipping alone


def test_an_order_no_warehouse_can_ship_whole_in_the_plan_splits_as_the_engine_would() -> None:
    # W1 holds one of each product, W2 one P1, W3 one P2; two orders want one of each. In
    # sequence the engine ships the first from W1 and splits the second (W2 + W3): no single
    # warehouse holds it any more. The optimiser sees W1 holding each order whole, so the
    # rule "split only when needed" holds both to one shipment and one stays unplanned -
    # unless ``split_short`` lets the one W1 cannot take split, as the engine did.
    table = TariffTable([tariff("W1", 300, 1), tariff("W2", 300, 1), tariff("W3", 300, 1)])
    stock = {
        (W1.warehouse_id, P1): 1,
        (W1.warehouse_id, P2): 1,
        (W2.warehouse_id, P1): 1,
        (W3.warehouse_id, P2): 1,
    }
    rules = RoutingRules(transfers=False)
    orders = [OpenOrder(k, sourcing_order({P1: 1, P2: 1})) for k in ("a", "b")]
    strict = optimise(orders, [W1, W2, W3], stock, tariffs=table, rules=rules, today=TODAY,
                      max_options=None)  # fmt: skip
    assert len(strict.unplanned) == 1
    short = optimise(orders, [W1, W2, W3], stock, tariffs=table, rules=rules, today=TODAY,
                     max_options=None, split_short=True)  # fmt: skip
    assert short.unplanned == ()
    assert sorted(len(p.shipments) for p in short.plans.values()) == [1, 2]
    assert short.cost_after == 900.0  # W1 whole, then W2 and W3
    assert short.notes == (
        "1 order(s) no warehouse could ship whole in the plan were allowed to split",
    )
