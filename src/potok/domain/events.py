"""The base of domain events: past-tense facts that leave through the outbox."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

_WORD = re.compile(r"[A-Z][a-z0-9]*")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened; its external type is derived from the class name."""

    aggregate_type: ClassVar[str] = "potok"
    occurred_at: datetime

    @classmethod
    def event_type(cls) -> str:
        """``OrderStatusChanged`` becomes ``order.status_changed``."""
        return _event_type(cls)

    def aggregate_id(self) -> str:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        """The event as JSON-ready data: Decimals and times as strings, enums as values."""
        return {name: _plain(getattr(self, name)) for name in _field_names(type(self))}


_EVENT_TYPES: dict[type, str] = {}
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _event_type(cls: type) -> str:
    found = _EVENT_TYPES.get(cls)
    if found is None:
        words: list[str] = _WORD.findall(cls.__name__)
        found = _EVENT_TYPES[cls] = words[0].lower() + "." + "_".join(w.lower() for w in words[1:])
    return found


def _field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (bulk imports make many events)."""
    found = _FIELD_NAMES.get(cls)
    if found is None:
        found = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return found


def plain(value: Any) -> Any:
    """JSON-ready data from dataclasses, enums, Decimals and datetimes."""
    return _plain(value)


def _plain(value: Any) -> Any:
    # by the value's exact type first: an order's events are some sixty values, and the
    # chain of isinstance checks below (with Enum's slow ``value``) cost more than the rest
    # of writing them; a type met first in the chain goes the fast way from then on
    kind = type(value)
    if kind in _AS_THEY_ARE:
        return value
    names = _DATACLASSES.get(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind in _ENUMS:
        return value.value
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if kind is Decimal:
        return str(value)
    if kind is datetime or kind is date:
        return value.isoformat()
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    return _plain_by_kind(value)


_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})
_DATACLASSES: dict[type, tuple[str, ...]] = {}
"""Dataclasses met by :func:`_plain_by_kind` (no str, number or enum among them)."""
_ENUMS: set[type] = set()
"""Enums met by :func:`_plain_by_kind` whose members are not strings or numbers."""


def _plain_by_kind(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, Enum):
        _ENUMS.add(type(value))
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):  # after datetime, which is a date too
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _DATACLASSES[type(value)] = _field_names(type(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
