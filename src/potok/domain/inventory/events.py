"""What happens to stock, as facts for the outbox (marketplace stock sync feeds on them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent
from potok.domain.quick_init import quick_init


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
    unavailable: int = 0  # damaged, in quality check: on hand but not sellable
    unavailable_change: int = 0
    lot: str | None = None  # the lot number, for products kept by lot
    expires_on: str | None = None  # the lot's expiry date (ISO), when it has one


@quick_init
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
    """A bulk upload set many levels at once; one event for the batch, and its one row in
    the audit trail: the ledger entries of its changes are those of type ``movement``
    with its ``reference`` at its time (their ``stock.changed`` events are not audited
    one by one)."""

    aggregate_type: ClassVar[str] = "stock"
    source: str
    rows: int
    changed: int
    created: int = 0  # positions the upload created
    movement: str | None = None
    reference: str | None = None
    file_sha256: str | None = None  # the file's SHA-256, for an upload from a file

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


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCountEvent(DomainEvent):
    """Something happened to a stock count (stocktaking sheet)."""

    aggregate_type: ClassVar[str] = "stock_count"
    number: str
    warehouse: str

    @classmethod
    def event_type(cls) -> str:
        """``StockCountApproved`` becomes ``stock_count.approved``, not ``stock.count_approved``."""
        return "stock_count." + re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__[10:]).lower()

    def aggregate_id(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCountCreated(StockCountEvent):
    """A count sheet was made: which positions, and (for approvers) what was expected."""

    zone: str | None
    lines: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCountCounted(StockCountEvent):
    """Counters entered quantities."""

    entries: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCountSubmitted(StockCountEvent):
    counted: int
    uncounted: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCountApproved(StockCountEvent):
    """The count was approved and its differences posted to the ledger."""

    approved_by: str
    differences: list[dict[str, Any]]
    uncounted: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StockCountCancelled(StockCountEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationEvent(DomainEvent):
    """A storage location (bin) was created, changed or deleted; ``before``/``after`` show it."""

    aggregate_type: ClassVar[str] = "location"
    warehouse: str
    code: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def aggregate_id(self) -> str:
        return f"{self.warehouse}/{self.code}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationCreated(LocationEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationUpdated(LocationEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationDeleted(LocationEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class StockPlaced(StockEvent):
    """A position was put into a bin (``location`` None: taken out of any bin)."""

    lot: str | None
    location: str | None
    previous_location: str | None
