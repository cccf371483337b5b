"""The sourcing planner on hand-made networks whose right answer is known, and on random ones."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.domain.sourcing import (
    Allocation,
    Candidate,
    Decision,
    Need,
    Position,
    Short,
    Shortfall,
    plan,
)
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.planner import EXACT_SEARCH_BUDGET

MOSCOW = (55.7558, 37.6173)
KM_PER_DEGREE = 111.195  # along a meridian


def site(warehouse_id: int, code: str, km_north: float, priority: int = 0) -> Candidate:
    """A warehouse ``km_north`` kilometres due north of Moscow."""
    return Candidate(
        warehouse_id=WarehouseId(warehouse_id),
        code=code,
        city=f"City of {code}",
        priority=priority,
        latitude=MOSCOW[0] + km_north / KM_PER_DEGREE,
        longitude=MOSCOW[1],
    )


def stock(warehouse_id: int, product_id: int, available: int) -> Position:
    return Position(
        stock_id=StockId(warehouse_id * 1000 + product_id),
        warehouse_id=WarehouseId(warehouse_id),
        product_id=ProductId(product_id),
        available=available,
    )


def need(line_no: int, product_id: int, quantity: int) -> Need:
    return Need(line_no, ProductId(product_id), f"SKU-{product_id}", quantity)


def decided(outcome: Decision | Shortfall) -> Decision:
    assert isinstance(outcome, Decision), outcome
    return outcome


def by_line(decision: Decision) -> dict[int, list[tuple[int, int]]]:
    """line_no -> [(warehouse_id, quantity)] in the planner's order."""
    lines: dict[int, list[tuple[int, int]]] = {}
    for a in decision.allocations:
        lines.setdefault(a.line_no, []).append((a.warehouse_id, a.quantity))
    return lines


def test_the_site_helper_puts_warehouses_where_it_says() -> None:
    assert abs(distance_km(MOSCOW, (site(1, "X", 50).latitude, MOSCOW[1])) - 50) < 0.1


# ----------------------------------------------------------------- one warehouse


def test_the_nearest_warehouse_with_every_line_wins_even_when_a_nearer_one_is_short() -> None:
    candidates = [site(1, "NEAR-SHORT", 10), site(2, "MID-FULL", 50), site(3, "FAR-FULL", 100)]
    positions = [
        stock(1, 1, 5),
        stock(1, 2, 1),  # needs 2
        stock(2, 1, 5),
        stock(2, 2, 5),
        stock(3, 1, 50),
        stock(3, 2, 50),
    ]
    decision = decided(plan([need(1, 1, 3), need(2, 2, 2)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("MID-FULL",)
    assert decision.allocations == (
        Allocation(1, StockId(2001), WarehouseId(2), ProductId(1), 3),
        Allocation(2, StockId(2002), WarehouseId(2), ProductId(2), 2),
    )
    assert decision.explanation.startswith("MID-FULL")
    assert "NEAR-SHORT" in decision.explanation
    assert "FAR-FULL" not in decision.explanation


def test_the_explanation_names_at_most_three_nearer_short_warehouses() -> None:
    candidates = [site(i, f"SHORT-{i}", 10 * i) for i in range(1, 6)] + [site(9, "WINNER", 90)]
    positions = [stock(i, 1, 1) for i in range(1, 6)] + [stock(9, 1, 5)]
    decision = decided(plan([need(1, 1, 2)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("WINNER",)
    for code in ("SHORT-1", "SHORT-2", "SHORT-3"):
        assert code in decision.explanation
    assert "SHORT-4" not in decision.explanation
    assert "SHORT-5" not in decision.explanation


def test_when_the_nearest_has_everything_no_one_is_called_short() -> None:
    candidates = [site(1, "HOME", 5), site(2, "AWAY", 500)]
    positions = [stock(1, 1, 3), stock(2, 1, 3)]
    decision = decided(plan([need(1, 1, 3)], candidates, positions, MOSCOW))
    assert decision.warehouses == ("HOME",)
    assert "AWAY" not in decision.explanation


def test_one_warehouse_ships_the_whole_order_rather_than_two_nearer_ones() -> None:
    candidates = [site(1, "A", 10), site(2, "B", 20), site(3, "WHOLE", 900)]
    positions = [stock(1, 1, 9), stock(2, 2, 9), stock(3, 1, 9), stock(3, 2, 9)]
    decision = decided(plan([need(1, 1, 1), need(2, 2, 1)], candidates, positions, MOSCOW))
    assert decision.warehouses == ("WHOLE",)


def test_priority_breaks_a_tie_in_distance() -> None:
    # same place; the code order would favour A-LOW, so only priority can pick B-HIGH
    candidates = [site(1, "A-LOW", 30, priority=1), site(2, "B-HIGH", 30, priority=5)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    decision = decided(plan([need(1, 1, 2)], candidates, positions, MOSCOW))
    assert decision.warehouses == ("B-HIGH",)


def test_the_code_breaks_a_tie_in_distance_and_priority() -> None:
    candidates = [site(2, "ZETA", 30, priority=3), site(1, "ALPHA", 30, priority=3)]
    positions = [stock(2, 1, 5), stock(1, 1, 5)]
    decision = decided(plan([need(1, 1, 2)], candidates, positions, MOSCOW))
    assert decision.warehouses == ("ALPHA",)


def test_distance_outranks_priority() -> None:
    candidates = [site(1, "NEAR", 10, priority=0), site(2, "FAVOURITE", 400, priority=100)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    decision = decided(plan([need(1, 1, 2)], candidates, positions, MOSCOW))
    assert decision.warehouses == ("NEAR",)


def test_without_a_destination_warehouses_are_ranked_by_priority() -> None:
    candidates = [site(1, "NEAR", 10, priority=1), site(2, "FAVOURITE", 400, priority=9)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]

    decision = decided(plan([need(1, 1, 2)], candidates, positions, None))

    assert decision.warehouses == ("FAVOURITE",)
    assert "FAVOURITE" in decision.explanation
    assert decided(plan([need(1, 1, 2)], candidates, positions, MOSCOW)).warehouses == ("NEAR",)


# ----------------------------------------------------------------- split


def test_a_split_uses_the_fewest_warehouses_then_the_least_total_distance() -> None:
    # The three nearest together have everything (3 warehouses, 60 km), but two suffice:
    # {S3, S4} = 230 km beats {S1, S5} = 310 km and {S4, S5} = 500 km.
    candidates = [
        site(1, "S1", 10),
        site(2, "S2", 20),
        site(3, "S3", 30),
        site(4, "S4", 200),
        site(5, "S5", 300),
    ]
    positions = [
        stock(1, 1, 4),
        stock(2, 2, 4),
        stock(3, 3, 4),
        stock(4, 1, 4),
        stock(4, 2, 4),
        stock(5, 2, 4),
        stock(5, 3, 4),
    ]
    needs = [need(1, 1, 4), need(2, 2, 4), need(3, 3, 4)]

    decision = decided(plan(needs, candidates, positions, MOSCOW))

    assert decision.warehouses == ("S3", "S4")
    assert by_line(decision) == {1: [(4, 4)], 2: [(4, 4)], 3: [(3, 4)]}
    assert "S3" in decision.explanation
    assert "S4" in decision.explanation


def test_a_line_is_kept_whole_in_one_warehouse_when_possible() -> None:
    # NEAR has only 3 of product 1 but the whole of product 2; FAR has 5 of product 1.
    candidates = [site(1, "NEAR", 10), site(2, "FAR", 20)]
    positions = [stock(1, 1, 3), stock(1, 2, 2), stock(2, 1, 5)]
    decision = decided(plan([need(1, 1, 5), need(2, 2, 2)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("NEAR", "FAR")
    assert by_line(decision) == {1: [(2, 5)], 2: [(1, 2)]}


def test_a_line_no_warehouse_can_hold_is_split_nearest_first() -> None:
    candidates = [site(1, "NEAR", 10), site(2, "FAR", 20)]
    positions = [stock(1, 1, 3), stock(2, 1, 4)]
    decision = decided(plan([need(1, 1, 6)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("NEAR", "FAR")
    assert by_line(decision) == {1: [(1, 3), (2, 3)]}
    assert decision.quantities_by_stock() == {StockId(1001): 3, StockId(2001): 3}


def test_without_a_destination_a_split_prefers_higher_priority() -> None:
    candidates = [
        site(1, "LOW-A", 10, priority=1),
        site(2, "HIGH-A", 900, priority=8),
        site(3, "LOW-B", 10, priority=1),
        site(4, "HIGH-B", 900, priority=9),
    ]
    positions = [stock(1, 1, 5), stock(2, 1, 5), stock(3, 2, 5), stock(4, 2, 5)]
    decision = decided(plan([need(1, 1, 1), need(2, 2, 1)], candidates, positions, None))
    assert decision.warehouses == ("HIGH-B", "HIGH-A")


# ----------------------------------------------------------------- shortfall


def test_a_shortfall_lists_exactly_the_short_lines_with_network_availability() -> None:
    candidates = [site(1, "A", 10), site(2, "B", 20)]
    positions = [stock(1, 1, 2), stock(2, 1, 1), stock(1, 2, 10)]
    needs = [need(1, 1, 5), need(2, 2, 4), need(3, 3, 1)]

    outcome = plan(needs, candidates, positions, MOSCOW)

    assert outcome == Shortfall((Short(1, "SKU-1", 5, 3), Short(3, "SKU-3", 1, 0)))


def test_stock_outside_the_candidates_does_not_count() -> None:
    candidates = [site(1, "SERVES-CHANNEL", 50)]
    positions = [stock(1, 1, 1), stock(99, 1, 100)]  # warehouse 99 does not serve the channel
    outcome = plan([need(1, 1, 2)], candidates, positions, MOSCOW)
    assert outcome == Shortfall((Short(1, "SKU-1", 2, 1),))


def test_stock_outside_the_candidates_is_never_allocated() -> None:
    candidates = [site(1, "SERVES-CHANNEL", 500)]
    positions = [stock(99, 1, 100), stock(1, 1, 5)]
    decision = decided(plan([need(1, 1, 2)], candidates, positions, MOSCOW))
    assert {a.warehouse_id for a in decision.allocations} == {WarehouseId(1)}


def test_lines_repeating_a_sku_are_summed() -> None:
    # NEAR has 5: enough for either line alone but not for both together.
    candidates = [site(1, "NEAR", 10), site(2, "FAR", 80)]
    positions = [stock(1, 1, 5), stock(2, 1, 6)]
    decision = decided(plan([need(1, 1, 3), need(2, 1, 3)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("FAR",)
    assert by_line(decision) == {1: [(2, 3)], 2: [(2, 3)]}
    assert decision.quantities_by_stock() == {StockId(2001): 6}


def test_lines_repeating_a_sku_are_short_together() -> None:
    candidates = [site(1, "ONLY", 10)]
    positions = [stock(1, 1, 5)]
    outcome = plan([need(1, 1, 3), need(2, 1, 3)], candidates, positions, MOSCOW)
    assert outcome == Shortfall((Short(1, "SKU-1", 3, 5), Short(2, "SKU-1", 3, 5)))


def test_candidates_with_nothing_available_are_ignored() -> None:
    candidates = [site(1, "EMPTY", 1), site(2, "OVERSOLD", 2), site(3, "STOCKED", 300)]
    positions = [stock(1, 1, 0), stock(2, 1, -2), stock(3, 1, 4)]
    decision = decided(plan([need(1, 1, 4)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("STOCKED",)
    assert "EMPTY" not in decision.explanation
    assert "OVERSOLD" not in decision.explanation


def test_warehouses_with_only_other_products_are_not_called_short() -> None:
    candidates = [site(1, "OTHER-GOODS", 1), site(2, "STOCKED", 300)]
    positions = [stock(1, 7, 100), stock(2, 1, 4)]
    decision = decided(plan([need(1, 1, 4)], candidates, positions, MOSCOW))
    assert decision.warehouses == ("STOCKED",)
    assert "OTHER-GOODS" not in decision.explanation


def test_empty_positions_never_receive_allocations_in_a_split() -> None:
    candidates = [site(1, "A", 10), site(2, "B", 20), site(3, "C", 30)]
    positions = [stock(1, 1, 2), stock(1, 2, 0), stock(2, 2, 3), stock(3, 1, 0)]
    decision = decided(plan([need(1, 1, 2), need(2, 2, 3)], candidates, positions, MOSCOW))
    assert decision.quantities_by_stock() == {StockId(1001): 2, StockId(2002): 3}


# ----------------------------------------------------------------- greedy fallback


def test_the_greedy_fallback_still_covers_the_demand() -> None:
    count = 210  # C(210, 2) = 21945 pairs: more than the exact search may examine
    assert count * (count - 1) // 2 > EXACT_SEARCH_BUDGET
    candidates = [site(i, f"W{i:03d}", i) for i in range(1, count + 1)]
    positions = [stock(i, 1, 1) for i in range(1, count + 1)]
    positions += [stock(i, 2, 2) for i in range(1, count + 1, 3)]
    needs = [need(1, 1, 4), need(2, 2, 5)]

    started = time.perf_counter()
    decision = decided(plan(needs, candidates, positions, MOSCOW))
    assert time.perf_counter() - started < 5

    lines = by_line(decision)
    assert sum(q for _, q in lines[1]) == 4
    assert sum(q for _, q in lines[2]) == 5
    for stock_id, quantity in decision.quantities_by_stock().items():
        assert quantity <= (2 if stock_id % 1000 == 2 else 1)
    used = {a.warehouse_id for a in decision.allocations}
    assert {f"W{w:03d}" for w in used} == set(decision.warehouses)
    # every warehouse holds 1 of product 1 and every third also 2 of product 2: the greedy
    # cover takes W001, W004 and W007 (which hold both) and then the nearest other one
    assert decision.warehouses == ("W001", "W002", "W004", "W007")


# ----------------------------------------------------------------- properties


@dataclass(frozen=True)
class Network:
    candidates: list[Candidate]
    positions: list[Position]
    needs: list[Need]
    destination: tuple[float, float] | None


@st.composite
def networks(draw: st.DrawFn, *, max_warehouses: int = 7) -> Network:
    products = draw(st.integers(1, 4))
    warehouses = draw(st.integers(1, max_warehouses))
    specialised = draw(st.booleans())
    candidates = []
    positions = []
    for w in range(1, warehouses + 1):
        if w == 1 or draw(st.integers(0, 3)) > 0:  # most warehouses serve the channel
            candidates.append(
                Candidate(
                    warehouse_id=WarehouseId(w),
                    code=f"W{w}",
                    city=f"City {w}",
                    priority=draw(st.integers(-3, 3)),
                    latitude=draw(st.floats(41, 70)),
                    longitude=draw(st.floats(20, 120)),
                )
            )
        for p in range(1, products + 1):
            # a specialised network keeps each product in some warehouses only: more splits
            if specialised and p != draw(st.integers(1, products)):
                continue
            if draw(st.integers(0, 2)) > 0:
                positions.append(stock(w, p, draw(st.integers(-1, 10))))
    line_count = draw(st.integers(1, 5))
    needs = [
        need(n, draw(st.integers(1, products)), draw(st.integers(1, 6)))
        for n in range(1, line_count + 1)
    ]
    destination = draw(st.none() | st.tuples(st.floats(41, 70), st.floats(20, 120)))
    return Network(candidates, draw(st.permutations(positions)), needs, destination)


def _usable(network: Network) -> dict[tuple[int, int], Position]:
    """Positions the planner may draw on: at a candidate, with something available."""
    ids = {c.warehouse_id for c in network.candidates}
    return {
        (p.warehouse_id, p.product_id): p
        for p in network.positions
        if p.warehouse_id in ids and p.available > 0
    }


def _demand(needs: Sequence[Need]) -> dict[int, int]:
    demand: dict[int, int] = {}
    for n in needs:
        demand[n.product_id] = demand.get(n.product_id, 0) + n.quantity
    return demand


def _covers(warehouses: Sequence[int], demand: dict[int, int], usable: dict) -> bool:
    return all(
        sum(usable[(w, p)].available for w in warehouses if (w, p) in usable) >= qty
        for p, qty in demand.items()
    )


def _check_outcome(network: Network, outcome: Decision | Shortfall) -> None:
    usable = _usable(network)
    demand = _demand(network.needs)
    total = {p: sum(pos.available for (_, q), pos in usable.items() if q == p) for p in demand}
    short = {p for p, qty in demand.items() if total[p] < qty}

    if short:
        assert isinstance(outcome, Shortfall)
        assert outcome.lines == tuple(
            Short(n.line_no, n.sku, n.quantity, total[n.product_id])
            for n in network.needs
            if n.product_id in short
        )
        return

    assert isinstance(outcome, Decision)
    codes = {c.warehouse_id: c.code for c in network.candidates}
    for n in network.needs:
        mine = [a for a in outcome.allocations if a.line_no == n.line_no]
        assert sum(a.quantity for a in mine) == n.quantity
        assert all(a.quantity > 0 and a.product_id == n.product_id for a in mine)
    for a in outcome.allocations:
        position = usable.get((a.warehouse_id, a.product_id))
        assert position is not None, f"allocation from a position not offered: {a}"
        assert a.stock_id == position.stock_id
    by_stock = outcome.quantities_by_stock()
    for position in usable.values():
        assert by_stock.get(position.stock_id, 0) <= position.available
    used = {codes[a.warehouse_id] for a in outcome.allocations}
    assert used <= set(outcome.warehouses)
    assert len(set(outcome.warehouses)) == len(outcome.warehouses)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_plan_covers_the_order_or_names_the_short_lines(network: Network) -> None:
    outcome = plan(network.needs, network.candidates, network.positions, network.destination)
    _check_outcome(network, outcome)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_plan_uses_as_few_warehouses_as_possible(network: Network) -> None:
    outcome = plan(network.needs, network.candidates, network.positions, network.destination)
    if not isinstance(outcome, Decision):
        return
    usable = _usable(network)
    demand = _demand(network.needs)
    stocked = sorted({w for w, _ in usable})
    fewest = next(
        size
        for size in range(1, len(stocked) + 1)
        if any(_covers(group, demand, usable) for group in combinations(stocked, size))
    )
    assert len(outcome.warehouses) == fewest


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_a_single_warehouse_is_the_best_ranked_one_that_has_everything(network: Network) -> None:
    outcome = plan(network.needs, network.candidates, network.positions, network.destination)
    if not isinstance(outcome, Decision) or len(outcome.warehouses) != 1:
        return
    usable = _usable(network)
    demand = _demand(network.needs)

    def rank(c: Candidate) -> tuple[float, int, str]:
        far = (
            distance_km(network.destination, (c.latitude, c.longitude))
            if network.destination is not None
            else 0.0
        )
        return (far, -c.priority, c.code)

    whole = [c for c in network.candidates if _covers([c.warehouse_id], demand, usable)]
    assert outcome.warehouses == (min(whole, key=rank).code,)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_warehouses=5))
def test_plan_covers_the_order_when_the_greedy_fallback_runs(network: Network) -> None:
    # 201 far-away warehouses each holding one unit of a filler product push the pool past
    # what the exact search may examine, so the planner falls back to the greedy cover.
    filler = 99
    fillers = [
        Candidate(WarehouseId(1000 + i), f"F{i:03d}", "Far", 0, -40.0 - i / 10, -70.0)
        for i in range(201)
    ]
    padded = Network(
        candidates=network.candidates + fillers,
        positions=network.positions + [stock(1000 + i, filler, 1) for i in range(201)],
        needs=[*network.needs, need(len(network.needs) + 1, filler, 2)],
        destination=network.destination,
    )
    outcome = plan(padded.needs, padded.candidates, padded.positions, padded.destination)
    _check_outcome(padded, outcome)


def test_lines_repeating_a_sku_are_each_kept_whole_when_the_split_allows_it() -> None:
    # Neither warehouse has 10 units; NEAR (6) can hold line 2 whole and FAR (4) line 1.
    candidates = [site(1, "NEAR", 10), site(2, "FAR", 20)]
    positions = [stock(1, 1, 6), stock(2, 1, 4)]
    decision = decided(plan([need(1, 1, 4), need(2, 1, 6)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("NEAR", "FAR")
    assert all(len(allocations) == 1 for allocations in by_line(decision).values())


# ----------------------------------------------------------------- lots


def lot(
    warehouse_id: int,
    product_id: int,
    lot_id: int,
    available: int,
    *,
    expires: str | None = None,
    received: str = "2026-01-01",
    removal: str = "fefo",
) -> Position:
    return Position(
        stock_id=StockId(warehouse_id * 1000 + product_id * 10 + lot_id),
        warehouse_id=WarehouseId(warehouse_id),
        product_id=ProductId(product_id),
        available=available,
        lot_id=LotId(lot_id),
        lot=f"L{lot_id}",
        expires_on=date.fromisoformat(expires) if expires else None,
        received_at=datetime.fromisoformat(received + "T00:00:00+00:00"),
        removal=removal,
    )


def lots_of(decision: Decision) -> list[tuple[str | None, int]]:
    return [(a.lot, a.quantity) for a in decision.allocations]


def test_fefo_takes_the_lot_that_expires_first_whatever_the_reading_order() -> None:
    positions = [
        lot(1, 1, 1, 10, expires="2027-03-01"),
        lot(1, 1, 2, 10, expires="2026-12-20"),
        lot(1, 1, 3, 10, expires="2027-01-15"),
    ]
    decision = decided(plan([need(1, 1, 4)], [site(1, "A", 5)], positions, MOSCOW))

    assert lots_of(decision) == [("L2", 4)]


def test_a_line_is_split_across_lots_in_expiry_order_when_one_lot_is_not_enough() -> None:
    positions = [
        lot(1, 1, 1, 10, expires="2027-03-01"),
        lot(1, 1, 2, 3, expires="2026-12-20"),
        lot(1, 1, 3, 4, expires="2027-01-15"),
    ]
    decision = decided(plan([need(1, 1, 12)], [site(1, "A", 5)], positions, MOSCOW))

    assert lots_of(decision) == [("L2", 3), ("L3", 4), ("L1", 5)]
    assert decision.warehouses == ("A",)
    assert decision.explanation.endswith(
        "; lots: SKU-1 L2 ×3 (expires 2026-12-20), SKU-1 L3 ×4 (expires 2027-01-15), "
        "SKU-1 L1 ×5 (expires 2027-03-01)"
    )
    assert sum(decision.quantities_by_stock().values()) == 12


def test_several_lots_together_keep_an_order_in_one_warehouse() -> None:
    # NEAR holds 6 in two lots; FAR holds 6 in one: NEAR is still the single warehouse
    candidates = [site(1, "NEAR", 5), site(2, "FAR", 50)]
    positions = [
        lot(1, 1, 1, 3, expires="2027-01-01"),
        lot(1, 1, 2, 3, expires="2027-02-01"),
        lot(2, 1, 3, 6, expires="2026-12-01"),
    ]
    decision = decided(plan([need(1, 1, 6)], candidates, positions, MOSCOW))

    assert decision.warehouses == ("NEAR",)
    assert lots_of(decision) == [("L1", 3), ("L2", 3)]


def test_fifo_takes_the_earliest_received_lot_whatever_its_expiry() -> None:
    positions = [
        lot(1, 1, 1, 5, expires="2026-12-20", received="2026-06-01", removal="fifo"),
        lot(1, 1, 2, 5, expires="2027-06-01", received="2026-03-01", removal="fifo"),
    ]
    decision = decided(plan([need(1, 1, 7)], [site(1, "A", 5)], positions, MOSCOW))

    assert lots_of(decision) == [("L2", 5), ("L1", 2)]


def test_lots_without_an_expiry_date_come_last_under_fefo() -> None:
    positions = [lot(1, 1, 1, 5), lot(1, 1, 2, 5, expires="2027-06-01")]
    decision = decided(plan([need(1, 1, 2)], [site(1, "A", 5)], positions, MOSCOW))

    assert lots_of(decision) == [("L2", 2)]


def test_a_shortfall_counts_every_lot_of_the_network() -> None:
    positions = [lot(1, 1, 1, 2, expires="2027-01-01"), lot(2, 1, 2, 3, expires="2027-01-01")]
    outcome = plan([need(1, 1, 9)], [site(1, "A", 5), site(2, "B", 9)], positions, MOSCOW)

    assert outcome == Shortfall((Short(1, "SKU-1", 9, 5),))


@st.composite
def lot_networks(draw: st.DrawFn) -> tuple[list[Candidate], list[Position], list[Need]]:
    """Up to four warehouses holding up to three lots each of two products, and an order."""
    sites = draw(st.integers(1, 4))
    candidates = [site(w, f"W{w}", draw(st.integers(0, 500))) for w in range(1, sites + 1)]
    removal = draw(st.sampled_from(["fefo", "fifo"]))
    positions = [
        lot(
            w,
            p,
            n,
            draw(st.integers(0, 6)),
            expires=f"2027-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}",
            received=f"2026-0{draw(st.integers(1, 9))}-0{draw(st.integers(1, 9))}",
            removal=removal,
        )
        for w in range(1, sites + 1)
        for p in (1, 2)
        for n in range(1, draw(st.integers(0, 3)) + 1)
    ]
    lines = draw(st.integers(1, 3))
    needs = [
        need(i, draw(st.sampled_from([1, 2])), draw(st.integers(1, 8))) for i in range(1, lines + 1)
    ]
    return candidates, positions, needs


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(lot_networks())
def test_lot_allocations_cover_each_line_within_each_lot_in_pick_order(
    network: tuple[list[Candidate], list[Position], list[Need]],
) -> None:
    candidates, positions, needs = network
    outcome = plan(needs, candidates, positions, MOSCOW)
    if isinstance(outcome, Shortfall):
        return
    by_id = {p.stock_id: p for p in positions}
    for n in needs:
        assert sum(a.quantity for a in outcome.allocations if a.line_no == n.line_no) == n.quantity
    taken = outcome.quantities_by_stock()
    assert all(0 < q <= by_id[sid].available for sid, q in taken.items())
    # within a warehouse, a lot is only touched once every lot before it in pick order is used up
    for sid in taken:
        used = by_id[sid]
        for other in positions:
            if (
                other.warehouse_id == used.warehouse_id
                and other.product_id == used.product_id
                and other.available > 0
                and other.pick_key() < used.pick_key()
            ):
                assert taken.get(other.stock_id, 0) == other.available, (used, other)
