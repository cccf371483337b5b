"""Requests to change stock, shared by the API, the CLI and connectors."""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.inventory.lots import LotInput
from potok.domain.inventory.model import MovementType


@dataclass(frozen=True, slots=True)
class ReceiveStock:
    """Goods arrived; products kept by lot name the lot, serialised ones every serial."""

    warehouse: str
    sku: str
    quantity: int
    reason: str = "receipt"
    reference: str | None = None
    lot: LotInput | None = None
    serials: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class WriteOffStock:
    """Goods leave the books; products kept by lot name the lot (its number), serialised
    ones the serials of the units."""

    warehouse: str
    sku: str
    quantity: int
    reason: str
    reference: str | None = None
    lot: str | None = None
    serials: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class CountStock:
    """An absolute count; ``expected_on_hand`` is what the counter believes it replaces."""

    warehouse: str
    sku: str
    expected_on_hand: int
    counted: int
    reason: str = "count"
    reference: str | None = None
    lot: str | None = None  # the lot number, for products kept by lot


@dataclass(frozen=True, slots=True)
class LevelRow:
    """One row of a bulk upload: the on-hand quantity a warehouse has of a SKU."""

    warehouse: str
    sku: str
    on_hand: int
    expected_on_hand: int | None = None
    lot: LotInput | None = None  # products kept by lot: the level is the lot's
    serials: tuple[str, ...] | None = None  # serialised products: the units on hand


@dataclass(frozen=True, slots=True)
class SetLevels:
    """Set many on-hand levels at once (ERP/WMS sync, CSV import): all rows or none."""

    rows: list[LevelRow]
    source: str
    reference: str | None = None
    movement: MovementType = MovementType.SYNC
    file_sha256: str | None = None  # the uploaded file's digest, for the audit trail
