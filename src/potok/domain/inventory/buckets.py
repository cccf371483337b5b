"""Moving units between the sellable and the unavailable buckets of a position.

Units are put aside (damaged, in quality check) into ``unavailable`` without leaving
``on_hand``; they come back to sellable stock when released, or leave the books when
written off from the bucket. Each move is one ledger entry: ``quantity`` is the change of
``on_hand`` (zero for a pure bucket move) and ``unavailable_change`` the change of the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from potok.domain.inventory.errors import SetAsideExceedsStock, UnavailableExceeded
from potok.domain.inventory.model import MovementType, StockLevel


class Bucket(StrEnum):
    """Where a move takes units to."""

    UNAVAILABLE = "unavailable"  # put aside: from sellable (or reserved) stock
    AVAILABLE = "available"  # released back from the unavailable bucket
    WRITTEN_OFF = "written_off"  # out of the books, from the unavailable bucket


class AsideReason(StrEnum):
    """Why units are not sellable."""

    DAMAGED = "damaged"
    QUALITY_CHECK = "quality_check"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class MoveStock:
    """Move ``quantity`` units of a position into, out of, or off the unavailable bucket."""

    warehouse: str
    sku: str
    quantity: int
    to: Bucket
    reason: AsideReason
    note: str = ""
    lot: str | None = None
    reference: str | None = None

    @property
    def reason_text(self) -> str:
        """The ledger's reason: the kind, and the note when there is one."""
        return f"{self.reason.value}: {self.note}" if self.note.strip() else self.reason.value


@dataclass(frozen=True, slots=True)
class BucketMove:
    """What a move does to a position's counters."""

    type: MovementType
    on_hand_change: int
    unavailable_change: int

    def sellable_floor(self, level: StockLevel) -> int:
        """On hand less the new unavailable bucket: what reservations must fit into."""
        return level.on_hand + self.on_hand_change - (level.unavailable + self.unavailable_change)


def plan_move(level: StockLevel, quantity: int, to: Bucket) -> BucketMove:
    """The counters' changes for a move, or the rule it breaks."""
    if to is Bucket.UNAVAILABLE:
        movable = level.on_hand - level.unavailable
        if quantity > movable:
            raise SetAsideExceedsStock(
                warehouse=level.warehouse_code, sku=level.sku, quantity=quantity, movable=movable
            )
        return BucketMove(MovementType.SET_ASIDE, 0, quantity)
    if quantity > level.unavailable:
        raise UnavailableExceeded(
            warehouse=level.warehouse_code,
            sku=level.sku,
            quantity=quantity,
            unavailable=level.unavailable,
        )
    if to is Bucket.AVAILABLE:
        return BucketMove(MovementType.RELEASE, 0, -quantity)
    return BucketMove(MovementType.WRITE_OFF, -quantity, -quantity)
