"""The re-plan of held orders, on hand-made networks: two orders that swap warehouses form
one trade that is kept when the pair costs less, though one of them gets dearer; orders that
share no stock are separate trades; a unit priced for the orders still to come is given up
for dearer shipping; a promise the plan in force keeps is never broken."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing import (
    Candidate,
    Need,
    RoutingRules,
    SourcingOrder,
    Tariff,
    TariffTable,
    Weights,
)
from potok.domain.sourcing.held import replan_held
from potok.domain.sourcing.optimiser import OpenOrder, Shipment, optimise

TODAY = date(2026, 3, 2)
W1 = Candidate(WarehouseId(1), "W1", "Moscow", 0, 55.80, 37.60, region="Moscow")
W2 = Candidate(WarehouseId(2), "W2", "Tver", 0, 56.86, 35.90, region="Tver")
P1, P2 = ProductId(1), ProductId(2)
RULES = RoutingRules(weights=Weights(day=0, priority=0))  # shipping cost alone
# W1 ships anywhere for 100; W2 to Tver for 150, elsewhere for 400 (W2 three days to Tver)
TABLE = TariffTable([
    Tariff("W1", Decimal(100), Decimal(0), Decimal(0), 1),
    Tariff("W2", Decimal(150), Decimal(0), Decimal(0), 3, "Tver"),
    Tariff("W2", Decimal(400), Decimal(0), Decimal(0), 1),
])  # fmt: skip


def held(key: str, region: str, at: Candidate, product: ProductId = P1, **kw: object) -> OpenOrder:
    needs = (Need(1, product, f"SKU-{product}", 1),)
    order = SourcingOrder(needs, (55.76, 37.62), region, **kw)  # type: ignore[arg-type]
    cost = {("W1", "Tver"): 100, ("W1", "Moscow"): 100, ("W2", "Tver"): 150}.get(
        (at.code, region), 400
    )
    days = 3 if (at.code, region) == ("W2", "Tver") else 1
    return OpenOrder(key, order, (Shipment(at.warehouse_id, ((product, 1),), cost, days),))


def test_two_orders_swap_warehouses_as_one_trade_though_one_gets_dearer() -> None:
    tver, moscow = held("tver", "Tver", W1), held("moscow", "Moscow", W2)
    free: dict[tuple[WarehouseId, ProductId], int] = {}  # both units are held by these two
    capped = optimise([tver, moscow], [W1, W2], free, tariffs=TABLE, rules=RULES, today=TODAY)
    assert capped.changed == ()  # neither order alone gets cheaper

    result = replan_held([tver, moscow], [W1, W2], free, tariffs=TABLE, rules=RULES, today=TODAY,
                         stock_values={})  # fmt: skip

    [trade] = result.kept
    assert (sorted(trade.keys), trade.before, trade.after) == (["moscow", "tver"], 500.0, 250.0)
    assert result.batch.plans["tver"].shipments[0].warehouse_id == W2.warehouse_id
    assert result.batch.plans["moscow"].shipments[0].warehouse_id == W1.warehouse_id


def test_orders_that_share_no_stock_are_separate_trades() -> None:
    orders = [
        held("tver", "Tver", W1),
        held("moscow", "Moscow", W2),
        held("tver-2", "Tver", W1, P2),
        held("moscow-2", "Moscow", W2, P2),
    ]

    result = replan_held(orders, [W1, W2], {}, tariffs=TABLE, rules=RULES, today=TODAY,
                         stock_values={})  # fmt: skip

    assert sorted(sorted(t.keys) for t in result.kept) == [
        ["moscow", "tver"],
        ["moscow-2", "tver-2"],
    ]


def test_a_unit_priced_for_later_orders_is_given_up_for_dearer_shipping() -> None:
    tver = held("tver", "Tver", W1)
    free = {(W2.warehouse_id, P1): 1}
    assert replan_held([tver], [W1, W2], free, tariffs=TABLE, rules=RULES, today=TODAY,
                       stock_values={}).kept == ()  # fmt: skip

    priced = {(W1.warehouse_id, P1): 80.0}  # 100 + 80 at W1 against 150 at W2
    result = replan_held([tver], [W1, W2], free, tariffs=TABLE, rules=RULES, today=TODAY,
                         stock_values=priced)  # fmt: skip

    [trade] = result.kept
    assert (trade.keys, trade.before, trade.after) == (("tver",), 180.0, 150.0)


def test_a_promise_the_plan_in_force_keeps_is_not_broken_for_a_saving() -> None:
    promised = TODAY + timedelta(days=1)  # W1 arrives in a day; W2 takes three to Tver
    tver = held("tver", "Tver", W1, promised_on=promised)
    moscow = held("moscow", "Moscow", W2)

    result = replan_held([tver, moscow], [W1, W2], {}, tariffs=TABLE, rules=RULES, today=TODAY,
                         stock_values={})  # fmt: skip

    assert result.kept == ()
    assert result.batch.plans["tver"].shipments[0].warehouse_id == W1.warehouse_id
