"""What happens at stores' counters, as facts for the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreReceiptRecorded(DomainEvent):
    """A till's receipt reached Potok and moved the store's stock."""

    aggregate_type: ClassVar[str] = "store"
    store: str
    receipt_id: str
    kind: str
    till: str
    sold_at: datetime
    total: Decimal
    lines: list[dict[str, Any]]

    def aggregate_id(self) -> str:
        return self.store
