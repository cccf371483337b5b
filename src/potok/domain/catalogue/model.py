"""Products: what is sold, at what price and VAT rate, how much it weighs and how big it is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.fulfilment.identifiers import UnitIdentifier, gtin14
from potok.domain.kernel import ProductId, RemovalStrategy, Tracking
from potok.domain.quick_init import quick_init
from potok.domain.validation import Problems, gtin_check_digit

MAX_BARCODES = 20
MAX_SIDE_MM = 3000  # a unit's side: 3 m at most (carriers take far less)
PARCEL_GROUP = re.compile(r"[a-z0-9][a-z0-9_\-]{0,31}")


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
    barcodes: tuple[str, ...] = ()  # more barcodes besides ``barcode``
    unit_identifiers: frozenset[UnitIdentifier] = frozenset()  # recorded per unit at packing
    parcel_group: str = ""  # goods of another group ship in their own shipment
    category: str | None = None  # the code of the category it belongs to
    length_mm: int = 0  # one unit as it ships (in its own packaging); 0: not known
    width_mm: int = 0
    height_mm: int = 0

    @property
    def all_barcodes(self) -> tuple[str, ...]:
        return ((self.barcode,) if self.barcode else ()) + self.barcodes

    def validate(self, prefix: str = "") -> None:
        problems = Problems(prefix)
        problems.code("sku", self.sku)
        problems.text("name", self.name)
        problems.money("price", self.price)
        problems.vat_rate("vat_rate", self.vat_rate)
        if self.weight_g < 0:
            problems.add("weight_g", "must not be negative", "negative")
        sides = {
            "length_mm": self.length_mm,
            "width_mm": self.width_mm,
            "height_mm": self.height_mm,
        }
        for side, value in sides.items():
            if not 0 <= value <= MAX_SIDE_MM:
                problems.add(side, f"must be 0-{MAX_SIDE_MM} mm (0: not known)", "out-of-range")
        if 0 in sides.values() and any(sides.values()):
            problems.add(
                "length_mm",
                "give all three sides, or none (0): a box is priced and fitted by all three",
                "partial-dimensions",
            )
        if self.barcode is not None:
            check_barcode(problems, self.barcode)
        if len(self.barcodes) > MAX_BARCODES:
            problems.add("barcodes", f"at most {MAX_BARCODES} barcodes", "too-many")
        for index, barcode in enumerate(self.barcodes):
            check_barcode(problems, barcode, f"barcodes[{index}]")
        if len(set(self.all_barcodes)) != len(self.all_barcodes):
            problems.add("barcodes", "a barcode appears twice", "duplicate")
        if self.parcel_group and not PARCEL_GROUP.fullmatch(self.parcel_group):
            problems.add(
                "parcel_group",
                "use up to 32 lower-case letters, digits, '_' or '-' (or leave it empty)",
                "bad-code",
            )
        if self.category is not None:
            problems.code("category", self.category)
        if problems:
            raise InvalidInput(problems.errors)


def check_barcode(problems: Problems, barcode: str, field: str = "barcode") -> None:
    """GTIN barcodes must carry the right check digit; other codes need only be printable."""
    if not barcode or len(barcode) > 64 or not barcode.isprintable():
        problems.add(field, "must be 1-64 printable characters", "bad-barcode")
        return
    if barcode.isdigit() and len(barcode) in (8, 12, 13, 14):
        expected = gtin_check_digit(barcode[:-1])
        if int(barcode[-1]) != expected:
            problems.add(
                field,
                f"the GTIN check digit should be {expected}, not {barcode[-1]}",
                "bad-check-digit",
            )


@quick_init
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
    barcodes: tuple[str, ...] = ()  # more barcodes besides ``barcode``
    unit_identifiers: frozenset[UnitIdentifier] = frozenset()
    parcel_group: str = ""
    category: str | None = None
    length_mm: int = 0  # one unit as it ships; 0: not known
    width_mm: int = 0
    height_mm: int = 0

    @property
    def all_barcodes(self) -> tuple[str, ...]:
        return ((self.barcode,) if self.barcode else ()) + self.barcodes

    @property
    def sides_mm(self) -> tuple[int, int, int] | None:
        """One unit's sides, largest first; None when they are not known."""
        if not (self.length_mm and self.width_mm and self.height_mm):
            return None
        a, b, c = sorted((self.length_mm, self.width_mm, self.height_mm), reverse=True)
        return a, b, c

    @property
    def gtins(self) -> frozenset[str]:
        """The product's GTIN barcodes as 14 digits (what marking codes carry)."""
        return frozenset(g for g in map(gtin14, self.all_barcodes) if g is not None)


def unpacked_box(units: Sequence[tuple[tuple[int, int, int], int]]) -> tuple[int, int, int]:
    """A box the units (each unit's sides largest first, and how many) would be packed in
    before anyone packs them: as long and as wide as the largest of them, the units stacked
    flat on each other - what carriers are asked to price until the parcel is packed."""
    length = max((sides[0] for sides, _ in units), default=0)
    width = max((sides[1] for sides, _ in units), default=0)
    height = sum(sides[2] * count for sides, count in units)
    return length, width, height
