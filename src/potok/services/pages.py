"""Pages of a list ordered by a key of strings, the cursor the last key shown, opaque to the
caller: worked out in memory (a report computed whole, then shown a page at a time), or by
the database from the key a cursor carries (``key_of``/``cursor_after``)."""

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
    return shown, cursor_after(key(shown[-1]))


def cursor_after(key: tuple[str, ...]) -> str:
    """The cursor of the page that follows the item with this key."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def key_of(cursor: str, size: int) -> tuple[str, ...]:
    """The key a cursor carries (``size`` strings), or a bad-cursor problem."""
    key = _decoded(cursor)
    if len(key) != size:
        raise _bad_cursor()
    return key


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        [
            FieldError(
                "cursor", "is not a cursor this list gave out; start again without it", "bad-cursor"
            )
        ]
    )


def _decoded(cursor: str) -> tuple[str, ...]:
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _bad_cursor()
    return tuple(values)
