"""Pages of a list worked out in memory (a report computed whole, then shown a page at a
time): ordered by a key of strings, the cursor the last key shown, opaque to the caller."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from potok.domain.errors import FieldError, InvalidInput

T = TypeVar("T")


def page_after(
    items: Sequence[T], key: Callable[[T], tuple[str, ...]], cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """The ``limit`` items after the cursor's key (the first ones without a cursor), in key
    order, and the cursor of the next page (None on the last)."""
    ordered = sorted(items, key=key)
    if cursor is not None:
        after = _decoded(cursor)
        ordered = [item for item in ordered if key(item) > after]
    shown = ordered[:limit]
    if len(ordered) <= limit:
        return shown, None
    raw = json.dumps(list(key(shown[-1])), separators=(",", ":")).encode()
    return shown, base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decoded(cursor: str) -> tuple[str, ...]:
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(
            [
                FieldError(
                    "cursor",
                    "is not a cursor this list gave out; start again without it",
                    "bad-cursor",
                )
            ]
        )
    return tuple(values)
