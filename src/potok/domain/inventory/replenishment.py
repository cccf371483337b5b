"""Min/max levels, safety stock and replenishment: what to reorder, and when a level crosses
its minimum.

The projected level of a SKU at a warehouse is what will be sellable there once everything
on the way has arrived::

    projected = on_hand - reserved - unavailable + incoming

It is below the minimum when ``projected < min_level``. The suggested order brings it back
up to the maximum and covers the orders waiting for the SKU (backordered demand)::

    suggested = max(0, max_level - projected + backordered)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from potok.domain.errors import FieldError, NotFound
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.validation import Problems


class StockRuleNotFound(NotFound):
    code = "stock-rule-not-found"
    title = "No min/max rule for this SKU here"
    template = "Warehouse '{warehouse}' has no min/max rule for '{sku}'."


@dataclass(frozen=True, slots=True)
class StockRule:
    """The levels an operator wants kept of a SKU at a warehouse."""

    min_level: int
    max_level: int
    safety_stock: int = 0


@dataclass(frozen=True, slots=True)
class StockFigures:
    """The buckets of a SKU at a warehouse, summed over its positions (lots)."""

    on_hand: int = 0
    reserved: int = 0
    unavailable: int = 0
    incoming: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.unavailable

    @property
    def projected(self) -> int:
        """Sellable once everything on the way has arrived."""
        return self.available + self.incoming


class Crossing(StrEnum):
    """Which way a projected level crossed its minimum."""

    BELOW = "below_minimum"
    BACK_ABOVE = "back_above_minimum"


def is_below_minimum(rule: StockRule, projected: int) -> bool:
    return projected < rule.min_level


def crossing(rule: StockRule, projected: int, *, was_below: bool) -> Crossing | None:
    """The crossing a new projected level makes from the last state seen, if any: the event
    is raised once per crossing, never again while the level stays on the same side."""
    below = is_below_minimum(rule, projected)
    if below == was_below:
        return None
    return Crossing.BELOW if below else Crossing.BACK_ABOVE


def suggested_quantity(rule: StockRule, projected: int, backordered: int = 0) -> int:
    """Units to order so that the level reaches the maximum and waiting orders are covered."""
    return max(0, rule.max_level - projected + max(0, backordered))


def check_rule(rule: StockRule, prefix: str = "") -> list[FieldError]:
    """Every problem with a rule's numbers, each naming the field to fix."""
    problems = Problems(prefix)
    for name, value in (
        ("min", rule.min_level),
        ("max", rule.max_level),
        ("safety_stock", rule.safety_stock),
    ):
        if value < 0:
            problems.add(name, "must not be negative", "negative")
        elif value > MAX_QUANTITY:
            problems.add(name, f"must be at most {MAX_QUANTITY}", "too-large")
    if rule.min_level >= 0 and rule.max_level >= 0 and rule.max_level < rule.min_level:
        problems.add(
            "max",
            f"must be at least the minimum ({rule.min_level}), not {rule.max_level}",
            "max-below-min",
        )
    return problems.errors


@dataclass(frozen=True, slots=True)
class SetStockRule:
    """Keep a SKU at a warehouse between ``min_level`` and ``max_level``, and hold
    ``safety_stock`` back from what marketplaces are told."""

    warehouse: str
    sku: str
    min_level: int
    max_level: int
    safety_stock: int = 0

    @property
    def rule(self) -> StockRule:
        return StockRule(self.min_level, self.max_level, self.safety_stock)
