"""Every candidate that is not chosen says why, and the sentence claims only what holds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from potok.domain.sourcing import RoutingRules, Shortfall, SourcingRecord, Weights
from tests.unit.test_sourcing_engine import TODAY, decided, order, run, site, stock, tariff

COST_AND_DAYS = RoutingRules(
    version="r-1",
    weights=Weights(cost=1, distance=0, day=5, late_day=1000, last_unit=0, priority=0),
)


def reasons(record: SourcingRecord | None) -> dict[str, str | None]:
    assert record is not None
    return {c.code: c.why_not for c in record.candidates}


def test_cheaper_warehouses_that_lack_a_line_say_so_and_the_sentence_qualifies_cheapest() -> None:
    sites = [site(1, "A", 10), site(2, "D", 20), site(3, "B", 30), site(4, "C", 40)]
    positions = [
        stock(1, 1, 5),
        stock(1, 2, 5),
        stock(2, 1, 5),
        stock(2, 2, 5),
        stock(3, 1, 5),  # B and C hold SKU-1 only
        stock(4, 1, 5),
        stock(4, 2, 1),  # C holds 1 of the 3 SKU-2 wanted
    ]
    tariffs = [
        tariff("A", "500", days=1),
        tariff("D", "600", days=1),
        tariff("B", "100", days=1),
        tariff("C", "200", days=1),
    ]
    d = decided(run(order((1, 1), (2, 3)), sites, positions, tariffs, COST_AND_DAYS))

    assert d.warehouses == ("A",)
    assert reasons(d.record) == {
        "A": None,
        "D": "costs more: 600.00 ₽ against 500.00 ₽",
        "B": "does not cover the order: lacks SKU-2 (has 0 of 3)",
        "C": "does not cover the order: lacks SKU-2 (has 1 of 3)",
    }
    assert d.record is not None
    coverage = {c.code: c.coverage for c in d.record.candidates}
    assert coverage == {
        "A": "all 2 lines",
        "D": "all 2 lines",
        "B": "1 of 2 lines",
        "C": "1 of 2 lines",
    }
    assert (
        "chosen because it is the cheapest to ship of the warehouses that have every line "
        "(next best D: 600.00 ₽, 1 d, 100.00 ₽ worse on the rules' scale)"
    ) in d.explanation


def test_the_sentence_does_not_say_cheapest_when_a_slower_warehouse_ships_for_less() -> None:
    sites = [site(1, "A", 10), site(2, "B", 20), site(3, "C", 30)]
    positions = [stock(1, 1, 5), stock(2, 1, 5), stock(3, 1, 5)]
    tariffs = [
        tariff("A", "300", days=1),  # score 305
        tariff("B", "380", days=1),  # 385: the next best, only dearer
        tariff("C", "200", days=40),  # 400: the cheapest, but 40 days on the road
    ]
    d = decided(run(order((1, 1)), sites, positions, tariffs, COST_AND_DAYS))

    assert d.warehouses == ("A",)
    assert "cheapest" not in d.explanation
    assert "chosen because it costs less than B (next best B: 380.00 ₽, 1 d" in d.explanation
    assert reasons(d.record)["C"] == "95.00 ₽ worse on the rules' scale than A: slower"


def test_a_warehouse_later_than_the_promised_date_says_so() -> None:
    sites = [site(1, "FAST", 10), site(2, "SLOW", 20)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    tariffs = [tariff("FAST", "700", days=1), tariff("SLOW", "100", days=5)]
    promised = TODAY + timedelta(days=2)
    d = decided(run(order((1, 1), promised_on=promised), sites, positions, tariffs, COST_AND_DAYS))

    assert d.warehouses == ("FAST",)
    assert reasons(d.record)["SLOW"] == (
        f"later than promised: 5 days, the promised {promised.isoformat()} allows 2 days"
    )
    assert "it keeps the promised date" in d.explanation


def test_an_order_waiting_beside_stock_names_the_rule_that_left_the_stock_out() -> None:
    sites = [site(1, "EMPTY", 10), site(2, "FAR", 900, region="Далёкий край")]
    positions = [stock(2, 1, 7)]
    tariffs = [tariff("EMPTY", "100"), tariff("FAR", "100")]
    rules = RoutingRules(version="r-2", excluded_regions=frozenset({"Далёкий край"}))
    outcome = run(order((1, 2)), sites, positions, tariffs, rules)

    assert isinstance(outcome, Shortfall)
    assert outcome.record.summary == (
        "The warehouses allowed to ship this order lack units of SKU-1 (need 2, have 0); "
        "left out although they hold units: FAR (7 SKU-1: region Далёкий край is excluded "
        "by the rules)"
    )
    assert reasons(outcome.record) == {
        "EMPTY": "holds none of the order's products",
        "FAR": "region Далёкий край is excluded by the rules",
    }


def test_reasons_and_coverage_survive_the_stored_form_and_old_records_still_read() -> None:
    sites = [site(1, "A", 10), site(2, "B", 20)]
    positions = [stock(1, 1, 5), stock(2, 1, 5)]
    d = decided(run(order((1, 1)), sites, positions, [tariff("A", "100"), tariff("B", "200")]))
    assert d.record is not None

    again = SourcingRecord.from_data(d.record.to_data())
    assert [(c.code, c.why_not, c.coverage, c.estimate) for c in again.candidates] == [
        ("A", None, "1 of 1 line", False),
        ("B", "costs more: 200.00 ₽ against 100.00 ₽", "1 of 1 line", False),
    ]

    old = d.record.to_data()
    old["candidates"] = [row[:11] for row in old["candidates"]]
    old["shipments"] = [row[:6] for row in old["shipments"]]
    read = SourcingRecord.from_data(old)
    assert [(c.code, c.why_not, c.coverage, c.estimate) for c in read.candidates] == [
        ("A", None, "", False),
        ("B", None, "", False),
    ]
    assert read.shipments[0].cost == Decimal("100.00")
    assert read.decided_on == date(2026, 3, 2)
