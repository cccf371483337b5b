"""The pure rules of replenishment: projected level, suggested quantity, crossings."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from potok.domain.inventory.replenishment import (
    Crossing,
    StockFigures,
    StockRule,
    check_rule,
    crossing,
    is_below_minimum,
    suggested_quantity,
)

units = st.integers(min_value=0, max_value=10_000)


@st.composite
def rules(draw: st.DrawFn) -> StockRule:
    low = draw(units)
    return StockRule(low, low + draw(units), draw(units))


def test_projected_is_sellable_stock_plus_what_is_on_the_way() -> None:
    figures = StockFigures(on_hand=20, reserved=7, unavailable=3, incoming=12)

    assert figures.available == 10
    assert figures.projected == 22


def test_the_suggestion_fills_up_to_the_maximum_and_covers_backorders() -> None:
    rule = StockRule(min_level=10, max_level=50, safety_stock=5)

    assert suggested_quantity(rule, 4) == 46
    assert suggested_quantity(rule, 4, backordered=3) == 49
    assert suggested_quantity(rule, -2, backordered=0) == 52  # reserved beyond what will come
    assert suggested_quantity(rule, 60) == 0


@given(rules(), st.integers(min_value=-1000, max_value=20_000), units)
def test_a_suggestion_is_never_negative_and_reaches_the_maximum_net_of_backorders(
    rule: StockRule, projected: int, backordered: int
) -> None:
    quantity = suggested_quantity(rule, projected, backordered)

    assert quantity >= 0
    assert projected + quantity - backordered >= rule.max_level or quantity == 0
    if is_below_minimum(rule, projected):
        assert projected + quantity - backordered == rule.max_level


@given(rules(), st.lists(st.integers(min_value=-100, max_value=20_000), max_size=30))
def test_crossings_alternate_and_each_is_raised_once(rule: StockRule, levels: list[int]) -> None:
    below = False
    raised: list[Crossing] = []
    for level in levels:
        found = crossing(rule, level, was_below=below)
        if found is not None:
            raised.append(found)
            below = found is Crossing.BELOW
        assert below == is_below_minimum(rule, level)
    assert all(a != b for a, b in pairwise(raised))
    if raised:
        assert raised[0] is Crossing.BELOW


def test_the_minimum_itself_is_not_below_it() -> None:
    rule = StockRule(5, 10)

    assert crossing(rule, 4, was_below=False) is Crossing.BELOW
    assert crossing(rule, 5, was_below=True) is Crossing.BACK_ABOVE
    assert crossing(rule, 5, was_below=False) is None


def test_a_rule_names_every_bad_number() -> None:
    assert check_rule(StockRule(3, 10, 1)) == []
    assert check_rule(StockRule(0, 0, 0)) == []
    found = {(e.field, e.code) for e in check_rule(StockRule(8, 4, -1), "rows[2].")}

    assert found == {("rows[2].max", "max-below-min"), ("rows[2].safety_stock", "negative")}
    assert {(e.field, e.code) for e in check_rule(StockRule(-1, -2, 0))} == {
        ("min", "negative"),
        ("max", "negative"),
    }
