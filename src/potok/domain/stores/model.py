"""Sales over a store's counter: receipts (sales and returns) a till records, which move the
store's stock as they arrive. A receipt is known by its till's own id, once per store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from potok.domain.errors import Conflict, Rejected
from potok.domain.kernel import round_money


class ReceiptKind(StrEnum):
    SALE = "sale"  # units leave the store with the customer
    RETURN = "return"  # units come back over the counter


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    sku: str
    quantity: int
    price: Decimal  # per unit, VAT included
    marking_codes: tuple[str, ...] = ()  # Честный ЗНАК codes of the units, where marked

    @property
    def total(self) -> Decimal:
        return round_money(self.price * self.quantity)


@dataclass(frozen=True, slots=True)
class Receipt:
    """One fiscal receipt of a till."""

    receipt_id: str
    kind: ReceiptKind
    sold_at: datetime
    lines: tuple[ReceiptLine, ...]
    till: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    def line_records(self) -> list[dict[str, Any]]:
        """The lines as plain data: as they are kept, and as a repeat is compared with."""
        return [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "price": str(line.price),
                "marking_codes": list(line.marking_codes),
            }
            for line in self.lines
        ]

    @property
    def sign(self) -> int:
        """How a receipt moves the store's on-hand: a sale takes units off, a return adds."""
        return -1 if self.kind is ReceiptKind.SALE else 1


class NotAStore(Rejected):
    code = "not-a-store"
    title = "The location is not a store"
    template = "'{warehouse}' is a {kind}, not a store; receipts come from stores' tills."


class ReceiptChanged(Conflict):
    code = "receipt-changed"
    title = "The receipt was recorded with other contents"
    template = (
        "Receipt '{receipt_id}' of store '{store}' was recorded before with other lines; a "
        "receipt is never changed (send a return receipt instead)."
    )
