"""What fiscal receipts need from storage, as a protocol; ``potok.db`` implements it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from potok.domain.fiscal import Receipt, ReceiptState


@dataclass(frozen=True, slots=True)
class ReceiptPage:
    items: list[Receipt]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ReceiptFilter:
    """What a list of receipts is narrowed to."""

    state: str | None = None
    kind: str | None = None
    order_id: int | None = None
    channel: str | None = None
    account: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class FiscalStore(Protocol):
    def add(self, receipt: Receipt) -> Receipt:
        """Store a new receipt; the answer carries its id. A second receipt of the same
        basis raises ``DuplicateRow``."""
        ...

    def has_basis(self, basis: str) -> bool: ...

    def get(self, receipt_id: int, *, lock: bool = False) -> Receipt | None: ...

    def get_by_uuid(self, uuid: str) -> Receipt | None: ...

    def of_order(self, order_id: int) -> list[Receipt]:
        """The order's receipts, oldest first."""
        ...

    def page(self, where: ReceiptFilter, cursor: str | None, limit: int) -> ReceiptPage:
        """Newest first."""
        ...

    def due(
        self, states: Sequence[ReceiptState], now: datetime | None, limit: int
    ) -> list[Receipt]:
        """Receipts in these states whose next attempt has come (any, when ``now`` is
        None), oldest first."""
        ...

    def claim(self, receipt: Receipt, until: datetime, now: datetime) -> bool:
        """Take a due receipt for one attempt, if nobody took it since it was read (same
        state, same attempts); it is due again at ``until`` should the attempt never
        report back."""
        ...

    def save(self, receipt: Receipt) -> None:
        """Write the receipt's state, attempts, provider ids, reason and attributes."""
        ...

    def retry_at(self, receipt_id: int, at: datetime, error: str, now: datetime) -> None:
        """The provider could not be reached or asked to wait: try again at ``at``."""
        ...

    def counts(self) -> dict[str, int]:
        """Receipts per state."""
        ...
