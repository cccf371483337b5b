"""Opaque keyset cursors: the last row's sort value and id, base64-encoded JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from potok.domain.errors import FieldError, InvalidInput


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_int_cursor(cursor: str, size: int) -> list[int]:
    """A cursor of ``size`` whole numbers (ids)."""
    values = decode_cursor(cursor, size)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InvalidInput(
            [
                FieldError(
                    "cursor",
                    "is not a cursor this list gave out; start again without it",
                    "bad-cursor",
                )
            ]
        )
    return values


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput(
            [
                FieldError(
                    "cursor",
                    "is not a cursor this list gave out; start again without it",
                    "bad-cursor",
                )
            ]
        )
    return values
