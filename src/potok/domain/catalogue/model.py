"""Products: what is sold, at what price and VAT rate, and how much it weighs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.kernel import ProductId, RemovalStrategy, Tracking
from potok.domain.validation import Problems, gtin_check_digit


class ProductNotFound(NotFound):
    code = "product-not-found"
    title = "Product not found"
    template = "There is no product with SKU '{sku}'."


class SkuInUse(Conflict):
    code = "sku-in-use"
    title = "The SKU is in use"
    template = "Product '{sku}' {why}; deactivate it instead of deleting it."


class TrackingLocked(Conflict):
    code = "tracking-locked"
    title = "Tracking cannot change while there is stock"
    template = (
        "Product '{sku}' has stock kept as '{current}'; write it off or move it out before "
        "tracking it as '{requested}'."
    )


class SkuTaken(Conflict):
    code = "sku-taken"
    title = "The SKU already exists"
    template = "A product with SKU '{sku}' already exists."


@dataclass(frozen=True, slots=True)
class ProductDraft:
    """What a caller gives to create or replace a product; checked by :meth:`validate`."""

    sku: str
    name: str
    price: Decimal
    vat_rate: Decimal
    barcode: str | None = None
    weight_g: int = 0
    active: bool = True
    tracking: Tracking = Tracking.NONE
    removal_strategy: RemovalStrategy | None = None  # None: the warehouse's

    def validate(self, prefix: str = "") -> None:
        problems = Problems(prefix)
        problems.code("sku", self.sku)
        problems.text("name", self.name)
        problems.money("price", self.price)
        problems.vat_rate("vat_rate", self.vat_rate)
        if self.weight_g < 0:
            problems.add("weight_g", "must not be negative", "negative")
        if self.barcode is not None:
            check_barcode(problems, self.barcode)
        if problems:
            raise InvalidInput(problems.errors)


def check_barcode(problems: Problems, barcode: str) -> None:
    """GTIN barcodes must carry the right check digit; other codes need only be printable."""
    if not barcode or len(barcode) > 64 or not barcode.isprintable():
        problems.add("barcode", "must be 1-64 printable characters", "bad-barcode")
        return
    if barcode.isdigit() and len(barcode) in (8, 12, 13, 14):
        expected = gtin_check_digit(barcode[:-1])
        if int(barcode[-1]) != expected:
            problems.add(
                "barcode",
                f"the GTIN check digit should be {expected}, not {barcode[-1]}",
                "bad-check-digit",
            )


@dataclass(frozen=True, slots=True)
class Product:
    """A sellable item identified by its SKU."""

    id: ProductId
    sku: str
    name: str
    price: Decimal
    vat_rate: Decimal
    barcode: str | None
    weight_g: int
    active: bool
    created_at: datetime
    updated_at: datetime
    tracking: Tracking = Tracking.NONE
    removal_strategy: RemovalStrategy | None = None
