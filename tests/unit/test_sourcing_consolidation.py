"""Consolidation: bringing the missing units to one warehouse by transfer and shipping one
parcel from there, weighed against a split on hand-made networks whose answer is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.sourcing import (
    Candidate,
    Decision,
    Need,
    Position,
    RoutingRules,
    Shortfall,
    SourcingOrder,
    SplitPolicy,
    Tariff,
    TariffTable,
    decide,
)

TODAY = date(2026, 3, 2)
CUSTOMER = (55.76, 37.62)  # Moscow
MSK = Candidate(WarehouseId(1), "MSK-1", "Moscow", 0, 55.80, 37.60, region="Moscow DC")
SPB = Candidate(WarehouseId(2), "SPB-1", "Saint Petersburg", 0, 59.93, 30.33, region="Petersburg")
HALVES = [
    Position(StockId(11), MSK.warehouse_id, ProductId(1), 5),
    Position(StockId(22), SPB.warehouse_id, ProductId(2), 5),
]


def tariffs(trunk: str, *, trunk_days: int = 2) -> TariffTable:
    """Each warehouse ships anywhere by its band rate; SPB-1 also has a trunk rate to the
    Moscow DC's region, which is what a transfer to MSK-1 pays."""
    return TariffTable(
        [
            Tariff("MSK-1", Decimal(300), Decimal(0), Decimal(0), 1),
            Tariff("SPB-1", Decimal(900), Decimal(0), Decimal(0), 3),
            Tariff("SPB-1", Decimal(trunk), Decimal(0), Decimal(0), trunk_days, region="Moscow DC"),
        ],
        version="t-1",
    )


def order(**kwargs: object) -> SourcingOrder:
    needs = (Need(1, ProductId(1), "SKU-1", 2), Need(2, ProductId(2), "SKU-9", 2))
    return SourcingOrder(needs, CUSTOMER, **kwargs)  # type: ignore[arg-type]


def run(
    o: SourcingOrder,
    table: TariffTable,
    rules: RoutingRules | None = None,
    positions: list[Position] | None = None,
) -> Decision | Shortfall:
    return decide(
        o,
        [MSK, SPB],
        HALVES if positions is None else positions,
        tariffs=table,
        rules=rules or RoutingRules(),
        today=TODAY,
    )


def decided(outcome: Decision | Shortfall) -> Decision:
    assert isinstance(outcome, Decision), outcome
    return outcome


def test_a_cheap_transfer_consolidates_at_the_warehouse_next_to_the_customer() -> None:
    d = decided(run(order(), tariffs("150")))
    assert d.warehouses == ("MSK-1",)
    (leg,) = d.transfers
    assert (leg.from_code, leg.to_code, leg.sku, leg.quantity) == ("SPB-1", "MSK-1", "SKU-9", 2)
    assert (leg.cost, leg.days) == (Decimal("150.00"), 2)
    # the transferred units are reserved where they are now, at the source
    assert [(a.stock_id, a.quantity) for a in leg.allocations] == [(StockId(22), 2)]
    assert sorted((a.stock_id, a.quantity) for a in d.allocations) == [
        (StockId(11), 2),
        (StockId(22), 2),
    ]
    assert d.record is not None
    (moved,) = d.record.transfers
    assert (moved.from_code, moved.to_code, moved.cost, moved.days) == (
        "SPB-1",
        "MSK-1",
        Decimal("150.00"),
        2,
    )
    assert d.record.total_cost == Decimal("450.00")  # 300 from the hub + 150 for the transfer
    assert d.record.days == 2 + 1 + 1  # transfer, handling at the hub, the hub's own transit
    assert d.explanation.startswith("Consolidated at MSK-1")
    assert "2 units of SKU-9 from SPB-1 (150.00 ₽, 2 d)" in d.explanation
    assert "cheaper than 2 shipments from" in d.explanation
    assert "1 200.00 ₽" in d.explanation  # what the split would have cost
    assert "2 shipments" in d.record.alternative


def test_a_dear_transfer_loses_to_the_split_and_the_record_says_what_it_would_cost() -> None:
    d = decided(run(order(), tariffs("1500")))
    assert sorted(d.warehouses) == ["MSK-1", "SPB-1"]
    assert d.transfers == ()
    assert d.record is not None
    assert d.record.transfers == ()
    # the best hub now is SPB-1 itself: MSK-1's units would go there at its band rate
    assert d.record.alternative == (
        "consolidating at SPB-1 (2 units of SKU-1 from MSK-1 (300.00 ₽, 1 d) by transfer) "
        "would cost 1 200.00 ₽ and take 5 days"
    )
    assert d.record.alternative in d.explanation


def test_consolidation_loses_when_it_would_miss_the_promised_date() -> None:
    on_time = order(promised_on=TODAY + timedelta(days=3))
    d = decided(run(on_time, tariffs("150")))
    assert sorted(d.warehouses) == ["MSK-1", "SPB-1"]  # 3 days; consolidating takes 4
    assert d.transfers == ()
    roomy = order(promised_on=TODAY + timedelta(days=5))
    assert decided(run(roomy, tariffs("150"))).transfers != ()


def test_express_orders_take_the_faster_split() -> None:
    d = decided(run(order(express=True), tariffs("150")))
    assert sorted(d.warehouses) == ["MSK-1", "SPB-1"]
    assert d.transfers == ()


def test_a_slow_transfer_costs_its_days() -> None:
    d = decided(run(order(), tariffs("150", trunk_days=200)))
    assert d.transfers == ()


def test_rules_without_transfers_never_consolidate() -> None:
    off = RoutingRules(transfers=False)
    d = decided(run(order(), tariffs("1"), off))
    assert sorted(d.warehouses) == ["MSK-1", "SPB-1"]
    assert d.transfers == ()
    assert d.record is not None
    assert d.record.alternative == ""
    never = RoutingRules(split=SplitPolicy.NEVER, transfers=False)
    assert isinstance(run(order(), tariffs("1"), never), Shortfall)


def test_when_splits_are_never_allowed_a_transfer_is_the_way_to_serve_the_order() -> None:
    never = RoutingRules(split=SplitPolicy.NEVER)
    d = decided(run(order(), tariffs("150"), never))
    assert d.warehouses == ("MSK-1",)
    assert [leg.from_code for leg in d.transfers] == ["SPB-1"]
    assert "the rules do not allow a split" in d.explanation
    # the trunk is dear: SPB-1 becomes the hub and MSK-1's units go there instead
    d = decided(run(order(), tariffs("1500"), never))
    assert d.warehouses == ("SPB-1",)
    assert [(leg.from_code, leg.sku) for leg in d.transfers] == [("MSK-1", "SKU-1")]
    assert "the rules do not allow a split" in d.explanation


def test_no_consolidation_when_one_warehouse_has_everything() -> None:
    whole = [*HALVES, Position(StockId(12), MSK.warehouse_id, ProductId(2), 5)]
    d = decided(run(order(), tariffs("1"), positions=whole))
    assert d.warehouses == ("MSK-1",)
    assert d.transfers == ()


def test_a_source_without_a_tariff_to_the_hub_cannot_send_a_transfer() -> None:
    table = TariffTable(
        [
            Tariff("MSK-1", Decimal(300), Decimal(0), Decimal(0), 1, region="Moscow"),
            Tariff("SPB-1", Decimal(900), Decimal(0), Decimal(0), 3, region="Moscow"),
        ]
    )
    never = RoutingRules(split=SplitPolicy.NEVER)
    outcome = run(order(region="Moscow"), table, never)
    assert isinstance(outcome, Shortfall)


def test_serial_numbered_units_are_not_consolidated() -> None:
    serialised = [HALVES[0], replace(HALVES[1], serialised=True)]
    d = decided(run(order(), tariffs("1"), positions=serialised))
    assert d.transfers == ()
    assert sorted(d.warehouses) == ["MSK-1", "SPB-1"]


def test_the_hub_keeps_what_it_holds_and_only_the_missing_units_travel() -> None:
    positions = [
        Position(StockId(11), MSK.warehouse_id, ProductId(1), 5),
        Position(StockId(12), MSK.warehouse_id, ProductId(2), 1),
        Position(StockId(22), SPB.warehouse_id, ProductId(2), 5),
    ]
    d = decided(run(order(), tariffs("150"), positions=positions))
    (leg,) = d.transfers
    assert leg.quantity == 1
    assert sorted((a.stock_id, a.quantity) for a in d.allocations) == [
        (StockId(11), 2),
        (StockId(12), 1),
        (StockId(22), 1),
    ]
