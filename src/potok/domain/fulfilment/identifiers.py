"""Identifiers captured per unit at packing: Честный ЗНАК marking codes, IMEI, UIN.

A marking code is the text of the DataMatrix on the unit, a GS1 element string: ``01``
and the 14-digit GTIN, ``21`` and the unit's serial, then - each after a group separator
(GS, ``\\x1d``) - the verification key ``91`` (4 characters) and the crypto code ``92``
(44 or 88), or the short crypto tail ``93`` (4) of some goods, with a few optional fields
(weight, expiry, lot). GTIN and serial together identify the unit for good: that pair is
the code's key, and one key never ships twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.validation import gtin_check_digit

GS = "\x1d"
MAX_CODE_LENGTH = 200
SERIAL_CHARS = re.compile(r"[0-9A-Za-z!\"%&'()*+,\-./:;<=>?_]+")
"""GS1 character set 82, which serials and variable fields are written in."""

# fields that may follow the serial: fixed length, or variable up to a maximum
FIXED = {"91": (4,), "92": (44, 88), "93": (4,), "17": (6,), "3103": (6,), "8005": (6,)}
VARIABLE = {"10": 20, "240": 30}
SERIAL_LENGTHS = (13, 6, 7, 8, 11, 20)
"""Serial lengths of the product groups, tried when a scanner lost the separators."""
SEPARATOR_ALIASES = ("<GS>", "\\x1d", "\\u001d", "\u241d", "~1")


class UnitIdentifier(StrEnum):
    """What a product requires to be recorded for every unit that ships."""

    MARKING = "marking"  # Честный ЗНАК DataMatrix code
    IMEI = "imei"  # phones and modems
    UIN = "uin"  # ГИИС ДМДК unique number of a piece of jewellery


@dataclass(frozen=True, slots=True)
class UnitCode:
    """One identifier of one unit, normalised: ``key`` is what must be unique."""

    kind: UnitIdentifier
    value: str  # as it will be reported (the marking code with GS separators)
    key: str  # GTIN + serial for a marking code, the number itself otherwise
    gtin: str | None = None  # a marking code's GTIN-14


def parse_identifiers(text: str) -> frozenset[UnitIdentifier]:
    """``"marking,imei"`` as stored in the catalogue."""
    return frozenset(UnitIdentifier(part) for part in text.split(",") if part)


def format_identifiers(kinds: frozenset[UnitIdentifier]) -> str:
    return ",".join(sorted(k.value for k in kinds))


def gtin14(barcode: str) -> str | None:
    """A GTIN barcode (EAN-8, UPC-A, EAN-13, GTIN-14) as 14 digits; None for other codes."""
    if barcode.isdigit() and len(barcode) in (8, 12, 13, 14):
        return barcode.zfill(14)
    return None


def read_code(kind: UnitIdentifier, text: str, field: str = "code") -> UnitCode:
    """Check and normalise one identifier; a malformed one is refused with what is wrong."""
    if kind is UnitIdentifier.MARKING:
        return read_marking_code(text, field)
    if kind is UnitIdentifier.IMEI:
        return read_imei(text, field)
    return read_uin(text, field)


def read_imei(text: str, field: str = "imei") -> UnitCode:
    """15 digits whose last is the Luhn check digit of the first 14."""
    value = text.strip()
    if not re.fullmatch(r"\d{15}", value):
        raise _bad(field, "an IMEI is 15 digits", "bad-imei")
    if luhn_check_digit(value[:14]) != int(value[14]):
        raise _bad(
            field,
            f"the IMEI check digit should be {luhn_check_digit(value[:14])}, not {value[14]}",
            "bad-check-digit",
        )
    return UnitCode(UnitIdentifier.IMEI, value, value)


def read_uin(text: str, field: str = "uin") -> UnitCode:
    """The 16-digit number ГИИС ДМДК gives every piece of jewellery."""
    value = text.strip()
    if not re.fullmatch(r"\d{16}", value):
        raise _bad(field, "a UIN is 16 digits", "bad-uin")
    return UnitCode(UnitIdentifier.UIN, value, value)


def luhn_check_digit(body: str) -> int:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def read_marking_code(text: str, field: str = "marking_code") -> UnitCode:
    """Parse the DataMatrix text of a Честный ЗНАК code: structure, GTIN check digit and
    serial characters; separators lost by a scanner are recovered where the field lengths
    allow it."""
    raw = text.strip()
    if not raw:
        raise _bad(field, "scan the unit's DataMatrix code", "required")
    if len(raw) > MAX_CODE_LENGTH:
        raise _bad(field, f"a marking code has at most {MAX_CODE_LENGTH} characters", "too-long")
    for alias in SEPARATOR_ALIASES:
        raw = raw.replace(alias, GS)
    if raw.startswith("]d2") or raw.startswith("]C1"):  # a scanner's symbology prefix
        raw = raw[3:]
    raw = raw.lstrip(GS)
    if raw.startswith("(01)"):
        raw = _from_brackets(raw, field)
    if not raw.startswith("01") or not raw[2:16].isdigit() or len(raw) < 16:
        raise _bad(field, "a marking code starts with 01 and the 14-digit GTIN", "bad-marking-code")
    gtin = raw[2:16]
    if gtin_check_digit(gtin[:-1]) != int(gtin[-1]):
        raise _bad(
            field,
            f"the GTIN {gtin} in the code has a wrong check digit "
            f"(should be {gtin_check_digit(gtin[:-1])})",
            "bad-check-digit",
        )
    rest = raw[16:]
    if not rest.startswith("21"):
        raise _bad(
            field, "the GTIN must be followed by 21 and the unit's serial", "bad-marking-code"
        )
    serial, tail = _serial(rest[2:], field)
    fields = _fields(tail, field)
    if not ({"91", "92"} <= fields.keys() or "93" in fields):
        raise _bad(
            field,
            "the code lacks its verification part (91 and 92, or 93): scan the whole "
            "DataMatrix, not the printed digits",
            "incomplete-marking-code",
        )
    value = f"01{gtin}21{serial}" + "".join(f"{GS}{ai}{v}" for ai, v in fields.items())
    return UnitCode(UnitIdentifier.MARKING, value, f"{gtin}{serial}", gtin)


def _serial(text: str, field: str) -> tuple[str, str]:
    """The serial and what follows it."""
    if GS in text:
        serial, _, tail = text.partition(GS)
    else:  # the separators were lost: the serial's length is the product group's
        for length in SERIAL_LENGTHS:
            after = text[length:]
            known = not after or any(after.startswith(ai) for ai in (*FIXED, *VARIABLE))
            if known and _parses(after):
                serial, tail = text[:length], after
                break
        else:
            raise _bad(
                field,
                "cannot tell where the serial ends: the separators are missing",
                "bad-marking-code",
            )
    if not serial or len(serial) > 20 or not SERIAL_CHARS.fullmatch(serial):
        raise _bad(field, "the unit's serial must be 1-20 GS1 characters", "bad-marking-code")
    return serial, tail


def _parses(tail: str) -> bool:
    try:
        _fields(tail, "")
    except InvalidInput:
        return False
    return True


def _fields(tail: str, field: str) -> dict[str, str]:
    found: dict[str, str] = {}
    position = 0
    while position < len(tail):
        if tail[position] == GS:
            position += 1
            continue
        for ai in sorted((*FIXED, *VARIABLE), key=len, reverse=True):
            if tail.startswith(ai, position):
                break
        else:
            raise _bad(
                field,
                f"unexpected data after the serial: '{tail[position : position + 6]}'",
                "bad-marking-code",
            )
        start = position + len(ai)
        if ai in FIXED:
            end = tail.find(GS, start)
            value = tail[start:] if end < 0 else tail[start:end]
            lengths = FIXED[ai]
            if len(value) not in lengths:
                # without separators the value runs into the next field: cut it to length
                fitting = [n for n in lengths if n <= len(value) and _parses(value[n:])]
                if not fitting:
                    raise _bad(
                        field,
                        f"field {ai} must be {' or '.join(map(str, lengths))} characters long",
                        "bad-marking-code",
                    )
                value = value[: fitting[-1]]
        else:
            end = tail.find(GS, start)
            value = tail[start:] if end < 0 else tail[start:end]
            if not value or len(value) > VARIABLE[ai]:
                raise _bad(field, f"field {ai} is too long", "bad-marking-code")
        if not SERIAL_CHARS.fullmatch(value):
            raise _bad(field, f"field {ai} holds characters a code may not", "bad-marking-code")
        if ai in found:
            raise _bad(field, f"field {ai} appears twice", "bad-marking-code")
        found[ai] = value
        position = start + len(value)
    return found


def _from_brackets(text: str, field: str) -> str:
    """``(01)04601234567893(21)abc(91)EE10(92)...`` as a plain element string."""
    parts = re.findall(r"\((\d{2,4})\)([^(]*)", text)
    if not parts or "".join(f"({a}){v}" for a, v in parts) != text:
        raise _bad(field, "cannot read the bracketed code", "bad-marking-code")
    out = ""
    for ai, value in parts:
        if ai in ("01",):
            out += ai + value
        else:
            out += (GS if out and ai not in ("21",) else "") + ai + value
    return out


def _bad(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput([FieldError(field, message, code)])
