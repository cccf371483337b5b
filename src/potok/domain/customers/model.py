"""A customer record and the rules that make phones and e-mails comparable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from potok.domain.kernel import CustomerId

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_phone(raw: str) -> str | None:
    """Digits only in international form; a Russian ``8XXXXXXXXXX`` becomes ``7XXXXXXXXXX``.

    Returns None when what is left cannot be a phone number (fewer than 7 digits or more
    than 15, the E.164 maximum).
    """
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits  # a Russian mobile written without the country code
    if not 7 <= len(digits) <= 15:
        return None
    return "+" + digits


def normalise_email(raw: str) -> str | None:
    """Lower-cased and trimmed; None when it is not shaped like an address."""
    email = raw.strip().lower()
    return email if _EMAIL.match(email) and len(email) <= 254 else None


def normalise_name(raw: str) -> str:
    """Lower-cased with runs of spaces collapsed: 'Анна  СМИРНОВА ' and 'анна смирнова' are
    the same name to a search."""
    return " ".join(raw.lower().split())


@dataclass(frozen=True, slots=True)
class Customer:
    id: CustomerId
    name: str
    phone: str | None
    email: str | None
    created_at: datetime
    anonymised_at: datetime | None = None
