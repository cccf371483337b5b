"""Numbers and dates the way Russian paperwork writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

NBSP = "\u00a0"  # keeps "1 234,56" on one line
MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def money(amount: Decimal) -> str:
    """1234.5 becomes «1 234,50»."""
    text = f"{amount:,.2f}"
    return text.replace(",", NBSP).replace(".", ",")


def quantity(count: int | Decimal) -> str:
    if isinstance(count, Decimal):
        count = count.normalize()
    return f"{count:,}".replace(",", NBSP)


def kilograms(grams: int) -> str:
    """Grams as kilograms with three places: «12,500»; empty when unknown."""
    if not grams:
        return ""
    return money(Decimal(grams) / 1000).rsplit(",", 1)[0] + "," + f"{grams % 1000:03d}"


def short_date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def long_date(day: date) -> str:
    """«6 декабря 2026 г.»"""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year} г."


def quoted_date(day: date) -> str:
    """«06» декабря 2026 г. - as the signature blocks write it."""
    return f"«{day.day:02d}» {MONTHS[day.month - 1]} {day.year} г."
