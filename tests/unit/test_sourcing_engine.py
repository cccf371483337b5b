"""The sourcing engine on hand-made networks whose right answer is known."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    Weights,
    decide,
)

MOSCOW = (55.7558, 37.6173)
KM_PER_DEGREE = 111.195
TODAY = date(2026, 3, 2)


def site(
    warehouse_id: int,
    code: str,
    km_north: float,
    *,
    kind: str = "warehouse",
    region: str | None = None,
    priority: int = 0,
) -> Candidate:
    return Candidate(
        WarehouseId(warehouse_id),
        code,
        f"City of {code}",
        priority,
        MOSCOW[0] + km_north / KM_PER_DEGREE,
        MOSCOW[1],
        kind=kind,
        region=region,
    )


def stock(warehouse_id: int, product_id: int, available: int, lot: int = 0) -> Position:
    return Position(
        StockId(warehouse_id * 1000 + product_id * 10 + lot),
        WarehouseId(warehouse_id),
        ProductId(product_id),
        available,
    )


def tariff(code: str, fixed: str, *, days: int = 2, per_kg: str = "0", per_km: str = "0") -> Tariff:
    return Tariff(code, Decimal(fixed), Decimal(per_kg), Decimal(per_km), days)


def order(*lines: tuple[int, int], **kwargs: object) -> SourcingOrder:
    needs = tuple(Need(i + 1, ProductId(p), f"SKU-{p}", q) for i, (p, q) in enumerate(lines))
    return SourcingOrder(needs, MOSCOW, **kwargs)  # type: ignore[arg-type]


def decided(outcome: Decision | Shortfall) -> Decision:
    assert isinstance(outcome, Decision), outcome
    return outcome


def run(
    o: SourcingOrder,
    sites: list[Candidate],
    positions: list[Position],
    tariffs: list[Tariff],
    rules: RoutingRules | None = None,
) -> Decision | Shortfall:
    return decide(
        o,
        sites,
        positions,
        tariffs=TariffTable(tariffs, version="t-1"),
        rules=rules or RoutingRules(version="r-7"),
        today=TODAY,
    )


def test_a_cheaper_far_warehouse_beats_a_near_expensive_one_when_cost_weighs_most() -> None:
    sites = [site(1, "NEAR", 10), site(2, "FAR", 600)]
    positions = [stock(1, 1, 10), stock(2, 1, 10)]
    tariffs = [tariff("NEAR", "900"), tariff("FAR", "300", per_km="0.2")]
    d = decided(run(order((1, 1)), sites, positions, tariffs))
    assert d.warehouses == ("FAR",)
    assert d.record is not None
    assert d.record.total_cost == Decimal("420.00")
    assert "cheapest to ship" in d.explanation
    assert "NEAR" in d.explanation  # the runner-up is named

    by_distance = RoutingRules(weights=Weights(cost=0.01, distance=10.0))
    d = decided(run(order((1, 1)), sites, positions, tariffs, by_distance))
    assert d.warehouses == ("NEAR",)
    assert "nearest" in d.explanation


def test_an_express_order_takes_the_fastest_option() -> None:
    sites = [site(1, "SLOW", 10), site(2, "FAST", 20)]
    positions = [stock(1, 1, 10), stock(2, 1, 10)]
    tariffs = [tariff("SLOW", "300", days=3), tariff("FAST", "600", days=1)]
    assert decided(run(order((1, 1)), sites, positions, tariffs)).warehouses == ("SLOW",)
    d = decided(run(order((1, 1), express=True), sites, positions, tariffs))
    assert d.warehouses == ("FAST",)
    assert "express" in d.explanation


def test_the_promised_date_outweighs_a_cheaper_late_option() -> None:
    sites = [site(1, "SLOW", 10), site(2, "FAST", 20)]
    positions = [stock(1, 1, 10), stock(2, 1, 10)]
    tariffs = [tariff("SLOW", "300", days=3), tariff("FAST", "600", days=1)]
    promised = TODAY + timedelta(days=1)
    d = decided(run(order((1, 1), promised_on=promised), sites, positions, tariffs))
    assert d.warehouses == ("FAST",)
    assert d.record is not None
    assert d.record.on_time is True
    assert "promised date" in d.explanation


def split_network() -> tuple[list[Candidate], list[Position], list[Tariff]]:
    """A and B each hold one of two products and ship cheaply; C holds both, dearly."""
    sites = [site(1, "A", 10), site(2, "B", 20), site(3, "C", 900)]
    positions = [stock(1, 1, 5), stock(2, 2, 5), stock(3, 1, 5), stock(3, 2, 5)]
    tariffs = [tariff("A", "100"), tariff("B", "100"), tariff("C", "1000")]
    return sites, positions, tariffs


def test_split_only_when_needed_keeps_one_shipment_when_one_warehouse_can() -> None:
    sites, positions, tariffs = split_network()
    rules = RoutingRules(split=SplitPolicy.ONLY_WHEN_NEEDED)
    d = decided(run(order((1, 1), (2, 1)), sites, positions, tariffs, rules))
    assert d.warehouses == ("C",)


def test_split_when_cheaper_takes_two_cheap_shipments_over_one_dear_one() -> None:
    sites, positions, tariffs = split_network()
    rules = RoutingRules(split=SplitPolicy.WHEN_CHEAPER)
    d = decided(run(order((1, 1), (2, 1)), sites, positions, tariffs, rules))
    assert sorted(d.warehouses) == ["A", "B"]
    assert {(a.line_no, a.warehouse_id) for a in d.allocations} == {(1, 1), (2, 2)}
    assert "cheaper than the best single shipment" in d.explanation


def test_split_when_cheaper_stays_whole_when_whole_is_cheaper() -> None:
    sites, positions, _ = split_network()
    tariffs = [tariff("A", "100"), tariff("B", "100"), tariff("C", "150")]
    rules = RoutingRules(split=SplitPolicy.WHEN_CHEAPER)
    assert decided(run(order((1, 1), (2, 1)), sites, positions, tariffs, rules)).warehouses == (
        "C",
    )


def test_split_never_backorders_what_no_single_warehouse_can_ship() -> None:
    sites, positions, tariffs = split_network()
    positions = positions[:2]  # C is empty
    outcome = run(order((1, 1), (2, 1)), sites, positions, tariffs)
    assert sorted(decided(outcome).warehouses) == ["A", "B"]  # only when needed: split
    never = RoutingRules(split=SplitPolicy.NEVER, transfers=False)
    outcome = run(order((1, 1), (2, 1)), sites, positions, tariffs, never)
    assert isinstance(outcome, Shortfall)
    assert outcome.record is not None
    assert "do not allow a split" in outcome.record.summary


def test_max_shipments_caps_the_split() -> None:
    sites = [site(1, "A", 10), site(2, "B", 20), site(3, "C", 30)]
    positions = [stock(1, 1, 5), stock(2, 2, 5), stock(3, 3, 5)]
    tariffs = [tariff(c, "100") for c in "ABC"]
    three = order((1, 1), (2, 1), (3, 1))
    capped = RoutingRules(max_shipments=2, transfers=False)
    outcome = run(three, sites, positions, tariffs, capped)
    assert isinstance(outcome, Shortfall)
    assert outcome.record is not None
    assert "at most 2 shipments" in outcome.record.summary
    d = decided(run(three, sites, positions, tariffs, RoutingRules(max_shipments=3)))
    assert sorted(d.warehouses) == ["A", "B", "C"]


def test_an_excluded_region_is_never_chosen_and_the_record_says_why() -> None:
    sites = [site(1, "CHEAP", 10, region="Крым"), site(2, "OK", 20, region="Москва")]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    tariffs = [tariff("CHEAP", "100"), tariff("OK", "500")]
    rules = RoutingRules(version="r-7", excluded_regions=frozenset({"Крым"}))
    d = decided(run(order((1, 1)), sites, positions, tariffs, rules))
    assert d.warehouses == ("OK",)
    assert d.record is not None
    (excluded,) = d.record.excluded()
    assert excluded.code == "CHEAP"
    assert excluded.excluded is not None
    assert "Крым" in excluded.excluded
    assert d.record.rules_version == "r-7"
    assert d.record.tariffs_version == "t-1"


def test_a_store_keeps_its_last_units_for_walk_in_customers() -> None:
    sites = [site(1, "STORE", 5, kind="store"), site(2, "DC", 50)]
    tariffs = [tariff("STORE", "200"), tariff("DC", "300")]
    scarce = [stock(1, 1, 2), stock(2, 1, 50)]
    d = decided(run(order((1, 1)), sites, scarce, tariffs))
    assert d.warehouses == ("DC",)
    assert "last units" in d.explanation
    plenty = [stock(1, 1, 20), stock(2, 1, 50)]
    assert decided(run(order((1, 1)), sites, plenty, tariffs)).warehouses == ("STORE",)


def test_stores_do_not_serve_marketplace_orders_and_max_distance_filters() -> None:
    sites = [site(1, "STORE", 5, kind="store"), site(2, "DC", 50), site(3, "FARDC", 3000)]
    positions = [stock(1, 1, 50), stock(2, 1, 50), stock(3, 1, 50)]
    tariffs = [tariff("STORE", "100"), tariff("DC", "300"), tariff("FARDC", "50")]
    rules = RoutingRules(max_distance_km=1000)
    d = decided(run(order((1, 1), order_type="marketplace"), sites, positions, tariffs, rules))
    assert d.warehouses == ("DC",)
    assert d.record is not None
    reasons = {n.code: n.excluded for n in d.record.excluded()}
    assert reasons["STORE"] == "a store does not serve marketplace orders"
    assert reasons["FARDC"] is not None
    assert "beyond the 1000 km limit" in reasons["FARDC"]


def test_the_record_lists_every_candidate_with_score_parts_cost_and_days() -> None:
    sites = [site(1, "A", 10), site(2, "B", 20), site(3, "EMPTY", 5), site(4, "NOTARIFF", 7)]
    positions = [stock(1, 1, 5), stock(2, 1, 5), stock(4, 1, 5)]
    far_only = Tariff("NOTARIFF", Decimal(1), Decimal(0), Decimal(0), 1, min_km=100, max_km=200)
    tariffs = [
        tariff("A", "100", days=1),
        tariff("B", "200", days=2),
        tariff("EMPTY", "1"),
        far_only,
    ]
    d = decided(run(order((1, 2)), sites, positions, tariffs))
    assert d.record is not None
    notes = {n.code: n for n in d.record.candidates}
    assert set(notes) == {"A", "B", "EMPTY", "NOTARIFF"}
    assert notes["A"].chosen
    assert notes["A"].cost == Decimal("100.00")
    assert notes["A"].days == 1
    assert set(notes["A"].breakdown()) == {
        "cost",
        "distance",
        "time",
        "last_units",
        "priority",
        "needed_later",
    }
    assert notes["B"].score is not None
    assert notes["A"].score is not None
    assert notes["B"].score > notes["A"].score
    assert notes["EMPTY"].excluded == "holds none of the order's products"
    assert notes["NOTARIFF"].excluded == "no shipping tariff reaches the destination"
    assert d.record.shipments[0].code == "A"
    assert d.record.shipments[0].units == 2
    assert "not considered: 1 hold none of its products, 1 no tariff" in d.explanation


def test_lots_are_taken_in_pick_order_and_a_shortfall_names_the_lines() -> None:
    sites = [site(1, "A", 10)]
    early = Position(
        StockId(2), WarehouseId(1), ProductId(1), 1, expires_on=date(2026, 4, 1), lot="L-EARLY"
    )
    late = Position(
        StockId(1), WarehouseId(1), ProductId(1), 5, expires_on=date(2026, 9, 1), lot="L-LATE"
    )
    d = decided(run(order((1, 3)), sites, [late, early], [tariff("A", "100")]))
    assert [(a.lot, a.quantity) for a in d.allocations] == [("L-EARLY", 1), ("L-LATE", 2)]
    outcome = run(order((1, 9)), sites, [late, early], [tariff("A", "100")])
    assert isinstance(outcome, Shortfall)
    assert [(s.sku, s.requested, s.available) for s in outcome.lines] == [("SKU-1", 9, 6)]


def test_priority_breaks_a_tie() -> None:
    sites = [site(1, "LOW", 10, priority=0), site(2, "HIGH", 10, priority=5)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    tariffs = [tariff("LOW", "100"), tariff("HIGH", "100")]
    d = decided(run(order((1, 1)), sites, positions, tariffs))
    assert d.warehouses == ("HIGH",)
    assert "priority" in d.explanation


@pytest.mark.parametrize("policy", list(SplitPolicy))
def test_a_decision_never_takes_more_than_a_position_holds(policy: SplitPolicy) -> None:
    sites, positions, tariffs = split_network()
    d = decided(run(order((1, 5), (2, 5)), sites, positions, tariffs, RoutingRules(split=policy)))
    held = {p.stock_id: p.available for p in positions}
    for stock_id, quantity in d.quantities_by_stock().items():
        assert quantity <= held[stock_id]
    assert sum(a.quantity for a in d.allocations) == 10


networks = st.fixed_dictionaries(
    {
        "sites": st.lists(
            st.tuples(
                st.floats(-500, 2000),  # km north
                st.sampled_from(["warehouse", "store"]),
                st.integers(50, 900),  # fixed tariff
                st.integers(1, 6),  # days
            ),
            min_size=1,
            max_size=5,
        ),
        "stock": st.lists(st.integers(0, 4), min_size=15, max_size=15),
        "lines": st.lists(st.tuples(st.integers(1, 3), st.integers(1, 4)), min_size=1, max_size=3),
        "split": st.sampled_from(list(SplitPolicy)),
        "max_shipments": st.integers(1, 3),
        "order_type": st.sampled_from(["courier", "pickup", "marketplace"]),
        "express": st.booleans(),
    }
)


@settings(max_examples=150, deadline=None)
@given(networks)
def test_random_networks_get_whole_lines_within_stock_and_rules(case: dict[str, Any]) -> None:
    sites = [
        site(i + 1, f"S{i + 1}", km, kind=kind) for i, (km, kind, _, _) in enumerate(case["sites"])
    ]
    tariffs = [tariff(f"S{i + 1}", str(fixed), days=days)
               for i, (_, _, fixed, days) in enumerate(case["sites"])]  # fmt: skip
    positions = [
        stock(w + 1, p, case["stock"][w * 3 + p - 1])
        for w in range(len(sites))
        for p in (1, 2, 3)
        if case["stock"][w * 3 + p - 1] > 0
    ]
    rules = RoutingRules(split=case["split"], max_shipments=case["max_shipments"])
    o = order(*case["lines"], order_type=case["order_type"], express=case["express"])
    outcome = run(o, sites, positions, tariffs, rules)
    assert outcome.record is not None
    assert len(outcome.record.candidates) == len(sites)
    if isinstance(outcome, Shortfall):
        return
    held = {p.stock_id: p for p in positions}
    kinds = {s.warehouse_id: s.kind for s in sites}
    for stock_id, quantity in outcome.quantities_by_stock().items():
        assert quantity <= held[stock_id].available
    for n in o.needs:
        assert sum(a.quantity for a in outcome.allocations if a.line_no == n.line_no) == n.quantity
    used = {a.warehouse_id for a in outcome.allocations}
    sources = {leg.from_warehouse_id for leg in outcome.transfers}
    assert len(sources) <= rules.max_shipments
    assert len(used - sources) == len(outcome.warehouses) <= rules.shipments_allowed()
    moved = [a for leg in outcome.transfers for a in leg.allocations]
    assert all(a in outcome.allocations for a in moved)
    assert sum(a.quantity for a in moved) == sum(leg.quantity for leg in outcome.transfers)
    assert all(a.warehouse_id not in sources for a in outcome.allocations if a not in moved)
    if case["order_type"] == "marketplace":
        assert all(kinds[w] == "warehouse" for w in used)
    if rules.split is not SplitPolicy.WHEN_CHEAPER and len(used) > 1:
        assert not any(n.covers for n in outcome.record.candidates)
    assert outcome.record.total_cost == sum(s.cost for s in outcome.record.shipments) + sum(
        t.cost for t in outcome.record.transfers
    )


def test_a_pickup_points_own_stock_is_handed_over_without_a_shipment() -> None:
    sites = [site(1, "STORE", 0, kind="store"), site(2, "DC", 30)]
    positions = [stock(1, 1, 9), stock(2, 1, 9)]
    tariffs = [tariff("*", "300", days=1)]
    pickup = order((1, 1), order_type="pickup", pickup_at="STORE")
    d = decided(run(pickup, sites, positions, tariffs))
    assert d.warehouses == ("STORE",)
    assert d.record is not None
    assert d.record.total_cost == Decimal("0.00")
    assert (d.record.days, d.record.shipments[0].tariff) == (0, "handed over on the spot")
    elsewhere = order((1, 1), order_type="pickup", pickup_at="OTHER")
    shipped = decided(run(elsewhere, sites, positions, tariffs)).record
    assert shipped is not None
    assert shipped.total_cost == Decimal("300.00")


def test_a_location_the_tariff_table_does_not_name_ships_at_the_built_in_estimate() -> None:
    sites = [site(1, "KNOWN", 10), site(2, "NEW", 5)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    d = decided(run(order((1, 2)), sites, positions, [tariff("KNOWN", "400", days=1)]))

    # NEW has no tariff row: the built-in band up to 50 km prices it, 250 ₽ + 10 ₽/kg x 2 kg
    assert d.warehouses == ("NEW",)
    assert d.record is not None
    [shipment] = d.record.shipments
    assert (shipment.code, shipment.cost, shipment.estimate) == ("NEW", Decimal("270.00"), True)
    assert shipment.tariff == "estimate: no tariff for this location, built-in band 0-50 km"
    notes = {n.code: n for n in d.record.candidates}
    assert (notes["NEW"].estimate, notes["NEW"].excluded) == (True, None)
    assert (notes["KNOWN"].estimate, notes["KNOWN"].cost) == (False, Decimal("400.00"))
    assert d.record.estimated() is True


def test_a_named_location_whose_tariffs_do_not_reach_is_left_out_not_estimated() -> None:
    sites = [site(1, "LOCAL", 120), site(2, "DC", 300)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    local = Tariff("LOCAL", Decimal(100), Decimal(0), Decimal(0), 1, min_km=0, max_km=50)
    d = decided(run(order((1, 1)), sites, positions, [local, tariff("DC", "900")]))

    assert d.warehouses == ("DC",)
    assert d.record is not None
    notes = {n.code: n for n in d.record.candidates}
    assert notes["LOCAL"].excluded == "no shipping tariff reaches the destination"
    assert d.record.estimated() is False


def test_a_star_tariff_prices_every_location_so_none_is_estimated() -> None:
    table = TariffTable([tariff("*", "500"), tariff("DC", "300")])
    assert table.find_or_estimate("NEW", km=10.0) == tariff("*", "500")
    near = TariffTable([Tariff("*", Decimal(1), Decimal(0), Decimal(0), 1, max_km=50)])
    assert near.find_or_estimate("NEW", km=80.0) is None
    estimate = TariffTable([tariff("DC", "300")]).find_or_estimate("NEW", km=80.0)
    assert estimate is not None
    assert (estimate.estimate, estimate.fixed, estimate.days) == (True, Decimal(350), 2)


def test_units_needed_later_cost_what_they_are_worth_to_the_orders_still_to_come() -> None:
    """HUB ships for 100 ₽, LOCAL for 150 ₽; HUB's last units are worth 80 ₽ each to the
    orders still to come (nobody else ships cheaply to them), LOCAL's nothing: LOCAL ships,
    and the record says what HUB's units would have cost beyond shipping."""
    sites = [site(1, "HUB", 10), site(2, "LOCAL", 20)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    tariffs = [tariff("HUB", "100"), tariff("LOCAL", "150")]
    values = {(WarehouseId(1), ProductId(1)): 80.0}
    plain = decided(run(order((1, 1)), sites, positions, tariffs))
    assert plain.warehouses == ("HUB",)  # without a price on stock, the cheapest ships
    d = decided(
        decide(
            order((1, 1)),
            sites,
            positions,
            tariffs=TariffTable(tariffs, version="t-1"),
            rules=RoutingRules(version="r-7"),
            today=TODAY,
            stock_values=values,
        )
    )
    assert d.warehouses == ("LOCAL",)
    assert d.record is not None
    notes = {n.code: n for n in d.record.candidates}
    assert notes["HUB"].breakdown()["needed_later"] == 80.0
    assert notes["LOCAL"].breakdown()["needed_later"] == 0.0
    assert "the orders still to come need its units less" in d.explanation
    assert "costs those orders 0.00 ₽, against 80.00 ₽ at HUB" in d.explanation
    assert d.explanation.endswith(
        "; the stock it takes is worth 0.00 ₽ to the orders still to come "
        "(its opportunity cost, weighed with the shipping)"
    )
    assert "opportunity cost" not in plain.explanation  # no prices, nothing to say
    assert notes["HUB"].why_not is not None
    assert "worth more to the orders still to come" in notes["HUB"].why_not

    two = decided(
        decide(
            order((1, 2)),
            sites,
            positions,
            tariffs=TariffTable(tariffs, version="t-1"),
            rules=RoutingRules(version="r-7"),
            today=TODAY,
            stock_values={(WarehouseId(1), ProductId(1)): 20.0},
        )
    )
    assert two.warehouses == ("HUB",)  # 100 + 2 units x 20 = 140 against LOCAL's 150
    assert "the stock it takes is worth 40.00 ₽ to the orders still to come" in two.explanation
    assert two.record is not None
    hub = next(n for n in two.record.candidates if n.code == "HUB")
    assert hub.breakdown()["needed_later"] == 40.0


def test_a_decision_recorded_before_stock_had_a_price_still_reads() -> None:
    from potok.domain.sourcing.explanation import CandidateNote

    old = CandidateNote("A", "City", "warehouse", 10.0, parts=(100.0, 1.0, 2.0, 0.0, -0.0))
    assert old.breakdown() == {
        "cost": 100.0,
        "distance": 1.0,
        "time": 2.0,
        "last_units": 0.0,
        "priority": 0.0,
    }
