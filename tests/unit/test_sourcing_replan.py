"""The batch re-plan in an order's terms: a plan's units taken from positions in pick order
and shared over the order's lines, the price of a shipment, and the sentence kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.domain.sourcing import Candidate, Need, Position, SourcingOrder, Tariff, TariffTable
from potok.domain.sourcing.replan import (
    covered_sentence,
    moved_sentence,
    place_units,
    price,
    record_of,
)

KET, MUG = ProductId(1), ProductId(2)
MSK, SPB = WarehouseId(1), WarehouseId(2)
TODAY = date(2026, 3, 2)
MOSCOW = Candidate(MSK, "MSK", "Москва", 1, 55.66, 37.86)
PETERSBURG = Candidate(SPB, "SPB", "Санкт-Петербург", 1, 59.80, 30.38)
TARIFFS = TariffTable(
    [
        Tariff("MSK", Decimal(200), Decimal(20), Decimal(0), 1),
        Tariff("SPB", Decimal(600), Decimal(20), Decimal(0), 3),
    ],
    version="7",
)


def position(
    stock_id: int, where: WarehouseId, product: ProductId, units: int, **lot: object
) -> Position:
    return Position(StockId(stock_id), where, product, units, **lot)  # type: ignore[arg-type]


def test_units_come_from_the_earliest_expiring_lot_first_and_split_over_lines() -> None:
    needs = (Need(1, KET, "KET", 2), Need(2, KET, "KET", 1), Need(3, MUG, "MUG", 1))
    positions = [
        position(11, MSK, KET, 5, lot_id=LotId(2), lot="B", expires_on=date(2027, 1, 1)),
        position(10, MSK, KET, 2, lot_id=LotId(1), lot="A", expires_on=date(2026, 6, 1)),
        position(20, SPB, MUG, 1),
        position(21, MSK, MUG, 9),  # not in the plan: untouched
    ]
    placed = place_units(needs, [(MSK, [(KET, 3)]), (SPB, [(MUG, 1)])], positions)
    assert placed is not None
    assert [(a.line_no, a.stock_id, a.quantity, a.lot) for a in placed] == [
        (1, 10, 2, "A"),
        (2, 11, 1, "B"),
        (3, 20, 1, None),
    ]


def test_a_plan_the_positions_no_longer_hold_is_refused() -> None:
    needs = (Need(1, KET, "KET", 3),)
    assert place_units(needs, [(MSK, [(KET, 3)])], [position(10, MSK, KET, 2)]) is None
    assert place_units(needs, [(MSK, [(KET, 2)])], [position(10, MSK, KET, 5)]) is None


def test_the_sentences_say_where_from_where_to_what_it_costs_and_the_promise() -> None:
    order = SourcingOrder(
        (Need(1, KET, "KET", 2),),
        (56.8587, 35.9176),
        promised_on=date(2026, 3, 5),
        unit_weight_kg={KET: 1.2},
    )
    before = (price(order, PETERSBURG, {KET: 2}, TARIFFS, 1.0),)
    after = (price(order, MOSCOW, {KET: 2}, TARIFFS, 1.0),)
    assert (before[0].cost, after[0].cost, after[0].days) == (
        Decimal("648.00"),
        Decimal("248.00"),
        1,
    )
    assert moved_sentence(order, before, after, TODAY) == (
        "Re-planned by the batch optimiser: from SPB to MSK, shipping 648.00 ₽ → 248.00 ₽, "
        "promised date 2026-03-05 kept"
    )
    assert covered_sentence(order, after) == (
        "Reserved by the batch optimiser: MSK ships the order for 248.00 ₽ in 1 day, "
        "promised date 2026-03-05"
    )
    record = record_of(
        order, before, after, rules_version="default v2", tariffs_version="7", today=TODAY,
        summary="s",
    )  # fmt: skip
    assert [(c.code, c.chosen) for c in record.candidates] == [("MSK", True), ("SPB", False)]
    assert (record.total_cost, record.days, record.on_time) == (Decimal("248.00"), 1, True)
    assert [(s.code, s.units, s.weight_kg) for s in record.shipments] == [("MSK", 2, 2.4)]
