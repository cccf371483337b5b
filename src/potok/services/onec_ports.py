"""What the 1C exchange needs from storage, as protocols; ``potok.db`` implements them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ExchangeSession:
    """An exchange 1C opened with ``checkauth``: whose key, and for what."""

    id: int
    key_id: int
    kind: str  # catalog or sale
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ItemLink:
    """A 1C product (its Ид) as the Potok product it became, with what Potok keeps of it."""

    onec_id: str
    sku: str
    unit: str
    groups: tuple[str, ...] = ()
    properties: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class GroupLink:
    """A 1C group of products, or a property of them with its choices."""

    onec_id: str
    kind: str  # group or property
    name: str
    parent: str | None = None
    choices: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ExportedOrder:
    """An order as 1C last took it: the version sent, and the version 1C confirmed."""

    order_id: int
    sent_version: int | None
    sent_session: int | None
    exported_version: int | None


class OnecStore(Protocol):
    """1C's exchange sessions, their uploads, 1C's catalogue ids and the orders 1C took."""

    def open_session(
        self, token_hash: str, key_id: int, kind: str, at: datetime, expires_at: datetime
    ) -> int: ...
    def session(self, token_hash: str, now: datetime) -> ExchangeSession | None: ...
    def forget_expired(self, now: datetime) -> int: ...

    def clear_uploads(self, session_id: int) -> None: ...
    def add_part(self, session_id: int, name: str, content: bytes, at: datetime) -> int: ...
    def uploaded(self, session_id: int, name: str) -> bytes | None: ...
    def upload_names(self, session_id: int) -> list[str]: ...

    def items(self, onec_ids: Sequence[str]) -> dict[str, ItemLink]: ...
    def save_items(self, links: Sequence[ItemLink], at: datetime) -> int: ...
    def save_groups(self, links: Sequence[GroupLink], at: datetime) -> int: ...
    def groups(self, kind: str) -> list[GroupLink]: ...

    def to_send(self, limit: int, channel: str | None) -> list[int]: ...
    def mark_sent(self, sent: Mapping[int, int], session_id: int) -> None: ...
    def confirm_sent(self, session_id: int, at: datetime) -> int: ...
    def exported(self, order_id: int) -> ExportedOrder | None: ...
    def mark_known(self, order_id: int, version: int, at: datetime) -> None: ...
    def item_ids_of(self, skus: Sequence[str]) -> dict[str, str]: ...
