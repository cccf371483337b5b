"""Checks shared by every area's constructors; each failure names the field to fix."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.standards import is_currency

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
MAX_AMOUNT = Decimal(10**12)
"""Every amount (a price, a line's total, an order's total) stays below this: 14 digits
with 2 decimals are what the amount columns hold."""


def require_choice(field: str, value: str | None, choices: type[StrEnum], code: str) -> None:
    """Refuse a value (e.g. a status filter) that is not one of an enumeration's values."""
    allowed = [c.value for c in choices]
    if value is not None and value not in allowed:
        raise InvalidInput([FieldError(field, f"must be one of {', '.join(allowed)}", code)])


class Problems:
    """Collects field errors so that one answer lists everything to fix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(f"{self.prefix}{field}", message, code))

    def extend(self, errors: list[FieldError]) -> None:
        self.errors.extend(errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def code(self, field: str, value: str) -> None:
        if not CODE_PATTERN.fullmatch(value):
            self.add(
                field,
                "use 1-64 letters, digits, '.', '_', '-' or '/', starting with a letter or digit",
                "bad-code",
            )

    def text(self, field: str, value: str, *, max_length: int = 255, required: bool = True) -> None:
        if required and not value.strip():
            self.add(field, "must not be empty", "required")
        elif len(value) > max_length:
            self.add(field, f"must be at most {max_length} characters", "too-long")

    def currency(self, field: str, value: str) -> None:
        if not (CURRENCY_PATTERN.fullmatch(value) and is_currency(value)):
            self.add(field, "must be an ISO 4217 code such as RUB", "bad-currency")

    def coordinates(self, prefix: str, latitude: float | None, longitude: float | None) -> None:
        if (latitude is None) != (longitude is None):
            self.add(prefix + "latitude", "give both latitude and longitude, or neither", "partial")
            return
        if latitude is not None and not -90 <= latitude <= 90:
            self.add(prefix + "latitude", "must be between -90 and 90", "out-of-range")
        if longitude is not None and not -180 <= longitude <= 180:
            self.add(prefix + "longitude", "must be between -180 and 180", "out-of-range")

    def money(self, field: str, value: Decimal, *, allow_zero: bool = True) -> None:
        if not value.is_finite():
            self.add(field, "must be a number", "not-a-number")
        elif value < 0 or (value == 0 and not allow_zero):
            self.add(
                field, "must be positive" if not allow_zero else "must not be negative", "negative"
            )
        elif value >= MAX_AMOUNT:
            self.add(field, "is too large", "too-large")
        elif value != value.quantize(Decimal("0.01")):
            self.add(field, "has more than 2 decimal places", "too-precise")

    def vat_rate(self, field: str, value: Decimal) -> None:
        if not value.is_finite() or not Decimal(0) <= value < Decimal(100):
            self.add(
                field, "must be a percentage from 0 to 99.99, e.g. 22, 10 or 0", "bad-vat-rate"
            )
        elif value != value.quantize(Decimal("0.01")):
            self.add(field, "has more than 2 decimal places", "too-precise")


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit for the digits before it (EAN-8, UPC-A, EAN-13, GTIN-14)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10
