"""What store sales need from storage, as a protocol; ``potok.db`` implements it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from potok.domain.kernel import WarehouseId
from potok.domain.stores import Receipt


@dataclass(frozen=True, slots=True)
class StoreSales:
    """A store's receipts over a period, as its own sales channel in reports."""

    store: str
    sales: int
    returns: int
    units_sold: int
    units_returned: int
    revenue: Decimal  # sales less returns


class StoreReceiptStore(Protocol):
    def recorded(self, warehouse_id: WarehouseId, receipt_ids: Sequence[str]) -> dict[str, Any]:
        """The lines (as stored) of the receipts already recorded, by receipt id."""
        ...

    def add(self, warehouse_id: WarehouseId, receipts: Sequence[Receipt], at: datetime) -> None: ...
    def sales(self, since: datetime, until: datetime) -> list[StoreSales]: ...
