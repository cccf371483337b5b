"""What happens to stock, as facts for the outbox (marketplace stock sync feeds on them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class StockEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "stock"
    warehouse: str
    sku: str

    def aggregate_id(self) -> str:
        return f"{self.warehouse}/{self.sku}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StockChanged(StockEvent):
    """``on_hand`` moved; says why and where it stands now."""

    movement: str
    quantity: int
    on_hand: int
    reserved: int
    available: int
    reason: str
    reference: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StockReserved(DomainEvent):
    """Stock was set aside for an order; ``items`` say where and how much."""

    aggregate_type: ClassVar[str] = "stock"
    order_id: int
    items: list[dict[str, Any]]

    def aggregate_id(self) -> str:
        return str(self.order_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class StockReleased(StockReserved):
    """Stock set aside for an order was given back (cancellation, expiry, correction)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StockSynced(DomainEvent):
    """A bulk upload set many levels at once; one event for the batch."""

    aggregate_type: ClassVar[str] = "stock"
    source: str
    rows: int
    changed: int

    def aggregate_id(self) -> str:
        return self.source


@dataclass(frozen=True, slots=True, kw_only=True)
class StockMinimumEvent(StockEvent):
    """The projected level of a SKU at a warehouse crossed its minimum; the parts say why."""

    min_level: int
    max_level: int
    safety_stock: int
    on_hand: int
    reserved: int
    unavailable: int
    incoming: int
    projected: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StockBelowMinimum(StockMinimumEvent):
    """The projected level fell below the minimum: time to reorder (raised once per crossing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StockBackAboveMinimum(StockMinimumEvent):
    """The projected level is back at or above the minimum after having been below it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StockRuleSet(StockEvent):
    """A min/max rule was created or changed; ``before`` is None for a new one."""

    before: dict[str, int] | None
    after: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class StockRuleDeleted(StockEvent):
    """A min/max rule was removed."""

    before: dict[str, int]
    after: None = None
