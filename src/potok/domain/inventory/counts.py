"""Stock counts (stocktaking): a sheet of positions with the on-hand expected when it was
made, the quantities counters found, and the approval that posts the differences.

``open → submitted → approved``, ``open | submitted → cancelled``, and a submitted count
may be reopened for more entries. Approving an open count submits it on the way. Counted
quantities may be entered in parts and several times; the last entry of a line counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory.errors import StockCountClosed
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.domain.machine import StateMachine

NUMBER_PREFIX = "CNT-"


def count_number(sequence: int) -> str:
    """``CNT-000001`` for the first count."""
    return f"{NUMBER_PREFIX}{sequence:06d}"


class CountStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CANCELLED = "cancelled"


S = CountStatus
COUNT_MACHINE = StateMachine(
    "stock count",
    {
        S.OPEN: frozenset({S.SUBMITTED, S.APPROVED, S.CANCELLED}),
        S.SUBMITTED: frozenset({S.OPEN, S.APPROVED, S.CANCELLED}),
    },
)


@dataclass(frozen=True, slots=True)
class CountEntry:
    """What a counter found of one SKU (of one lot) on the sheet."""

    sku: str
    counted: int
    lot: str | None = None


@dataclass(slots=True)
class CountLine:
    """One position on the sheet."""

    stock_id: StockId
    product_id: ProductId
    sku: str
    expected: int  # on hand when the sheet was made
    lot_id: LotId | None = None
    lot: str | None = None
    location_id: int | None = None
    location: str | None = None
    counted: int | None = None
    counted_by: str | None = None
    counted_at: datetime | None = None
    id: int | None = None

    @property
    def difference(self) -> int | None:
        """Counted less expected; None while the line is not counted."""
        return None if self.counted is None else self.counted - self.expected


@dataclass(slots=True)
class StockCount:
    """A count sheet of one warehouse (or one zone of it)."""

    number: str
    warehouse_id: WarehouseId
    warehouse_code: str
    zone: str | None
    status: CountStatus
    created_by: str
    created_at: datetime
    updated_at: datetime
    lines: list[CountLine] = field(default_factory=list)
    approved_by: str | None = None
    approved_at: datetime | None = None
    id: int | None = None

    def enter(self, entries: list[CountEntry], by: str, at: datetime) -> list[CountLine]:
        """Record counted quantities; every entry must name a line of the sheet."""
        if self.status is not CountStatus.OPEN:
            raise StockCountClosed(number=self.number, status=self.status.value)
        by_key = {(line.sku, line.lot): line for line in self.lines}
        errors: list[FieldError] = []
        seen: set[tuple[str, str | None]] = set()
        for index, entry in enumerate(entries):
            key = (entry.sku, entry.lot)
            where = f"entries[{index}]."
            if key not in by_key:
                what = entry.sku if entry.lot is None else f"{entry.sku} lot {entry.lot}"
                errors.append(
                    FieldError(
                        where + "sku", f"{what} is not on sheet {self.number}", "not-on-sheet"
                    )
                )
            elif key in seen:
                errors.append(
                    FieldError(where + "sku", "entered twice in one request", "duplicate")
                )
            seen.add(key)
            if not 0 <= entry.counted <= MAX_QUANTITY:
                errors.append(
                    FieldError(
                        where + "counted",
                        f"must be a whole number from 0 to {MAX_QUANTITY}",
                        "out-of-range",
                    )
                )
        if not entries:
            errors.append(FieldError("entries", "send at least one entry", "required"))
        if errors:
            raise InvalidInput(errors)
        changed = []
        for entry in entries:
            line = by_key[(entry.sku, entry.lot)]
            line.counted, line.counted_by, line.counted_at = entry.counted, by, at
            changed.append(line)
        self.updated_at = at
        return changed

    def submit(self, at: datetime) -> None:
        """The counters are done; the sheet waits for approval."""
        self.status = COUNT_MACHINE.check(self.status, CountStatus.SUBMITTED)
        self.updated_at = at

    def reopen(self, at: datetime) -> None:
        self.status = COUNT_MACHINE.check(self.status, CountStatus.OPEN)
        self.updated_at = at

    def approve(self, by: str, at: datetime) -> list[CountLine]:
        """Close the count; returns the counted lines, whose differences are to be posted."""
        self.status = COUNT_MACHINE.check(self.status, CountStatus.APPROVED)
        self.approved_by, self.approved_at, self.updated_at = by, at, at
        return [line for line in self.lines if line.counted is not None]

    def cancel(self, at: datetime) -> None:
        self.status = COUNT_MACHINE.check(self.status, CountStatus.CANCELLED)
        self.updated_at = at

    @property
    def uncounted(self) -> list[CountLine]:
        return [line for line in self.lines if line.counted is None]
