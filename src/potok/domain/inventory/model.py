"""Stock levels per location and SKU, and the append-only ledger of their changes.

A stock position is addressed by its own id. Today there is one position per
(warehouse, SKU); lots, expiry dates and serial numbers will split a position into
several without changing anything that refers to positions (reservations, movements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from potok.domain.errors import InvalidInput
from potok.domain.inventory.errors import WriteOffExceedsStock
from potok.domain.kernel import LotId, ProductId, StockId, WarehouseId
from potok.domain.validation import Problems

MAX_QUANTITY = 1_000_000_000


class MovementType(StrEnum):
    """Why ``on_hand`` changed."""

    RECEIPT = "receipt"
    WRITE_OFF = "write_off"
    COUNT = "count"
    SYNC = "sync"  # an absolute level from an ERP/WMS bulk upload
    IMPORT = "import"  # an absolute level from a CSV file
    SET_ASIDE = "set_aside"  # units moved into the unavailable bucket (damaged, quality check)
    RELEASE = "release"  # units moved back from unavailable to sellable
    EXPIRY = "expiry"  # a lot expired: its units moved into the unavailable bucket
    TRANSFER_OUT = "transfer_out"  # shipped to another warehouse
    TRANSFER_IN = "transfer_in"  # arrived from another warehouse
    SHIPMENT = "shipment"  # handed over to a carrier (or the customer) for an order
    RETURN_TO_SENDER = "return_to_sender"  # an undelivered shipment came back (unavailable)
    STORE_SALE = "store_sale"  # sold over a store's counter (a till's receipt)
    STORE_RETURN = "store_return"  # taken back over a store's counter
    CUSTOMER_RETURN = "customer_return"  # a customer's return arrived (unavailable until checked)


@dataclass(frozen=True, slots=True)
class StockLevel:
    """The counters of one stock position."""

    stock_id: StockId
    warehouse_id: WarehouseId
    warehouse_code: str
    product_id: ProductId
    sku: str
    on_hand: int
    reserved: int
    unavailable: int = 0  # damaged, in quality check, expired
    lot_id: LotId | None = None
    lot: str | None = None  # the lot number, for people
    expires_on: date | None = None  # the lot's expiry date

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.unavailable

    def write_off(self, quantity: int) -> int:
        """The new on-hand after writing ``quantity`` off; never below zero."""
        if quantity > self.on_hand:
            raise WriteOffExceedsStock(
                warehouse=self.warehouse_code, sku=self.sku, quantity=quantity, on_hand=self.on_hand
            )
        return self.on_hand - quantity

    def overcommitment(self, new_on_hand: int) -> int:
        """How many reserved units a new on-hand leaves without stock behind them."""
        return max(0, self.reserved - new_on_hand)


@dataclass(frozen=True, slots=True)
class Movement:
    """One entry of the stock ledger: a signed change of ``on_hand`` (and of the
    ``unavailable`` bucket) with its reason."""

    stock_id: StockId
    warehouse_id: WarehouseId
    product_id: ProductId
    type: MovementType
    quantity: int
    on_hand_after: int
    reason: str
    reference: str | None
    actor: str
    occurred_at: datetime
    lot_id: LotId | None = None
    unavailable_change: int = 0


def check_quantity(problems: Problems, field: str, quantity: int, *, allow_zero: bool) -> None:
    if quantity < 0 or (quantity == 0 and not allow_zero):
        problems.add(
            field,
            "must be a positive whole number" if not allow_zero else "must not be negative",
            "not-positive" if not allow_zero else "negative",
        )
    elif quantity > MAX_QUANTITY:
        problems.add(field, f"must be at most {MAX_QUANTITY}", "too-large")


def require_quantity(field: str, quantity: int, *, allow_zero: bool = False) -> None:
    problems = Problems()
    check_quantity(problems, field, quantity, allow_zero=allow_zero)
    if problems:
        raise InvalidInput(problems.errors)
