"""What fiscal receipts need from storage, as a protocol; ``potok.db`` implements it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
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

    def handed_over_after(self, shipment_ids: Sequence[int], position: int) -> set[int]:
        """Of these shipments, those whose hand-over came after the event at ``position`` in
        commit order (or has no place in it yet): they were not handed over at that moment."""
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

    def claim_many(self, receipts: Sequence[Receipt], until: datetime, now: datetime) -> set[int]:
        """Take the due receipts for one attempt each, in one statement: those nobody took
        since they were read (the same state, their next attempt come); each is due again at
        ``until`` should its attempt never report back. Answers the ids taken."""
        ...

    def release(self, receipt_ids: Sequence[int], now: datetime) -> None:
        """Let taken receipts go unsent (due at once, the attempt not counted): they were
        behind one the provider could not take."""
        ...

    def save(self, receipt: Receipt) -> None:
        """Write the receipt's state, attempts, provider ids, reason and attributes."""
        ...

    def save_moved(self, receipt: Receipt, was: Collection[ReceiptState]) -> bool:
        """Write a receipt's step at the provider (state, ids, attributes, attempts, reason)
        if it still stands where it was read (``was``); whether it did."""
        ...

    def retry_at(self, receipt_id: int, at: datetime, error: str, now: datetime) -> None:
        """The provider could not be reached or asked to wait: try again at ``at``."""
        ...

    def counts(self) -> dict[str, int]:
        """Receipts per state."""
        ...
