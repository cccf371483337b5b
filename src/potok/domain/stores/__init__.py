"""Stores as points of sale: receipts from their tills."""

from potok.domain.stores.events import StoreReceiptRecorded
from potok.domain.stores.model import (
    NotAStore,
    Receipt,
    ReceiptChanged,
    ReceiptKind,
    ReceiptLine,
)

__all__ = [
    "NotAStore",
    "Receipt",
    "ReceiptChanged",
    "ReceiptKind",
    "ReceiptLine",
    "StoreReceiptRecorded",
]
